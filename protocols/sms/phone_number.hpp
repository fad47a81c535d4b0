#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

/// Telephone numbers normalised to E.164 (sans-io).
///
/// The JID of a number is `+15551234567@sms.example.org`: an E.164 number
/// needs no XEP-0106 escaping, so the localpart is the number itself.
namespace trestle::sms {

/// A telephone number in E.164 form: '+' and 8 to 15 digits, the first not 0.
class PhoneNumber {
public:
  /// Normalises a number typed by a user or found in a JID localpart:
  /// blanks, '-', '.', '(' and ')' are dropped, and so is a "(0)" after the
  /// country code; `+` or the `00` prefix (`011`
  /// in North America) starts an international number; anything else is a
  /// national number of `default_country` (a calling code such as "1" or
  /// "44", empty when none is configured), its trunk '0' dropped. On failure
  /// returns nullopt and, if `error` is given, the reason in English.
  static std::optional<PhoneNumber> parse(std::string_view text, std::string_view default_country,
                                          std::string* error = nullptr);

  /// The E.164 form, `+15551234567`.
  const std::string& e164() const { return e164_; }
  /// The JID localpart (the E.164 form).
  const std::string& localpart() const { return e164_; }

  friend bool operator==(const PhoneNumber&, const PhoneNumber&) = default;

private:
  explicit PhoneNumber(std::string e164) : e164_(std::move(e164)) {}
  std::string e164_;
};

/// Checks a configured default country calling code: 1 to 3 digits, not starting with 0.
bool is_valid_country_code(std::string_view code, std::string* error = nullptr);

} // namespace trestle::sms
