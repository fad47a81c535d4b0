#pragma once

#include "adapter.hpp"
#include "room_stanzas.hpp"
#include "stanza_error.hpp"
#include "user_events.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// How adapters reach XMPP users: typed calls, turned into stanzas here and
// nowhere else under protocols/.
namespace trestle::gateway {

/// A message from an address behind the gateway to a user. Every member
/// after the addresses has an initialiser, so that a designated initialiser
/// names only what it sets.
struct ContactMessage {
  xmpp::Jid from;
  xmpp::Jid to;
  MessageType type = MessageType::chat;
  /// Empty: a random one.
  std::string id{};
  std::string body{};
  std::optional<std::string> subject{};
  std::string thread{};
  /// When the legacy network received it, in Unix seconds, for a message
  /// delivered late (XEP-0203); 0 for one delivered as it came.
  std::int64_t received_at = 0;
  /// Or the legacy network's own time of it (a XEP-0082 stamp), empty for
  /// none, and who says so (empty: the sender's domain).
  std::string delay_stamp{};
  std::string delay_from{};
  /// URLs of attached files (XEP-0066), which the body carries too for
  /// clients that do not show them.
  std::vector<std::string> attachments{};
};

/// An error about a message the user sent (RFC 6120 8.3), which the user's
/// client shows on that message.
struct MessageFailure {
  /// The address the message went to.
  xmpp::Jid from;
  /// The full JID that sent it: a `type='error'` message to a bare JID is
  /// dropped (RFC 6121 8.5.2.1.1).
  xmpp::Jid to;
  /// The failed message's id.
  std::string id;
  xmpp::StanzaError error;
};

/// A delivery receipt (XEP-0184) for the message `id` the user sent.
struct Receipt {
  xmpp::Jid from;
  xmpp::Jid to;
  std::string id;
};

/// An error about a presence the user sent (a room join refused, a nick
/// change refused).
struct PresenceFailure {
  /// The address the presence went to (a room occupant).
  xmpp::Jid from;
  /// The user's full JID.
  xmpp::Jid to;
  xmpp::StanzaError error;
};

/// A mediated invitation to a room (XEP-0045 7.8.2).
struct RoomInvite {
  xmpp::Jid room;
  xmpp::Jid to;
  /// Who invites, as an address behind the gateway.
  xmpp::Jid inviter;
  /// The text for clients that do not show invitations.
  std::string text;
};

/// Presence of an address behind the gateway, to a user.
struct ContactPresence {
  xmpp::Jid from;
  xmpp::Jid to;
  UserPresence::Type type = UserPresence::Type::available;
  std::string show{};
  std::string status{};
};

/// Features an adapter may declare in a DiscoInfo.
namespace features {
inline constexpr std::string_view disco_info = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view disco_items = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view commands = "http://jabber.org/protocol/commands";
inline constexpr std::string_view muc = "http://jabber.org/protocol/muc";
/// XEP-0359: the room gives its messages stanza-ids.
inline constexpr std::string_view stanza_ids = "urn:xmpp:sid:0";
} // namespace features

/// What an address behind the gateway is (XEP-0030 disco#info).
struct DiscoInfo {
  struct Identity {
    std::string category;
    std::string type;
    std::string name;
  };
  std::vector<Identity> identities;
  std::vector<std::string> features;
};

/// What an address behind the gateway holds (XEP-0030 disco#items).
struct DiscoItems {
  struct Item {
    xmpp::Jid jid;
    std::string node;
    std::string name;
  };
  std::vector<Item> items;
};

/// A stanza built once for several of a user's resources (a room's message
/// to every resource that joined it); opaque to adapters.
class Fanout {
public:
  explicit Fanout(xmpp::Element stanza) : stanza_(std::move(stanza)) {}

private:
  friend class Bridge;
  xmpp::Element stanza_;
};

/// The typed way to XMPP users for one adapter. Stateless and cheap: any
/// part of an adapter may hold one over the adapter's context.
class Bridge {
public:
  explicit Bridge(AdapterContext& context) : context_(&context) {}

  /// Sends at once; false when the stream's send queue is full and it was
  /// dropped (logged).
  bool send(const ContactMessage& message);
  bool send(const MessageFailure& failure);
  bool send(const Receipt& receipt);
  bool send(const ContactPresence& presence);
  bool send(const PresenceFailure& failure);
  bool send(const RoomInvite& invite);

  /// Rooms (XEP-0045, room_stanzas.hpp). The presence of `occupant` of
  /// `room` (bare) to `to`; false when the nick cannot be a resourcepart or
  /// the send queue is full.
  bool send_occupant(const xmpp::Jid& room, const xmpp::Jid& to, const MucOccupant& occupant,
                     bool available, const PresenceDetails& details = {});
  /// The room's subject, set by `setter` (a nick; empty: the room).
  static Fanout room_subject(const xmpp::Jid& room, std::string_view subject,
                             std::string_view setter);
  /// A groupchat message from `nick` (empty: the room itself) with one
  /// XEP-0359 stanza-id for every copy; `id` keeps the sender's id on a
  /// reflection (empty: the stanza-id); `stamp` (XEP-0082) adds a delay.
  static Fanout room_message(const xmpp::Jid& room, std::string_view nick, std::string_view body,
                             std::string_view id, std::string_view stamp = {});
  /// Sends one copy of `stanza` to `to`.
  bool send_to(const Fanout& stanza, const xmpp::Jid& to);

  /// Sends what the legacy side was, or is about to be, told is safe: kept in
  /// the store until the XMPP server confirms it
  /// (AdapterContext::send_confirmed()). True once kept, or when it was kept
  /// before (a row of `remember` marked IfPresent::refuse exists: nothing is
  /// kept or sent again); false with `ec` when it cannot be, and the legacy
  /// side must be refused for now.
  [[nodiscard]] Awaitable<bool> keep(const ContactMessage& message,
                                     const std::vector<Correlation>& remember, std::error_code& ec);
  [[nodiscard]] Awaitable<bool> keep(const MessageFailure& failure,
                                     const std::vector<Correlation>& remember, std::error_code& ec);
  [[nodiscard]] Awaitable<bool> keep(const Receipt& receipt,
                                     const std::vector<Correlation>& remember, std::error_code& ec);

  /// Answers `event` with an error, unless it asks for none (RFC 6120 8.3.1,
  /// asks_no_answer()).
  void refuse(const UserEvent& event, xmpp::Condition condition, std::string text);
  void refuse(const UserMessage& message, xmpp::Condition condition, std::string text);
  void refuse(const UserPresence& presence, xmpp::Condition condition, std::string text);
  void refuse(const ContactRequest& request, xmpp::Condition condition, std::string text);

  /// Answers a request: with an empty result, what an address is, what it
  /// holds (for the node asked about), or a command step's answer.
  bool answer(const ContactRequest& request);
  bool answer(const ContactRequest& request, const DiscoInfo& info);
  bool answer(const ContactRequest& request, const DiscoItems& items);
  bool answer(const ContactRequest& request, const CommandAnswer& step);
  /// The `<command/>` answer to a command step `id` on `node` from `from`
  /// to `to` (XEP-0050); a new session when `session_id` is empty.
  static xmpp::Element command_reply(const xmpp::Jid& from, const xmpp::Jid& to,
                                     const std::string& id, const std::string& node,
                                     const std::string& session_id, const CommandAnswer& step);
  /// Answers `event` for a network that cannot be reached at all: requests
  /// (a message with a body, an iq, a subscription or an available
  /// presence) get `service-unavailable` with `text`; the rest is dropped.
  void not_available(const UserEvent& event, std::string_view text);
  /// Answers presence to a contact that is always reachable (an email
  /// address, a phone): a subscription gets `subscribed` and available
  /// presence with `status`, a probe gets the presence, an unsubscription
  /// `unsubscribed`, each from `contact` (the address's own spelling); the
  /// rest needs no answer.
  void answer_always_there(const UserPresence& presence, const xmpp::Jid& contact,
                           std::string_view status);

  /// The stanzas, for the code that sends them (and tests).
  static xmpp::Element stanza_of(const ContactMessage& message);
  static xmpp::Element stanza_of(const MessageFailure& failure);
  static xmpp::Element stanza_of(const Receipt& receipt);
  static xmpp::Element stanza_of(const ContactPresence& presence);
  /// The error answer to `event`.
  static xmpp::Element error_reply(const UserEvent& event, const xmpp::StanzaError& error);
  /// Whether `event` must not be answered with an error (an unavailable
  /// presence ends something, a presence error answers something).
  static bool asks_no_answer(const UserEvent& event);

private:
  bool send_stanza(xmpp::Element stanza, std::string_view what);
  Awaitable<bool> keep_stanza(xmpp::Element stanza, const std::vector<Correlation>& remember,
                              std::error_code& ec);

  AdapterContext* context_;
};

} // namespace trestle::gateway
