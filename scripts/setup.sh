#!/bin/sh
# One-time (and self-healing) setup shared by `npm start`, `npm test` and friends.
# Runs under whatever Node and npm are on PATH (Node 20 is enough): it installs the npm
# packages, which bring Node 24 as the `node` package (node_modules/.bin/node), then hands
# over to Node 24 to find or build the Temporal CLI and build the designer.
set -e
cd "$(dirname "$0")/.."

stamp=node_modules/.package-lock.json
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  echo "tenantflow: installing npm packages (first run or package.json changed)..."
  # `npm install`, not `npm ci`: it follows package-lock.json all the same, and it still works
  # where the registry mirror lacks other platforms' optional packages (then `npm ci` refuses).
  npm install --no-audit --no-fund --loglevel=error
fi

exec node_modules/.bin/node scripts/setup.ts
