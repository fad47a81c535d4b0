#pragma once

#include "bridge.hpp"
#include "channel_registry.hpp"
#include "irc_address.hpp"
#include "irc_link.hpp"
#include "jid.hpp"
#include "stanza_error.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::irc {

using gateway::MucOccupant;
using gateway::PresenceDetails;
namespace muc_status = gateway::muc_status;

/// What every user connection of one component shares.
struct BridgeContext {
  gateway::AdapterContext& adapter;
  const AddressRules& rules;
  /// Channel state kept once per server and channel, whoever sits in it.
  ChannelRegistry& channels;
};

/// One XMPP user's connection to one IRC server, and what it bridges: the
/// rooms (channels) the user's resources joined, private messages, and the
/// server JID. All of the user's resources share it. It translates both
/// ways: the XMPP side calls the `on_*` methods; IRC events come from the
/// link. Single-threaded, on the io_context's thread.
///
/// Its owner destroys it from its `finished` callback, or after the loop
/// has stopped running its handlers (the adapter's run() waits for every
/// connection to finish): no handler of it is left to run after that, so
/// its timer and link callbacks need no guard.
class UserConnection {
public:
  /// Told (posted, never from inside a call) that the connection is over
  /// and may be destroyed.
  using Finished = std::function<void(UserConnection& connection)>;

  /// Pending items queued before the server welcomed us, at most.
  static constexpr std::size_t max_pending = 100;
  /// Own messages awaiting their echo, at most (the oldest are forgotten).
  static constexpr std::size_t max_pending_echoes = 256;
  /// Channels listed in one disco#items answer, at most.
  static constexpr std::size_t max_listed_channels = 10000;

  /// `user` is a bare JID, `server` the lower-case server name.
  UserConnection(BridgeContext context, xmpp::Jid user, std::string server, IrcLinkOptions options,
                 std::chrono::seconds idle_timeout, Finished finished);
  ~UserConnection();
  UserConnection(const UserConnection&) = delete;
  UserConnection& operator=(const UserConnection&) = delete;

  const xmpp::Jid& user() const { return user_; }
  const std::string& server() const { return server_; }

  /// Starts connecting.
  void start();

  /// A presence to the room `channel` with occupant `nick`: join, nick
  /// change, away and back, or leave.
  void on_room_presence(const gateway::UserPresence& presence, std::string_view channel,
                        std::string_view nick);
  /// A message to the room `channel` (bare, `nick` empty) or to one of its
  /// occupants (a private message).
  void on_room_message(const gateway::UserMessage& message, std::string_view channel,
                       std::string_view nick);
  /// A message to the IRC user `nick`.
  void on_user_message(const gateway::UserMessage& message, std::string_view nick);
  /// A message to the server JID: each body line is one raw command.
  void on_server_message(const gateway::UserMessage& message);
  /// A muc#admin set on the room: role none (kick), moderator, participant, visitor.
  void on_room_admin(const gateway::ContactRequest& request, std::string_view channel);
  /// disco#items on the server JID: answers with the server's channel list (LIST).
  void list_channels(const gateway::ContactRequest& request);
  /// True when resource `resource` of the user is in room `channel` under `nick`
  /// (the XEP-0410 self-ping check).
  bool in_room(std::string_view channel, std::string_view resource, std::string_view nick) const;
  /// `resource` went offline (unavailable presence to the component domain).
  void resource_offline(std::string_view resource);
  /// Quits the server (admin disconnect, unregistration, shutdown).
  void quit(std::string_view reason);
  /// True once the connection ended or is ending.
  bool finished() const { return finishing_; }
  /// Channels the user is in or joining.
  std::size_t room_count() const { return rooms_.size(); }

private:
  /// One channel as this user sees it.
  struct Room {
    enum class State {
      /// JOIN sent, waiting for NAMES.
      joining,
      /// In the channel; resources get its traffic.
      joined,
      /// The connection dropped; waiting to be in the channel again.
      rejoining,
    };
    Room(std::string channel, xmpp::Jid room) : name(std::move(channel)), jid(std::move(room)) {}

    /// The channel name as the user first wrote it, then as the server spells it.
    std::string name;
    xmpp::Jid jid;
    State state = State::joining;
    /// Joined resources and their full JIDs.
    std::map<std::string, xmpp::Jid, std::less<>> resources;
    /// Resources waiting for the answer to their join: resource -> the
    /// nick they asked for.
    std::map<std::string, std::string, std::less<>> pending;
    /// The nick the first joining resource asked for (status 210 when the server's differs).
    std::string requested_nick;
  };

  /// A user's event queued until the server welcomes us.
  struct Pending {
    gateway::UserEvent event;
    std::function<void()> run;
  };

  /// One of our messages to a channel, awaiting the server's echo.
  struct PendingEcho {
    std::string target;
    std::size_t lines = 0;
    bool reflected = false;
    std::string id;
    std::string body;
    bool action = false;
  };

  /// A disco#items request waiting for LIST's answer.
  struct PendingList {
    gateway::ContactRequest request;
    std::vector<std::pair<std::string, std::string>> channels;
  };

  // XMPP -> IRC (user_connection.cpp).
  void join_room(const gateway::UserPresence& presence, std::string_view channel,
                 std::string_view nick);
  void leave_room(Room& room, std::string_view resource, bool answer);
  void change_nick(const gateway::UserPresence& presence, Room& room, std::string_view nick);
  void update_away(const gateway::UserPresence& presence);
  void send_to_channel(const gateway::UserMessage& message, Room& room);
  void send_private(const gateway::UserMessage& message, std::string_view nick);
  void invite(const gateway::UserMessage& message, std::string_view nick, std::string_view channel);
  bool when_registered(const gateway::UserEvent& event, std::function<void()> run);
  void refuse(const gateway::UserEvent& event, xmpp::Condition condition, std::string text);
  void refuse_action(const gateway::UserEvent& event, const ActionResult& result);
  void note_resource(std::string_view resource, std::string_view target, bool available);
  void arm_idle_timer();
  void on_idle_timer();
  void finish(std::string_view quit_reason);

  // IRC -> XMPP (user_connection_events.cpp).
  void on_state(IrcLinkState state, const std::string& reason);
  void on_event(const ClientEvent& event);
  void on_registered();
  /// Keys rooms by the server's case mapping: ISUPPORT arrives after the
  /// welcome (001), when the joins asked for before it were sent already.
  void refold_rooms();
  void on_connection_failed(const std::string& reason);
  void on_connection_lost(const std::string& reason);
  void on_joined(const ClientEvent& event);
  void on_names(const ClientEvent& event);
  void on_parted(const ClientEvent& event);
  void on_quit(const ClientEvent& event);
  void on_kicked(const ClientEvent& event);
  void on_nick_changed(const ClientEvent& event);
  void on_topic(const ClientEvent& event);
  void on_message(const ClientEvent& event);
  void on_channel_message(const ClientEvent& event, Room& room);
  void on_own_echo(const ClientEvent& event, Room& room);
  void on_private_message(const ClientEvent& event);
  void on_mode(const ClientEvent& event);
  void on_away(const ClientEvent& event);
  void on_invite(const ClientEvent& event);
  void on_error_reply(const ClientEvent& event);
  void on_server_text(const ClientEvent& event);
  void on_nick_failed(const ClientEvent& event, bool registering);

  // Stanza helpers (user_connection_events.cpp).
  void send_occupant(Room& room, const ChannelMember& member, bool available,
                     const PresenceDetails& details);
  void send_self_presence(Room& room, const xmpp::Jid& to, bool available,
                          const PresenceDetails& details);
  void send_room_list(Room& room, const xmpp::Jid& to, std::string_view requested_nick);
  void send_room_notice(Room& room, std::string_view text);
  void send_server_message(std::string_view text);
  void fail_pending(xmpp::Condition condition, const std::string& text);
  /// Sends `stanza` to each of the room's joined resources.
  void deliver(const Room& room, const gateway::Fanout& stanza);
  /// The user is out of `room` (parted, kicked, refused, or the last
  /// resource left): every joined resource is told with `details`, the
  /// shared channel forgets the user, and `room` is gone.
  void drop_room(Room& room, const PresenceDetails& details);
  /// Refuses the joins waiting in `room` with `error`.
  void refuse_pending_joins(Room& room, const xmpp::StanzaError& error);
  Room* find_room(std::string_view channel);
  const Room* find_room(std::string_view channel) const;
  SharedChannel* shared(std::string_view channel);
  std::string fold(std::string_view name) const;
  std::optional<xmpp::Jid> nick_jid(std::string_view nick) const;
  xmpp::Jid server_jid() const;
  std::optional<xmpp::Jid> room_jid(std::string_view channel) const;
  const ISupport& isupport() const;

  BridgeContext context_;
  gateway::Bridge bridge_;
  xmpp::Jid user_;
  std::string server_;
  std::chrono::seconds idle_timeout_;
  Finished finished_;
  std::unique_ptr<IrcLink> link_;
  /// The idle check's timer (an Asio timer, kept out of this header).
  struct IdleTimer;
  std::unique_ptr<IdleTimer> idle_timer_;
  /// Rooms keyed by folded channel name.
  std::map<std::string, Room, std::less<>> rooms_;
  /// Resources that sent us available presence, and to which targets
  /// (folded channels, or "" for other JIDs of this server).
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> resources_;
  bool had_resources_ = false;
  std::deque<Pending> pending_;
  std::deque<PendingEcho> echoes_;
  /// The last message id sent to each target (folded), to turn an error
  /// numeric into an error on that message.
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> last_ids_;
  /// A NICK asked for by a resource: the nick, the room and the resource.
  struct PendingNick {
    std::string nick;
    std::string channel;
    xmpp::Jid from;
  };
  std::optional<PendingNick> pending_nick_;
  std::optional<PendingList> pending_list_;
  /// MOTD lines collected between 375 and 376.
  std::string motd_;
  bool away_ = false;
  std::string away_text_;
  bool ever_registered_ = false;
  bool finishing_ = false;
  std::chrono::steady_clock::time_point last_activity_;
};

} // namespace trestle::irc
