#include "form_data.hpp"
#include "kannel_dialect.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using trestle::sms::DeliveryState;
using trestle::sms::kannel_delivery_state;
using trestle::sms::kannel_send_answer;
using trestle::sms::kannel_sendsms_url;
using trestle::sms::KannelEndpoint;
using trestle::sms::parse_form;
using trestle::sms::SmsEncoding;

namespace {

KannelEndpoint endpoint() {
  return {"http://127.0.0.1:13013/cgi-bin/sendsms", "trestle", "p&ss word",
          "https://gw.example.org/sms/kannel/dlr"};
}

} // namespace

BOOST_AUTO_TEST_SUITE(kannel_dialect)

BOOST_AUTO_TEST_CASE(sendsms_url_carries_every_field_encoded) {
  const auto url = kannel_sendsms_url(endpoint(), "+15551234567", "+15557654321", "Hi & bye ç",
                                      SmsEncoding::ucs2, "m 1");
  const std::string prefix = "http://127.0.0.1:13013/cgi-bin/sendsms?";
  BOOST_REQUIRE(url.starts_with(prefix));
  std::string error;
  const auto fields = parse_form(url.substr(prefix.size()), &error);
  BOOST_REQUIRE_MESSAGE(fields, error);
  const auto value = [&](const char* name) {
    return std::string(trestle::sms::form_value(*fields, name).value_or("(missing)"));
  };
  BOOST_TEST(value("username") == "trestle");
  BOOST_TEST(value("password") == "p&ss word");
  BOOST_TEST(value("from") == "+15551234567");
  BOOST_TEST(value("to") == "+15557654321");
  BOOST_TEST(value("text") == "Hi & bye ç");
  BOOST_TEST(value("charset") == "UTF-8");
  BOOST_TEST(value("coding") == "2");
  BOOST_TEST(value("dlr-mask") == "31");
  // Kannel decodes the dlr-url once and then fills in %d and %A.
  BOOST_TEST(value("dlr-url") ==
             "https://gw.example.org/sms/kannel/dlr?id=m%201&type=%d&answer=%A");
}

BOOST_AUTO_TEST_CASE(gsm_text_is_coding_0_and_a_query_in_the_urls_is_kept) {
  auto target = endpoint();
  target.sendsms_url += "?smsc=fake";
  target.dlr_url += "?provider=kannel";
  const auto url = kannel_sendsms_url(target, "+1555", "+1666", "plain", SmsEncoding::gsm7, "m2");
  BOOST_TEST(url.find("sendsms?smsc=fake&username=") != std::string::npos);
  BOOST_TEST(url.find("&coding=0&") != std::string::npos);
  BOOST_TEST(url.find("provider%3Dkannel%26id%3Dm2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sendsms_answers_are_classified) {
  using Kind = trestle::sms::ProviderAnswer::Kind;
  BOOST_TEST((kannel_send_answer(202, "0: Accepted for delivery").kind == Kind::accepted));
  BOOST_TEST((kannel_send_answer(503, "").kind == Kind::temporary));
  BOOST_TEST((kannel_send_answer(500, "").kind == Kind::temporary));
  BOOST_TEST((kannel_send_answer(0, "").kind == Kind::temporary));
  BOOST_TEST((kannel_send_answer(403, "").kind == Kind::permanent));
  BOOST_TEST((kannel_send_answer(400, "").kind == Kind::permanent));
}

BOOST_AUTO_TEST_CASE(sendsms_answer_texts_are_kept) {
  const auto refused = kannel_send_answer(403, "Authorization failed for sendsms\n");
  BOOST_TEST(refused.code == "403");
  BOOST_TEST(refused.text == "Authorization failed for sendsms");
  const auto silent = kannel_send_answer(0, "", "cannot connect to 127.0.0.1:13013");
  BOOST_TEST(silent.code.empty());
  BOOST_TEST(silent.text == "cannot connect to 127.0.0.1:13013");
}

BOOST_AUTO_TEST_CASE(report_types_map_to_states) {
  BOOST_TEST((kannel_delivery_state("1") == DeliveryState::delivered));
  BOOST_TEST((kannel_delivery_state("2") == DeliveryState::failed));
  BOOST_TEST((kannel_delivery_state("16") == DeliveryState::failed));
  BOOST_TEST((kannel_delivery_state("4") == DeliveryState::pending));
  BOOST_TEST((kannel_delivery_state("8") == DeliveryState::pending));
  BOOST_TEST(!kannel_delivery_state("3").has_value());
  BOOST_TEST(!kannel_delivery_state("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
