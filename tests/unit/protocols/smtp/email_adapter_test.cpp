#include "email_adapter.hpp"
#include "fake_adapter_context.hpp"
#include "flaky_store.hpp"
#include "plain_text_network.hpp"
#include "store.hpp"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <system_error>

using trestle::gateway::FieldValues;
using trestle::gateway::open_sqlite_store;
using trestle::gateway::Registration;
using trestle::gateway::Store;
using trestle::gateway_test::FailingStore;
using trestle::protocols_test::check_plain_text_network;
using trestle::protocols_test::FakeAdapterContext;
using trestle::smtp::EmailAdapter;
using trestle::xmpp::Condition;
using trestle::xmpp::Jid;
using trestle::xmpp::StanzaError;

namespace {

trestle::smtp::EmailSettings email_config() {
  return {};
}

Jid user(std::string_view text) {
  return Jid::parse(text).value();
}

/// An in-memory store where `holder` holds the address `username`.
std::unique_ptr<Store> store_with(std::string_view holder, std::string_view username) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  store->put_address(
      {"mail.example.org", std::string(username), std::string(username), std::string(holder)}, ec);
  BOOST_REQUIRE(!ec);
  Registration registration;
  registration.user = std::string(holder);
  registration.component = "mail.example.org";
  registration.fields["username"] = std::string(username);
  store->put_registration(registration, ec);
  BOOST_REQUIRE(!ec);
  return store;
}

} // namespace

BOOST_AUTO_TEST_SUITE(email_adapter)

BOOST_AUTO_TEST_CASE(names) {
  FakeAdapterContext context("mail.example.org");
  EmailAdapter adapter(email_config(), context);
  BOOST_TEST(adapter.name() == "smtp");
  BOOST_TEST(adapter.identity_type() == "smtp");
  BOOST_TEST(adapter.gateway_prompt() == "Email address");
  BOOST_TEST(adapter.gateway_description().find("bob@example.com") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_email_carries) {
  FakeAdapterContext context("mail.example.org");
  EmailAdapter adapter(email_config(), context);
  // A correction is a new mail in the thread that says what it is.
  check_plain_text_network(adapter.abilities(), "email", "Correction of my last message:\n\n",
                           false);
}

BOOST_AUTO_TEST_CASE(jid_for_address) {
  FakeAdapterContext context("mail.example.org");
  EmailAdapter adapter(email_config(), context);
  StanzaError error;
  const auto jid = adapter.jid_for_address("bob@example.com", error);
  BOOST_REQUIRE(jid);
  BOOST_TEST(jid->bare_string() == "bob\\40example.com@mail.example.org");
  const auto percent = adapter.jid_for_address("bob%example.com", error);
  BOOST_REQUIRE(percent);
  BOOST_TEST((*percent == *jid));
  // One JID per mailbox: nodeprep folds the local part's case.
  const auto upper = adapter.jid_for_address("Bob@Example.COM", error);
  BOOST_REQUIRE(upper);
  BOOST_TEST(upper->bare_equals(*jid));
}

BOOST_AUTO_TEST_CASE(jid_for_a_bad_address_is_jid_malformed) {
  FakeAdapterContext context("mail.example.org");
  EmailAdapter adapter(email_config(), context);
  StanzaError error;
  BOOST_TEST(!adapter.jid_for_address("bob", error));
  BOOST_TEST((error.condition == Condition::jid_malformed));
  BOOST_TEST(error.text.find("no '@'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(registration_form) {
  FakeAdapterContext context("mail.example.org");
  EmailAdapter adapter(email_config(), context);
  const auto fields = context.run(adapter.registration_fields());
  BOOST_REQUIRE(fields.size() == 2u);
  BOOST_TEST(fields[1].var == "name");
  BOOST_TEST(fields[0].var == "username");
  BOOST_TEST(!fields[0].required);
  BOOST_TEST(!fields[0].secret);
  BOOST_TEST(fields[0].description.find("mail.example.org") != std::string::npos);
  BOOST_TEST(adapter.registration_instructions().find("alice@mail.example.org") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(username_is_optional) {
  auto store = open_sqlite_store(":memory:");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  FieldValues none;
  BOOST_TEST(
      !context.run(adapter.validate_registration(user("alice@example.org"), none)).has_value());
  FieldValues blank{{"username", "  "}};
  BOOST_TEST(
      !context.run(adapter.validate_registration(user("alice@example.org"), blank)).has_value());
  BOOST_TEST(blank["username"].empty());
}

BOOST_AUTO_TEST_CASE(free_username_is_lowercased) {
  auto store = store_with("carol@example.org", "carol");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  FieldValues values{{"username", " Alice.Liddell "}};
  BOOST_TEST(
      !context.run(adapter.validate_registration(user("alice@example.org"), values)).has_value());
  BOOST_TEST(values["username"] == "alice.liddell");
}

BOOST_AUTO_TEST_CASE(invalid_username_is_not_acceptable) {
  auto store = open_sqlite_store(":memory:");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  FieldValues values{{"username", "a b"}};
  const auto error = context.run(adapter.validate_registration(user("alice@example.org"), values));
  BOOST_REQUIRE(error);
  BOOST_TEST((error->condition == Condition::not_acceptable));
  BOOST_TEST(error->text.find("space") != std::string::npos);
  FieldValues dots{{"username", "a..b"}};
  BOOST_TEST(
      context.run(adapter.validate_registration(user("alice@example.org"), dots)).has_value());
}

BOOST_AUTO_TEST_CASE(username_held_by_another_user_is_a_conflict) {
  auto store = store_with("carol@example.org", "alice");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  FieldValues values{{"username", "ALICE"}};
  const auto error = context.run(adapter.validate_registration(user("alice@example.org"), values));
  BOOST_REQUIRE(error);
  BOOST_TEST((error->condition == Condition::conflict));
  BOOST_TEST(error->text.find("alice@mail.example.org") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(own_username_can_be_submitted_again) {
  auto store = store_with("alice@example.org", "alice");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  FieldValues values{{"username", "alice"}};
  BOOST_TEST(!context.run(adapter.validate_registration(user("alice@example.org/phone"), values))
                  .has_value());
}

BOOST_AUTO_TEST_CASE(store_failure_is_internal_server_error) {
  FailingStore store;
  FakeAdapterContext context("mail.example.org", &store);
  EmailAdapter adapter(email_config(), context);
  FieldValues values{{"username", "alice"}};
  const auto error = context.run(adapter.validate_registration(user("alice@example.org"), values));
  BOOST_REQUIRE(error);
  BOOST_TEST((error->condition == Condition::internal_server_error));
  BOOST_TEST(context.log_text().find("registration check failed") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
