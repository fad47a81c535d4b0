#pragma once

#include "adapter.hpp"
#include "element.hpp"

#include <string_view>

namespace trestle::gateway {

/// Answers a stanza for a network whose delivery does not exist yet:
/// requests (a message with a body, an iq get/set, a subscription or a
/// directed available presence) get `<service-unavailable/>` with `text`; the
/// rest is dropped. A stanza of type error is never answered (RFC 6120
/// 8.3.1), which also stops loops.
void answer_not_available(const xmpp::Element& stanza, AdapterContext& context,
                          std::string_view text);

} // namespace trestle::gateway
