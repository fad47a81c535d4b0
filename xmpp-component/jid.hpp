#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace trestle::xmpp {

/// A validated, normalized JID (RFC 7622 limits; nodeprep, nameprep and
/// resourceprep through libidn stringprep). Values are always valid: build
/// them with parse() or from_parts().
class Jid {
public:
  /// Parses `local@domain/resource`; on failure returns nullopt and, if
  /// `error` is given, a short English reason.
  static std::optional<Jid> parse(std::string_view text, std::string* error = nullptr);
  /// Builds a JID from its parts (applying the same preparation as parse()).
  static std::optional<Jid> from_parts(std::string_view local, std::string_view domain,
                                       std::string_view resource = {},
                                       std::string* error = nullptr);

  /// The localpart (may be empty).
  const std::string& local() const { return local_; }
  /// The domainpart (never empty).
  const std::string& domain() const { return domain_; }
  /// The resourcepart (may be empty).
  const std::string& resource() const { return resource_; }
  /// True when there is no resource.
  bool is_bare() const { return resource_.empty(); }
  /// This JID without its resource.
  Jid bare() const;
  /// This JID with `resource` (prepared); nullopt if the resource is invalid.
  std::optional<Jid> with_resource(std::string_view resource) const;
  /// `local@domain` (or `domain`).
  std::string bare_string() const;
  /// The full form `local@domain/resource`.
  std::string to_string() const;

  /// Full-JID equality.
  friend bool operator==(const Jid&, const Jid&) = default;
  /// Equality of the bare forms.
  bool bare_equals(const Jid& other) const;

private:
  Jid() = default;
  std::string local_;
  std::string domain_;
  std::string resource_;
};

/// Hash of the full form, for unordered containers keyed by full JID.
struct JidHash {
  std::size_t operator()(const Jid& jid) const;
};
/// Hash of the bare form, for containers keyed by bare JID (use with BareEqual).
struct BareJidHash {
  std::size_t operator()(const Jid& jid) const;
};
/// Bare-form equality, the partner of BareJidHash.
struct BareJidEqual {
  bool operator()(const Jid& a, const Jid& b) const { return a.bare_equals(b); }
};

} // namespace trestle::xmpp

template <> struct std::hash<trestle::xmpp::Jid> : trestle::xmpp::JidHash {};
