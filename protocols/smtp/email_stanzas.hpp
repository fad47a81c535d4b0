#pragma once

#include "jid.hpp"
#include "stanza_error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::smtp {

struct EmailAddress;

/// The contact JID of `address` on `domain` (`bob\40example.com@domain`).
std::optional<xmpp::Jid> contact_jid(const EmailAddress& address, const std::string& domain);

/// The stanza error for a relay's refusal, chosen by its enhanced status
/// code (RFC 3463): a bad address is `item-not-found`, a policy refusal
/// `not-allowed`, anything else `not-acceptable`; the text quotes the relay
/// (`code` is its reply code, empty when there was none).
xmpp::StanzaError relay_refusal(std::string_view code, std::string_view text);

} // namespace trestle::smtp
