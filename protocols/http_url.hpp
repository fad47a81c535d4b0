#pragma once

// The http and https URLs of providers' APIs, split for the HTTP client
// (sans-io: no sockets, no lookups).

#include <string>
#include <string_view>

namespace trestle::protocols {

/// The parts of an http or https URL.
struct ParsedUrl {
  bool tls = false;
  /// Without brackets for IPv6.
  std::string host;
  unsigned short port = 0;
  /// Path and query, at least "/".
  std::string target;
};

/// Splits `url`; false with the reason in `error` for anything but
/// `http://` or `https://` with a host, an optional port (1-65535) and an
/// optional path. User info (`user:pass@`) and fragments are refused, as are
/// control characters, spaces and non-ASCII bytes (percent-encode them). The
/// scheme is case-insensitive. `error` never repeats the path or query.
bool parse_url(std::string_view url, ParsedUrl& out, std::string* error);

} // namespace trestle::protocols
