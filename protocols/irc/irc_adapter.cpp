#include "irc_adapter.hpp"

#include "address_text.hpp"
#include "log.hpp"
#include "not_available.hpp"
#include "stanza.hpp"

#include <stdexcept>
#include <utility>

namespace trestle::irc {

namespace {

constexpr std::string_view not_available_text =
    "IRC delivery is not available in this version of trestle yet";

/// CR, LF and NUL end or split an IRC line, so no field may carry them.
bool has_line_break_or_nul(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

xmpp::StanzaError not_acceptable(std::string text) {
  return xmpp::make_stanza_error(xmpp::Condition::not_acceptable, std::move(text));
}

/// The IRC username (ident) goes into `USER <username> 0 * :<realname>`.
std::optional<std::string> check_username(std::string_view username) {
  for (const char c : username) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return "the username cannot contain spaces or control characters";
    }
    if (c == '@') {
      return "the username cannot contain '@'";
    }
  }
  if (username.front() == ':') {
    return "the username cannot start with ':'";
  }
  return std::nullopt;
}

} // namespace

IrcAdapter::IrcAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context)
    : context_(context) {
  if (!config.irc.fixed_server.empty()) {
    std::string reason;
    auto server = normalize_server_name(config.irc.fixed_server, &reason);
    if (!server) {
      throw std::invalid_argument("component " + config.domain + ": irc.fixed_server '" +
                                  config.irc.fixed_server + "' is not a server name: " + reason);
    }
    rules_.fixed_server = std::move(*server);
  }
}

void IrcAdapter::on_stanza(const xmpp::Element& stanza, const xmpp::Jid& /*from*/) {
  gateway::answer_not_available(stanza, context_, not_available_text);
}

std::string IrcAdapter::gateway_description() const {
  if (!rules_.fixed_server.empty()) {
    return "Enter an IRC channel (#channel) or a nickname on " + rules_.fixed_server + ".";
  }
  return "Enter an IRC channel (#channel%irc.example.net), a nickname (nick%irc.example.net) "
         "or a server (irc.example.net).";
}

std::string IrcAdapter::gateway_prompt() const {
  return rules_.fixed_server.empty() ? "IRC channel, nickname or server"
                                     : "IRC channel or nickname";
}

std::optional<xmpp::Jid> IrcAdapter::jid_for_address(std::string_view typed,
                                                     xmpp::StanzaError& error) const {
  std::string reason;
  const auto address = parse_typed_address(typed, rules_, &reason);
  if (!address) {
    error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed, reason);
    return std::nullopt;
  }
  auto jid = xmpp::Jid::from_parts(to_localpart(*address, rules_), context_.domain().domain(), {},
                                   &reason);
  if (!jid) {
    error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed,
                                    "this IRC address cannot be written as a JID: " + reason);
  }
  return jid;
}

std::vector<gateway::RegistrationField> IrcAdapter::registration_fields() const {
  return {
      {"nick", "Nickname", true, false, "The nickname used on IRC."},
      {"username", "Username", false, false, "The IRC username (ident); defaults to the nickname."},
      {"realname", "Real name", false, false, "Shown by WHOIS; defaults to the nickname."},
      {"password", "Password", false, true,
       "Your IRC account password, sent with SASL; leave empty without an account."},
  };
}

std::string IrcAdapter::registration_instructions() const {
  std::string text = "Choose the nickname to use on IRC";
  if (!rules_.fixed_server.empty()) {
    text += " (" + rules_.fixed_server + ")";
  }
  return text + ". If your nickname is registered, give its password: it is sent to the "
                "IRC server with SASL.";
}

std::optional<xmpp::StanzaError> IrcAdapter::validate_registration(const xmpp::Jid& /*user*/,
                                                                   gateway::FieldValues& values) {
  const auto nick_field = values.find("nick");
  const std::string nick = nick_field == values.end()
                               ? std::string()
                               : std::string(protocols::trim_blanks(nick_field->second));
  if (nick.empty()) {
    return not_acceptable("a nickname is required");
  }
  std::string reason;
  if (!is_valid_nickname(nick, rules_.channel_prefixes, &reason)) {
    return not_acceptable(reason);
  }
  values["nick"] = nick;

  if (const auto field = values.find("username"); field != values.end()) {
    field->second = std::string(protocols::trim_blanks(field->second));
    if (!field->second.empty()) {
      if (auto problem = check_username(field->second)) {
        return not_acceptable(std::move(*problem));
      }
    }
  }
  if (const auto field = values.find("realname");
      field != values.end() && has_line_break_or_nul(field->second)) {
    return not_acceptable("the real name cannot contain line breaks or NUL characters");
  }
  if (const auto field = values.find("password");
      field != values.end() && has_line_break_or_nul(field->second)) {
    return not_acceptable("the password cannot contain line breaks or NUL characters");
  }
  return std::nullopt;
}

} // namespace trestle::irc
