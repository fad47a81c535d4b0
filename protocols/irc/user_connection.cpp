// One XMPP user's connection to one IRC server: the XMPP -> IRC direction
// and the connection's lifecycle. The IRC -> XMPP direction is in
// user_connection_events.cpp.

#include "user_connection.hpp"

#include "adapter.hpp"
#include "log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>

namespace trestle::irc {

namespace {

using xmpp::Condition;
using Clock = std::chrono::steady_clock;

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

/// The text of a `/me` body without the command, or nullopt.
std::optional<std::string_view> me_action(std::string_view body) {
  constexpr std::string_view prefix = "/me ";
  if (body.substr(0, prefix.size()) == prefix) {
    return body.substr(prefix.size());
  }
  return std::nullopt;
}

} // namespace

struct UserConnection::IdleTimer {
  explicit IdleTimer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
};

UserConnection::UserConnection(BridgeContext context, xmpp::Jid user, std::string server,
                               IrcLinkOptions options, std::chrono::seconds idle_timeout,
                               Finished finished)
    : context_(context), bridge_(context.adapter), user_(std::move(user)),
      server_(std::move(server)), idle_timeout_(idle_timeout), finished_(std::move(finished)),
      idle_timer_(std::make_unique<IdleTimer>(context_.adapter.io())),
      last_activity_(Clock::now()) {
  IrcLinkHandlers handlers;
  handlers.on_event = [this](const ClientEvent& event) {
    on_event(event);
  };
  handlers.on_state = [this](IrcLinkState state, std::string reason) {
    on_state(state, reason);
  };
  auto& log = context_.adapter.log();
  ConnectionLog connection_log = [&log, area = "irc " + user_.bare_string() + " " + server_](
                                     gateway::LogLevel level, std::string_view text) {
    log.write(level, area, text);
  };
  link_ = std::make_unique<IrcLink>(context_.adapter.io(), std::move(options), std::move(handlers),
                                    std::move(connection_log));
}

UserConnection::~UserConnection() {
  context_.channels.leave_all(server_, user_.bare_string());
}

void UserConnection::start() {
  link_->start();
  arm_idle_timer();
}

void UserConnection::on_room_presence(const gateway::UserPresence& presence,
                                      std::string_view channel, std::string_view nick) {
  using Type = gateway::UserPresence::Type;
  last_activity_ = Clock::now();
  const auto type = presence.type;
  const std::string& resource = presence.from.resource();
  Room* room = find_room(channel);
  if (type == Type::unavailable || type == Type::error) {
    if (room != nullptr &&
        (room->resources.contains(resource) || room->pending.contains(resource))) {
      const auto only = resources_.size() == 1 ? resources_.find(resource) : resources_.end();
      if (only != resources_.end() && only->second.size() == 1 &&
          only->second.contains(fold(channel))) {
        // The user's last presence here: as when a client goes offline (which
        // looks the same), QUIT rather than PART, so IRC sees the user leave.
        if (const auto joined = room->resources.find(resource);
            joined != room->resources.end() && type == Type::unavailable) {
          send_self_presence(*room, joined->second, false, {});
        }
        room->resources.erase(resource);
        room->pending.erase(resource);
        resources_.clear();
        finish("Leaving");
        return;
      }
      leave_room(*room, resource, type == Type::unavailable);
    }
    note_resource(resource, fold(channel), false);
    return;
  }
  if (type != Type::available) {
    return; // subscriptions and probes mean nothing for a room
  }
  if (room == nullptr ||
      (!room->resources.contains(resource) && !room->pending.contains(resource))) {
    join_room(presence, channel, nick);
  } else if (room->resources.contains(resource) && nick != link_->session().nick()) {
    change_nick(presence, *room, nick);
    return;
  }
  if (!finishing_) {
    update_away(presence);
  }
}

void UserConnection::join_room(const gateway::UserPresence& presence, std::string_view channel,
                               std::string_view nick) {
  const auto& from = presence.from;
  const std::string& resource = from.resource();
  if (Room* room = find_room(channel)) {
    note_resource(resource, fold(channel), true);
    if (room->state == Room::State::joined) {
      // Another resource of the same user: the same list, no second JOIN.
      send_room_list(*room, from, nick);
      room->resources.emplace(resource, from);
    } else {
      room->pending.emplace(resource, std::string(nick));
    }
    return;
  }
  const auto jid = room_jid(channel);
  if (!jid) {
    refuse(presence, Condition::jid_malformed, "this channel name cannot be a room address");
    return;
  }
  const std::string key = presence.join ? presence.join->password : std::string();
  auto result = link_->join(channel, key);
  if (!result.ok() && result.error != ActionError::not_registered) {
    refuse_action(presence, result);
    return;
  }
  Room room(std::string(channel), *jid);
  room.requested_nick = std::string(nick);
  room.pending.emplace(resource, std::string(nick));
  rooms_.emplace(fold(channel), std::move(room));
  note_resource(resource, fold(channel), true);
  idle_timer_->timer.cancel();
}

void UserConnection::leave_room(Room& room, std::string_view resource, bool answer) {
  if (const auto joined = room.resources.find(resource); joined != room.resources.end()) {
    if (answer) {
      send_self_presence(room, joined->second, false, {});
    }
    room.resources.erase(joined);
  } else if (const auto pending = room.pending.find(resource); pending != room.pending.end()) {
    room.pending.erase(pending);
  }
  if (!room.resources.empty() || !room.pending.empty()) {
    return;
  }
  // The user's last resource left: the user leaves the channel.
  link_->part(room.name);
  drop_room(room, {});
}

void UserConnection::change_nick(const gateway::UserPresence& presence, Room& room,
                                 std::string_view nick) {
  const auto& from = presence.from;
  auto result = link_->nick(nick);
  if (!result.ok()) {
    const auto occupant = room.jid.with_resource(nick);
    bridge_.send(
        gateway::PresenceFailure{occupant ? *occupant : room.jid, from,
                                 xmpp::make_stanza_error(result.error == ActionError::invalid_input
                                                             ? Condition::not_acceptable
                                                             : Condition::service_unavailable,
                                                         result.reason)});
    return;
  }
  pending_nick_ = PendingNick{std::string(nick), room.name, from};
}

void UserConnection::update_away(const gateway::UserPresence& presence) {
  const auto& show = presence.show;
  const bool want_away = show == "away" || show == "xa" || show == "dnd";
  std::string text = presence.status;
  for (char& c : text) {
    if (c == '\r' || c == '\n') {
      c = ' ';
    }
  }
  if (want_away && text.empty()) {
    text = show == "dnd" ? "Busy" : "Away";
  }
  if (want_away == away_ && (!want_away || text == away_text_)) {
    return;
  }
  away_ = want_away;
  away_text_ = text;
  if (link_->state() == IrcLinkState::registered) {
    (void)link_->perform([&](IrcClientSession& s) { return want_away ? s.away(text) : s.back(); });
  }
}

void UserConnection::on_room_message(const gateway::UserMessage& message, std::string_view channel,
                                     std::string_view nick) {
  last_activity_ = Clock::now();
  if (!nick.empty()) {
    send_private(message, nick);
    return;
  }
  Room* room = find_room(channel);
  if (message.invite) {
    const auto& invitee = message.invite->jid;
    std::string reason;
    const auto address = invitee && invitee->domain() == context_.adapter.domain().domain()
                             ? parse_localpart(invitee->local(), context_.rules, &reason)
                             : std::nullopt;
    if (!address || address->kind != AddressKind::user || address->server != server_) {
      refuse(message, Condition::jid_malformed,
             "invite an IRC user of the same server (nick%" + server_ + "@" +
                 context_.adapter.domain().domain() + ")");
      return;
    }
    invite(message, address->name, channel);
    return;
  }
  if (room == nullptr || room->state != Room::State::joined) {
    refuse(message, Condition::not_acceptable,
           "you are not in " + std::string(channel) + "; join the room first");
    return;
  }
  const auto& body = message.body;
  if (message.subject && body.empty()) {
    const auto& text = *message.subject;
    if (has_line_break(text)) {
      refuse(message, Condition::not_acceptable, "an IRC topic is one line");
      return;
    }
    if (auto result =
            link_->perform([&](IrcClientSession& s) { return s.set_topic(room->name, text); });
        !result.ok()) {
      refuse_action(message, result);
    }
    return;
  }
  if (!body.empty()) {
    send_to_channel(message, *room);
  }
}

void UserConnection::send_to_channel(const gateway::UserMessage& message, Room& room) {
  const auto& body = message.body;
  const auto& id = message.id;
  const auto action = me_action(body);
  auto result = link_->perform([&](IrcClientSession& s) {
    return action ? s.action(room.name, *action) : s.privmsg(room.name, body);
  });
  if (!result.ok()) {
    refuse_action(message, result);
    return;
  }
  const auto target = fold(room.name);
  last_ids_[target] = {id, message.from.to_string()};
  if (result.events.empty()) {
    return;
  }
  if (link_->session().echo_message()) {
    if (echoes_.size() >= max_pending_echoes) {
      echoes_.pop_front();
    }
    echoes_.push_back(PendingEcho{target, result.events.size(), false, id, body});
    return;
  }
  deliver(room, gateway::Bridge::room_message(room.jid, link_->session().nick(), body, id));
}

void UserConnection::send_private(const gateway::UserMessage& message, std::string_view nick) {
  const auto& body = message.body;
  if (body.empty()) {
    return; // chat states and receipts have nothing to carry
  }
  if (link_->state() != IrcLinkState::registered) {
    when_registered(message,
                    [this, message, nick = std::string(nick)] { send_private(message, nick); });
    return;
  }
  const auto action = me_action(body);
  auto result = link_->perform([&](IrcClientSession& s) {
    return action ? s.action(nick, *action) : s.privmsg(nick, body);
  });
  if (!result.ok()) {
    refuse_action(message, result);
    return;
  }
  last_ids_[fold(nick)] = {message.id, message.from.to_string()};
}

void UserConnection::on_user_message(const gateway::UserMessage& message, std::string_view nick) {
  last_activity_ = Clock::now();
  if (message.room_invitation) {
    // XEP-0249 direct invitation to one of our rooms.
    const auto& room = message.room_invitation->jid;
    const auto address = room && room->domain() == context_.adapter.domain().domain()
                             ? parse_localpart(room->local(), context_.rules)
                             : std::nullopt;
    if (!address || address->kind != AddressKind::channel || address->server != server_) {
      refuse(message, Condition::jid_malformed,
             "invite to a channel of the same server (#channel%" + server_ + "@" +
                 context_.adapter.domain().domain() + ")");
      return;
    }
    invite(message, nick, address->name);
    return;
  }
  send_private(message, nick);
}

void UserConnection::invite(const gateway::UserMessage& message, std::string_view nick,
                            std::string_view channel) {
  std::string reason;
  if (!is_valid_nickname(nick, isupport().chantypes(), &reason) ||
      !is_valid_channel_name(channel, isupport().chantypes(), &reason)) {
    refuse(message, Condition::jid_malformed, reason);
    return;
  }
  if (link_->state() != IrcLinkState::registered) {
    refuse(message, Condition::service_unavailable,
           "not connected to " + server_ + " at the moment");
    return;
  }
  if (auto result = link_->raw("INVITE " + std::string(nick) + " " + std::string(channel));
      !result.ok()) {
    refuse_action(message, result);
  }
}

void UserConnection::on_server_message(const gateway::UserMessage& message) {
  last_activity_ = Clock::now();
  const auto& body = message.body;
  if (body.empty()) {
    return;
  }
  if (link_->state() != IrcLinkState::registered) {
    when_registered(message, [this, message] { on_server_message(message); });
    return;
  }
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto end = std::min(body.find_first_of("\r\n", start), body.size());
    const std::string_view line = std::string_view(body).substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    if (auto result = link_->raw(line); !result.ok()) {
      refuse_action(message, result);
      return;
    }
  }
}

void UserConnection::on_room_admin(const gateway::ContactRequest& iq, std::string_view channel) {
  Room* room = find_room(channel);
  if (room == nullptr || room->state != Room::State::joined) {
    refuse(iq, Condition::not_acceptable, "you are not in " + std::string(channel));
    return;
  }
  auto* shared_channel = shared(room->name);
  for (const auto& item : iq.role_changes) {
    const auto& nick = item.nick;
    const auto& role = item.role;
    const auto& reason = item.reason;
    if (nick.empty() || role.empty() || item.affiliation) {
      refuse(iq, Condition::feature_not_implemented,
             "IRC maps only role changes of a nick (kick, op, voice)");
      return;
    }
    ActionResult result;
    const auto* member = shared_channel ? shared_channel->member(isupport(), nick) : nullptr;
    const bool op = member != nullptr && member->prefixes.find('@') != std::string::npos;
    if (role == "none") {
      std::string flat = reason;
      for (char& c : flat) {
        if (c == '\r' || c == '\n') {
          c = ' ';
        }
      }
      result = link_->perform([&](IrcClientSession& s) { return s.kick(room->name, nick, flat); });
    } else if (role == "moderator") {
      result =
          link_->perform([&](IrcClientSession& s) { return s.mode(room->name, "+o", {nick}); });
    } else if (role == "participant") {
      result = link_->perform(
          [&](IrcClientSession& s) { return s.mode(room->name, op ? "-o" : "+v", {nick}); });
    } else if (role == "visitor") {
      const auto nicks = op ? std::vector<std::string>{nick, nick} : std::vector<std::string>{nick};
      result = link_->perform(
          [&](IrcClientSession& s) { return s.mode(room->name, op ? "-ov" : "-v", nicks); });
    } else {
      refuse(iq, Condition::bad_request, "unknown role '" + role + "'");
      return;
    }
    if (!result.ok()) {
      refuse_action(iq, result);
      return;
    }
  }
  bridge_.answer(iq);
}

void UserConnection::list_channels(const gateway::ContactRequest& iq) {
  if (link_->state() != IrcLinkState::registered) {
    when_registered(iq, [this, iq] { list_channels(iq); });
    return;
  }
  if (pending_list_) {
    refuse(iq, Condition::resource_constraint, "a channel list is already on its way");
    return;
  }
  if (auto result = link_->raw("LIST"); !result.ok()) {
    refuse_action(iq, result);
    return;
  }
  pending_list_ = PendingList{iq, {}};
}

bool UserConnection::in_room(std::string_view channel, std::string_view resource,
                             std::string_view nick) const {
  const Room* room = find_room(channel);
  return room != nullptr && room->state != Room::State::joining &&
         room->resources.contains(resource) && isupport().equal(nick, link_->session().nick());
}

void UserConnection::resource_offline(std::string_view resource) {
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    Room& room = (it++)->second;
    if (room.resources.contains(resource) || room.pending.contains(resource)) {
      leave_room(room, resource, false);
    }
  }
  if (const auto it = resources_.find(resource); it != resources_.end()) {
    resources_.erase(it);
    if (resources_.empty()) {
      finish("Leaving");
    }
  }
}

void UserConnection::quit(std::string_view reason) {
  finish(reason);
}

void UserConnection::note_resource(std::string_view resource, std::string_view target,
                                   bool available) {
  if (available) {
    auto it = resources_.find(resource);
    if (it == resources_.end()) {
      it = resources_.emplace(std::string(resource), std::set<std::string, std::less<>>{}).first;
    }
    it->second.emplace(target);
    had_resources_ = true;
    return;
  }
  const auto it = resources_.find(resource);
  if (it == resources_.end()) {
    return;
  }
  it->second.erase(std::string(target));
  if (it->second.empty()) {
    resources_.erase(it);
    if (resources_.empty() && had_resources_) {
      // The user's last resource went offline (or left the last room).
      finish("Leaving");
    }
  }
}

bool UserConnection::when_registered(const gateway::UserEvent& event, std::function<void()> run) {
  if (pending_.size() >= max_pending) {
    refuse(event, Condition::resource_constraint,
           "too much is waiting for the connection to " + server_);
    return false;
  }
  pending_.push_back(Pending{event, std::move(run)});
  return true;
}

void UserConnection::refuse(const gateway::UserEvent& event, Condition condition,
                            std::string text) {
  bridge_.refuse(event, condition, std::move(text));
}

void UserConnection::refuse_action(const gateway::UserEvent& stanza, const ActionResult& result) {
  switch (result.error) {
  case ActionError::invalid_input:
    refuse(stanza, Condition::not_acceptable, result.reason);
    break;
  case ActionError::not_registered:
  case ActionError::wrong_state:
    refuse(stanza, Condition::service_unavailable,
           "not connected to " + server_ + " at the moment; trestle is reconnecting");
    break;
  case ActionError::none:
    break;
  }
}

void UserConnection::arm_idle_timer() {
  if (finishing_ || !rooms_.empty()) {
    return;
  }
  const auto deadline = last_activity_ + idle_timeout_;
  idle_timer_->timer.expires_at(deadline);
  idle_timer_->timer.async_wait([this](const auto& ec) {
    if (!ec) {
      on_idle_timer();
    }
  });
}

void UserConnection::on_idle_timer() {
  if (finishing_ || !rooms_.empty()) {
    return;
  }
  if (Clock::now() - last_activity_ >= idle_timeout_) {
    context_.adapter.log().info("irc", user_.bare_string() + " on " + server_ +
                                           ": idle with no channel; quitting");
    finish("Idle");
    return;
  }
  arm_idle_timer();
}

void UserConnection::finish(std::string_view quit_reason) {
  if (finishing_) {
    return;
  }
  finishing_ = true;
  idle_timer_->timer.cancel();
  PresenceDetails details;
  details.status_codes = {muc_status::shutdown};
  details.status_text = quit_reason;
  for (auto& [key, room] : rooms_) {
    for (const auto& [resource, jid] : room.resources) {
      send_self_presence(room, jid, false, details);
    }
  }
  fail_pending(Condition::service_unavailable, "the connection to " + server_ + " was closed");
  rooms_.clear();
  context_.channels.leave_all(server_, user_.bare_string());
  link_->stop(quit_reason, [this] {
    if (finished_) {
      finished_(*this);
    }
  });
}

UserConnection::Room* UserConnection::find_room(std::string_view channel) {
  const auto it = rooms_.find(fold(channel));
  return it == rooms_.end() ? nullptr : &it->second;
}

const UserConnection::Room* UserConnection::find_room(std::string_view channel) const {
  const auto it = rooms_.find(fold(channel));
  return it == rooms_.end() ? nullptr : &it->second;
}

SharedChannel* UserConnection::shared(std::string_view channel) {
  return context_.channels.find(server_, isupport(), channel);
}

std::string UserConnection::fold(std::string_view name) const {
  return isupport().fold(name);
}

const ISupport& UserConnection::isupport() const {
  return link_->session().isupport();
}

std::optional<xmpp::Jid> UserConnection::room_jid(std::string_view channel) const {
  return xmpp::Jid::from_parts(
      to_localpart(IrcAddress{AddressKind::channel, std::string(channel), server_}, context_.rules),
      context_.adapter.domain().domain());
}

std::optional<xmpp::Jid> UserConnection::nick_jid(std::string_view nick) const {
  return xmpp::Jid::from_parts(
      to_localpart(IrcAddress{AddressKind::user, std::string(nick), server_}, context_.rules),
      context_.adapter.domain().domain());
}

xmpp::Jid UserConnection::server_jid() const {
  auto jid = xmpp::Jid::from_parts(
      to_localpart(IrcAddress{AddressKind::server, {}, server_}, context_.rules),
      context_.adapter.domain().domain());
  return jid ? *jid : context_.adapter.domain();
}

} // namespace trestle::irc
