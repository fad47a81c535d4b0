#pragma once

// Text helpers both SMTP dialogues share.

#include <string>
#include <string_view>

namespace trestle::smtp {

/// At most `limit` bytes of `text` as printable ASCII, other bytes as '?':
/// safe inside one SMTP reply line, a log line or an error stanza.
inline std::string printable(std::string_view text, std::size_t limit = 300) {
  std::string out;
  for (const char c : text.substr(0, limit)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

} // namespace trestle::smtp
