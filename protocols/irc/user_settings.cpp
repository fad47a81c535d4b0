#include "user_settings.hpp"

#include "irc_address.hpp"
#include "irc_message.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <system_error>

namespace trestle::irc {

namespace {

using gateway::DataForm;
using gateway::FormField;
using xmpp::Condition;

std::optional<unsigned> to_unsigned(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> to_bool(std::string_view text) {
  if (text == "1" || text == "true") {
    return true;
  }
  if (text == "0" || text == "false") {
    return false;
  }
  return std::nullopt;
}

std::string value_of(const gateway::FieldValues& values, const std::string& key) {
  const auto it = values.find(key);
  return it == values.end() ? std::string() : it->second;
}

/// The first non-empty value among the user's server settings and registration.
std::string pick(const gateway::FieldValues& first, const gateway::FieldValues& second,
                 const std::string& key) {
  auto value = value_of(first, key);
  return value.empty() ? value_of(second, key) : value;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    auto line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(' ') != std::string_view::npos) {
      lines.emplace_back(line);
    }
    start = end + 1;
  }
  return lines;
}

FormField field(std::string var, std::string type, std::string label, std::string value,
                std::string description) {
  FormField f;
  f.var = std::move(var);
  f.type = std::move(type);
  f.label = std::move(label);
  f.description = std::move(description);
  if (!value.empty()) {
    f.values.push_back(std::move(value));
  }
  return f;
}

} // namespace

std::optional<std::string> check_setting(std::string_view field, std::string_view value,
                                         std::string_view chantypes, unsigned max_flood) {
  const std::string label = field == "realname"        ? "real name"
                            : field == "after_connect" ? "commands to send after connecting"
                                                       : std::string(field);
  if (value.find('\0') != std::string_view::npos) {
    return "the " + label + " cannot contain NUL characters";
  }
  const bool multi_line = field == "after_connect";
  if (!multi_line && value.find_first_of("\r\n") != std::string_view::npos) {
    return "the " + label + " cannot contain line breaks";
  }
  if (value.empty()) {
    return std::nullopt;
  }
  std::string reason;
  if (field == "nick" && !is_valid_nickname(value, chantypes, &reason)) {
    return reason;
  }
  if (field == "username" || field == "account") {
    if (std::any_of(value.begin(), value.end(),
                    [](unsigned char c) { return c <= 0x20 || c == 0x7f || c == '@'; }) ||
        value.front() == ':') {
      return "the " + std::string(field) +
             " cannot contain spaces, control characters or '@', nor start with ':'";
    }
  }
  if (field == "port") {
    const auto port = to_unsigned(value);
    if (!port || *port == 0 || *port > 65535) {
      return "the port must be a number from 1 to 65535";
    }
  }
  if (field == "tls" && !to_bool(value)) {
    return "tls must be true or false";
  }
  if (field == "flood_lines_per_second") {
    const auto rate = to_unsigned(value);
    if (!rate || *rate == 0 || (max_flood != 0 && *rate > max_flood)) {
      return max_flood == 0 ? std::string("the flood limit must be a positive number")
                            : "the flood limit must be from 1 to " + std::to_string(max_flood) +
                                  " lines per second (the operator's limit)";
    }
  }
  if (multi_line) {
    for (const auto& line : lines_of(value)) {
      std::string error;
      if (!parse_line(line, &error)) {
        return "the command '" + line + "' is not an IRC command: " + error;
      }
    }
  }
  return std::nullopt;
}

IrcLinkOptions link_options(const irc::IrcServerSettings& server,
                            const gateway::FieldValues& registration,
                            const gateway::FieldValues& server_settings,
                            std::string_view fallback_nick) {
  IrcLinkOptions options;
  auto& connection = options.connection;
  connection.host = server.host;
  connection.port = server.port;
  connection.tls = server.tls;
  if (const auto port = to_unsigned(value_of(server_settings, "port"))) {
    connection.port = static_cast<std::uint16_t>(*port);
  }
  if (const auto tls = to_bool(value_of(server_settings, "tls"))) {
    connection.tls = *tls;
  }
  connection.verify_certificate = server.verify_certificate;
  connection.ca_file = server.ca_file;
  connection.connect_timeout = std::chrono::seconds(server.connect_timeout_seconds);
  connection.flood_burst = server.flood_burst;
  connection.flood_lines_per_second = server.flood_lines_per_second;
  if (const auto rate = to_unsigned(value_of(server_settings, "flood_lines_per_second"));
      rate && *rate > 0 &&
      (server.flood_lines_per_second == 0 || *rate < server.flood_lines_per_second)) {
    connection.flood_lines_per_second = *rate;
  }

  auto& client = options.client;
  client.nick = pick(server_settings, registration, "nick");
  if (client.nick.empty()) {
    client.nick = std::string(fallback_nick);
  }
  client.username = pick(server_settings, registration, "username");
  if (client.username.empty()) {
    client.username = client.nick;
  }
  client.realname = pick(server_settings, registration, "realname");
  if (client.realname.empty()) {
    client.realname = client.nick;
  }
  client.server_password = server.password;
  if (auto password = pick(server_settings, registration, "password"); !password.empty()) {
    auto account = value_of(server_settings, "account");
    client.sasl = SaslPlain{account.empty() ? client.nick : account, std::move(password)};
  }
  options.reconnect_min = std::chrono::seconds(server.reconnect_min_delay_seconds);
  options.reconnect_max = std::chrono::seconds(server.reconnect_max_delay_seconds);
  options.after_connect = lines_of(value_of(server_settings, "after_connect"));
  return options;
}

gateway::Awaitable<gateway::CommandAnswer>
answer_configure(const gateway::CommandRequest& request, gateway::ServerSettingsRepository& store,
                 const std::string& component, const irc::IrcServerSettings& server,
                 std::string_view chantypes) {
  using Answer = gateway::CommandAnswer;
  if (request.action == "cancel") {
    co_return Answer{.status = Answer::Status::canceled};
  }
  std::error_code ec;
  const auto user = request.from.bare_string();
  const auto stored = co_await store.find(user, component, server.host, ec);
  if (ec) {
    co_return Answer{
        .error = xmpp::make_stanza_error(Condition::internal_server_error,
                                         "the gateway cannot read your settings right now")};
  }
  gateway::FieldValues current = stored ? stored->fields : gateway::FieldValues{};
  const auto& submitted = request.form;
  if (!submitted || submitted->type != "submit") {
    DataForm form;
    form.title = "IRC settings for " + server.host;
    form.instructions = "Empty fields fall back to your registration with the gateway, then to "
                        "the operator's defaults. The password is never shown; leave it empty "
                        "to keep the saved one.";
    form.fields.push_back(field("nick", "text-single", "Nickname", value_of(current, "nick"), ""));
    form.fields.push_back(
        field("username", "text-single", "Username (ident)", value_of(current, "username"), ""));
    form.fields.push_back(
        field("realname", "text-single", "Real name", value_of(current, "realname"), ""));
    form.fields.push_back(field("account", "text-single", "SASL account (default: the nickname)",
                                value_of(current, "account"), ""));
    form.fields.push_back(field("password", "text-private", "SASL password", "", ""));
    form.fields.push_back(
        field("forget_password", "boolean", "Forget the saved password", "false", ""));
    form.fields.push_back(field("port", "text-single",
                                "Port (default " + std::to_string(server.port) + ")",
                                value_of(current, "port"), ""));
    form.fields.push_back(field("tls", "boolean", "Use TLS",
                                value_of(current, "tls").empty()
                                    ? std::string(server.tls ? "true" : "false")
                                    : value_of(current, "tls"),
                                ""));
    form.fields.push_back(field("after_connect", "text-multi",
                                "Commands to send after connecting (one per line)", "", ""));
    auto& commands = form.fields.back();
    for (const auto& line : lines_of(value_of(current, "after_connect"))) {
      commands.values.push_back(line);
    }
    form.fields.push_back(field("flood_lines_per_second", "text-single",
                                "Flood limit, lines per second (default " +
                                    std::to_string(server.flood_lines_per_second) + ")",
                                value_of(current, "flood_lines_per_second"), ""));
    co_return Answer{.status = Answer::Status::executing, .form = std::move(form)};
  }

  gateway::FieldValues updated = current;
  for (const std::string var : {"nick", "username", "realname", "account", "port", "tls",
                                "after_connect", "flood_lines_per_second", "password"}) {
    const auto* submitted_field = submitted->field(var);
    if (submitted_field == nullptr) {
      continue;
    }
    std::string value;
    for (std::size_t i = 0; i < submitted_field->values.size(); ++i) {
      value += (i == 0 ? "" : "\n") + submitted_field->values[i];
    }
    const auto first = value.find_first_not_of(' ');
    value = first == std::string::npos ? std::string() : value.substr(first);
    while (!value.empty() && value.back() == ' ') {
      value.pop_back();
    }
    if (auto problem = check_setting(var, value, chantypes, server.flood_lines_per_second)) {
      co_return Answer{.error = xmpp::make_stanza_error(Condition::not_acceptable, *problem)};
    }
    if (var == "password" && value.empty()) {
      continue; // empty keeps the saved password
    }
    if (var == "tls" && !value.empty()) {
      value = *to_bool(value) ? "true" : "false";
    }
    updated[var] = value;
  }
  if (to_bool(submitted->value("forget_password")).value_or(false)) {
    updated.erase("password");
  }
  const gateway::ServerSettings saved{user, component, server.host, std::move(updated)};
  co_await store.put(saved, ec);
  if (ec) {
    co_return Answer{
        .error = xmpp::make_stanza_error(Condition::internal_server_error,
                                         "the gateway cannot save your settings right now")};
  }
  co_return Answer{.note = "Saved. The settings apply the next time you connect to " + server.host +
                           "."};
}

} // namespace trestle::irc
