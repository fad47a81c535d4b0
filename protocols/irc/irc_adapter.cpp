#include "irc_adapter.hpp"

#include "adapter_replies.hpp"
#include "address_text.hpp"
#include "log.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"
#include "user_connection.hpp"
#include "user_settings.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

namespace trestle::irc {

namespace {

using xmpp::Condition;

xmpp::StanzaError not_acceptable(std::string text) {
  return xmpp::make_stanza_error(Condition::not_acceptable, std::move(text));
}

/// A nick for a user who gave none: the JID's local part, cut to what IRC takes.
std::string nick_from_jid(const xmpp::Jid& user) {
  std::string nick;
  for (const char c : user.local()) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9' && !nick.empty()) || c == '_' || c == '-' || c == '[' ||
        c == ']' || c == '\\' || c == '^' || c == '{' || c == '}' || c == '|') {
      nick += c;
    }
    if (nick.size() >= 16) {
      break;
    }
  }
  return nick.empty() || nick.front() == '-' ? "xmpp" + nick : nick;
}

} // namespace

IrcAdapter::IrcAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context)
    : context_(context), policy_(config.irc) {
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

IrcAdapter::~IrcAdapter() = default;

void IrcAdapter::on_stanza(const xmpp::Element& stanza, const xmpp::Jid& from) {
  const auto to = xmpp::StanzaView(stanza).to();
  std::string reason;
  auto address = parse_localpart(to->local(), rules_, &reason);
  if (!address) {
    refuse(stanza, Condition::jid_malformed, reason);
    return;
  }
  const auto kind = xmpp::kind_of(stanza);
  if (kind == xmpp::StanzaKind::iq) {
    on_iq(stanza, from, *to, *address);
    return;
  }
  const auto type = stanza.attr_or("type");
  if (kind == xmpp::StanzaKind::presence) {
    if (address->kind != AddressKind::channel) {
      if (type == "subscribe") {
        // IRC users and servers in the roster: accept, nothing to track.
        context_.send(xmpp::make_presence(to->bare(), from.bare(), "subscribed"));
      }
      return;
    }
    const bool joining = type.empty();
    if (joining && to->resource().empty()) {
      refuse(stanza, Condition::jid_malformed, "join a room with a nickname: room@domain/nick");
      return;
    }
    if (joining) {
      std::string why;
      if (!is_valid_nickname(to->resource(), rules_.channel_prefixes, &why)) {
        refuse(stanza, Condition::jid_malformed,
               "'" + to->resource() + "' cannot be an IRC nickname: " + why);
        return;
      }
    }
    if (auto* user = connection(stanza, from, address->server, to->resource(), joining)) {
      user->on_room_presence(stanza, from, address->name, to->resource());
    }
    return;
  }
  if (kind != xmpp::StanzaKind::message || type == "error") {
    return;
  }
  // A groupchat message needs the room joined; a private message or a raw
  // command may open the connection.
  const bool to_room = address->kind == AddressKind::channel && to->resource().empty();
  auto* user = connection(stanza, from, address->server, {}, !to_room);
  if (user == nullptr) {
    if (to_room) {
      refuse(stanza, Condition::not_acceptable,
             "you are not in " + address->name + "; join the room first");
    }
    return;
  }
  switch (address->kind) {
  case AddressKind::channel:
    user->on_room_message(stanza, from, address->name, to->resource());
    break;
  case AddressKind::user:
    user->on_user_message(stanza, from, address->name);
    break;
  case AddressKind::server:
    user->on_server_message(stanza, from);
    break;
  }
}

void IrcAdapter::on_domain_presence(const xmpp::Jid& from, bool available) {
  if (available || from.resource().empty()) {
    return;
  }
  const auto prefix = from.bare_string() + '\n';
  for (auto it = connections_.lower_bound(prefix);
       it != connections_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    auto& user = *(it++)->second;
    user.resource_offline(from.resource());
  }
}

bool IrcAdapter::on_domain_message(const xmpp::Element& stanza, const xmpp::Jid& from) {
  if (rules_.fixed_server.empty()) {
    return false;
  }
  if (stanza.attr_or("type") != "error") {
    if (auto* user = connection(stanza, from, rules_.fixed_server, {}, true)) {
      user->on_server_message(stanza, from);
    }
  }
  return true;
}

void IrcAdapter::stop() {
  for (auto& [key, user] : connections_) {
    user->quit("Gateway shutting down");
  }
}

gateway::Awaitable<void> IrcAdapter::on_unregistered(const xmpp::Jid& user) {
  close_all(user, "Unregistered");
  co_return;
}

void IrcAdapter::disconnect_user(const xmpp::Jid& user) {
  close_all(user, "Disconnected by the gateway's administrator");
}

void IrcAdapter::close_all(const xmpp::Jid& user, std::string_view reason) {
  const auto prefix = user.bare_string() + '\n';
  for (auto it = connections_.lower_bound(prefix);
       it != connections_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    it->second->quit(reason);
  }
}

UserConnection* IrcAdapter::connection(const xmpp::Element& stanza, const xmpp::Jid& from,
                                       const std::string& server, std::string_view requested_nick,
                                       bool open) {
  const auto bare = from.bare_string();
  const auto key = bare + '\n' + server;
  if (auto it = connections_.find(key); it != connections_.end()) {
    if (!it->second->finished()) {
      return it->second.get();
    }
    // Quitting: it finishes on its own; a new connection takes its place.
    closing_.push_back(std::move(it->second));
    connections_.erase(it);
  }
  if (!open) {
    return nullptr;
  }
  if (auto refusal = policy_.refusal(server)) {
    refuse(stanza, Condition::not_allowed, std::move(*refusal));
    return nullptr;
  }
  const auto prefix = bare + '\n';
  std::size_t open_count = 0;
  for (auto it = connections_.lower_bound(prefix);
       it != connections_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    ++open_count;
  }
  if (open_count >= policy_.settings().max_connections_per_user) {
    refuse(stanza, Condition::resource_constraint,
           "you are connected to " + std::to_string(open_count) +
               " IRC servers, the most this gateway allows");
    return nullptr;
  }
  std::error_code ec;
  auto& store = context_.store();
  const auto domain = context_.domain().domain();
  const auto registration = store.find_registration(bare, domain, ec);
  const auto server_settings =
      ec ? std::nullopt : store.find_server_settings(bare, domain, server, ec);
  if (ec) {
    context_.log().error("irc",
                         "store error reading the settings of " + bare + ": " + ec.message());
    refuse(stanza, Condition::internal_server_error,
           "the gateway cannot read your settings right now; try again later");
    return nullptr;
  }
  const auto nick = requested_nick.empty() ? nick_from_jid(from) : std::string(requested_nick);
  auto options = link_options(
      policy_.settings_for(server), registration ? registration->fields : gateway::FieldValues{},
      server_settings ? server_settings->fields : gateway::FieldValues{}, nick);
  options.connection.read_gate = context_.read_gate();
  auto user = std::make_unique<UserConnection>(
      BridgeContext{context_, rules_, channels_}, from.bare(), server, std::move(options),
      std::chrono::seconds(policy_.settings().idle_timeout_seconds),
      [this, key](UserConnection& finished) {
        if (auto it = connections_.find(key);
            it != connections_.end() && it->second.get() == &finished) {
          connections_.erase(it);
          return;
        }
        std::erase_if(closing_, [&](const auto& entry) { return entry.get() == &finished; });
      });
  auto* raw = user.get();
  connections_.emplace(key, std::move(user));
  context_.log().info("irc", "connecting " + bare + " to " + server);
  raw->start();
  return raw;
}

void IrcAdapter::refuse(const xmpp::Element& stanza, Condition condition, std::string text) {
  gateway::refuse(stanza, context_, condition, std::move(text));
}

void IrcAdapter::on_iq(const xmpp::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to,
                       const IrcAddress& address) {
  const auto type = iq.attr_or("type");
  if (type != "get" && type != "set") {
    return;
  }
  const auto* payload = iq.first_element();
  if (payload == nullptr) {
    refuse(iq, Condition::bad_request, "an iq request needs a payload");
    return;
  }
  const auto& xmlns = payload->xmlns();
  if (address.kind == AddressKind::channel) {
    on_room_iq(iq, from, to, address, xmlns);
    return;
  }
  if (address.kind == AddressKind::server) {
    on_server_iq(iq, from, address, xmlns);
    return;
  }
  if (xmlns == xmpp::ns::disco_info && type == "get") {
    auto reply = xmpp::make_iq_result(iq);
    auto& query = reply.append("query", std::string(xmpp::ns::disco_info));
    auto& identity = query.append("identity");
    identity.set_attr("category", "client");
    identity.set_attr("type", "irc");
    identity.set_attr("name", address.name);
    query.append("feature").set_attr("var", std::string(xmpp::ns::disco_info));
    context_.send(std::move(reply));
    return;
  }
  refuse(iq, Condition::service_unavailable, {});
}

void IrcAdapter::on_room_iq(const xmpp::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to,
                            const IrcAddress& address, std::string_view xmlns) {
  const bool get = iq.attr_or("type") == "get";
  if (xmlns == xmpp::ns::disco_info && get) {
    auto reply = xmpp::make_iq_result(iq);
    auto& query = reply.append("query", std::string(xmpp::ns::disco_info));
    auto& identity = query.append("identity");
    identity.set_attr("category", "conference");
    identity.set_attr("type", "irc");
    identity.set_attr("name", address.name);
    for (const std::string_view feature :
         {xmpp::ns::disco_info, xmpp::ns::muc, std::string_view("muc_nonanonymous"),
          std::string_view("muc_open"), std::string_view("muc_persistent"), xmpp::ns::sid}) {
      query.append("feature").set_attr("var", std::string(feature));
    }
    context_.send(std::move(reply));
    return;
  }
  if (xmlns == xmpp::ns::disco_items && get) {
    auto reply = xmpp::make_iq_result(iq);
    reply.append("query", std::string(xmpp::ns::disco_items));
    context_.send(std::move(reply));
    return;
  }
  if (xmlns == xmpp::ns::ping && get) {
    // XEP-0410 self-ping: a client asks whether it is still in the room.
    auto* user = connection(iq, from, address.server, {}, false);
    if (to.resource().empty() ||
        (user != nullptr && user->in_room(address.name, from.resource(), to.resource()))) {
      context_.send(xmpp::make_iq_result(iq));
    } else {
      refuse(iq, Condition::not_acceptable, "you are not in this room");
    }
    return;
  }
  if (xmlns == "http://jabber.org/protocol/muc#admin" && !get) {
    if (auto* user = connection(iq, from, address.server, {}, false)) {
      user->on_room_admin(iq, from, address.name);
    } else {
      refuse(iq, Condition::not_acceptable, "you are not in this room");
    }
    return;
  }
  refuse(iq, Condition::service_unavailable, {});
}

void IrcAdapter::on_server_iq(const xmpp::Element& iq, const xmpp::Jid& from,
                              const IrcAddress& address, std::string_view xmlns) {
  const bool get = iq.attr_or("type") == "get";
  const auto* payload = iq.first_element();
  const auto node = payload->attr_or("node");
  if (xmlns == xmpp::ns::disco_info && get) {
    auto reply = xmpp::make_iq_result(iq);
    auto& query = reply.append("query", std::string(xmpp::ns::disco_info));
    if (!node.empty()) {
      query.set_attr("node", node);
    }
    auto& identity = query.append("identity");
    identity.set_attr("category", "conference");
    identity.set_attr("type", "irc");
    identity.set_attr("name", address.server);
    for (const std::string_view feature :
         {xmpp::ns::disco_info, xmpp::ns::disco_items, xmpp::ns::commands}) {
      query.append("feature").set_attr("var", std::string(feature));
    }
    context_.send(std::move(reply));
    return;
  }
  if (xmlns == xmpp::ns::disco_items && get) {
    if (node == xmpp::ns::commands) {
      auto reply = xmpp::make_iq_result(iq);
      auto& query = reply.append("query", std::string(xmpp::ns::disco_items));
      query.set_attr("node", std::string(xmpp::ns::commands));
      auto& item = query.append("item");
      item.set_attr("jid", iq.attr_or("to"));
      item.set_attr("node", "configure");
      item.set_attr("name", "Configure the connection to " + address.server);
      context_.send(std::move(reply));
      return;
    }
    if (auto* user = connection(iq, from, address.server, {}, true)) {
      user->list_channels(iq);
    }
    return;
  }
  if (xmlns == xmpp::ns::commands && !get && payload->name() == "command") {
    if (node != "configure") {
      refuse(iq, Condition::item_not_found, "no command '" + node + "' here");
      return;
    }
    context_.send(configure(iq, from, address.server));
    return;
  }
  if (xmlns == xmpp::ns::ping && get) {
    context_.send(xmpp::make_iq_result(iq));
    return;
  }
  refuse(iq, Condition::service_unavailable, {});
}

xmpp::Element IrcAdapter::configure(const xmpp::Element& iq, const xmpp::Jid& from,
                                    const std::string& server) {
  if (auto refusal = policy_.refusal(server)) {
    return xmpp::make_error_reply(iq, xmpp::make_stanza_error(Condition::not_allowed, *refusal));
  }
  return answer_configure(iq, from, context_.store(), context_.domain().domain(),
                          policy_.settings_for(server), rules_.channel_prefixes);
}

std::vector<gateway::DomainCommand> IrcAdapter::domain_commands() const {
  if (rules_.fixed_server.empty()) {
    return {};
  }
  return {{"configure", "Configure the connection to " + rules_.fixed_server}};
}

xmpp::Element IrcAdapter::run_domain_command(const xmpp::Element& request, const xmpp::Jid& from) {
  return configure(request, from, rules_.fixed_server);
}

gateway::NetworkAbilities IrcAdapter::abilities() const {
  // An IRC line is plain text that nobody can edit, react to or take back;
  // "/me" lines are CTCP ACTIONs, so reactions read "* alice reacted 👍 to …".
  return {.network = "IRC", .correction_marker = "* ", .actions = true};
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

gateway::Awaitable<std::vector<gateway::RegistrationField>> IrcAdapter::registration_fields() {
  co_return std::vector<gateway::RegistrationField>{
      {"nick", "Nickname", true, false, "The nickname used on IRC.", {}},
      {"username",
       "Username",
       false,
       false,
       "The IRC username (ident); defaults to the nickname.",
       {}},
      {"realname", "Real name", false, false, "Shown by WHOIS; defaults to the nickname.", {}},
      {"password",
       "Password",
       false,
       true,
       "Your IRC account password, sent with SASL; leave empty without an account.",
       {}},
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

gateway::Awaitable<std::optional<xmpp::StanzaError>>
IrcAdapter::validate_registration(const xmpp::Jid& /*user*/, gateway::FieldValues& values) {
  const auto nick_field = values.find("nick");
  const std::string nick = nick_field == values.end()
                               ? std::string()
                               : std::string(protocols::trim_blanks(nick_field->second));
  if (nick.empty()) {
    co_return not_acceptable("a nickname is required");
  }
  values["nick"] = nick;
  if (const auto field = values.find("username"); field != values.end()) {
    field->second = std::string(protocols::trim_blanks(field->second));
  }
  for (const auto& [var, value] : values) {
    if (auto problem = check_setting(var, value, rules_.channel_prefixes, 0)) {
      co_return not_acceptable(std::move(*problem));
    }
  }
  co_return std::nullopt;
}

} // namespace trestle::irc
