#include "email_identity.hpp"
#include "email_inbound.hpp"
#include "email_outbox.hpp"
#include "email_stanzas.hpp"
#include "email_threads.hpp"
#include "fake_adapter_context.hpp"
#include "flaky_store.hpp"
#include "stanza.hpp"
#include "store.hpp"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

using trestle::gateway::open_sqlite_store;
using trestle::gateway::Store;
using trestle::gateway_test::FailingStore;
using trestle::gateway_test::FlakyStore;
using trestle::protocols_test::FakeAdapterContext;
using trestle::smtp::EmailIdentities;
using trestle::smtp::EmailInbound;
using trestle::smtp::EmailSettings;
using trestle::smtp::EmailThreads;
using trestle::smtp::IdentityProblem;
using trestle::smtp::InboundMessage;
using trestle::smtp::MailNotes;
using trestle::xmpp::Condition;
using trestle::xmpp::Jid;

namespace {

Jid jid(std::string_view text) {
  return Jid::parse(text).value();
}

/// A store (in memory, or `given`), a context and the identities and threads
/// over them.
struct Fixture {
  explicit Fixture(EmailSettings email = {}, Store* given = nullptr)
      : settings(std::move(email)), store(given ? nullptr : open_sqlite_store(":memory:")),
        context("mail.example.org", given ? given : store.get()),
        identities(settings, "mail.example.org", context), threads(context),
        inbound(context, identities, threads) {}

  /// Gives alice the address alice@mail.example.org.
  void assign_alice() {
    IdentityProblem problem;
    BOOST_REQUIRE(context.run(identities.assign(jid("alice@example.org"), "alice", problem)));
  }

  InboundMessage mail(std::string to, std::string data) {
    InboundMessage message;
    message.mail_from = "bob@example.com";
    message.recipients.push_back(std::move(to));
    message.data = std::move(data);
    return message;
  }

  std::vector<trestle::smtp::SmtpVerdict> deliver(InboundMessage message) {
    return context.run(inbound.deliver(std::move(message)));
  }

  EmailSettings settings;
  std::unique_ptr<Store> store;
  FakeAdapterContext context;
  EmailIdentities identities;
  EmailThreads threads;
  EmailInbound inbound;
};

const std::string simple_mail = "From: Bob <bob@example.com>\r\n"
                                "Subject: Hello\r\n"
                                "Message-ID: <m1@example.com>\r\n"
                                "\r\n"
                                "Hi Alice\r\n";

} // namespace

BOOST_AUTO_TEST_SUITE(email_flow)

BOOST_AUTO_TEST_CASE(template_gives_an_address_on_first_use) {
  Fixture f;
  IdentityProblem problem;
  BOOST_TEST(f.context.run(f.identities.local_part_of(jid("Alice@example.org/phone"), problem))
                 .value_or("") == "alice");
  bool failed = false;
  BOOST_TEST(f.context.run(f.identities.user_of("ALICE", failed)).value().bare_string() ==
             "alice@example.org");
  BOOST_TEST(!failed);
  // The same local part from another domain is taken.
  BOOST_TEST(
      !f.context.run(f.identities.local_part_of(jid("alice@other.example"), problem)).has_value());
  BOOST_TEST((problem.kind == IdentityProblem::Kind::conflict));
  BOOST_TEST(problem.text.find("register") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(template_with_domain_and_reserved_names) {
  EmailSettings settings;
  settings.address_template = "{localpart}.{domain}";
  Fixture f(settings);
  BOOST_TEST(f.identities.template_local_part(jid("alice@example.org")) == "alice.example.org");
  settings.address_template = "{localpart}";
  Fixture g(settings);
  BOOST_TEST(g.identities.template_local_part(jid("postmaster@example.org")).empty());
  BOOST_TEST(g.identities.template_local_part(jid("a..b@example.org")).empty());
  BOOST_TEST(EmailIdentities::is_reserved("Abuse"));
  BOOST_TEST(!EmailIdentities::is_reserved("alice"));
}

BOOST_AUTO_TEST_CASE(required_registration_gives_no_address_before_it) {
  EmailSettings settings;
  settings.require_registration = true;
  Fixture f(settings);
  IdentityProblem problem;
  BOOST_TEST(
      !f.context.run(f.identities.local_part_of(jid("alice@example.org"), problem)).has_value());
  BOOST_TEST((problem.kind == IdentityProblem::Kind::registration_required));
  trestle::gateway::Registration registration;
  registration.user = "alice@example.org";
  registration.component = "mail.example.org";
  registration.fields["username"] = "liddell";
  std::error_code ec;
  f.store->put_registration(registration, ec);
  BOOST_TEST(
      f.context.run(f.identities.local_part_of(jid("alice@example.org"), problem)).value_or("") ==
      "liddell");
}

BOOST_AUTO_TEST_CASE(assign_replaces_the_old_address_and_release_frees_it) {
  Fixture f;
  IdentityProblem problem;
  BOOST_TEST(f.context.run(f.identities.assign(jid("alice@example.org"), "first", problem)));
  BOOST_TEST(f.context.run(f.identities.assign(jid("alice@example.org"), "second", problem)));
  bool failed = false;
  BOOST_TEST(!f.context.run(f.identities.user_of("first", failed)).has_value());
  BOOST_TEST(!f.context.run(f.identities.assign(jid("carol@example.org"), "second", problem)));
  BOOST_TEST((problem.kind == IdentityProblem::Kind::conflict));
  f.context.run(f.identities.release(jid("alice@example.org")));
  BOOST_TEST(f.context.run(f.identities.assign(jid("carol@example.org"), "second", problem)));
}

BOOST_AUTO_TEST_CASE(store_failure_is_reported_not_hidden) {
  EmailSettings settings;
  FailingStore store;
  FakeAdapterContext context("mail.example.org", &store);
  EmailIdentities identities(settings, "mail.example.org", context);
  IdentityProblem problem;
  BOOST_TEST(!context.run(identities.local_part_of(jid("alice@example.org"), problem)).has_value());
  BOOST_TEST((problem.kind == IdentityProblem::Kind::store_failed));
  EmailThreads threads(context);
  EmailInbound inbound(context, identities, threads);
  const auto verdict = context.run(inbound.check_recipient("alice@mail.example.org"));
  BOOST_TEST(verdict.code == 451);
  BOOST_TEST(verdict.enhanced == "4.3.0");
}

BOOST_AUTO_TEST_CASE(threads_continue_both_ways) {
  Fixture f;
  const auto first = f.context.run(f.threads.outgoing("alice@example.org", "bob@example.com", ""));
  BOOST_TEST(!first.thread.empty());
  BOOST_TEST(first.references.empty());
  f.context.run(
      f.threads.record("alice@example.org", "bob@example.com", first.thread, "a1@mail", 100));
  // Without <thread>, the last thread with that contact goes on.
  const auto second = f.context.run(f.threads.outgoing("alice@example.org", "bob@example.com", ""));
  BOOST_TEST(second.thread == first.thread);
  BOOST_TEST((second.references == std::vector<std::string>{"a1@mail"}));
  f.context.run(
      f.threads.record("alice@example.org", "bob@example.com", first.thread, "a2@mail", 101));
  const auto third =
      f.context.run(f.threads.outgoing("alice@example.org", "bob@example.com", first.thread));
  BOOST_TEST((third.references == std::vector<std::string>{"a1@mail", "a2@mail"}));

  bool known = false;
  BOOST_TEST(f.context.run(f.threads.incoming("alice@example.org", "a2@mail", {}, known)) ==
             first.thread);
  BOOST_TEST(known);
  BOOST_TEST(f.context.run(f.threads.incoming("alice@example.org", "", {"x@y", "a1@mail"},
                                              known)) == first.thread);
  // Another user's Message-ID neither matches nor is taken over.
  const auto other = f.context.run(f.threads.incoming("carol@example.org", "a2@mail", {}, known));
  BOOST_TEST(!known);
  BOOST_TEST(other != first.thread);
  f.context.run(f.threads.record("carol@example.org", "bob@example.com", other, "a2@mail", 102));
  BOOST_TEST(f.context.run(f.threads.incoming("alice@example.org", "a2@mail", {}, known)) ==
             first.thread);
}

BOOST_AUTO_TEST_CASE(a_long_references_list_costs_a_bounded_number_of_lookups) {
  FlakyStore store;
  FakeAdapterContext context("mail.example.org", &store);
  EmailThreads threads(context);
  const auto first = context.run(threads.outgoing("alice@example.org", "bob@example.com", ""));
  context.run(
      threads.record("alice@example.org", "bob@example.com", first.thread, "root@mail", 100));
  // 100,000 ids: the thread's root first, then ids nobody knows.
  std::vector<std::string> references{"root@mail"};
  for (int i = 0; i < 100000; ++i) {
    references.push_back("unknown." + std::to_string(i) + "@example.com");
  }
  bool known = false;
  store.reads = 0;
  BOOST_TEST(context.run(threads.incoming("alice@example.org", "parent@example.com", references,
                                          known)) == first.thread);
  BOOST_TEST(known);
  // In-Reply-To, the newest 20 and the first.
  BOOST_TEST(store.reads == 22U);

  // A known id among the newest is found; one past them (but the first) is not
  // looked up at all.
  references.push_back("root@mail");
  BOOST_TEST(context.run(threads.incoming("alice@example.org", "", references, known)) ==
             first.thread);
  BOOST_TEST(known);
  references = {"x@example.com", "root@mail"};
  for (int i = 0; i < 20; ++i) {
    references.push_back("later." + std::to_string(i) + "@example.com");
  }
  store.reads = 0;
  context.run(threads.incoming("alice@example.org", "", references, known));
  BOOST_TEST(!known);
  BOOST_TEST(store.reads == 21U);
}

BOOST_AUTO_TEST_CASE(inbound_mail_becomes_a_chat_message) {
  Fixture f;
  IdentityProblem problem;
  BOOST_REQUIRE(f.context.run(f.identities.assign(jid("alice@example.org"), "alice", problem)));
  BOOST_TEST(f.context.run(f.inbound.check_recipient("Alice@Mail.Example.org")).code == 250);
  const auto verdicts = f.deliver(f.mail("alice@mail.example.org", simple_mail));
  BOOST_REQUIRE(verdicts.size() == 1u);
  BOOST_TEST(verdicts[0].code == 250);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  const auto& message = f.context.sent[0];
  BOOST_TEST(message.attr_or("from") == "bob\\40example.com@mail.example.org");
  BOOST_TEST(message.attr_or("to") == "alice@example.org");
  BOOST_TEST(message.attr_or("type") == "chat");
  BOOST_TEST(message.child_text("subject") == "Hello");
  BOOST_TEST(message.child_text("body") == "Subject: Hello\n\nHi Alice");
  BOOST_TEST(!message.child_text("thread").empty());
}

BOOST_AUTO_TEST_CASE(inbound_refusals) {
  Fixture f;
  IdentityProblem problem;
  BOOST_REQUIRE(f.context.run(f.identities.assign(jid("alice@example.org"), "alice", problem)));
  BOOST_TEST(f.context.run(f.inbound.check_recipient("nobody@mail.example.org")).code == 550);
  BOOST_TEST(f.context.run(f.inbound.check_recipient("alice@other.example")).code == 550);
  BOOST_TEST(f.context.run(f.inbound.check_recipient("not an address")).code == 550);
  f.context.refused_users.push_back("alice@example.org");
  const auto refused = f.context.run(f.inbound.check_recipient("alice@mail.example.org"));
  BOOST_TEST(refused.code == 550);
  BOOST_TEST(refused.enhanced == "5.1.1");
  f.context.refused_users.clear();
}

BOOST_AUTO_TEST_CASE(mail_is_250_once_kept_even_while_xmpp_is_down) {
  Fixture f;
  IdentityProblem problem;
  BOOST_REQUIRE(f.context.run(f.identities.assign(jid("alice@example.org"), "alice", problem)));
  f.context.ready = false;
  const auto verdicts = f.deliver(f.mail("alice@mail.example.org", simple_mail));
  BOOST_TEST(verdicts.at(0).code == 250);
  BOOST_TEST(f.context.sent.empty());
  BOOST_REQUIRE_EQUAL(f.context.unsent.size(), 1u);
  BOOST_TEST(f.context.unsent[0].child_text("body").find("Hi Alice") != std::string::npos);
  std::error_code ec;
  BOOST_TEST(f.store->count_undelivered("mail.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(a_mail_checked_at_rcpt_costs_one_store_write_and_no_read) {
  FlakyStore store;
  Fixture f({}, &store);
  f.assign_alice();
  const auto checked = f.context.run(f.inbound.check_recipient("alice@mail.example.org"));
  BOOST_TEST(checked.code == 250);
  BOOST_TEST(checked.accepted_as == "alice@example.org");
  auto message = f.mail("alice@mail.example.org", simple_mail);
  message.accepted_as.push_back(checked.accepted_as);
  store.reads = 0;
  store.writes = 0;
  const auto verdicts = f.deliver(message);
  BOOST_TEST(verdicts.at(0).code == 250);
  BOOST_TEST(store.reads == 0u);
  // The message and its thread's rows, in one transaction.
  BOOST_TEST(store.writes == 1u);
  BOOST_REQUIRE_EQUAL(f.context.sent.size(), 1u);
  BOOST_TEST(f.context.sent[0].attr_or("to") == "alice@example.org");
  // Threaded like any mail: a reply to it continues its thread.
  bool known = false;
  const auto thread = f.context.sent[0].child_text("thread");
  BOOST_TEST(f.context.run(f.threads.incoming("alice@example.org", "m1@example.com", {}, known)) ==
             thread);
  BOOST_TEST(known);
}

BOOST_AUTO_TEST_CASE(mail_that_cannot_be_kept_is_451) {
  FlakyStore store;
  Fixture f({}, &store);
  f.assign_alice();
  store.fail_writes = true;
  const auto verdicts = f.deliver(f.mail("alice@mail.example.org", simple_mail));
  BOOST_TEST(verdicts.at(0).code == 451);
  BOOST_TEST(verdicts.at(0).enhanced == "4.3.0");
  BOOST_TEST(f.context.sent.empty());
  BOOST_TEST(f.context.log_text().find("answered 451") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(mail_without_a_readable_sender_comes_from_the_domain) {
  Fixture f;
  IdentityProblem problem;
  BOOST_REQUIRE(f.context.run(f.identities.assign(jid("alice@example.org"), "alice", problem)));
  auto message = f.mail("alice@mail.example.org", "From: ???\r\n\r\nbody\r\n");
  message.mail_from.clear();
  BOOST_TEST(f.deliver(message).at(0).code == 250);
  BOOST_REQUIRE(f.context.sent.size() == 1u);
  BOOST_TEST(f.context.sent[0].attr_or("from") == "mail.example.org");
  BOOST_TEST(f.context.sent[0].child_text("body") == "body");
}

BOOST_AUTO_TEST_CASE(mail_notes_round_trip) {
  MailNotes notes;
  notes.from = "alice@mail.example.org";
  notes.message_id = "x@y";
  notes.thread = "t1";
  notes.receipt = true;
  const auto back = MailNotes::decode(notes.encode() + "unknown=1\nno equals sign\n");
  BOOST_TEST(back.from == notes.from);
  BOOST_TEST(back.message_id == notes.message_id);
  BOOST_TEST(back.thread == notes.thread);
  BOOST_TEST(back.receipt);
}

BOOST_AUTO_TEST_CASE(relay_refusals_map_to_conditions) {
  using trestle::smtp::relay_refusal;
  BOOST_TEST((relay_refusal("550", "5.1.1 No such user").condition == Condition::item_not_found));
  BOOST_TEST((relay_refusal("554", "5.7.1 Relaying denied").condition == Condition::not_allowed));
  const auto other = relay_refusal("552", "5.3.4 Too big");
  BOOST_TEST((other.condition == Condition::not_acceptable));
  BOOST_TEST(other.text == "the mail server refused the message: 552 5.3.4 Too big");
}

BOOST_AUTO_TEST_SUITE_END()
