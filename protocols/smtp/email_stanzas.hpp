#pragma once

#include "element.hpp"
#include "jid.hpp"
#include "stanza_error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::smtp {

struct EmailAddress;

/// The contact JID of `address` on `domain` (`bob\40example.com@domain`).
std::optional<xmpp::Jid> contact_jid(const EmailAddress& address, const std::string& domain);

/// A message error about the message `id` that `to` sent to `from`
/// (RFC 6120 8.3): what the sender's client shows on that message.
xmpp::Element message_error(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id,
                            const xmpp::StanzaError& error);

/// A delivery receipt (XEP-0184) for the message `id`.
xmpp::Element message_receipt(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id);

/// The stanza error for a relay's refusal, chosen by its enhanced status
/// code (RFC 3463): a bad address is `item-not-found`, a policy refusal
/// `not-allowed`, anything else `not-acceptable`; the text quotes the relay.
xmpp::StanzaError relay_refusal(int code, std::string_view text);

/// A new random XMPP message id.
std::string make_stanza_id();

} // namespace trestle::smtp
