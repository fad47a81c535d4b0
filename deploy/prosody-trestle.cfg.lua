-- Prosody: trestle's component domains (XEP-0114). Put this file in
-- /etc/prosody/conf.d/ (Debian's prosody.cfg.lua includes that directory),
-- use the same secrets in trestle's config, and restart Prosody.
--
-- Prosody listens for components on 127.0.0.1 and ::1, port 5347, by
-- default (component_ports / component_interfaces, global settings in
-- prosody.cfg.lua). Keep it on loopback: the component stream is plain text.

Component "irc.example.org"
    component_secret = "change-me-irc"

Component "mail.example.org"
    component_secret = "change-me-mail"

Component "sms.example.org"
    component_secret = "change-me-sms"
