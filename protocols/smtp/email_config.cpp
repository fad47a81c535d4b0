#include "email_config.hpp"

#include "config_reader.hpp"

// The `smtp` section of an email component: the users' addresses, the relay
// for outgoing mail and the listener the MTA delivers to.

namespace trestle::smtp {

using namespace gateway::config_detail;

namespace {

/// Fails unless `key`'s text holds only the given placeholders in braces.
void check_template(const MapView& map, std::string_view key, const std::string& text,
                    std::initializer_list<std::string_view> placeholders) {
  std::size_t at = 0;
  while ((at = text.find('{', at)) != std::string::npos) {
    const std::size_t end = text.find('}', at);
    const std::string_view name = end == std::string::npos
                                      ? std::string_view()
                                      : std::string_view(text).substr(at, end - at + 1);
    if (std::find(placeholders.begin(), placeholders.end(), name) == placeholders.end()) {
      std::string allowed;
      for (const auto placeholder : placeholders) {
        allowed.append(allowed.empty() ? "" : ", ").append(placeholder);
      }
      const Entry& entry = *map.find(key);
      map.ctx().fail(entry.mark(), entry.path,
                     "unknown placeholder in " + quoted(text) + "; allowed: " + allowed);
    }
    at = end + 1;
  }
  if (text.find_first_of("\r\n") != std::string::npos) {
    const Entry& entry = *map.find(key);
    map.ctx().fail(entry.mark(), entry.path, "must not contain line breaks");
  }
}

EmailRelaySettings parse_relay(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"host", "port", "security", "verify_certificate", "ca_file", "username",
                     "password", "connect_timeout_seconds", "reply_timeout_seconds",
                     "max_connections"});
  EmailRelaySettings relay;
  read_required_text(map, "host", relay.host, Spaces::refused);
  read_number(map, "port", relay.port, port_range);
  read_string(map, "security", relay.security);
  if (relay.security != "starttls" && relay.security != "tls" && relay.security != "none") {
    const Entry& given = *map.find("security");
    ctx.fail(given.mark(), given.path,
             "expected starttls, tls or none, got " + quoted(relay.security));
  }
  read_bool(map, "verify_certificate", relay.verify_certificate);
  read_string(map, "ca_file", relay.ca_file);
  read_string(map, "username", relay.username);
  read_string(map, "password", relay.password);
  for (const std::string_view key : {"username", "password"}) {
    const std::string& value = key == "username" ? relay.username : relay.password;
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      const Entry& given = *map.find(key);
      ctx.fail(given.mark(), given.path, "must not contain line breaks or NUL");
    }
  }
  if (relay.username.empty() != relay.password.empty()) {
    ctx.fail(map.mark(), map.path(), "username and password go together: give both or neither");
  }
  read_number(map, "connect_timeout_seconds", relay.connect_timeout_seconds, seconds_range);
  read_number(map, "reply_timeout_seconds", relay.reply_timeout_seconds, seconds_range);
  read_number(map, "max_connections", relay.max_connections, Range{1, 100});
  return relay;
}

EmailListenerSettings parse_listener(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"enabled", "bind", "port", "lmtp", "hostname", "tls_certificate_file",
                     "tls_key_file", "max_message_bytes", "max_recipients", "max_connections",
                     "command_timeout_seconds", "data_timeout_seconds"});
  EmailListenerSettings listener;
  read_bool(map, "enabled", listener.enabled);
  read_required_text(map, "bind", listener.bind, Spaces::refused);
  read_number(map, "port", listener.port, Range{0, 65535});
  read_bool(map, "lmtp", listener.lmtp);
  read_required_text(map, "hostname", listener.hostname, Spaces::refused);
  read_string(map, "tls_certificate_file", listener.tls_certificate_file);
  read_string(map, "tls_key_file", listener.tls_key_file);
  if (listener.tls_certificate_file.empty() != listener.tls_key_file.empty()) {
    ctx.fail(map.mark(), map.path(),
             "tls_certificate_file and tls_key_file go together: give both or neither");
  }
  read_number(map, "max_message_bytes", listener.max_message_bytes, bytes_range);
  read_number(map, "max_recipients", listener.max_recipients, Range{1, 10000});
  read_number(map, "max_connections", listener.max_connections, Range{1, 100000});
  read_number(map, "command_timeout_seconds", listener.command_timeout_seconds, seconds_range);
  read_number(map, "data_timeout_seconds", listener.data_timeout_seconds, seconds_range);
  return listener;
}

EmailSettings parse_email(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"mail_domain", "address_template", "require_registration", "default_subject",
                     "retry_max_age_seconds", "retry_min_delay_seconds", "retry_max_delay_seconds",
                     "max_queued", "max_queued_per_user", "relay", "listener"});
  EmailSettings email;
  read_string(map, "mail_domain", email.mail_domain);
  if (const Entry* given = map.find("mail_domain");
      given != nullptr && !email.mail_domain.empty()) {
    email.mail_domain = lowercase(email.mail_domain);
    if (const std::string problem = domain_problem(email.mail_domain); !problem.empty()) {
      ctx.fail(given->mark(), given->path, quoted(email.mail_domain) + ' ' + problem);
    }
  }
  read_string(map, "address_template", email.address_template);
  if (map.find("address_template") != nullptr) {
    check_template(map, "address_template", email.address_template, {"{localpart}", "{domain}"});
  }
  read_bool(map, "require_registration", email.require_registration);
  read_string(map, "default_subject", email.default_subject);
  if (map.find("default_subject") != nullptr) {
    check_template(map, "default_subject", email.default_subject, {"{name}"});
  }
  read_queue_settings(map, email);
  if (const Entry* relay = map.find("relay")) {
    email.relay = parse_relay(ctx, *relay);
  }
  if (const Entry* listener = map.find("listener")) {
    email.listener = parse_listener(ctx, *listener);
  }
  return email;
}

} // namespace

gateway::NetworkConfigReader email_config_reader() {
  return section_reader<EmailSettings>("smtp", "Email gateway", parse_email);
}

} // namespace trestle::smtp
