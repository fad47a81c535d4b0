// Fuzz target for the phone number normaliser (what users type, what
// providers send): every parse either fails with a reason or gives E.164
// whose JID localpart parses back to the same number, whatever the default
// country.
#include "phone_number.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using trestle::sms::PhoneNumber;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_phone_number: %s\n", what);
    std::abort();
  }
}

void check_phone(std::string_view input) {
  constexpr std::array<std::string_view, 4> countries{"", "1", "44", "39"};
  for (const auto country : countries) {
    std::string error;
    const auto number = PhoneNumber::parse(input, country, &error);
    if (!number) {
      check(!error.empty(), "sms: rejected without a reason");
      continue;
    }
    const std::string& e164 = number->e164();
    check(e164.size() >= 9 && e164.size() <= 16 && e164[0] == '+' && e164[1] != '0' &&
              e164.find_first_not_of("0123456789", 1) == std::string::npos,
          "sms: result is not E.164");
    for (const auto other : countries) {
      const auto again = PhoneNumber::parse(number->localpart(), other);
      check(again && *again == *number, "sms: E.164 form does not parse back as itself");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_phone(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
