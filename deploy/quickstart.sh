#!/bin/bash
# Quick start on one Debian 12 machine, as root: installs the dependencies,
# builds trestle, configures the local Prosody for trestle's three component
# domains (irc.localhost, mail.localhost, sms.localhost), starts trestle
# against it with SQLite, and prints how to reach it from an XMPP client.
#
# Safe to run again: existing secrets, accounts and /etc/trestle/trestle.yaml
# are kept; the binary is rebuilt and trestle restarted.
#
# Files: /usr/local/bin/trestle, /etc/trestle/{trestle.yaml,trestle.env},
# /etc/prosody/conf.d/trestle.cfg.lua, /var/lib/trestle/ (database), and
# without systemd /var/log/trestle.log.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
http_port=8088

"$src/deploy/install-deps.sh" quickstart runtime
"$src/deploy/build.sh" "$src/build"
install -m 0755 "$src/build/trestle" /usr/local/bin/trestle

id -u trestle >/dev/null 2>&1 ||
    useradd --system --home-dir /var/lib/trestle --shell /usr/sbin/nologin trestle
install -d -m 0755 /etc/trestle
install -d -m 0750 -o trestle -g trestle /var/lib/trestle

# One random component secret, shared by Prosody and trestle.
if [ ! -s /etc/trestle/trestle.env ]; then
    umask 077
    echo "TRESTLE_COMPONENT_SECRET=$(openssl rand -hex 24)" >/etc/trestle/trestle.env
    umask 022
fi
chown root:trestle /etc/trestle/trestle.env
chmod 0640 /etc/trestle/trestle.env
secret=$(sed -n 's/^TRESTLE_COMPONENT_SECRET=//p' /etc/trestle/trestle.env)

if [ ! -e /etc/trestle/trestle.yaml ]; then
    install -m 0644 "$src/deploy/quickstart/trestle.yaml" /etc/trestle/trestle.yaml
else
    echo "quickstart: keeping the existing /etc/trestle/trestle.yaml"
fi

# Prosody: the components, and a demo account.
{
    echo "-- trestle's components, written by trestle's deploy/quickstart.sh"
    for domain in irc.localhost mail.localhost sms.localhost; do
        echo "Component \"$domain\""
        echo "    component_secret = \"$secret\""
    done
} >/etc/prosody/conf.d/trestle.cfg.lua
chown root:prosody /etc/prosody/conf.d/trestle.cfg.lua
chmod 0640 /etc/prosody/conf.d/trestle.cfg.lua

# Debian's Prosody requires TLS from clients; without the ssl-cert package it
# has no certificate for localhost, so make a self-signed one.
if [ ! -s /etc/prosody/certs/localhost.crt ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost" \
        -keyout /etc/prosody/certs/localhost.key -out /etc/prosody/certs/localhost.crt \
        2>/dev/null
    chown root:prosody /etc/prosody/certs/localhost.key /etc/prosody/certs/localhost.crt
    chmod 0640 /etc/prosody/certs/localhost.key
fi

if [ -d /run/systemd/system ]; then
    systemctl enable prosody >/dev/null 2>&1 || true
    systemctl restart prosody
else
    install -d -m 0755 -o prosody -g prosody /run/prosody
    prosodyctl stop >/dev/null 2>&1 || true
    prosodyctl start
fi

# Wait (bounded) for Prosody's component port.
tries=0
until (exec 3<>/dev/tcp/127.0.0.1/5347) 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "quickstart: Prosody does not listen on 127.0.0.1:5347" >&2
        exit 1
    fi
    sleep 0.5
done

password_file=/etc/trestle/quickstart-demo-password
if [ ! -s "$password_file" ]; then
    umask 077
    openssl rand -hex 8 >"$password_file"
    umask 022
    prosodyctl register demo localhost "$(cat "$password_file")"
fi
password=$(cat "$password_file")

(
    set -a; . /etc/trestle/trestle.env; set +a
    trestle --check-config /etc/trestle/trestle.yaml
)

if [ -d /run/systemd/system ]; then
    install -m 0644 "$src/deploy/trestle.service" /etc/systemd/system/trestle.service
    systemctl daemon-reload
    systemctl enable trestle >/dev/null 2>&1
    systemctl restart trestle
    how_to_stop="systemctl stop trestle"
    logs="journalctl -u trestle"
else
    if [ -s /run/trestle.pid ] && kill "$(cat /run/trestle.pid)" 2>/dev/null; then
        sleep 1
    fi
    (
        set -a; . /etc/trestle/trestle.env; set +a
        cd /var/lib/trestle
        exec setpriv --reuid trestle --regid trestle --init-groups \
            /usr/local/bin/trestle --config /etc/trestle/trestle.yaml
    ) >>/var/log/trestle.log 2>&1 </dev/null &
    echo $! >/run/trestle.pid
    how_to_stop="kill \$(cat /run/trestle.pid)"
    logs="/var/log/trestle.log"
fi

tries=0
until curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "quickstart: trestle did not become healthy within 30 s:" >&2
        curl -sS "http://127.0.0.1:$http_port/healthz" >&2 || true
        echo "see $logs" >&2
        exit 1
    fi
    sleep 0.5
done

cat <<INFO

trestle is running against the local Prosody.
  health:   curl http://127.0.0.1:$http_port/healthz   (metrics: /metrics)
  logs:     $logs
  stop:     $how_to_stop
  config:   /etc/trestle/trestle.yaml (secrets in /etc/trestle/trestle.env)

Connect an XMPP client (Gajim, Dino, Profanity...) to server 127.0.0.1,
port 5222, as:
  account:  demo@localhost
  password: $password
Prosody uses a self-signed certificate for localhost: accept it when asked.
Then browse the services: irc.localhost, mail.localhost and sms.localhost
answer service discovery, registration, the gateway prompt (for example
turning bob@example.com into a contact) and, for demo@localhost, the admin
commands (uptime, users, disconnect-user).
INFO
