#!/bin/sh
# Fills every empty secret in .env with a fresh random value (copying deploy/.env.example to .env
# first when there is none) and makes the Ed25519 key that signs audit checkpoints. Values and
# keys that already exist are never replaced, so running it again is safe.
#
#   deploy/init-secrets.sh [env-file] [audit-key-file]
#   (defaults: ./.env and deploy/secrets/audit-signing-key.pem in the repository)
set -eu

root="$(cd "$(dirname "$0")/.." && pwd)"
env_file="${1:-$root/.env}"
key_file="${2:-$root/deploy/secrets/audit-signing-key.pem}"

command -v openssl >/dev/null 2>&1 || { echo "init-secrets: openssl is not installed" >&2; exit 1; }
umask 077

if [ ! -f "$env_file" ]; then
  cp "$root/deploy/.env.example" "$env_file"
  echo "init-secrets: created $env_file from deploy/.env.example" >&2
fi
chmod 600 "$env_file"

# fill NAME VALUE: sets NAME only where the file has it empty (`NAME=`).
fill() {
  if grep -q "^$1=\$" "$env_file"; then
    sed "s|^$1=\$|$1=$2|" "$env_file" > "$env_file.tmp" && mv "$env_file.tmp" "$env_file"
    echo "init-secrets: generated $1" >&2
  fi
}

fill JWT_SECRET "$(openssl rand -base64 48 | tr -d '\n')"
fill WARD_DATA_KEY "$(openssl rand -base64 32 | tr -d '\n')"
fill WARD_INTERNAL_TOKEN "$(openssl rand -hex 32)"
fill POSTGRES_PASSWORD "$(openssl rand -hex 24)"
fill REDIS_PASSWORD "$(openssl rand -hex 24)"
fill GRAFANA_ADMIN_PASSWORD "$(openssl rand -base64 18 | tr -d '\n')"

if [ ! -f "$key_file" ]; then
  mkdir -p "$(dirname "$key_file")"
  openssl genpkey -algorithm ed25519 -out "$key_file"
  echo "init-secrets: made the audit signing key $key_file (keep a copy offline)" >&2
fi
# The audit container runs as uid 1000 and reads the key through a bind mount.
if [ "$(id -u)" = 0 ]; then
  chown 1000:1000 "$key_file" && chmod 0400 "$key_file"
else
  chmod 0700 "$(dirname "$key_file")" && chmod 0644 "$key_file"
fi
