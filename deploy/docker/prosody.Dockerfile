# Prosody from Debian 12 for deploy/docker-compose.yml.
FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        prosody lua-sec openssl \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o prosody -g prosody /run/prosody /var/lib/prosody/certs /var/lib/trestle-demo
COPY deploy/docker/prosody.cfg.lua /etc/prosody/prosody.cfg.lua
COPY deploy/docker/prosody-start.sh /usr/local/bin/prosody-start
USER prosody
EXPOSE 5222
CMD ["prosody-start"]
