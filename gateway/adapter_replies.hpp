#pragma once

#include "adapter.hpp"
#include "element.hpp"

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

} // namespace trestle::gateway
