#!/bin/sh
# Starts the demo's Prosody. At the first start it makes
# - a self-signed certificate for its domain (localhost), kept in the
#   prosody-data volume so that a client accepts it once; every start prints
#   its SHA-256 fingerprint, which the user compares with what the client
#   shows before accepting it:
#     docker-compose -f deploy/docker-compose.yml logs prosody | grep fingerprint
# - the component secret that trestle shares (deploy/docker/trestle-start.sh),
#   kept in the demo-secret volume, which only these two services mount.
set -eu

secret=/var/lib/trestle-demo/component-secret
if [ ! -s "$secret" ]; then
    openssl rand -hex 24 >"$secret.new"
    # trestle runs as another user and reads it through its own mount.
    chmod 644 "$secret.new"
    mv "$secret.new" "$secret"
    echo "prosody-start: made the component secret"
fi
TRESTLE_COMPONENT_SECRET=$(cat "$secret")
export TRESTLE_COMPONENT_SECRET

domain=localhost
certs=/var/lib/prosody/certs
if [ ! -s "$certs/$domain.crt" ] || [ ! -s "$certs/$domain.key" ]; then
    mkdir -p "$certs"
    umask 077
    openssl req -x509 -newkey rsa:3072 -sha256 -days 3650 -nodes \
        -subj "/CN=$domain" -addext "subjectAltName=DNS:$domain" \
        -keyout "$certs/$domain.key.new" -out "$certs/$domain.crt.new" 2>/dev/null
    chmod 644 "$certs/$domain.crt.new"
    mv "$certs/$domain.key.new" "$certs/$domain.key"
    mv "$certs/$domain.crt.new" "$certs/$domain.crt"
    echo "prosody-start: made a self-signed certificate for $domain"
fi
fingerprint=$(openssl x509 -in "$certs/$domain.crt" -noout -fingerprint -sha256 | cut -d= -f2)
echo "prosody-start: the certificate for $domain has the SHA-256 fingerprint $fingerprint"
exec prosody -F
