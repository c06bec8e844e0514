#!/bin/sh
# One-shot TLS material for docker-compose.yml: a private CA, the Temporal frontend's server
# certificate (DNS name `temporal`), PostgreSQL's server certificate (DNS name `postgresql`) and one
# client certificate the Tenantflow server, the workers, the Web UI and the setup job present to
# Temporal (mTLS). Run by the compose service `certs` into the `certs` volume; it does nothing when
# the CA is already there, so restarts keep the same certificates. To use your own CA instead, put
# the same file names into the volume before the first `docker compose up` (see docs/production.md).
#   usage: compose-certs.sh <dir>     (needs openssl; run as root to set the owners below)
# Keys are ECDSA P-256; certificates last CERT_DAYS (825) days: renew by emptying the volume.
set -eu
dir=${1:?usage: compose-certs.sh <dir>}
days=${CERT_DAYS:-825}
mkdir -p "$dir"
cd "$dir"
if [ -s ca.pem ] && [ -s temporal.pem ] && [ -s postgresql.pem ] && [ -s client.pem ]; then
  echo "compose-certs: $dir already has certificates; nothing to do"
  exit 0
fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days "$days" -subj "/CN=Tenantflow compose CA" \
  -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() { # name CN extendedKeyUsage [dnsName]
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$2" -keyout "$1.key" -out "$1.csr"
  ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$3"
  if [ -n "${4:-}" ]; then ext="$ext
subjectAltName=DNS:$4"; fi
  printf '%s\n' "$ext" > "$1.ext"
  openssl x509 -req -sha256 -days "$days" -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
issue temporal temporal serverAuth,clientAuth temporal
issue postgresql postgresql serverAuth postgresql
issue client tenantflow clientAuth
rm -f ca.srl
# The CA key is not needed at run time; keep it only where you keep other root keys.
rm -f ca.key
chmod 644 ca.pem temporal.pem postgresql.pem client.pem
# PostgreSQL refuses a key others can read, and runs as uid 999 in the postgres image; Temporal
# (temporalio images) and Tenantflow (USER node) both run as uid 1000.
chmod 600 temporal.key postgresql.key client.key
if [ "$(id -u)" = 0 ]; then
  chown 999:999 postgresql.key
  chown 1000:1000 temporal.key client.key
fi
echo "compose-certs: wrote ca.pem, temporal.{pem,key}, postgresql.{pem,key}, client.{pem,key} to $dir"
