# ngircd for deploy/docker-compose.yml.
FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ngircd \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/ngircd.conf /etc/ngircd/ngircd.conf
EXPOSE 6667
# --nodaemon keeps it in the foreground, logging to stderr.
CMD ["ngircd", "--nodaemon", "--config", "/etc/ngircd/ngircd.conf"]
