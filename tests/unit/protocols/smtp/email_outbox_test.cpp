#include "email_adapter.hpp"
#include "email_outbox.hpp"
#include "fake_adapter_context.hpp"
#include "flaky_store.hpp"
#include "loopback.hpp"
#include "run_until.hpp"
#include "smtp_relay.hpp"
#include "stanza.hpp"
#include "store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using trestle::gateway::open_sqlite_store;
using trestle::gateway::OutboxItem;
using trestle::gateway::Store;
using trestle::gateway_test::FailingStore;
using trestle::protocols_test::FakeAdapterContext;
using trestle::smtp::EmailAdapter;
using trestle::smtp::EmailOutbox;
using trestle::smtp::EmailSettings;
using trestle::smtp::MailNotes;
using trestle::smtp::OutboxResult;
using trestle::smtp::SmtpRelay;
using trestle::smtp::SmtpRelayOptions;
using trestle::xmpp::Condition;
using trestle::xmpp::Element;
using trestle::xmpp::Jid;

namespace {

/// A relay that cannot be reached (a closed loopback port): every attempt
/// is a temporary failure.
SmtpRelayOptions unreachable_relay(boost::asio::io_context& io) {
  SmtpRelayOptions options;
  options.host = "127.0.0.1";
  options.port = trestle::test::closed_port(io);
  options.security = SmtpRelayOptions::Security::none;
  options.connect_timeout = std::chrono::seconds(2);
  return options;
}

OutboxItem mail_from(std::string user) {
  OutboxItem item;
  item.user = user;
  item.sender = user + "/phone";
  item.xmpp_id = "m1";
  item.peer = "bob@example.com";
  item.payload = "Subject: x\r\n\r\nbody\r\n";
  MailNotes notes;
  notes.from = "alice@mail.example.org";
  notes.message_id = "id1@mail.example.org";
  item.meta = notes.encode();
  return item;
}

/// A store, a context, an unreachable relay and an outbox recording its results.
struct Fixture {
  explicit Fixture(EmailSettings email = {})
      : settings(std::move(email)), store(open_sqlite_store(":memory:")),
        context("mail.example.org", store.get()),
        relay(context.io(), unreachable_relay(context.io())),
        outbox(context, settings, relay,
               [this](const OutboxItem& item, const OutboxResult& result) {
                 done.emplace_back(item, result);
               }) {}
  ~Fixture() { context.stop_run(); }

  std::vector<OutboxItem> all() {
    std::error_code ec;
    return store->due_outbox("mail.example.org", std::int64_t{1} << 40, 100, ec);
  }

  EmailSettings settings;
  std::unique_ptr<Store> store;
  FakeAdapterContext context;
  SmtpRelay relay;
  EmailOutbox outbox;
  std::vector<std::pair<OutboxItem, OutboxResult>> done;
};

Element message_to(std::string_view to, std::string_view body) {
  auto message = trestle::xmpp::make_message(Jid::parse("alice@example.org/phone").value(),
                                             Jid::parse(to).value(), "chat", body);
  message.set_attr("id", "s1");
  return message;
}

EmailSettings email_config() {
  EmailSettings settings;
  settings.relay.host = "127.0.0.1";
  settings.listener.enabled = false;
  return settings;
}

} // namespace

BOOST_AUTO_TEST_SUITE(email_outbox)

BOOST_AUTO_TEST_CASE(a_temporary_failure_is_rescheduled_with_the_reason) {
  Fixture f;
  f.context.start_run(f.outbox.run());
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::queued));
  BOOST_TEST(trestle::test::run_until(f.context.io(), [&] { return f.outbox.in_flight() == 1; }));
  BOOST_TEST(trestle::test::run_until(f.context.io(), [&] { return f.outbox.in_flight() == 0; }));
  f.context.run_ready(); // the retry's schedule
  BOOST_TEST(f.done.empty());
  const auto items = f.all();
  BOOST_REQUIRE(items.size() == 1u);
  BOOST_TEST(items[0].attempts == 1);
  BOOST_TEST(items[0].last_error.find("cannot connect") != std::string::npos, items[0].last_error);
  BOOST_TEST(items[0].next_attempt_at >= items[0].created_at + 30); // half the 60 s minimum
}

BOOST_AUTO_TEST_CASE(past_the_age_limit_the_sender_gets_an_error) {
  EmailSettings settings;
  settings.retry_max_age_seconds = 0;
  Fixture f(settings);
  f.context.start_run(f.outbox.run());
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::queued));
  BOOST_TEST(trestle::test::run_until(f.context.io(), [&] { return !f.done.empty(); }));
  BOOST_REQUIRE(f.done.size() == 1u);
  BOOST_TEST((f.done[0].second.kind == OutboxResult::Kind::expired));
  BOOST_TEST(f.done[0].second.text.find("cannot connect") != std::string::npos);
  f.context.run_ready(); // the removal
  BOOST_TEST(f.all().empty());
}

BOOST_AUTO_TEST_CASE(queue_limits_refuse_more) {
  EmailSettings settings;
  settings.max_queued = 3;
  settings.max_queued_per_user = 2;
  Fixture f(settings);
  // Not started: the mails stay queued.
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::queued));
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::queued));
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::full));
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("carol@example.org"))) == EmailOutbox::Added::queued));
  BOOST_TEST(
      (f.context.run(f.outbox.add(mail_from("dave@example.org"))) == EmailOutbox::Added::full));
  BOOST_TEST(f.all().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_failing_store_refuses_to_queue) {
  EmailSettings settings;
  FailingStore store;
  FakeAdapterContext context("mail.example.org", &store);
  SmtpRelay relay(context.io(), unreachable_relay(context.io()));
  EmailOutbox outbox(context, settings, relay, [](const OutboxItem&, const OutboxResult&) {});
  BOOST_TEST(
      (context.run(outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::failed));
}

BOOST_AUTO_TEST_CASE(what_a_stopped_run_left_is_sent_by_the_next) {
  EmailSettings settings;
  auto store = open_sqlite_store(":memory:");
  FakeAdapterContext context("mail.example.org", store.get());
  {
    SmtpRelay relay(context.io(), unreachable_relay(context.io()));
    EmailOutbox outbox(context, settings, relay, [](const OutboxItem&, const OutboxResult&) {});
    context.start_run(outbox.run());
    BOOST_TEST(
        (context.run(outbox.add(mail_from("alice@example.org"))) == EmailOutbox::Added::queued));
    BOOST_TEST(trestle::test::run_until(context.io(), [&] { return outbox.in_flight() == 1; }));
    BOOST_TEST(context.stop_run()); // after what the cancelled run writes
    relay.stop();
  }
  std::error_code ec;
  // The cancelled run undid the lease: the mail is due now, not after the delivery time.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  BOOST_TEST(store->due_outbox("mail.example.org", now + 1, 10, ec).size() == 1u);
  SmtpRelay relay(context.io(), unreachable_relay(context.io()));
  EmailOutbox outbox(context, settings, relay, [](const OutboxItem&, const OutboxResult&) {});
  context.start_run(outbox.run());
  BOOST_TEST(trestle::test::run_until(context.io(), [&] { return outbox.in_flight() == 1; }));
  BOOST_TEST(trestle::test::run_until(context.io(), [&] { return outbox.in_flight() == 0; }));
  context.run_ready(); // the retry's schedule
  BOOST_TEST(context.stop_run());
  const auto left = store->due_outbox("mail.example.org", std::int64_t{1} << 40, 10, ec);
  BOOST_REQUIRE(left.size() == 1u);
  BOOST_TEST(left[0].attempts == 1);
}

BOOST_AUTO_TEST_CASE(adapter_answers_what_cannot_become_mail) {
  auto store = open_sqlite_store(":memory:");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  const auto from = Jid::parse("alice@example.org/phone").value();

  // Chat states and receipts carry no body: nothing is sent, nothing answered.
  context.deliver(adapter, message_to("bob\\40example.com@mail.example.org", ""));
  BOOST_TEST(context.sent.empty());
  std::error_code ec;
  BOOST_TEST(store->count_outbox("mail.example.org", "", ec) == 0u);

  auto groupchat = message_to("bob\\40example.com@mail.example.org", "hi");
  groupchat.set_attr("type", "groupchat");
  context.deliver(adapter, groupchat);
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST(
      (trestle::xmpp::stanza_error_from(context.sent[0])->condition == Condition::not_acceptable));

  context.sent.clear();
  context.deliver(adapter, message_to("not..valid@mail.example.org", "hi"));
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST(
      (trestle::xmpp::stanza_error_from(context.sent[0])->condition == Condition::jid_malformed));

  context.sent.clear();
  auto iq = trestle::xmpp::make_iq("get", from,
                                   Jid::parse("bob%example.com@mail.example.org").value(), "q1");
  iq.append("query", "jabber:iq:version");
  context.deliver(adapter, iq);
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST(context.sent[0].attr_or("from") == "bob%example.com@mail.example.org");
  BOOST_TEST((trestle::xmpp::stanza_error_from(context.sent[0])->condition ==
              Condition::service_unavailable));
}

BOOST_AUTO_TEST_CASE(adapter_queues_mail_and_refuses_when_full) {
  auto store = open_sqlite_store(":memory:");
  FakeAdapterContext context("mail.example.org", store.get());
  auto config = email_config();
  config.max_queued_per_user = 1;
  EmailAdapter adapter(config, context);
  const auto from = Jid::parse("alice@example.org/phone").value();
  context.deliver(adapter, message_to("bob%example.com@mail.example.org", "first"));
  BOOST_TEST(context.sent.empty());
  std::error_code ec;
  const auto queued = store->due_outbox("mail.example.org", std::int64_t{1} << 40, 10, ec);
  BOOST_REQUIRE(queued.size() == 1u);
  BOOST_TEST(queued[0].peer == "bob@example.com");
  BOOST_TEST(queued[0].payload.find("From: \"alice\" <alice@mail.example.org>") !=
                 std::string::npos,
             queued[0].payload);
  BOOST_TEST(queued[0].payload.find("Subject: Message from alice") != std::string::npos);

  context.deliver(adapter, message_to("bob%example.com@mail.example.org", "second"));
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST((trestle::xmpp::stanza_error_from(context.sent[0])->condition ==
              Condition::resource_constraint));
}

BOOST_AUTO_TEST_CASE(adapter_refuses_mail_when_the_store_fails) {
  FailingStore store;
  FakeAdapterContext context("mail.example.org", &store);
  EmailAdapter adapter(email_config(), context);
  context.deliver(adapter, message_to("bob\\40example.com@mail.example.org", "hi"));
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST((trestle::xmpp::stanza_error_from(context.sent[0])->condition ==
              Condition::internal_server_error));
}

BOOST_AUTO_TEST_CASE(adapter_answers_presence_to_contacts) {
  auto store = open_sqlite_store(":memory:");
  FakeAdapterContext context("mail.example.org", store.get());
  EmailAdapter adapter(email_config(), context);
  const auto from = Jid::parse("alice@example.org/phone").value();
  const auto contact = Jid::parse("bob\\40example.com@mail.example.org").value();
  context.deliver(adapter, trestle::xmpp::make_presence(from, contact, "subscribe"));
  BOOST_REQUIRE(context.sent.size() == 2u);
  BOOST_TEST(context.sent[0].attr_or("type") == "subscribed");
  BOOST_TEST(context.sent[0].attr_or("to") == "alice@example.org");
  BOOST_TEST(context.sent[1].attr_or("type").empty());
  BOOST_TEST(context.sent[1].child_text("status").find("Email contact") != std::string::npos);
  context.sent.clear();
  context.deliver(adapter, trestle::xmpp::make_presence(from, contact, "probe"));
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST(context.sent[0].attr_or("type").empty());
  context.sent.clear();
  context.deliver(adapter, trestle::xmpp::make_presence(from, contact, "unsubscribe"));
  BOOST_REQUIRE(context.sent.size() == 1u);
  BOOST_TEST(context.sent[0].attr_or("type") == "unsubscribed");
}

BOOST_AUTO_TEST_SUITE_END()
