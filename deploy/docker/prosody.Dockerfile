# Prosody from Debian 12 for deploy/docker-compose.yml.
FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prosody lua-sec \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o prosody -g prosody /run/prosody
COPY deploy/docker/prosody.cfg.lua /etc/prosody/prosody.cfg.lua
USER prosody
EXPOSE 5222
CMD ["prosody", "-F"]
