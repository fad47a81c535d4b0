-- Prosody for deploy/docker-compose.yml: one virtual host, localhost, and
-- trestle's three components. The component port listens on the compose
-- network only (it is not published); the secret comes from the environment,
-- where prosody-start.sh puts it.
-- Clients must use STARTTLS, with the self-signed certificate that
-- prosody-start.sh makes at the first start.
daemonize = false
pidfile = "/run/prosody/prosody.pid"
log = { { levels = { min = "info" }, to = "console" } }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "register" }
allow_registration = true
c2s_require_encryption = true
certificates = "/var/lib/prosody/certs"
authentication = "internal_hashed"
interfaces = { "*" }
component_interfaces = { "*" }
component_ports = { 5347 }

VirtualHost "localhost"

Component "irc.localhost"
    component_secret = ENV_TRESTLE_COMPONENT_SECRET
Component "mail.localhost"
    component_secret = ENV_TRESTLE_COMPONENT_SECRET
Component "sms.localhost"
    component_secret = ENV_TRESTLE_COMPONENT_SECRET
