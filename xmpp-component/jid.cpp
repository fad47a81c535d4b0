#include "jid.hpp"

#include "utf8.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <netinet/in.h>
#include <stringprep.h>
#include <vector>

namespace trestle::xmpp {

namespace {

/// RFC 7622 sections 3.2-3.4: every part is 1..1023 octets after preparation.
constexpr std::size_t max_part_bytes = 1023;
/// Preparation can shrink a part (characters mapped to nothing), so the raw
/// input may legitimately be longer than the limit; this bound only caps the
/// work spent on hostile input.
constexpr std::size_t max_raw_part_bytes = 4 * max_part_bytes;
/// NFKC and case folding can grow a string (U+FDFA becomes 18 characters);
/// the preparation buffer doubles up to this size before giving up.
constexpr std::size_t max_prep_buffer_bytes = 64 * 1024;

enum class Part { local, domain, resource };

std::string_view part_name(Part part) {
  switch (part) {
  case Part::local:
    return "localpart";
  case Part::domain:
    return "domainpart";
  case Part::resource:
    return "resourcepart";
  }
  return "part";
}

/// Stores `reason` in `error` (when given) and returns nullopt, so failure
/// paths read as one `return fail(...)`.
std::nullopt_t fail(std::string* error, std::string reason) {
  if (error != nullptr) {
    *error = std::move(reason);
  }
  return std::nullopt;
}

std::nullopt_t fail(std::string* error, Part part, std::string_view what) {
  std::string reason(part_name(part));
  reason += ' ';
  reason += what;
  return fail(error, std::move(reason));
}

std::string_view stringprep_reason(int rc) {
  switch (rc) {
  case STRINGPREP_CONTAINS_PROHIBITED:
    return "contains a prohibited character";
  case STRINGPREP_CONTAINS_UNASSIGNED:
    return "contains an unassigned code point";
  case STRINGPREP_BIDI_BOTH_L_AND_RAL:
  case STRINGPREP_BIDI_LEADTRAIL_NOT_RAL:
  case STRINGPREP_BIDI_CONTAINS_PROHIBITED:
    return "violates the bidirectional text rules";
  case STRINGPREP_TOO_SMALL_BUFFER:
    return "grows too long when prepared";
  default:
    return "cannot be prepared";
  }
}

const Stringprep_profile* profile_for(Part part) {
  switch (part) {
  case Part::local:
    return stringprep_xmpp_nodeprep;
  case Part::domain:
    return stringprep_nameprep;
  case Part::resource:
    return stringprep_xmpp_resourceprep;
  }
  return stringprep_xmpp_resourceprep;
}

/// The profile's result for a part made only of printable ASCII that the
/// profile keeps, without calling libidn; nullopt for anything else, which
/// then takes the full profile (and its error reporting). On such input every
/// profile is exact here: no character is mapped to nothing, NFKC and the
/// bidirectional rules leave ASCII alone, nodeprep and nameprep fold A-Z to
/// a-z, and resourceprep keeps all of 0x20-0x7E. Nodeprep forbids space and
/// `"&'/:<>@`; domains keep to host-name characters (is_host_name).
std::optional<std::string> prepare_ascii(std::string_view raw, Part part) {
  std::string out(raw);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) {
      return std::nullopt;
    }
    if (part == Part::resource) {
      continue;
    }
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (part == Part::local
                   ? std::string_view(" \"&'/:<>@").find(c) != std::string_view::npos
                   : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                       c == '.')) {
      return std::nullopt;
    }
  }
  return out;
}

/// Runs the libidn profile for `part` over `raw` (non-empty, valid UTF-8, no
/// NUL) and checks the RFC 7622 length limits on the result. Flags are 0, as
/// in libidn's own profile macros: unassigned code points are allowed, so
/// JIDs using characters newer than Unicode 3.2 (emoji nicknames) still work.
std::optional<std::string> run_stringprep(std::string_view raw, Part part, std::string* error) {
  if (auto ascii = prepare_ascii(raw, part)) {
    if (ascii->size() > max_part_bytes) {
      return fail(error, part, "is longer than 1023 bytes");
    }
    return ascii;
  }
  // stringprep() works in place on a NUL-terminated buffer and reports
  // STRINGPREP_TOO_SMALL_BUFFER when the prepared form does not fit.
  std::size_t size = raw.size() * 2 + 16;
  for (;;) {
    std::vector<char> buffer(size, '\0');
    std::copy(raw.begin(), raw.end(), buffer.begin());
    const int rc =
        stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile_for(part));
    if (rc == STRINGPREP_OK) {
      std::string prepared(buffer.data());
      if (prepared.empty()) {
        return fail(error, part, "is empty after preparation");
      }
      if (prepared.size() > max_part_bytes) {
        return fail(error, part, "is longer than 1023 bytes");
      }
      return prepared;
    }
    if (rc != STRINGPREP_TOO_SMALL_BUFFER || size >= max_prep_buffer_bytes) {
      return fail(error, part, stringprep_reason(rc));
    }
    size *= 2;
  }
}

/// Checks that are the same for every part before libidn sees it.
bool check_raw(std::string_view raw, Part part, std::string* error) {
  if (raw.empty()) {
    fail(error, part, "is empty");
    return false;
  }
  if (raw.size() > max_raw_part_bytes) {
    fail(error, part, "is longer than 1023 bytes");
    return false;
  }
  // stringprep() takes C strings: an embedded NUL would silently cut the part.
  if (raw.find('\0') != std::string_view::npos) {
    fail(error, part, "contains a NUL byte");
    return false;
  }
  if (!is_valid_utf8(raw)) {
    fail(error, part, "is not valid UTF-8");
    return false;
  }
  return true;
}

std::optional<std::string> prepare_local(std::string_view raw, std::string* error) {
  if (!check_raw(raw, Part::local, error)) {
    return std::nullopt;
  }
  return run_stringprep(raw, Part::local, error);
}

std::optional<std::string> prepare_resource(std::string_view raw, std::string* error) {
  if (!check_raw(raw, Part::resource, error)) {
    return std::nullopt;
  }
  return run_stringprep(raw, Part::resource, error);
}

/// `[...]` IPv6 literal (RFC 7622 section 3.2, RFC 3986 IP-literal), written
/// back in the canonical RFC 5952 form so equal addresses compare equal.
std::optional<std::string> prepare_ipv6_literal(std::string_view raw, std::string* error) {
  if (raw.size() < 3 || raw.back() != ']') {
    return fail(error, "domainpart is not a valid IPv6 literal");
  }
  const std::string inner(raw.substr(1, raw.size() - 2));
  in6_addr address{};
  if (inet_pton(AF_INET6, inner.c_str(), &address) != 1) {
    return fail(error, "domainpart is not a valid IPv6 literal");
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(AF_INET6, &address, text.data(), text.size()) == nullptr) {
    return fail(error, "domainpart is not a valid IPv6 literal");
  }
  // Appended piecewise: GCC 12 -O3 reports a false -Wrestrict for "[" + s.
  std::string literal(1, '[');
  literal += text.data();
  literal += ']';
  return literal;
}

/// After nameprep, a domain name may hold non-ASCII characters, but its ASCII
/// ones are restricted to letters, digits, '-', '_' and the label dots (the
/// STD 3 host name rules, plus '_' which some deployments use). Nameprep
/// itself allows ASCII punctuation, so without this "a@b@c" would yield a
/// domain "b@c" that does not survive a round trip through to_string().
bool is_host_name(std::string_view domain, std::string* error) {
  char previous = '.';
  for (const char c : domain) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '.' && previous == '.') {
      fail(error, "domainpart has an empty label");
      return false;
    }
    const bool allowed = byte >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         c == '-' || c == '_' || c == '.';
    if (!allowed) {
      fail(error, "domainpart contains a character not allowed in a domain name");
      return false;
    }
    previous = c;
  }
  if (previous == '.') {
    fail(error, "domainpart has an empty label");
    return false;
  }
  return true;
}

std::optional<std::string> prepare_domain(std::string_view raw, std::string* error) {
  // RFC 7622 section 3.2: one trailing label separator is stripped.
  if (!raw.empty() && raw.back() == '.') {
    raw.remove_suffix(1);
  }
  if (!check_raw(raw, Part::domain, error)) {
    return std::nullopt;
  }
  if (raw.front() == '[') {
    return prepare_ipv6_literal(raw, error);
  }
  auto prepared = run_stringprep(raw, Part::domain, error);
  if (!prepared || !is_host_name(*prepared, error)) {
    return std::nullopt;
  }
  return prepared;
}

/// Combines the hash of `part` into `seed` (the boost::hash_combine recipe).
std::size_t hash_combine(std::size_t seed, std::string_view part) {
  const std::size_t value = std::hash<std::string_view>{}(part);
  return seed ^
         (value + static_cast<std::size_t>(0x9e3779b97f4a7c15ULL) + (seed << 6) + (seed >> 2));
}

} // namespace

std::optional<Jid> Jid::parse(std::string_view text, std::string* error) {
  if (text.empty()) {
    return fail(error, "empty JID");
  }
  // RFC 7622 section 3.1: the resource is everything after the first '/',
  // then the localpart is everything before the first '@' of what is left.
  std::string_view rest = text;
  std::optional<std::string_view> resource;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    resource = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::optional<std::string_view> local;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    local = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  // A separator that is present makes its part mandatory ("@d", "d/").
  if (local && local->empty()) {
    return fail(error, "localpart is empty");
  }
  if (resource && resource->empty()) {
    return fail(error, "resourcepart is empty");
  }
  return from_parts(local.value_or(std::string_view{}), rest, resource.value_or(std::string_view{}),
                    error);
}

std::optional<Jid> Jid::from_parts(std::string_view local, std::string_view domain,
                                   std::string_view resource, std::string* error) {
  Jid jid;
  if (!local.empty()) {
    auto prepared = prepare_local(local, error);
    if (!prepared) {
      return std::nullopt;
    }
    jid.local_ = std::move(*prepared);
  }
  auto prepared_domain = prepare_domain(domain, error);
  if (!prepared_domain) {
    return std::nullopt;
  }
  jid.domain_ = std::move(*prepared_domain);
  if (!resource.empty()) {
    auto prepared = prepare_resource(resource, error);
    if (!prepared) {
      return std::nullopt;
    }
    jid.resource_ = std::move(*prepared);
  }
  return jid;
}

Jid Jid::bare() const {
  Jid copy = *this;
  copy.resource_.clear();
  return copy;
}

// An empty resource is refused rather than read as "no resource": callers
// pass nicknames and the like here, and an empty one is a bug to surface.
std::optional<Jid> Jid::with_resource(std::string_view resource) const {
  auto prepared = prepare_resource(resource, nullptr);
  if (!prepared) {
    return std::nullopt;
  }
  Jid copy = *this;
  copy.resource_ = std::move(*prepared);
  return copy;
}

std::string Jid::bare_string() const {
  if (local_.empty()) {
    return domain_;
  }
  std::string out;
  out.reserve(local_.size() + 1 + domain_.size());
  out += local_;
  out += '@';
  out += domain_;
  return out;
}

std::string Jid::to_string() const {
  std::string out = bare_string();
  if (!resource_.empty()) {
    out += '/';
    out += resource_;
  }
  return out;
}

bool Jid::bare_equals(const Jid& other) const {
  return local_ == other.local_ && domain_ == other.domain_;
}

std::size_t JidHash::operator()(const Jid& jid) const {
  return hash_combine(BareJidHash{}(jid), jid.resource());
}

std::size_t BareJidHash::operator()(const Jid& jid) const {
  return hash_combine(hash_combine(0, jid.local()), jid.domain());
}

} // namespace trestle::xmpp
