#include "fake_adapter_context.hpp"
#include "flaky_store.hpp"
#include "namespaces.hpp"
#include "run_until.hpp"
#include "sms_adapter.hpp"
#include "stanza.hpp"
#include "stanza_error.hpp"
#include "store.hpp"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <system_error>

using trestle::gateway::ComponentConfig;
using trestle::gateway::FieldValues;
using trestle::gateway::HeldMessage;
using trestle::gateway::HttpRequest;
using trestle::gateway::open_sqlite_store;
using trestle::gateway::Store;
using trestle::gateway_test::FailingStore;
using trestle::protocols_test::FakeAdapterContext;
using trestle::sms::SmsAdapter;
using trestle::sms::SmsSettings;
using trestle::test::run_until;
using trestle::xmpp::Condition;
using trestle::xmpp::Element;
using trestle::xmpp::Jid;

namespace {

const std::string token = "kannel-token-0123456789";
const std::string mo_path = "/sms/sms.example.org/kannel/mo";
const std::string dlr_path = "/sms/sms.example.org/kannel/dlr";

Jid jid(std::string_view text) {
  return Jid::parse(text).value();
}

/// A component and its SMS settings, as the configuration reader gives them.
struct SmsComponent {
  ComponentConfig component;
  SmsSettings sms;
};

SmsComponent kannel_config() {
  SmsComponent config;
  config.component.domain = "sms.example.org";
  config.component.adapter = "sms";
  config.sms.default_country = "1";
  config.sms.provider = "kannel";
  config.sms.public_base_url = "https://gw.example.org";
  // Nothing listens there: sends fail as temporary and stay queued.
  config.sms.kannel.sendsms_url = "http://127.0.0.1:9/cgi-bin/sendsms";
  config.sms.kannel.username = "u";
  config.sms.kannel.password = "p";
  config.sms.kannel.webhook_token = token;
  config.sms.numbers = {{"alice@example.org", "+15550001111"}};
  config.sms.pool = {"+15550002222", "+15550003333"};
  config.sms.max_segments = 2;
  config.sms.max_per_hour = 3;
  return config;
}

/// An SMS adapter on Kannel over an in-memory store, its numbers loaded.
struct Fixture {
  explicit Fixture(SmsComponent component = kannel_config(), Store* given = nullptr)
      : config(std::move(component)), store(given ? nullptr : open_sqlite_store(":memory:")),
        context("sms.example.org", given ? given : store.get()),
        adapter(config.component, config.sms, context) {
    context.admin_jids.push_back(jid("admin@example.org"));
    if (given == nullptr) {
      context.start_run(adapter.run());
    }
  }
  ~Fixture() { context.stop_run(); }

  trestle::gateway::HttpResponse mo(const std::string& query) {
    HttpRequest request;
    request.method = "GET";
    request.query = query;
    return context.call_route(mo_path, request);
  }
  trestle::gateway::HttpResponse dlr(const std::string& query) {
    HttpRequest request;
    request.method = "GET";
    request.query = "token=" + token + "&" + query;
    return context.call_route(dlr_path, request);
  }
  void chat(const std::string& from, const std::string& to, const std::string& body,
            const std::string& id = "m1", bool receipt = false) {
    auto stanza = trestle::xmpp::make_message(jid(from), jid(to), "chat", body);
    stanza.set_attr("id", id);
    if (receipt) {
      stanza.append("request", std::string(trestle::xmpp::ns::receipts));
    }
    context.deliver(adapter, stanza);
  }
  /// The error condition of the last stanza sent (it must be an error).
  Condition last_error(std::string* text = nullptr) {
    BOOST_REQUIRE(!context.sent.empty());
    const auto error = trestle::xmpp::stanza_error_from(context.sent.back());
    BOOST_REQUIRE(error);
    if (text != nullptr) {
      *text = error->text;
    }
    return error->condition;
  }
  std::string token_of(const std::string& xmpp_id) {
    std::error_code ec;
    const auto sent =
        context.store().find_correlation_by_xmpp("sms.example.org", "sms-mt", xmpp_id, ec);
    BOOST_REQUIRE(sent);
    return sent->legacy_id;
  }

  SmsComponent config;
  std::unique_ptr<Store> store;
  FakeAdapterContext context;
  SmsAdapter adapter;
};

const std::string good_mo =
    "token=" + token +
    "&from=%2B15557654321&to=%2B15550001111&text=hi+%C3%A9&charset=UTF-8&coding=0&id=uuid-1";

} // namespace

BOOST_AUTO_TEST_SUITE(sms_flow)

BOOST_AUTO_TEST_CASE(webhooks_are_routed_under_the_component_path) {
  Fixture f;
  BOOST_TEST(f.context.routes.count(mo_path) == 1u);
  BOOST_TEST(f.context.routes.count(dlr_path) == 1u);
  BOOST_TEST(f.adapter.webhook_url() == "https://gw.example.org/sms/sms.example.org");
}

BOOST_AUTO_TEST_CASE(mo_becomes_a_chat_message_to_the_owner) {
  Fixture f;
  const auto answer = f.mo(good_mo);
  BOOST_TEST(answer.status == 200u);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  const auto& message = f.context.sent[0];
  BOOST_TEST(message.attr_or("from") == "+15557654321@sms.example.org");
  BOOST_TEST(message.attr_or("to") == "alice@example.org");
  BOOST_TEST(message.attr_or("type") == "chat");
  BOOST_TEST(message.find("body")->text() == "hi é");
}

BOOST_AUTO_TEST_CASE(a_repeated_mo_is_delivered_once) {
  Fixture f;
  BOOST_TEST(f.mo(good_mo).status == 200u);
  BOOST_TEST(f.mo(good_mo).status == 200u);
  BOOST_TEST(f.context.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_text_costs_one_store_read_and_one_write_and_its_repeat_no_more) {
  trestle::gateway_test::FlakyStore store;
  Fixture f(kannel_config(), &store);
  f.context.start_run(f.adapter.run());
  f.context.run_ready();
  store.reads = 0;
  store.writes = 0;
  BOOST_TEST(f.mo(good_mo).status == 200u);
  // The number's owner; the text kept with its provider id.
  BOOST_TEST(store.reads == 1u);
  BOOST_TEST(store.writes == 1u);
  BOOST_TEST(f.mo(good_mo).status == 200u);
  BOOST_TEST(store.reads == 2u);
  BOOST_TEST(store.writes == 2u);
  BOOST_TEST(f.context.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(missing_or_wrong_token_is_403) {
  Fixture f;
  BOOST_TEST(f.mo("from=%2B15557654321&to=%2B15550001111&text=x").status == 403u);
  BOOST_TEST(f.mo("token=nope&from=%2B15557654321&to=%2B15550001111&text=x").status == 403u);
  BOOST_TEST(f.context.sent.empty());
}

BOOST_AUTO_TEST_CASE(bad_requests_are_refused_with_reasons) {
  Fixture f;
  const auto no_sender = f.mo("token=" + token + "&to=%2B15550001111&text=x");
  BOOST_TEST(no_sender.status == 400u);
  BOOST_TEST(no_sender.body.find("sender") != std::string::npos);
  const auto bad_utf8 = f.mo("token=" + token + "&from=1&to=2&text=%FF");
  BOOST_TEST(bad_utf8.status == 400u);
  const auto ucs2 = f.mo("token=" + token + "&from=1&to=2&text=x&charset=UTF-16BE");
  BOOST_TEST(ucs2.status == 400u);
  BOOST_TEST(ucs2.body.find("mo-recode") != std::string::npos);
  const auto data = f.mo("token=" + token + "&from=1&to=2&text=x&charset=8-BIT");
  BOOST_TEST(data.status == 400u);
  HttpRequest put;
  put.method = "PUT";
  put.query = "token=" + token;
  BOOST_TEST(f.context.call_route(mo_path, put).status == 405u);
  BOOST_TEST(f.context.sent.empty());
}

BOOST_AUTO_TEST_CASE(a_text_is_answered_200_once_kept_whatever_the_stream_does) {
  Fixture f;
  f.context.accept_sends = false;
  BOOST_TEST(f.mo(good_mo).status == 200u);
  BOOST_TEST(f.context.sent.empty());
  BOOST_REQUIRE_EQUAL(f.context.unsent.size(), 1u);
  BOOST_TEST(f.context.unsent[0].find("body")->text() == "hi é");
  std::error_code ec;
  BOOST_TEST(f.context.store().count_undelivered("sms.example.org", ec) == 1u);
  // Remembered as delivered: the provider's repeat is not kept twice.
  f.context.accept_sends = true;
  BOOST_TEST(f.mo(good_mo).status == 200u);
  BOOST_TEST(f.context.sent.empty());
  BOOST_TEST(f.context.store().count_undelivered("sms.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(texts_and_reports_are_kept_while_xmpp_is_down) {
  Fixture f;
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "hello", "m1", true);
  const auto sent = f.token_of("m1");
  f.context.ready = false;
  BOOST_TEST(f.mo(good_mo).status == 200u);
  // A delivery report is taken too, rather than left waiting at the provider.
  BOOST_TEST(f.dlr("id=" + sent + "&type=1").status == 200u);
  BOOST_TEST(f.context.sent.empty());
  BOOST_REQUIRE_EQUAL(f.context.unsent.size(), 2u);
  BOOST_TEST(f.context.unsent[1].find("received", trestle::xmpp::ns::receipts) != nullptr);
  std::error_code ec;
  BOOST_TEST(f.context.store().count_undelivered("sms.example.org", ec) == 2u);
  // The report was used up: a repeat tells the user nothing more.
  BOOST_TEST(f.dlr("id=" + sent + "&type=1").status == 200u);
  BOOST_TEST(f.context.unsent.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_text_that_cannot_be_kept_is_503_and_not_remembered) {
  trestle::gateway_test::FlakyStore store;
  Fixture f(kannel_config(), &store);
  f.context.start_run(f.adapter.run());
  f.context.run_ready(); // the operator's numbers are written
  store.fail_writes = true;
  BOOST_TEST(f.mo(good_mo).status == 503u);
  BOOST_TEST(f.context.sent.empty());
  BOOST_TEST(f.context.log_text().find("answered 503") != std::string::npos);
  store.fail_writes = false;
  // Not remembered as delivered: the provider's retry gets through.
  BOOST_TEST(f.mo(good_mo).status == 200u);
  BOOST_TEST(f.context.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(numbers_that_cannot_be_written_at_start_end_the_loop_with_the_reason) {
  trestle::gateway_test::FlakyStore store;
  store.fail_writes = true;
  Fixture f(kannel_config(), &store);
  f.context.start_run(f.adapter.run());
  try {
    f.context.run_ready();
    BOOST_FAIL("the start did not fail");
  } catch (const std::runtime_error& error) {
    BOOST_TEST(std::string(error.what()).find("cannot store the number of alice@example.org") !=
               std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(texts_an_earlier_version_stored_for_users_are_handed_over) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  HeldMessage held;
  held.component = "sms.example.org";
  held.peer = "+15557654321";
  held.recipient = "+15550001111";
  held.body = "kept";
  held.received_at = 1780000000;
  held.user = "alice@example.org";
  BOOST_REQUIRE(store->add_held(held, ec) != 0);
  Fixture f(kannel_config(), store.get());
  f.context.start_run(f.adapter.run());
  BOOST_TEST(run_until(f.context.io(), [&] { return !f.context.sent.empty(); }));
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  const auto& message = f.context.sent[0];
  BOOST_TEST(message.attr_or("from") == "+15557654321@sms.example.org");
  BOOST_TEST(message.attr_or("to") == "alice@example.org");
  BOOST_TEST(message.find("body")->text() == "kept");
  const auto* delay = message.find("delay", trestle::xmpp::ns::delay);
  BOOST_REQUIRE(delay != nullptr);
  BOOST_TEST(delay->attr_or("stamp") == "2026-05-28T20:26:40Z");
  BOOST_TEST(store->held_messages("sms.example.org", true, 10, ec).empty());
  BOOST_TEST(store->count_undelivered("sms.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(mo_to_a_number_nobody_owns_is_held_and_reported) {
  Fixture f;
  const auto answer = f.mo("token=" + token + "&from=%2B15557654321&to=%2B15559990000&text=who");
  BOOST_TEST(answer.status == 200u);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  BOOST_TEST(f.context.sent[0].attr_or("to") == "admin@example.org");
  BOOST_TEST(f.context.sent[0].attr_or("from") == "sms.example.org");
  BOOST_TEST(f.context.sent[0].find("body")->text().find("who") != std::string::npos);
  std::error_code ec;
  BOOST_TEST(f.context.store().count_held("sms.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(a_repeated_mo_to_a_number_nobody_owns_is_held_once) {
  Fixture f;
  const std::string held =
      "token=" + token + "&from=%2B15557654321&to=%2B15559990000&text=who&id=uuid-held";
  BOOST_TEST(f.mo(held).status == 200u);
  BOOST_TEST(f.mo(held).status == 200u);
  BOOST_TEST(f.context.sent.size() == 1u); // one notice to the one admin
  std::error_code ec;
  BOOST_TEST(f.context.store().count_held("sms.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(mo_to_a_user_no_longer_allowed_is_held) {
  Fixture f;
  f.context.refused_users.push_back("alice@example.org");
  BOOST_TEST(f.mo(good_mo).status == 200u);
  std::error_code ec;
  BOOST_TEST(f.context.store().count_held("sms.example.org", ec) == 1u);
  for (const auto& stanza : f.context.sent) {
    BOOST_TEST(stanza.attr_or("to") != "alice@example.org");
  }
}

BOOST_AUTO_TEST_CASE(store_failure_is_503) {
  FailingStore broken;
  Fixture f(kannel_config(), &broken);
  BOOST_TEST(f.mo(good_mo).status == 503u);
  BOOST_TEST(f.context.sent.empty());
}

BOOST_AUTO_TEST_CASE(delivered_report_becomes_a_receipt_when_asked) {
  Fixture f;
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "hello", "m1", true);
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "no receipt", "m2", false);
  BOOST_TEST(f.context.sent.empty());
  const auto first = f.token_of("m1");
  const auto second = f.token_of("m2");
  BOOST_TEST(f.dlr("id=" + first + "&type=8&answer=ACK%2F").status == 200u);
  BOOST_TEST(f.context.sent.empty()); // submitted is not delivered
  BOOST_TEST(f.dlr("id=" + first + "&type=1&answer=").status == 200u);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  const auto& receipt = f.context.sent[0];
  BOOST_TEST(receipt.attr_or("to") == "alice@example.org/phone");
  BOOST_TEST(receipt.attr_or("from") == "+15557654321@sms.example.org");
  BOOST_TEST(receipt.find("received", trestle::xmpp::ns::receipts)->attr_or("id") == "m1");
  // A repeated report finds nothing waiting; no receipt was asked for m2.
  BOOST_TEST(f.dlr("id=" + first + "&type=1").status == 200u);
  BOOST_TEST(f.dlr("id=" + second + "&type=1").status == 200u);
  BOOST_TEST(f.context.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(failed_report_becomes_an_error_with_the_smsc_words) {
  Fixture f;
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "hello", "m3");
  BOOST_TEST(f.dlr("id=" + f.token_of("m3") + "&type=16&answer=NACK%2Fno+SMSC").status == 200u);
  std::string text;
  BOOST_TEST((f.last_error(&text) == Condition::recipient_unavailable));
  BOOST_TEST(text.find("NACK/no SMSC") != std::string::npos);
  BOOST_TEST(f.context.sent.back().attr_or("id") == "m3");
}

BOOST_AUTO_TEST_CASE(answers_come_from_the_national_jid_the_user_wrote) {
  Fixture f;
  f.chat("alice@example.org/phone", "5557654321@sms.example.org", "hello", "n1", true);
  BOOST_TEST(f.context.sent.empty());
  BOOST_TEST(f.dlr("id=" + f.token_of("n1") + "&type=1").status == 200u);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  BOOST_TEST(f.context.sent[0].attr_or("from") == "5557654321@sms.example.org");
  BOOST_TEST(f.context.sent[0].find("received", trestle::xmpp::ns::receipts) != nullptr);

  auto subscribe = trestle::xmpp::make_presence(jid("alice@example.org"),
                                                jid("5557654321@sms.example.org"), "subscribe");
  f.context.deliver(f.adapter, subscribe);
  BOOST_REQUIRE(f.context.sent.size() >= 2u);
  for (std::size_t i = 1; i < f.context.sent.size(); ++i) {
    BOOST_TEST(f.context.sent[i].attr_or("from").starts_with("5557654321@sms.example.org"));
  }
  BOOST_TEST(f.context.sent[1].attr_or("type") == "subscribed");
}

BOOST_AUTO_TEST_CASE(dlr_with_a_wrong_token_is_403) {
  Fixture f;
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "hello", "t1", true);
  HttpRequest request;
  request.method = "GET";
  request.query = "token=nope&id=" + f.token_of("t1") + "&type=1";
  BOOST_TEST(f.context.call_route(dlr_path, request).status == 403u);
  request.query = "id=" + f.token_of("t1") + "&type=1";
  BOOST_TEST(f.context.call_route(dlr_path, request).status == 403u);
  BOOST_TEST(f.context.sent.empty());
}

BOOST_AUTO_TEST_CASE(failed_report_for_a_message_without_id_is_told_in_the_chat) {
  Fixture f;
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "hello", "");
  std::error_code ec;
  const auto pending =
      f.context.store().find_correlation_by_xmpp("sms.example.org", "sms-mt", "", ec);
  BOOST_REQUIRE(pending);
  BOOST_TEST(f.dlr("id=" + pending->legacy_id + "&type=2&answer=NACK%2Fgone").status == 200u);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  BOOST_TEST(f.context.sent[0].attr_or("type") == "chat");
  const auto text = f.context.sent[0].find("body")->text();
  BOOST_TEST(text.starts_with("[gateway] a text you sent was not delivered"), text);
  BOOST_TEST(text.find("NACK/gone") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(report_with_unknown_type_is_400) {
  Fixture f;
  BOOST_TEST(f.dlr("id=abc&type=3").status == 400u);
  BOOST_TEST(f.dlr("type=1").status == 400u);
}

BOOST_AUTO_TEST_CASE(too_many_segments_is_not_acceptable) {
  Fixture f;
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", std::string(307, 'x'));
  std::string text;
  BOOST_TEST((f.last_error(&text) == Condition::not_acceptable));
  BOOST_TEST(text.find("3 SMS segments") != std::string::npos);
  std::error_code ec;
  BOOST_TEST(f.context.store().count_outbox("sms.example.org", "", ec) == 0u);
}

BOOST_AUTO_TEST_CASE(hourly_cap_is_policy_violation) {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "x", "c" + std::to_string(i));
  }
  BOOST_TEST(f.context.sent.empty());
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "x", "c3");
  std::string text;
  BOOST_TEST((f.last_error(&text) == Condition::policy_violation));
  BOOST_TEST(text.find("the limit is 3") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(daily_cap_is_policy_violation) {
  auto config = kannel_config();
  config.sms.max_per_hour = 0; // no hourly cap
  config.sms.max_per_day = 2;
  Fixture f(config);
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "x", "d0");
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "x", "d1");
  BOOST_TEST(f.context.sent.empty());
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "x", "d2");
  std::string text;
  BOOST_TEST((f.last_error(&text) == Condition::policy_violation));
  BOOST_TEST(text.find("in the last day; the limit is 2") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(user_without_number_must_register) {
  Fixture f;
  f.chat("bob@example.org/phone", "+15557654321@sms.example.org", "x");
  BOOST_TEST((f.last_error() == Condition::registration_required));
  auto config = kannel_config();
  config.sms.pool.clear();
  Fixture no_pool(config);
  no_pool.chat("bob@example.org/phone", "+15557654321@sms.example.org", "x");
  BOOST_TEST((no_pool.last_error() == Condition::not_authorized));
}

BOOST_AUTO_TEST_CASE(bad_numbers_and_rooms_are_refused) {
  Fixture f;
  f.chat("alice@example.org/phone", "pizza@sms.example.org", "x");
  BOOST_TEST((f.last_error() == Condition::jid_malformed));
  auto group = trestle::xmpp::make_message(jid("alice@example.org/phone"),
                                           jid("+15557654321@sms.example.org"), "groupchat", "x");
  f.context.deliver(f.adapter, group);
  BOOST_TEST((f.last_error() == Condition::not_acceptable));
}

BOOST_AUTO_TEST_CASE(pool_number_is_chosen_at_registration) {
  Fixture f;
  const auto fields = f.context.run(f.adapter.registration_fields());
  BOOST_REQUIRE(fields.size() == 1u);
  BOOST_TEST(fields[0].options == (std::vector<std::string>{"+15550002222", "+15550003333"}),
             boost::test_tools::per_element());
  FieldValues bob{{"number", "555 000 2222"}};
  BOOST_TEST(
      !f.context.run(f.adapter.validate_registration(jid("bob@example.org"), bob)).has_value());
  BOOST_TEST(bob["number"] == "+15550002222");
  BOOST_TEST(f.context.run(f.adapter.registration_fields())[0].options ==
                 std::vector<std::string>{"+15550003333"},
             boost::test_tools::per_element());
  FieldValues carol{{"number", "+15550002222"}};
  const auto taken =
      f.context.run(f.adapter.validate_registration(jid("carol@example.org"), carol));
  BOOST_REQUIRE(taken);
  BOOST_TEST((taken->condition == Condition::conflict));
  FieldValues outside{{"number", "+15550009999"}};
  const auto foreign =
      f.context.run(f.adapter.validate_registration(jid("carol@example.org"), outside));
  BOOST_REQUIRE(foreign);
  BOOST_TEST((foreign->condition == Condition::not_acceptable));
  FieldValues alice{{"number", "+15550003333"}};
  const auto fixed =
      f.context.run(f.adapter.validate_registration(jid("alice@example.org"), alice));
  BOOST_REQUIRE(fixed);
  BOOST_TEST((fixed->condition == Condition::not_allowed));
  // A user with an assigned number registers with the field empty, or with
  // that number; others must choose one.
  FieldValues assigned{{"number", ""}};
  BOOST_TEST(!f.context.run(f.adapter.validate_registration(jid("alice@example.org"), assigned))
                  .has_value());
  BOOST_TEST(assigned["number"] == "+15550001111");
  FieldValues own{{"number", "5550001111"}};
  BOOST_TEST(
      !f.context.run(f.adapter.validate_registration(jid("alice@example.org"), own)).has_value());
  FieldValues none;
  const auto unchosen =
      f.context.run(f.adapter.validate_registration(jid("dave@example.org"), none));
  BOOST_REQUIRE(unchosen);
  BOOST_TEST((unchosen->condition == Condition::not_acceptable));
  // Unregistering gives the number back.
  f.context.run(f.adapter.on_unregistered(jid("bob@example.org")));
  BOOST_TEST(f.context.run(f.adapter.registration_fields())[0].options.size() == 2u);
}

BOOST_AUTO_TEST_CASE(usage_command_is_for_admins_and_lists_usage_and_held) {
  Fixture f;
  const auto commands = f.adapter.domain_commands();
  BOOST_REQUIRE(commands.size() == 1u);
  BOOST_TEST(commands[0].admin_only);
  f.chat("alice@example.org/phone", "+15557654321@sms.example.org", "x");
  f.mo("token=" + token + "&from=%2B15557654321&to=%2B15559990000&text=held+text");
  const trestle::gateway::CommandRequest step{jid("admin@example.org/pc"), commands[0].node};
  const auto answer = f.context.run(f.adapter.run_command(step));
  BOOST_TEST(!answer.error.has_value());
  BOOST_TEST((answer.status == trestle::gateway::CommandAnswer::Status::completed));
  BOOST_TEST(answer.note.find("1 held messages") != std::string::npos, answer.note);
  BOOST_REQUIRE(answer.form.has_value());
  const std::string text = trestle::xmpp::serialize(answer.form->to_element());
  BOOST_TEST(text.find("alice@example.org") != std::string::npos);
  BOOST_TEST(text.find("1 in the last hour") != std::string::npos);
  BOOST_TEST(text.find("held text") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(operator_numbers_must_be_e164) {
  FakeAdapterContext context("sms.example.org");
  auto config = kannel_config();
  config.sms.numbers = {{"alice@example.org", "+05550001111"}};
  BOOST_CHECK_THROW(SmsAdapter(config.component, config.sms, context), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
