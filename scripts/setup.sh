#!/bin/sh
# One-time (and self-healing) setup shared by `npm start`, `npm test` and friends.
# Runs under whatever Node and npm are on PATH (Node 20 is enough): it installs the npm
# packages, which bring Node 24 as the `node` package (node_modules/.bin/node), then hands
# over to Node 24 to find or build the Temporal CLI and build the designer.
set -e
cd "$(dirname "$0")/.."

# The install is redone when package.json or package-lock.json differ from what was installed
# (by content, not by date: a checkout or a new work tree touches every file).
stamp=node_modules/.tenantflow-install
want=$(cat package.json package-lock.json | cksum)
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if [ -L node_modules ]; then
    # A work tree borrowing another checkout's packages: never reinstall (npm ci empties
    # node_modules first, which would be the other checkout's).
    echo "tenantflow: node_modules is a link to another checkout's packages; not reinstalling them here" >&2
  else
    echo "tenantflow: installing npm packages from package-lock.json (first run or it changed)..."
    before=$(git status --porcelain 2>/dev/null || true)
    # `npm ci`: exactly the committed lockfile, or an error when it does not match package.json.
    npm ci --no-audit --no-fund --loglevel=error
    after=$(git status --porcelain 2>/dev/null || true)
    if [ "$before" != "$after" ]; then
      echo "tenantflow: the install changed files git tracks; package-lock.json is not what it should be:" >&2
      git status --short >&2
      echo "Regenerate it with: npm install --package-lock-only --no-audit --no-fund (see the README, 'A reproducible install')" >&2
      exit 1
    fi
    echo "$want" > "$stamp"
  fi
fi

exec node_modules/.bin/node scripts/setup.ts
