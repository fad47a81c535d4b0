#pragma once

// The machine-readable parts of a bounce (RFC 3464): the delivery-status
// fields and the returned message's headers. Plain text in, no GMime.

#include "mime_text.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// Reads the content of a message/delivery-status part (RFC 3464 section
/// 2.1: a block of per-message fields, then one block per recipient) into
/// `report`: every recipient whose Action is `failed`, and the first one's
/// Status and Diagnostic-Code.
void read_delivery_status(std::string_view content, DeliveryReport& report);

/// The Message-ID (without angle brackets) in a block of header fields such
/// as a text/rfc822-headers part, or empty when there is no valid one.
std::string message_id_in_headers(std::string_view headers);

/// The ids in a Message-ID, In-Reply-To or References value, in order,
/// without angle brackets: what stands between `<` and `>`, or the whole
/// value when it has no brackets. Ids that compose_mail() would not write
/// back are dropped, and one bad id does not hide the ones after it
/// (GMime's g_mime_references_parse() stops there).
std::vector<std::string> message_ids_in(std::string_view value);

} // namespace trestle::smtp
