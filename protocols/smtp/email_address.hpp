#pragma once

#include <optional>
#include <string>
#include <string_view>

/// Email addresses and their JID localparts (sans-io).
///
/// `bob@example.com` is the localpart `bob\40example.com` (XEP-0106);
/// `bob%example.com` is accepted on input, the last '%' standing for '@'.
namespace trestle::smtp {

/// A mailbox address limited to what an SMTP client can send unquoted: a
/// dot-atom local part and a hostname domain.
struct EmailAddress {
  /// The local part, case kept (RFC 5321 leaves its meaning to the receiving host).
  std::string local;
  /// The domain, lowercase.
  std::string domain;

  /// `local@domain`.
  std::string to_string() const { return local + '@' + domain; }
  /// The lowercased address: one key per mailbox for the mapping table.
  std::string comparison_key() const;

  friend bool operator==(const EmailAddress&, const EmailAddress&) = default;
};

/// Parses an address typed by a user (`bob@example.com` or `bob%example.com`),
/// ignoring surrounding blanks. On failure returns nullopt and, if `error` is
/// given, the reason in English.
std::optional<EmailAddress> parse_email_address(std::string_view typed,
                                                std::string* error = nullptr);
/// Parses a JID localpart (XEP-0106 escaped, `bob\40example.com`); the
/// `bob%example.com` form is accepted too.
std::optional<EmailAddress> parse_localpart(std::string_view localpart,
                                            std::string* error = nullptr);
/// The JID localpart for `address` (`bob\40example.com`).
std::string to_localpart(const EmailAddress& address);

/// Checks a local part: 1 to 64 bytes, a dot-atom (RFC 5322 atext and
/// single inner dots).
bool is_valid_local_part(std::string_view local, std::string* error = nullptr);
/// `local` with ASCII letters lowercased: the one spelling kept for a
/// mailbox on the gateway's own domain, where local parts match regardless of case.
std::string canonical_local_part(std::string_view local);
/// Checks a domain (a hostname of 1 to 255 bytes) and returns it lowercase.
std::optional<std::string> normalize_domain(std::string_view domain, std::string* error = nullptr);

} // namespace trestle::smtp
