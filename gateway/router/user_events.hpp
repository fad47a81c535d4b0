#pragma once

#include "data_form.hpp"
#include "element.hpp"
#include "jid.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// What an XMPP user does towards an address behind the gateway, as typed
// events: the router reads each stanza once (its addresses, its kind, what
// it carries) and hands the adapter one of these. Adapters read no XML.
namespace trestle::gateway {

/// The `type` of a user's message.
enum class MessageType { normal, chat, groupchat, headline };

/// An invitation carried by a message: to a room, by the room's address
/// (XEP-0249), or of someone into the room the message goes to (XEP-0045
/// 7.8.2). `jid` is empty when the one given is no valid JID.
struct Invitation {
  std::optional<xmpp::Jid> jid;
};

/// A message from a user to an address behind the gateway, after the
/// border: features the network cannot carry are written into the body
/// already (border_crossing.hpp).
struct UserMessage {
  /// The user's full JID: answers about the message go there.
  xmpp::Jid from;
  /// The address as the user wrote it (with a resource for a room occupant).
  xmpp::Jid to;
  MessageType type = MessageType::normal;
  std::string id;
  std::string body;
  /// A subject element, even an empty one (an empty subject clears a topic).
  std::optional<std::string> subject;
  std::string thread;
  /// XEP-0184: the sender asked for a delivery receipt.
  bool receipt_requested = false;
  /// XEP-0045 mediated invitation: the invitee, into the room `to`.
  std::optional<Invitation> invite{};
  /// XEP-0249 direct invitation: the room the recipient is invited to.
  std::optional<Invitation> room_invitation{};
};

/// What a presence to a room occupant asks of the room (XEP-0045 7.2).
struct RoomJoin {
  std::string password;
  /// The history asked for; nothing for "as the room likes".
  std::optional<long> max_stanzas;
  std::optional<long> max_chars;
  std::optional<long> seconds;
  /// A XEP-0082 stamp, empty for none.
  std::string since;
};

/// Presence from a user to an address behind the gateway.
struct UserPresence {
  enum class Type {
    available,
    unavailable,
    subscribe,
    subscribed,
    unsubscribe,
    unsubscribed,
    probe,
    /// The user's client refused a presence (a room's): it is not there.
    error,
  };
  xmpp::Jid from;
  xmpp::Jid to;
  Type type = Type::available;
  std::string id;
  /// `away`, `chat`, `dnd`, `xa`; empty when available without a show.
  std::string show;
  std::string status;
  /// With `<x xmlns='http://jabber.org/protocol/muc'/>`: a join.
  std::optional<RoomJoin> join{};
};

/// One item of a XEP-0045 muc#admin request: a role for a nick.
struct RoleChange {
  std::string nick;
  std::string role;
  std::string reason;
  /// The item names an affiliation (which IRC cannot map).
  bool affiliation = false;
};

/// A request (an iq get or set) from a user to an address behind the gateway.
struct ContactRequest {
  /// What is asked, by the request's payload.
  enum class Asks { disco_info, disco_items, version, ping, vcard, command, room_admin, other };
  xmpp::Jid from;
  xmpp::Jid to;
  std::string id;
  /// True for an iq set, false for a get.
  bool set = false;
  Asks asks = Asks::other;
  /// The disco node asked about, or the command's node.
  std::string node;
  /// A command step (XEP-0050): its action, session and submitted form.
  std::string action{};
  std::string session_id{};
  std::optional<DataForm> form{};
  /// A muc#admin set: the role changes asked for.
  std::vector<RoleChange> role_changes{};
};

/// One event from a user.
using UserEvent = std::variant<UserMessage, UserPresence, ContactRequest>;

/// The `type` attribute of each kind ("" for normal and available), the
/// same names read_user_event() reads.
std::string_view type_name(MessageType type);
std::string_view type_name(UserPresence::Type type);

/// Reads a stanza from a user into an event. Nothing for what needs no
/// adapter: errors, iq results, iqs without a payload, stanzas without valid
/// addresses. A presence of an unknown type is nothing too (RFC 6121 4.7.1
/// lists them all).
std::optional<UserEvent> read_user_event(const xmpp::Element& stanza);
/// The same, with the stanza's addresses parsed already (the router's).
std::optional<UserEvent> read_user_event(const xmpp::Element& stanza, xmpp::Jid from, xmpp::Jid to);

/// The user who caused `event` (a full JID).
const xmpp::Jid& sender_of(const UserEvent& event);
/// The address behind the gateway that `event` is for.
const xmpp::Jid& recipient_of(const UserEvent& event);

} // namespace trestle::gateway
