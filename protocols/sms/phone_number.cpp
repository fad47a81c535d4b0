#include "phone_number.hpp"

#include "address_text.hpp"

#include <array>
#include <cstddef>

namespace trestle::sms {

namespace {

using protocols::fail;
using protocols::fail_parse;
using protocols::is_ascii_digit;

/// ITU-T E.164: at most 15 digits. Fewer than 8 is shorter than any
/// subscriber number an SMS provider delivers to.
constexpr std::size_t min_digits = 8;
constexpr std::size_t max_digits = 15;

constexpr std::string_view expected_form =
    "expected a number in international form, such as +15551234567";

/// Calling codes whose national numbers keep their leading 0 after the
/// country code (Italy: 06 1234 5678 is +39 06 1234 5678).
constexpr std::array<std::string_view, 1> keeps_leading_zero{"39"};

/// Visual separators people write inside numbers.
bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')';
}

/// Why `c` cannot appear in a phone number (the character itself only when
/// it is printable ASCII, so the text stays valid UTF-8).
std::string describe_bad_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte > 0x20 && byte < 0x7f) {
    return "the number contains '" + std::string(1, c) + "'; " + std::string(expected_form);
  }
  return "the number contains a character other than digits, '+', blanks, '-', '.' and "
         "parentheses; " +
         std::string(expected_form);
}

/// The digits of a number as typed, and whether it started with '+'.
struct Digits {
  bool plus = false;
  std::string digits;
};

/// Drops separators; nullopt on any other character, a '+' after the start,
/// or nothing at all.
std::optional<Digits> extract_digits(std::string_view text, std::string* error) {
  Digits out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // "+44 (0)20 7946 0958": the bracketed trunk 0 is dialled only inside the
    // country and is not part of the international number.
    if (c == '(' && text.substr(i, 3) == "(0)" && !out.digits.empty() &&
        (out.plus || out.digits.starts_with("00"))) {
      i += 2;
      continue;
    }
    if (is_separator(c)) {
      continue;
    }
    if (c == '+') {
      if (out.plus || !out.digits.empty()) {
        return fail_parse(error, "'+' may only start the number; " + std::string(expected_form));
      }
      out.plus = true;
    } else if (is_ascii_digit(c)) {
      out.digits += c;
    } else {
      return fail_parse(error, describe_bad_char(c));
    }
  }
  if (!out.plus && out.digits.empty()) {
    return fail_parse(error, "the number is empty; " + std::string(expected_form));
  }
  return out;
}

/// A North American (NANP) national number: 10 digits, or 11 starting with 1.
std::optional<std::string> nanp_international(std::string_view digits, std::string* error) {
  if (digits.size() == 11 && digits.front() == '1') {
    digits.remove_prefix(1);
  }
  if (digits.size() != 10) {
    return fail_parse(error, "a North American number has 10 digits, or 11 starting with 1");
  }
  if (digits.front() == '0' || digits.front() == '1') {
    return fail_parse(error, "a North American area code does not start with 0 or 1");
  }
  // Built piecewise: GCC 12 -O3 reports a false -Wrestrict for "1" + string.
  std::string international(1, '1');
  international += digits;
  return international;
}

/// A national number of `country` (already validated) as international digits.
std::optional<std::string> national_to_international(std::string_view digits,
                                                     std::string_view country, std::string* error) {
  if (country == "1") {
    return nanp_international(digits, error);
  }
  bool keep_zero = false;
  for (const auto code : keeps_leading_zero) {
    keep_zero = keep_zero || code == country;
  }
  if (!keep_zero && digits.front() == '0') {
    digits.remove_prefix(1); // the trunk prefix, dialled only inside the country
  }
  return std::string(country) + std::string(digits);
}

} // namespace

bool is_valid_country_code(std::string_view code, std::string* error) {
  if (code.empty() || code.size() > 3) {
    return fail(error, "a country calling code has 1 to 3 digits");
  }
  for (const char c : code) {
    if (!is_ascii_digit(c)) {
      return fail(error, "a country calling code has only digits (\"1\", \"44\"), without '+'");
    }
  }
  if (code.front() == '0') {
    return fail(error, "a country calling code does not start with 0");
  }
  return true;
}

std::optional<PhoneNumber>
PhoneNumber::parse(std::string_view text, std::string_view default_country, std::string* error) {
  const auto extracted = extract_digits(text, error);
  if (!extracted) {
    return std::nullopt;
  }
  const std::string_view digits = extracted->digits;
  std::string international;
  if (extracted->plus) {
    international = digits;
  } else if (digits.starts_with("00")) {
    international = digits.substr(2);
  } else if (default_country == "1" && digits.starts_with("011")) {
    international = digits.substr(3); // the NANP international prefix
  } else {
    if (default_country.empty()) {
      return fail_parse(error, "the number has no country code and no default country is "
                               "configured; " +
                                   std::string(expected_form));
    }
    std::string reason;
    if (!is_valid_country_code(default_country, &reason)) {
      return fail_parse(error, "the configured default country is not valid: " + reason);
    }
    auto converted = national_to_international(digits, default_country, error);
    if (!converted) {
      return std::nullopt;
    }
    international = std::move(*converted);
  }
  if (!international.empty() && international.front() == '0') {
    return fail_parse(error, "a country calling code does not start with 0; " +
                                 std::string(expected_form));
  }
  if (international.size() < min_digits || international.size() > max_digits) {
    return fail_parse(error, "an international number has 8 to 15 digits after '+'; " +
                                 std::string(expected_form));
  }
  return PhoneNumber("+" + international);
}

} // namespace trestle::sms
