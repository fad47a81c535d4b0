#pragma once

#include "adapter.hpp"
#include "element.hpp"
#include "random_hex.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace trestle::gateway {

/// Answers a stanza with an error, unless it is an error, an iq result or an
/// unavailable presence itself (RFC 6120 8.3.1: errors are never answered,
/// which also stops loops between two gateways).
void refuse(const xmpp::Element& stanza, AdapterContext& context, xmpp::Condition condition,
            std::string text);

/// Answers a stanza for a network whose delivery does not exist yet:
/// requests (a message with a body, an iq get/set, a subscription or a
/// directed available presence) get `<service-unavailable/>` with `text`; the
/// rest is dropped. A stanza of type error is never answered (RFC 6120
/// 8.3.1), which also stops loops.
void answer_not_available(const xmpp::Element& stanza, AdapterContext& context,
                          std::string_view text);

/// A message error about the message `id` that `to` sent to `from`
/// (RFC 6120 8.3): what the sender's client shows on that message. Send it
/// to the full JID that sent the message: a `type='error'` message to a bare
/// JID is dropped (RFC 6121 8.5.2.1.1).
xmpp::Element message_error(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id,
                            const xmpp::StanzaError& error);

/// A delivery receipt (XEP-0184) for the message `id`.
xmpp::Element message_receipt(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id);

/// Answers presence from `user` (a full JID) to a legacy contact that is
/// always reachable (an email address, a phone): a subscription request
/// gets `subscribed` and available presence with `status`, a probe gets the
/// presence, an unsubscription gets `unsubscribed`; the rest is dropped.
void answer_contact_presence(const xmpp::Element& stanza, AdapterContext& context,
                             const xmpp::Jid& user, const xmpp::Jid& contact,
                             std::string_view status);

} // namespace trestle::gateway
