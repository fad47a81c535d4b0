-- Prosody: trestle's component domains (XEP-0114). Put this file in
-- /etc/prosody/conf.d/ (Debian's prosody.cfg.lua includes that directory),
-- use the same secrets in trestle's config, and restart Prosody.
--
-- Prosody listens for components on 127.0.0.1 and ::1, port 5347, by
-- default (component_ports / component_interfaces, global settings in
-- prosody.cfg.lua). Keep it on loopback: the component stream is plain text.
--
-- Prosody 0.12's component_ports cannot do TLS. For trestle on another
-- machine, load mod_net_multiplex and give it a direct-TLS port; it
-- decrypts, then hands a stream that opens with jabber:component:accept to
-- the component listener (global settings in prosody.cfg.lua):
--   modules_enabled = { ...; "net_multiplex" }
--   ssl_ports = { 5348 }
--   ssl_interfaces = { "*" }
--   ssl = { certificate = "/etc/prosody/certs/xmpp.example.org.crt";
--           key = "/etc/prosody/certs/xmpp.example.org.key" }
-- and under trestle's xmpp: port: 5348, tls: true (server_name: the name in
-- that certificate, when host is an address). That port also takes direct
-- TLS client connections (XEP-0368).

Component "irc.example.org"
    component_secret = "change-me-irc"

Component "mail.example.org"
    component_secret = "change-me-mail"

Component "sms.example.org"
    component_secret = "change-me-sms"
