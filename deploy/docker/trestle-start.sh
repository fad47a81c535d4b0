#!/bin/sh
# Starts trestle in the compose demo with the component secret that the
# demo's Prosody made at its first start (deploy/docker/prosody-start.sh),
# so that the demo needs no secret from the user. An operator's own
# deployment sets TRESTLE_COMPONENT_SECRET (or its own variables) instead.
set -eu

secret=/var/lib/trestle-demo/component-secret
waited=0
while [ ! -s "$secret" ]; do
    if [ "$waited" -ge 60 ]; then
        echo "trestle-start: no component secret in $secret after 60 s: is the prosody service running?" >&2
        exit 1
    fi
    sleep 1
    waited=$((waited + 1))
done
TRESTLE_COMPONENT_SECRET=$(cat "$secret")
export TRESTLE_COMPONENT_SECRET
exec /usr/local/bin/trestle --config /etc/trestle/trestle.yaml
