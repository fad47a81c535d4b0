#include "fake_adapter_context.hpp"
#include "plain_text_network.hpp"
#include "sms_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>

using trestle::gateway::ComponentConfig;
using trestle::gateway::FieldValues;
using trestle::protocols_test::check_plain_text_network;
using trestle::protocols_test::FakeAdapterContext;
using trestle::sms::SmsAdapter;
using trestle::xmpp::Condition;
using trestle::xmpp::Jid;
using trestle::xmpp::StanzaError;

namespace {

ComponentConfig component() {
  ComponentConfig config;
  config.domain = "sms.example.org";
  config.adapter = "sms";
  return config;
}

trestle::sms::SmsSettings sms_config(std::string default_country = {}) {
  trestle::sms::SmsSettings settings;
  settings.default_country = std::move(default_country);
  return settings;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sms_adapter)

BOOST_AUTO_TEST_CASE(names) {
  FakeAdapterContext context("sms.example.org");
  const SmsAdapter adapter(component(), sms_config(), context);
  BOOST_TEST(adapter.name() == "sms");
  BOOST_TEST(adapter.identity_type() == "sms");
  BOOST_TEST(adapter.gateway_prompt() == "Phone number");
  BOOST_TEST(adapter.gateway_description().find("+15551234567") != std::string::npos);
  BOOST_TEST(adapter.gateway_description().find("country code") == std::string::npos);
  const SmsAdapter national(component(), sms_config("44"), context);
  BOOST_TEST(national.gateway_description().find("+44") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_sms_carries) {
  FakeAdapterContext context("sms.example.org");
  const SmsAdapter adapter(component(), sms_config(), context);
  // A correction is sent as one more text, marked; not refused.
  check_plain_text_network(adapter.abilities(), "SMS", "* ", false);
}

BOOST_AUTO_TEST_CASE(jid_for_address) {
  FakeAdapterContext context("sms.example.org");
  const SmsAdapter adapter(component(), sms_config("44"), context);
  StanzaError error;
  const auto international = adapter.jid_for_address("+1 (555) 123-4567", error);
  BOOST_REQUIRE(international);
  BOOST_TEST(international->bare_string() == "+15551234567@sms.example.org");
  const auto national = adapter.jid_for_address("020 7946 0958", error);
  BOOST_REQUIRE(national);
  BOOST_TEST(national->bare_string() == "+442079460958@sms.example.org");
}

BOOST_AUTO_TEST_CASE(jid_for_a_bad_number_is_jid_malformed) {
  FakeAdapterContext context("sms.example.org");
  const SmsAdapter adapter(component(), sms_config(), context);
  StanzaError error;
  BOOST_TEST(!adapter.jid_for_address("020 7946 0958", error));
  BOOST_TEST((error.condition == Condition::jid_malformed));
  BOOST_TEST(error.text.find("no default country") != std::string::npos);
  BOOST_TEST(!adapter.jid_for_address("call me", error));
  BOOST_TEST((error.condition == Condition::jid_malformed));
}

BOOST_AUTO_TEST_CASE(invalid_default_country_is_a_startup_error) {
  FakeAdapterContext context("sms.example.org");
  BOOST_CHECK_THROW(SmsAdapter(component(), sms_config("+44"), context), std::invalid_argument);
  BOOST_CHECK_THROW(SmsAdapter(component(), sms_config("0"), context), std::invalid_argument);
  BOOST_CHECK_NO_THROW(SmsAdapter(component(), sms_config("358"), context));
}

BOOST_AUTO_TEST_CASE(registration_has_no_fields) {
  FakeAdapterContext context("sms.example.org");
  SmsAdapter adapter(component(), sms_config(), context);
  BOOST_TEST(context.run(adapter.registration_fields()).empty());
  BOOST_TEST(adapter.registration_instructions().find("assigned by the operator") !=
             std::string::npos);
  FieldValues values;
  BOOST_TEST(
      !context.run(adapter.validate_registration(Jid::parse("a@example.org").value(), values)));
}

BOOST_AUTO_TEST_SUITE_END()
