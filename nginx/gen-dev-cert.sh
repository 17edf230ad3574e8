#!/bin/sh
# Makes a self-signed TLS certificate for development and tests: <dir>/tls.crt and <dir>/tls.key
# (default dir: nginx/certs). Never use it in production: mount the site's real certificate
# (full chain) and key at nginx/certs/tls.crt and nginx/certs/tls.key instead.
#
#   nginx/gen-dev-cert.sh [dir] [hostname]      e.g. nginx/gen-dev-cert.sh nginx/certs ward.local
set -eu

dir="${1:-$(dirname "$0")/certs}"
name="${2:-localhost}"
days="${WARD_DEV_CERT_DAYS:-30}"

command -v openssl >/dev/null 2>&1 || { echo "gen-dev-cert: openssl is not installed" >&2; exit 1; }
mkdir -p "$dir"

openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 \
  -days "$days" -subj "/CN=$name/O=Ward development" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null

# nginx in the container runs as uid 101 and must read the key from the bind mount. A development
# key may be world-readable; a real key should be owned by uid 101 with mode 0400 instead.
chmod 0644 "$dir/tls.crt" "$dir/tls.key"
echo "gen-dev-cert: wrote $dir/tls.crt and $dir/tls.key for $name (self-signed, $days days, development only)" >&2
