#include "phone_number.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using trestle::sms::is_valid_country_code;
using trestle::sms::PhoneNumber;

namespace {

/// The E.164 form of `text`, or "" when it does not parse.
std::string e164(std::string_view text, std::string_view country = {}) {
  const auto number = PhoneNumber::parse(text, country);
  return number ? number->e164() : std::string();
}

/// The reason PhoneNumber::parse() gives; fails the test when it parses.
std::string parse_error(std::string_view text, std::string_view country = {}) {
  std::string error;
  const auto number = PhoneNumber::parse(text, country, &error);
  BOOST_TEST(!number.has_value(), "'" << text << "' parsed");
  return error;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(phone_number)

BOOST_AUTO_TEST_CASE(international_form_parses_as_is) {
  const auto number = PhoneNumber::parse("+15551234567", {});
  BOOST_REQUIRE(number);
  BOOST_TEST(number->e164() == "+15551234567");
  BOOST_TEST(number->localpart() == "+15551234567");
  BOOST_TEST(e164("+15551234567", "44") == "+15551234567");
}

BOOST_AUTO_TEST_CASE(separators_are_dropped) {
  BOOST_TEST(e164("+1 (555) 123-4567") == "+15551234567");
  BOOST_TEST(e164(" +44 20.7946.0958\t") == "+442079460958");
  BOOST_TEST(e164("+49 (0)30 1234567") == "+49301234567");
  BOOST_TEST(e164("0044 (0)20 7946 0958") == "+442079460958");
  BOOST_TEST(e164("(0)20 7946 0958", "44") == "+442079460958");
}

BOOST_AUTO_TEST_CASE(international_prefixes) {
  BOOST_TEST(e164("0044 20 7946 0958") == "+442079460958");
  BOOST_TEST(e164("0044 20 7946 0958", "33") == "+442079460958");
  BOOST_TEST(e164("011 44 20 7946 0958", "1") == "+442079460958");
}

BOOST_AUTO_TEST_CASE(national_numbers_take_the_default_country) {
  BOOST_TEST(e164("020 7946 0958", "44") == "+442079460958");
  BOOST_TEST(e164("07700 900123", "44") == "+447700900123");
  BOOST_TEST(e164("030 1234567", "49") == "+49301234567");
  BOOST_TEST(e164("30 1234567", "49") == "+49301234567");
  BOOST_TEST(e164("06 1234 5678", "39") == "+390612345678");
  BOOST_TEST(e164("312 345 6789", "39") == "+393123456789");
}

BOOST_AUTO_TEST_CASE(north_american_numbers) {
  BOOST_TEST(e164("(555) 123-4567", "1") == "+15551234567");
  BOOST_TEST(e164("555.123.4567", "1") == "+15551234567");
  BOOST_TEST(e164("1-555-123-4567", "1") == "+15551234567");
  BOOST_TEST(contains(parse_error("555 123 456", "1"), "10 digits, or 11 starting with 1"));
  BOOST_TEST(contains(parse_error("2555 123 4567", "1"), "10 digits, or 11 starting with 1"));
  BOOST_TEST(contains(parse_error("055 123 4567", "1"), "area code"));
  BOOST_TEST(contains(parse_error("1 155 123 4567", "1"), "area code"));
}

BOOST_AUTO_TEST_CASE(length_limits) {
  BOOST_TEST(e164("+12345678") == "+12345678");
  BOOST_TEST(e164("+123456789012345") == "+123456789012345");
  BOOST_TEST(contains(parse_error("+1234567"), "8 to 15 digits"));
  BOOST_TEST(contains(parse_error("+1234567890123456"), "8 to 15 digits"));
  BOOST_TEST(contains(parse_error("+"), "8 to 15 digits"));
  BOOST_TEST(contains(parse_error("00"), "8 to 15 digits"));
  BOOST_TEST(contains(parse_error("0", "44"), "8 to 15 digits"));
}

BOOST_AUTO_TEST_CASE(form_errors) {
  BOOST_TEST(contains(parse_error(""), "empty"));
  BOOST_TEST(contains(parse_error(" - "), "empty"));
  BOOST_TEST(contains(parse_error("abc"), "contains 'a'"));
  BOOST_TEST(contains(parse_error("+1-800-FLOWERS"), "contains 'F'"));
  BOOST_TEST(contains(parse_error("+1-800-FLOWERS"), "+15551234567"));
  BOOST_TEST(contains(parse_error("1+5551234567", "1"), "'+' may only start"));
  BOOST_TEST(contains(parse_error("++15551234567"), "'+' may only start"));
  BOOST_TEST(contains(parse_error("+0015551234567"), "does not start with 0"));
  BOOST_TEST(contains(parse_error("+1555123\xd9\xa5"), "other than digits"));
  BOOST_TEST(contains(parse_error(std::string("+1555\0"
                                              "1234567",
                                              12)),
                      "other than digits"));
}

BOOST_AUTO_TEST_CASE(national_number_without_default_country) {
  const std::string error = parse_error("555 123 4567");
  BOOST_TEST(contains(error, "no default country is configured"));
  BOOST_TEST(contains(error, "+15551234567"));
}

BOOST_AUTO_TEST_CASE(invalid_default_country) {
  BOOST_TEST(contains(parse_error("020 7946 0958", "+44"), "default country is not valid"));
  BOOST_TEST(contains(parse_error("020 7946 0958", "0"), "default country is not valid"));
  std::string error;
  BOOST_TEST(!is_valid_country_code("", &error));
  BOOST_TEST(contains(error, "1 to 3 digits"));
  BOOST_TEST(!is_valid_country_code("1234", &error));
  BOOST_TEST(contains(error, "1 to 3 digits"));
  BOOST_TEST(!is_valid_country_code("+1", &error));
  BOOST_TEST(contains(error, "only digits"));
  BOOST_TEST(!is_valid_country_code("04", &error));
  BOOST_TEST(contains(error, "start with 0"));
  BOOST_TEST(is_valid_country_code("1"));
  BOOST_TEST(is_valid_country_code("44"));
  BOOST_TEST(is_valid_country_code("358"));
}

BOOST_AUTO_TEST_CASE(normal_form_is_a_fixed_point) {
  for (const std::string text : {"+15551234567", "+442079460958", "+390612345678"}) {
    const auto once = PhoneNumber::parse(text, "44");
    BOOST_REQUIRE(once);
    const auto twice = PhoneNumber::parse(once->localpart(), "1");
    BOOST_REQUIRE(twice);
    BOOST_TEST((*twice == *once));
  }
}

BOOST_AUTO_TEST_SUITE_END()
