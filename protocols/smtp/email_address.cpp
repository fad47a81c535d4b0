#include "email_address.hpp"

#include "address_text.hpp"
#include "xep0106.hpp"

#include <cstddef>

namespace trestle::smtp {

namespace {

using protocols::ascii_lower;
using protocols::fail;
using protocols::fail_parse;
using protocols::is_ascii_digit;
using protocols::is_ascii_letter;
using protocols::trim_blanks;

/// RFC 5321 section 4.5.3.1.1 and 4.5.3.1.2.
constexpr std::size_t max_local_bytes = 64;
constexpr std::size_t max_domain_bytes = 255;
constexpr std::size_t max_label_bytes = 63;

constexpr std::string_view expected_form = "expected an address such as bob@example.com";

std::string ascii_lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

/// RFC 5322 atext: what a dot-atom may hold besides dots.
bool is_atext(char c) {
  constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
  return is_ascii_letter(c) || is_ascii_digit(c) || specials.find(c) != std::string_view::npos;
}

/// Why `c` cannot appear in an unquoted local part.
std::string describe_bad_local_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x80) {
    return "the local part contains a non-ASCII character; internationalised addresses are not "
           "supported";
  }
  if (byte < 0x20 || byte == 0x7f) {
    return "the local part contains a control character";
  }
  if (c == ' ') {
    return "the local part contains a space";
  }
  if (c == '@') {
    return "the address contains more than one '@'";
  }
  return "the local part contains '" + std::string(1, c) +
         "', which needs quoting; quoted local parts are not supported";
}

/// Checks one domain label (letters, digits, inner hyphens).
bool check_label(std::string_view label, std::string* error) {
  if (label.empty()) {
    return fail(error, "the domain has an empty label (a leading, trailing or doubled dot)");
  }
  if (label.size() > max_label_bytes) {
    return fail(error, "a label of the domain is longer than 63 characters");
  }
  if (label.front() == '-' || label.back() == '-') {
    return fail(error, "a label of the domain starts or ends with '-'");
  }
  for (const char c : label) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '-') {
      return fail(error, "the domain may contain only letters, digits, '-' and '.' (write "
                         "internationalised domains in their xn-- form)");
    }
  }
  return true;
}

/// Splits `text` at the separator: the last '@', or without one the last '%'.
std::optional<EmailAddress> split_and_check(std::string_view text, std::string* error) {
  if (text.empty()) {
    return fail_parse(error, "the address is empty; " + std::string(expected_form));
  }
  auto separator = text.rfind('@');
  if (separator == std::string_view::npos) {
    separator = text.rfind('%');
  }
  if (separator == std::string_view::npos) {
    return fail_parse(error, "the address has no '@'; " + std::string(expected_form));
  }
  const auto local = text.substr(0, separator);
  if (!is_valid_local_part(local, error)) {
    return std::nullopt;
  }
  auto domain = normalize_domain(text.substr(separator + 1), error);
  if (!domain) {
    return std::nullopt;
  }
  return EmailAddress{std::string(local), std::move(*domain)};
}

} // namespace

std::string EmailAddress::comparison_key() const {
  return ascii_lowered(to_string());
}

std::string canonical_local_part(std::string_view local) {
  return ascii_lowered(local);
}

bool is_valid_local_part(std::string_view local, std::string* error) {
  if (local.empty()) {
    return fail(error, "the local part (before '@') is empty");
  }
  if (local.size() > max_local_bytes) {
    return fail(error, "the local part is longer than 64 bytes");
  }
  for (const char c : local) {
    if (c != '.' && !is_atext(c)) {
      return fail(error, describe_bad_local_char(c));
    }
  }
  if (local.front() == '.' || local.back() == '.') {
    return fail(error, "the local part starts or ends with a dot");
  }
  if (local.find("..") != std::string_view::npos) {
    return fail(error, "the local part contains two dots in a row");
  }
  return true;
}

std::optional<std::string> normalize_domain(std::string_view domain, std::string* error) {
  if (domain.empty()) {
    return fail_parse(error, "the domain (after '@') is empty");
  }
  if (domain.front() == '[') {
    return fail_parse(error, "address literals such as [192.0.2.1] are not supported");
  }
  if (domain.size() > max_domain_bytes) {
    return fail_parse(error, "the domain is longer than 255 bytes");
  }
  std::size_t start = 0;
  std::string_view label;
  while (true) {
    const auto dot = domain.find('.', start);
    label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!check_label(label, error)) {
      return std::nullopt;
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (label.find_first_not_of("0123456789") == std::string_view::npos) {
    return fail_parse(error, "the last label of the domain is all digits; address literals are "
                             "not supported");
  }
  return ascii_lowered(domain);
}

std::optional<EmailAddress> parse_email_address(std::string_view typed, std::string* error) {
  return split_and_check(trim_blanks(typed), error);
}

std::optional<EmailAddress> parse_localpart(std::string_view localpart, std::string* error) {
  return split_and_check(xmpp::xep0106::unescape(localpart), error);
}

std::string to_localpart(const EmailAddress& address) {
  return xmpp::xep0106::escape(address.to_string());
}

} // namespace trestle::smtp
