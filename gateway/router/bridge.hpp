#pragma once

#include "adapter.hpp"
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

/// Presence of an address behind the gateway, to a user.
struct ContactPresence {
  xmpp::Jid from;
  xmpp::Jid to;
  UserPresence::Type type = UserPresence::Type::available;
  std::string show;
  std::string status;
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

  /// Sends what the legacy side was, or is about to be, told is safe: kept in
  /// the store until the XMPP server confirms it
  /// (AdapterContext::send_confirmed()). True once kept; false with `ec`
  /// when it cannot be, and the legacy side must be refused for now.
  [[nodiscard]] Awaitable<bool> keep(const ContactMessage& message,
                                     const std::vector<Correlation>& remember, std::error_code& ec);
  [[nodiscard]] Awaitable<bool> keep(const MessageFailure& failure,
                                     const std::vector<Correlation>& remember, std::error_code& ec);
  [[nodiscard]] Awaitable<bool> keep(const Receipt& receipt,
                                     const std::vector<Correlation>& remember, std::error_code& ec);

  /// Answers `event` with an error, unless it asks for none (RFC 6120 8.3.1:
  /// an unavailable presence, which ends something, is never answered).
  void refuse(const UserEvent& event, xmpp::Condition condition, std::string text);
  void refuse(const UserMessage& message, xmpp::Condition condition, std::string text);
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

private:
  bool send_stanza(const xmpp::Element& stanza, std::string_view what);
  Awaitable<bool> keep_stanza(xmpp::Element stanza, const std::vector<Correlation>& remember,
                              std::error_code& ec);

  AdapterContext* context_;
};

} // namespace trestle::gateway
