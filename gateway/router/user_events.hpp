#pragma once

#include "element.hpp"
#include "jid.hpp"

#include <optional>
#include <string>
#include <variant>

// What an XMPP user does towards an address behind the gateway, as typed
// events: the router reads each stanza once (its addresses, its kind, what
// it carries) and hands the adapter one of these. Adapters read no XML.
namespace trestle::gateway {

/// The `type` of a user's message.
enum class MessageType { normal, chat, groupchat, headline };

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
    probe
  };
  xmpp::Jid from;
  xmpp::Jid to;
  Type type = Type::available;
  std::string id;
  /// `away`, `chat`, `dnd`, `xa`; empty when available without a show.
  std::string show;
  std::string status;
};

/// A request (an iq get or set) from a user to an address behind the gateway.
struct ContactRequest {
  /// What is asked, by the request's payload.
  enum class Asks { disco_info, disco_items, version, ping, vcard, other };
  xmpp::Jid from;
  xmpp::Jid to;
  std::string id;
  /// True for an iq set, false for a get.
  bool set = false;
  Asks asks = Asks::other;
  /// The disco node asked about, if any.
  std::string node;
};

/// One event from a user.
using UserEvent = std::variant<UserMessage, UserPresence, ContactRequest>;

/// Reads a stanza from a user into an event. Nothing for what needs no
/// adapter: errors, iq results, iqs without a payload, stanzas without valid
/// addresses. A presence of an unknown type is nothing too (RFC 6121 4.7.1
/// lists them all).
std::optional<UserEvent> read_user_event(const xmpp::Element& stanza);

/// The user who caused `event` (a full JID).
const xmpp::Jid& sender_of(const UserEvent& event);
/// The address behind the gateway that `event` is for.
const xmpp::Jid& recipient_of(const UserEvent& event);

} // namespace trestle::gateway
