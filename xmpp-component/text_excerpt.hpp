#pragma once

// Untrusted text (a provider's error message, a mail header) cut down to a
// single line that an XMPP body, a log line or a mail header can carry.

#include <cstddef>
#include <string>
#include <string_view>

namespace trestle::xmpp {

/// `text` on one line, at most `max_bytes` long: malformed UTF-8, U+FFFE
/// and U+FFFF become U+FFFD; each run of C0 controls, spaces and DEL
/// (line ends and TABs included) becomes one space; the ends are trimmed.
/// A longer text is cut at a character boundary and ends with "…" (U+2026),
/// which counts towards `max_bytes` (and is left out when even it does not
/// fit). Idempotent: a result passed through again with the same or a larger
/// limit comes back unchanged. The one cleaner for every network's short
/// texts (SMS provider answers, mail subjects and names, DSN fields).
std::string one_line(std::string_view text, std::size_t max_bytes = std::string_view::npos);

} // namespace trestle::xmpp
