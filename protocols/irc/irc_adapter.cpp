#include "irc_adapter.hpp"

#include "address_text.hpp"
#include "cancelled.hpp"
#include "log.hpp"
#include "user_connection.hpp"
#include "user_settings.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace trestle::irc {

namespace {

using xmpp::Condition;

/// How long run() waits at the shutdown for the connections to QUIT: an IRC
/// connection's close timeout (3 s) and a little more.
constexpr auto quit_wait = std::chrono::milliseconds(3500);

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

IrcAdapter::IrcAdapter(const gateway::ComponentConfig& config, IrcSettings settings,
                       gateway::AdapterContext& context)
    : context_(context), bridge_(context), policy_(settings) {
  if (!settings.fixed_server.empty()) {
    std::string reason;
    auto server = normalize_server_name(settings.fixed_server, &reason);
    if (!server) {
      throw std::invalid_argument("component " + config.domain + ": irc.fixed_server '" +
                                  settings.fixed_server + "' is not a server name: " + reason);
    }
    rules_.fixed_server = std::move(*server);
  }
}

IrcAdapter::~IrcAdapter() = default;

gateway::Awaitable<void> IrcAdapter::handle(const gateway::UserEvent& event) {
  const auto& to = gateway::recipient_of(event);
  if (to.local().empty()) {
    // Fixed-server mode: the domain is the server JID, messages are raw commands.
    if (const auto* message = std::get_if<gateway::UserMessage>(&event);
        message != nullptr && !rules_.fixed_server.empty()) {
      if (auto* user = co_await connection(event, rules_.fixed_server, {}, true)) {
        user->on_server_message(*message);
      }
    }
    co_return;
  }
  std::string reason;
  const auto address = parse_localpart(to.local(), rules_, &reason);
  if (!address) {
    bridge_.refuse(event, Condition::jid_malformed, reason);
    co_return;
  }
  if (const auto* request = std::get_if<gateway::ContactRequest>(&event)) {
    co_await on_request(*request, *address);
  } else if (const auto* presence = std::get_if<gateway::UserPresence>(&event)) {
    co_await on_presence(*presence, *address);
  } else if (const auto* message = std::get_if<gateway::UserMessage>(&event)) {
    co_await on_message(*message, *address);
  }
}

gateway::Awaitable<void> IrcAdapter::on_presence(const gateway::UserPresence& presence,
                                                 const IrcAddress& address) {
  using Type = gateway::UserPresence::Type;
  const auto& to = presence.to;
  if (address.kind != AddressKind::channel) {
    if (presence.type == Type::subscribe) {
      // IRC users and servers in the roster: accept, nothing to track.
      bridge_.send(gateway::ContactPresence{to.bare(), presence.from.bare(), Type::subscribed});
    }
    co_return;
  }
  const bool joining = presence.type == Type::available;
  if (joining && to.resource().empty()) {
    bridge_.refuse(presence, Condition::jid_malformed,
                   "join a room with a nickname: room@domain/nick");
    co_return;
  }
  if (joining) {
    std::string why;
    if (!is_valid_nickname(to.resource(), rules_.channel_prefixes, &why)) {
      bridge_.refuse(presence, Condition::jid_malformed,
                     "'" + to.resource() + "' cannot be an IRC nickname: " + why);
      co_return;
    }
  }
  if (auto* user = co_await connection(presence, address.server, to.resource(), joining)) {
    user->on_room_presence(presence, address.name, to.resource());
  }
}

gateway::Awaitable<void> IrcAdapter::on_message(const gateway::UserMessage& message,
                                                const IrcAddress& address) {
  const auto& to = message.to;
  // A groupchat message needs the room joined; a private message or a raw
  // command may open the connection.
  const bool to_room = address.kind == AddressKind::channel && to.resource().empty();
  auto* user = co_await connection(message, address.server, {}, !to_room);
  if (user == nullptr) {
    if (to_room) {
      bridge_.refuse(message, Condition::not_acceptable,
                     "you are not in " + address.name + "; join the room first");
    }
    co_return;
  }
  switch (address.kind) {
  case AddressKind::channel:
    user->on_room_message(message, address.name, to.resource());
    break;
  case AddressKind::user:
    user->on_user_message(message, address.name);
    break;
  case AddressKind::server:
    user->on_server_message(message);
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

gateway::Awaitable<void> IrcAdapter::run() {
  // Cancellation ends the wait below instead of throwing: the connections
  // QUIT after it.
  co_await boost::asio::this_coro::throw_if_cancelled(false);
  boost::asio::steady_timer idle(context_.io());
  while (!co_await gateway::cancelled()) {
    // A day at a time: the reactor's timeout overflows at time_point::max().
    idle.expires_after(std::chrono::hours(24));
    boost::system::error_code ec; // operation_aborted at the shutdown
    co_await idle.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  co_await boost::asio::this_coro::reset_cancellation_state();
  for (auto& [key, user] : connections_) {
    user->quit("Gateway shutting down");
  }
  // Each link QUITs within its connection's close timeout; the connections
  // are gone once they all finished, so none of their handlers outlives
  // this. Bounded: past the wait, the adapter goes with what is left.
  idle.expires_after(quit_wait);
  last_quit_ = [&idle] {
    idle.cancel();
  };
  while (!connections_.empty() || !closing_.empty()) {
    boost::system::error_code ec; // operation_aborted: the last one finished
    co_await idle.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (!ec) {
      context_.log().warning("irc", std::to_string(connections_.size() + closing_.size()) +
                                        " IRC connections had not quit when the gateway stopped");
      break;
    }
  }
  last_quit_ = nullptr;
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

gateway::Awaitable<UserConnection*> IrcAdapter::connection(const gateway::UserEvent& event,
                                                           const std::string& server,
                                                           std::string_view requested_nick,
                                                           bool open) {
  const auto& from = gateway::sender_of(event);
  const auto bare = from.bare_string();
  const auto key = bare + '\n' + server;
  if (auto* open_one = find_connection(key)) {
    co_return open_one;
  }
  if (!open) {
    co_return nullptr;
  }
  if (auto refusal = policy_.refusal(server)) {
    bridge_.refuse(event, Condition::not_allowed, std::move(*refusal));
    co_return nullptr;
  }
  const auto prefix = bare + '\n';
  std::size_t open_count = 0;
  for (auto it = connections_.lower_bound(prefix);
       it != connections_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    ++open_count;
  }
  if (open_count >= policy_.settings().max_connections_per_user) {
    bridge_.refuse(event, Condition::resource_constraint,
                   "you are connected to " + std::to_string(open_count) +
                       " IRC servers, the most this gateway allows");
    co_return nullptr;
  }
  // Copied: `requested_nick` may not outlive the waits below.
  const auto nick = requested_nick.empty() ? nick_from_jid(from) : std::string(requested_nick);
  std::error_code ec;
  auto& repositories = context_.repositories();
  const auto& domain = context_.domain().domain();
  const auto registration = co_await repositories.registrations().find(bare, domain, ec);
  std::optional<gateway::ServerSettings> server_settings;
  if (!ec) {
    server_settings = co_await repositories.server_settings().find(bare, domain, server, ec);
  }
  if (ec) {
    context_.log().error("irc",
                         "store error reading the settings of " + bare + ": " + ec.message());
    bridge_.refuse(event, Condition::internal_server_error,
                   "the gateway cannot read your settings right now; try again later");
    co_return nullptr;
  }
  if (auto* opened_meanwhile = find_connection(key)) {
    co_return opened_meanwhile;
  }
  auto options = link_options(
      policy_.settings_for(server), registration ? registration->fields : gateway::FieldValues{},
      server_settings ? server_settings->fields : gateway::FieldValues{}, nick);
  options.connection.read_gate = context_.read_gate();
  auto user = std::make_unique<UserConnection>(
      BridgeContext{context_, rules_, channels_}, from.bare(), server, std::move(options),
      std::chrono::seconds(policy_.settings().idle_timeout_seconds),
      [this, key](UserConnection& finished) {
        // Erasing destroys this callback (the connection holds it): what
        // comes after uses locals only.
        auto& adapter = *this;
        if (auto it = adapter.connections_.find(key);
            it != adapter.connections_.end() && it->second.get() == &finished) {
          adapter.connections_.erase(it);
        } else {
          std::erase_if(adapter.closing_,
                        [&](const auto& entry) { return entry.get() == &finished; });
        }
        if (adapter.last_quit_ && adapter.connections_.empty() && adapter.closing_.empty()) {
          adapter.last_quit_();
        }
      });
  auto* raw = user.get();
  connections_.emplace(key, std::move(user));
  context_.log().info("irc", "connecting " + bare + " to " + server);
  raw->start();
  co_return raw;
}

UserConnection* IrcAdapter::find_connection(const std::string& key) {
  const auto it = connections_.find(key);
  if (it == connections_.end()) {
    return nullptr;
  }
  if (!it->second->finished()) {
    return it->second.get();
  }
  // Quitting: it finishes on its own; a new connection takes its place.
  closing_.push_back(std::move(it->second));
  connections_.erase(it);
  return nullptr;
}

gateway::Awaitable<void> IrcAdapter::on_request(const gateway::ContactRequest& request,
                                                const IrcAddress& address) {
  using Asks = gateway::ContactRequest::Asks;
  if (address.kind == AddressKind::channel) {
    co_await on_room_request(request, address);
    co_return;
  }
  if (address.kind == AddressKind::server) {
    co_await on_server_request(request, address);
    co_return;
  }
  if (request.asks == Asks::disco_info && !request.set) {
    bridge_.answer(request, gateway::DiscoInfo{{{"client", "irc", address.name}},
                                               {std::string(gateway::features::disco_info)}});
    co_return;
  }
  bridge_.refuse(request, Condition::service_unavailable, {});
}

gateway::Awaitable<void> IrcAdapter::on_room_request(const gateway::ContactRequest& request,
                                                     const IrcAddress& address) {
  using Asks = gateway::ContactRequest::Asks;
  const bool get = !request.set;
  if (request.asks == Asks::disco_info && get) {
    bridge_.answer(request, gateway::DiscoInfo{{{"conference", "irc", address.name}},
                                               {std::string(gateway::features::disco_info),
                                                std::string(gateway::features::muc),
                                                "muc_nonanonymous", "muc_open", "muc_persistent",
                                                std::string(gateway::features::stanza_ids)}});
    co_return;
  }
  if (request.asks == Asks::disco_items && get) {
    bridge_.answer(request, gateway::DiscoItems{});
    co_return;
  }
  if (request.asks == Asks::ping && get) {
    // XEP-0410 self-ping: a client asks whether it is still in the room.
    const auto& from = request.from;
    const auto& to = request.to;
    auto* user = co_await connection(request, address.server, {}, false);
    if (to.resource().empty() ||
        (user != nullptr && user->in_room(address.name, from.resource(), to.resource()))) {
      bridge_.answer(request);
    } else {
      bridge_.refuse(request, Condition::not_acceptable, "you are not in this room");
    }
    co_return;
  }
  if (request.asks == Asks::room_admin && !get) {
    if (auto* user = co_await connection(request, address.server, {}, false)) {
      user->on_room_admin(request, address.name);
    } else {
      bridge_.refuse(request, Condition::not_acceptable, "you are not in this room");
    }
    co_return;
  }
  bridge_.refuse(request, Condition::service_unavailable, {});
}

gateway::Awaitable<void> IrcAdapter::on_server_request(const gateway::ContactRequest& request,
                                                       const IrcAddress& address) {
  using Asks = gateway::ContactRequest::Asks;
  const bool get = !request.set;
  const auto& node = request.node;
  if (request.asks == Asks::disco_info && get) {
    bridge_.answer(request, gateway::DiscoInfo{{{"conference", "irc", address.server}},
                                               {std::string(gateway::features::disco_info),
                                                std::string(gateway::features::disco_items),
                                                std::string(gateway::features::commands)}});
    co_return;
  }
  if (request.asks == Asks::disco_items && get) {
    if (node == gateway::features::commands) {
      bridge_.answer(request,
                     gateway::DiscoItems{{{request.to, "configure",
                                           "Configure the connection to " + address.server}}});
      co_return;
    }
    if (auto* user = co_await connection(request, address.server, {}, true)) {
      user->list_channels(request);
    }
    co_return;
  }
  if (request.asks == Asks::command && !get) {
    if (node != "configure") {
      bridge_.refuse(request, Condition::item_not_found, "no command '" + node + "' here");
      co_return;
    }
    const gateway::CommandRequest step{request.from, node, request.action, request.session_id,
                                       request.form};
    const auto answer = co_await configure(step, address.server);
    bridge_.answer(request, answer);
    co_return;
  }
  if (request.asks == Asks::ping && get) {
    bridge_.answer(request);
    co_return;
  }
  bridge_.refuse(request, Condition::service_unavailable, {});
}

gateway::Awaitable<gateway::CommandAnswer>
IrcAdapter::configure(const gateway::CommandRequest& request, const std::string& server) {
  if (auto refusal = policy_.refusal(server)) {
    co_return gateway::CommandAnswer{.error =
                                         xmpp::make_stanza_error(Condition::not_allowed, *refusal)};
  }
  co_return co_await answer_configure(request, context_.repositories().server_settings(),
                                      context_.domain().domain(), policy_.settings_for(server),
                                      rules_.channel_prefixes);
}

std::vector<gateway::DomainCommand> IrcAdapter::domain_commands() const {
  if (rules_.fixed_server.empty()) {
    return {};
  }
  return {{"configure", "Configure the connection to " + rules_.fixed_server}};
}

gateway::Awaitable<gateway::CommandAnswer>
IrcAdapter::run_command(const gateway::CommandRequest& request) {
  co_return co_await configure(request, rules_.fixed_server);
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

gateway::Network irc_network() {
  return {irc_config_reader(),
          [](const gateway::ComponentConfig& config, gateway::AdapterContext& context) {
            return std::unique_ptr<gateway::Adapter>(
                std::make_unique<IrcAdapter>(config, config.settings_as<IrcSettings>(), context));
          }};
}

} // namespace trestle::irc
