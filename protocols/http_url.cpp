#include "http_url.hpp"

#include "address_text.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>

namespace trestle::protocols {

namespace {

/// An IPv6 literal as the resolver takes it: inet_pton's syntax, optionally
/// followed by a zone (`%eth0`), which is what Asio's make_address_v6 accepts.
bool is_ipv6_literal(const std::string& host) {
  const std::string address = host.substr(0, host.find('%'));
  in6_addr bytes{};
  return inet_pton(AF_INET6, address.c_str(), &bytes) == 1;
}

/// Splits "host[:port]" (host possibly "[IPv6]") into `out`.
bool parse_authority(std::string_view authority, ParsedUrl& out, std::string* error) {
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(error, "unclosed '[' in the host");
    }
    out.host = std::string(authority.substr(1, close - 1));
    if (!is_ipv6_literal(out.host)) {
      return fail(error, "'" + out.host + "' is not an IPv6 address");
    }
    const auto rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return fail(error, "unexpected text after the IPv6 address");
    }
    has_port = !rest.empty();
    port_text = has_port ? rest.substr(1) : std::string_view();
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    has_port = colon != std::string_view::npos;
    port_text = has_port ? authority.substr(colon + 1) : std::string_view();
    if (out.host.empty()) {
      return fail(error, "no host");
    }
    const bool name_chars = std::all_of(out.host.begin(), out.host.end(), [](char c) {
      return is_ascii_letter(c) || is_ascii_digit(c) || c == '-' || c == '.' || c == '_';
    });
    if (!name_chars) {
      return fail(error, "bad character in the host '" + out.host + "'");
    }
  }
  if (!has_port) {
    out.port = out.tls ? 443 : 80;
    return true;
  }
  unsigned long port = 0;
  const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                      std::all_of(port_text.begin(), port_text.end(), is_ascii_digit);
  if (digits) {
    port = std::stoul(std::string(port_text));
  }
  if (!digits || port == 0 || port > 65535) {
    return fail(error, std::string("bad port '").append(port_text).append("'"));
  }
  out.port = static_cast<unsigned short>(port);
  return true;
}

} // namespace

bool parse_url(std::string_view url, ParsedUrl& out, std::string* error) {
  out = ParsedUrl{};
  const bool clean = std::all_of(url.begin(), url.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f;
  });
  if (!clean) {
    return fail(error, "spaces, control characters and non-ASCII characters must be "
                       "percent-encoded");
  }
  const auto scheme_end = url.find("://");
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ascii_lower);
  if (scheme_end == std::string_view::npos || (scheme != "http" && scheme != "https")) {
    return fail(error, "only http:// and https:// URLs are supported");
  }
  out.tls = scheme == "https";
  const auto rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) {
    return fail(error, "a URL with a fragment ('#') is not a request target");
  }
  const auto path_start = rest.find_first_of("/?");
  const auto authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos) {
    // Credentials belong in a header, and would end up in logs here.
    return fail(error, "user info ('user@') in the URL is not supported");
  }
  if (!parse_authority(authority, out, error)) {
    return false;
  }
  const auto target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  out.target = target.starts_with('/') ? std::string(target) : std::string("/").append(target);
  return true;
}

} // namespace trestle::protocols
