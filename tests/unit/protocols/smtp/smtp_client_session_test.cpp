#include "smtp_client_session.hpp"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <vector>

using trestle::smtp::OutboundEnvelope;
using trestle::smtp::SmtpClientAction;
using trestle::smtp::SmtpClientOptions;
using trestle::smtp::SmtpClientSession;
using trestle::smtp::SmtpOutcome;
using Kind = SmtpClientAction::Kind;

namespace {

/// Plays the relay: feeds replies and records what the client wrote.
struct Relay {
  Relay(SmtpClientOptions options, OutboundEnvelope envelope)
      : session(std::move(options), std::move(envelope)) {}

  /// Sends a reply from the relay; returns what the client wrote in answer.
  std::string reply(std::string_view bytes) {
    std::string written;
    for (auto& action : session.receive(bytes)) {
      take(action, written);
    }
    return written;
  }
  std::string tls() {
    std::string written;
    for (auto& action : session.tls_started()) {
      take(action, written);
    }
    return written;
  }
  void take(SmtpClientAction& action, std::string& written) {
    if (action.kind == Kind::write) {
      written += action.bytes;
    } else if (action.kind == Kind::start_tls) {
      ++tls_requests;
    } else {
      BOOST_TEST(!outcome.has_value(), "two outcomes");
      outcome = action.outcome;
    }
  }

  SmtpClientSession session;
  int tls_requests = 0;
  std::optional<SmtpOutcome> outcome;
};

OutboundEnvelope envelope(std::vector<std::string> recipients = {"bob@example.com"}) {
  return {"alice@mail.example.org", std::move(recipients), "Subject: hi\n\n.dot\nbody"};
}

SmtpClientOptions with_login() {
  SmtpClientOptions options;
  options.helo_name = "gw.example.org";
  options.username = "gateway";
  options.password = "s3cret";
  return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(smtp_client_session)

BOOST_AUTO_TEST_CASE(starttls_auth_plain_and_one_message) {
  Relay r(with_login(), envelope());
  BOOST_TEST(r.reply("220 relay ESMTP\r\n") == "EHLO gw.example.org\r\n");
  BOOST_TEST(r.reply("250-relay\r\n250-PIPELINING\r\n250 STARTTLS\r\n") == "STARTTLS\r\n");
  BOOST_TEST(r.reply("220 2.0.0 go ahead\r\n").empty());
  BOOST_TEST(r.tls_requests == 1);
  BOOST_TEST(r.tls() == "EHLO gw.example.org\r\n");
  // "\0gateway\0s3cret" in base64.
  BOOST_TEST(r.reply("250-relay\r\n250 AUTH LOGIN PLAIN\r\n") ==
             "AUTH PLAIN AGdhdGV3YXkAczNjcmV0\r\n");
  BOOST_TEST(r.reply("235 2.7.0 ok\r\n") == "MAIL FROM:<alice@mail.example.org>\r\n");
  BOOST_TEST(r.reply("250 2.1.0 ok\r\n") == "RCPT TO:<bob@example.com>\r\n");
  BOOST_TEST(r.reply("250 2.1.5 ok\r\n") == "DATA\r\n");
  BOOST_TEST(r.reply("354 go\r\n") == "Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n");
  BOOST_TEST(!r.outcome);
  BOOST_TEST(r.reply("250 2.0.0 queued as 1234\r\n") == "QUIT\r\n");
  BOOST_TEST_REQUIRE(r.outcome.has_value());
  BOOST_TEST((r.outcome->kind == SmtpOutcome::Kind::sent));
  BOOST_TEST(r.outcome->code == 250);
  BOOST_TEST(r.outcome->text == "2.0.0 queued as 1234");
  BOOST_TEST(r.session.finished());
  BOOST_TEST(r.reply("221 bye\r\n").empty());
}

BOOST_AUTO_TEST_CASE(without_starttls_nothing_is_sent_unless_tls_is_not_required) {
  Relay strict(with_login(), envelope());
  strict.reply("220 relay\r\n");
  BOOST_TEST(strict.reply("250-relay\r\n250 AUTH PLAIN\r\n") == "QUIT\r\n");
  BOOST_TEST_REQUIRE(strict.outcome.has_value());
  BOOST_TEST((strict.outcome->kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(strict.outcome->text.find("no STARTTLS") != std::string::npos);

  SmtpClientOptions lax;
  lax.require_tls = false;
  Relay r(lax, envelope());
  r.reply("220 relay\r\n");
  BOOST_TEST(r.reply("250 relay\r\n") == "MAIL FROM:<alice@mail.example.org>\r\n");
}

BOOST_AUTO_TEST_CASE(auth_login_when_plain_is_not_offered) {
  auto options = with_login();
  options.tls_from_start = true;
  Relay r(options, envelope());
  r.reply("220 relay\r\n");
  BOOST_TEST(r.reply("250-relay\r\n250 AUTH=LOGIN\r\n") == "AUTH LOGIN Z2F0ZXdheQ==\r\n");
  BOOST_TEST(r.reply("334 UGFzc3dvcmQ6\r\n") == "czNjcmV0\r\n");
  BOOST_TEST(r.reply("235 ok\r\n") == "MAIL FROM:<alice@mail.example.org>\r\n");
}

BOOST_AUTO_TEST_CASE(a_refused_login_is_temporary_and_names_the_relay_text) {
  auto options = with_login();
  options.tls_from_start = true;
  Relay r(options, envelope());
  r.reply("220 relay\r\n");
  r.reply("250-relay\r\n250 AUTH PLAIN\r\n");
  BOOST_TEST(r.reply("535 5.7.8 bad credentials\r\n") == "QUIT\r\n");
  BOOST_TEST_REQUIRE(r.outcome.has_value());
  BOOST_TEST((r.outcome->kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(r.outcome->text == "the relay refused the login: 5.7.8 bad credentials");
}

BOOST_AUTO_TEST_CASE(some_recipients_refused_for_good_the_others_get_the_message) {
  SmtpClientOptions options;
  options.require_tls = false;
  Relay r(options, envelope({"bob@example.com", "nobody@example.com"}));
  r.reply("220 relay\r\n");
  r.reply("250 relay\r\n");
  r.reply("250 ok\r\n");
  BOOST_TEST(r.reply("250 ok\r\n") == "RCPT TO:<nobody@example.com>\r\n");
  BOOST_TEST(r.reply("550 5.1.1 no such user\r\n") == "DATA\r\n");
  r.reply("354 go\r\n");
  r.reply("250 queued\r\n");
  BOOST_TEST_REQUIRE(r.outcome.has_value());
  BOOST_TEST((r.outcome->kind == SmtpOutcome::Kind::sent));
  BOOST_TEST(r.outcome->refused == std::vector<std::string>{"nobody@example.com"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_recipient_refused_is_permanent_and_a_4xx_one_is_temporary) {
  SmtpClientOptions options;
  options.require_tls = false;
  Relay all(options, envelope());
  all.reply("220 relay\r\n");
  all.reply("250 relay\r\n");
  all.reply("250 ok\r\n");
  BOOST_TEST(all.reply("550 5.1.1 no such user\r\n") == "QUIT\r\n");
  BOOST_TEST((all.outcome->kind == SmtpOutcome::Kind::permanent));
  BOOST_TEST(all.outcome->code == 550);
  BOOST_TEST(all.outcome->text == "5.1.1 no such user");

  Relay later(options, envelope({"bob@example.com", "carol@example.com"}));
  later.reply("220 relay\r\n");
  later.reply("250 relay\r\n");
  later.reply("250 ok\r\n");
  later.reply("250 ok\r\n");
  BOOST_TEST(later.reply("450 4.2.1 mailbox busy\r\n") == "QUIT\r\n");
  BOOST_TEST((later.outcome->kind == SmtpOutcome::Kind::temporary));
}

BOOST_AUTO_TEST_CASE(the_answer_to_the_data_decides) {
  SmtpClientOptions options;
  options.require_tls = false;
  for (const auto& [answer, kind] : std::vector<std::pair<std::string, SmtpOutcome::Kind>>{
           {"554 5.7.1 spam\r\n", SmtpOutcome::Kind::permanent},
           {"451 4.3.0 try later\r\n", SmtpOutcome::Kind::temporary}}) {
    Relay r(options, envelope());
    r.reply("220 relay\r\n");
    r.reply("250 relay\r\n");
    r.reply("250 ok\r\n");
    r.reply("250 ok\r\n");
    r.reply("354 go\r\n");
    BOOST_TEST(r.reply(answer) == "QUIT\r\n");
    BOOST_TEST_REQUIRE(r.outcome.has_value());
    BOOST_TEST((r.outcome->kind == kind));
  }
}

BOOST_AUTO_TEST_CASE(ehlo_refused_falls_back_to_helo) {
  SmtpClientOptions options;
  options.require_tls = false;
  Relay r(options, envelope());
  r.reply("220 relay\r\n");
  BOOST_TEST(r.reply("502 what\r\n") == "HELO localhost\r\n");
  BOOST_TEST(r.reply("250 hello\r\n") == "MAIL FROM:<alice@mail.example.org>\r\n");
}

BOOST_AUTO_TEST_CASE(a_refused_greeting_and_broken_replies_end_the_attempt) {
  Relay busy(with_login(), envelope());
  BOOST_TEST(busy.reply("554 5.3.2 go away\r\n") == "QUIT\r\n");
  BOOST_TEST((busy.outcome->kind == SmtpOutcome::Kind::permanent));

  Relay garbage(with_login(), envelope());
  BOOST_TEST(garbage.reply("hello there\r\n").empty());
  BOOST_TEST((garbage.outcome->kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(garbage.outcome->text.find("malformed") != std::string::npos);

  Relay overlong(with_login(), envelope());
  overlong.reply("220 " + std::string(3000, 'x'));
  BOOST_TEST((overlong.outcome->kind == SmtpOutcome::Kind::temporary));

  Relay endless(with_login(), envelope());
  std::string lines;
  for (int i = 0; i < 200; ++i) {
    lines += "220-more\r\n";
  }
  endless.reply(lines);
  BOOST_TEST_REQUIRE(endless.outcome.has_value());
  BOOST_TEST(endless.outcome->text == "the relay sent an endless reply");
}

BOOST_AUTO_TEST_CASE(a_lost_connection_is_temporary_unless_the_message_was_answered) {
  Relay early(with_login(), envelope());
  early.reply("220 relay\r\n");
  for (auto& action : early.session.connection_lost("timeout")) {
    std::string ignored;
    early.take(action, ignored);
  }
  BOOST_TEST_REQUIRE(early.outcome.has_value());
  BOOST_TEST((early.outcome->kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(early.outcome->text == "connection to the relay lost: timeout");

  SmtpClientOptions options;
  options.require_tls = false;
  Relay late(options, envelope());
  for (const auto* answer :
       {"220 r\r\n", "250 r\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n"}) {
    late.reply(answer);
  }
  BOOST_TEST(late.session.connection_lost("reset").empty()); // no second outcome
  BOOST_TEST((late.outcome->kind == SmtpOutcome::Kind::sent));
}

BOOST_AUTO_TEST_CASE(data_is_dot_stuffed_with_crlf_line_ends) {
  BOOST_TEST(SmtpClientSession::encode_data("a\n.b\r\n..c\rd") == "a\r\n..b\r\n...c\r\nd\r\n.\r\n");
  BOOST_TEST(SmtpClientSession::encode_data("") == ".\r\n");
  BOOST_TEST(SmtpClientSession::encode_data(".\n") == "..\r\n.\r\n");
}

BOOST_AUTO_TEST_CASE(an_address_with_a_line_break_never_becomes_a_command) {
  SmtpClientOptions options;
  options.require_tls = false;
  Relay r(options, {"alice@mail.example.org", {"bob@example.com>\r\nRCPT TO:<eve@evil.net"}, "x"});
  r.reply("220 r\r\n");
  const auto written = r.reply("250 r\r\n") + r.reply("250 ok\r\n");
  BOOST_TEST(written.find("eve@evil.net") == std::string::npos);
  BOOST_TEST_REQUIRE(r.outcome.has_value());
  BOOST_TEST((r.outcome->kind == SmtpOutcome::Kind::permanent));
}

BOOST_AUTO_TEST_CASE(bytes_after_the_starttls_answer_are_discarded) {
  // RFC 3207 section 4.2: nothing the relay sent before TLS may count after
  // it. An attacker on the path appends replies to the plain 220, hoping the
  // client reads them as answers that came over TLS.
  SmtpClientOptions options;
  Relay r(options, envelope());
  r.reply("220 relay\r\n");
  BOOST_TEST(r.reply("250-relay\r\n250 STARTTLS\r\n") == "STARTTLS\r\n");
  BOOST_TEST(r.reply("220 go ahead\r\n220 again\r\n250-relay\r\n250-AUTH PLAIN").empty());
  BOOST_TEST(r.tls_requests == 1);
  BOOST_TEST(!r.outcome);
  BOOST_TEST(r.tls() == "EHLO localhost\r\n");
  BOOST_TEST(r.reply("250 relay\r\n") == "MAIL FROM:<alice@mail.example.org>\r\n");
  BOOST_TEST(!r.outcome);
}

BOOST_AUTO_TEST_SUITE_END()
