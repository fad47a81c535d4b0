#include "form_data.hpp"
#include "twilio_signature.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::sms::form_encode;
using trestle::sms::form_value;
using trestle::sms::FormField;
using trestle::sms::FormLimits;
using trestle::sms::parse_form;
using trestle::sms::twilio_signature;
using trestle::sms::twilio_signature_matches;

BOOST_AUTO_TEST_SUITE(sms_form)

BOOST_AUTO_TEST_CASE(fields_are_decoded_in_order) {
  std::string error;
  const auto fields = parse_form(
      "From=%2B15551234567&To=%2B15557654321&Body=Hello+there%21+%C3%A7a&&Empty=&Bare", &error);
  BOOST_REQUIRE_MESSAGE(fields, error);
  const std::vector<FormField> expected = {{"From", "+15551234567"},
                                           {"To", "+15557654321"},
                                           {"Body", "Hello there! ça"},
                                           {"Empty", ""},
                                           {"Bare", ""}};
  BOOST_TEST((*fields == expected));
  BOOST_TEST(form_value(*fields, "Body").value_or("") == "Hello there! ça");
  BOOST_TEST(!form_value(*fields, "body").has_value());
  BOOST_TEST(parse_form("", &error)->empty());
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_a_reason) {
  std::string error;
  BOOST_TEST(!parse_form("a=%4", &error));
  BOOST_TEST(error.find("%-escape") != std::string::npos);
  BOOST_TEST(!parse_form("a=%zz", &error));
  BOOST_TEST(!parse_form("a=%ff%fe", &error));
  BOOST_TEST(error.find("UTF-8") != std::string::npos);
  BOOST_TEST(!parse_form("a=x%00y", &error));
  BOOST_TEST(error.find("NUL") != std::string::npos);
  FormLimits limits;
  limits.max_fields = 2;
  limits.max_value_bytes = 3;
  BOOST_TEST(!parse_form("a=1&b=2&c=3", &error, limits));
  BOOST_TEST(error.find("more than 2 fields") != std::string::npos);
  BOOST_TEST(!parse_form("a=1234", &error, limits));
  BOOST_TEST(error.find("longer than 3 bytes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(encoding_round_trips) {
  const std::string text = "a b&c=d+e/f?ç👍~";
  std::string error;
  const auto fields = parse_form("x=" + form_encode(text), &error);
  BOOST_REQUIRE(fields);
  BOOST_TEST(fields->at(0).value == text);
  BOOST_TEST(form_encode("a b") == "a%20b");
}

// The example in Twilio's documentation of request validation; the
// expected value was computed independently with Python's hmac module.
BOOST_AUTO_TEST_CASE(twilio_signature_of_the_documented_example) {
  const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const std::vector<FormField> params = {{"Digits", "1234"},
                                         {"To", "+18005551212"},
                                         {"From", "+14158675309"},
                                         {"Caller", "+14158675309"},
                                         {"CallSid", "CA1234567890ABCDE"}};
  BOOST_TEST(twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  BOOST_TEST(twilio_signature_matches("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  BOOST_TEST(!twilio_signature_matches("12346", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  BOOST_TEST(!twilio_signature_matches("12345", url + "x", params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  BOOST_TEST(!twilio_signature_matches("12345", url, params, ""));
  BOOST_TEST(!twilio_signature_matches("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8"));
}

BOOST_AUTO_TEST_CASE(twilio_signature_sorts_repeated_names_by_value) {
  const std::vector<FormField> params = {{"Body", "a b"}, {"From", "+1555"}, {"Body", "a a"}};
  BOOST_TEST(twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) ==
             "oCsFEOOwdMJSNQsb8+IWbplxiQ4=");
}

BOOST_AUTO_TEST_SUITE_END()
