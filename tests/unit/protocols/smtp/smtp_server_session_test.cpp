#include "smtp_server_session.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::smtp::InboundMessage;
using trestle::smtp::SmtpAction;
using trestle::smtp::SmtpServerOptions;
using trestle::smtp::SmtpServerSession;
using trestle::smtp::SmtpVerdict;
using Kind = SmtpAction::Kind;

namespace {

/// Drives a session like the listener does: recipients under `example.org`
/// are accepted, others get 550 5.1.1; messages are accepted with 250.
struct Driver {
  explicit Driver(SmtpServerOptions options = {}) : session(std::move(options)) {
    take(session.start());
  }

  /// Feeds bytes and answers every check and delivery; returns what was written.
  std::string send(std::string_view bytes) {
    written.clear();
    take(session.receive(bytes));
    return written;
  }

  void take(std::vector<SmtpAction> actions) {
    for (auto& action : actions) {
      switch (action.kind) {
      case Kind::reply:
        written += action.bytes;
        break;
      case Kind::start_tls:
        tls_requests++;
        break;
      case Kind::close:
        closes++;
        break;
      case Kind::check_recipient:
        checked.push_back(action.address);
        if (hold_recipients) {
          break;
        }
        take(session.answer_recipient(
            action.address.ends_with("@example.org")
                ? SmtpVerdict{250, "2.1.5", "OK", "user of " + action.address}
                : SmtpVerdict{550, "5.1.1", "no such user here", "ignored"}));
        break;
      case Kind::deliver:
        delivered.push_back(action.message);
        take(session.answer_message(verdicts));
        break;
      }
    }
  }

  SmtpServerSession session;
  std::string written;
  std::vector<std::string> checked;
  std::vector<InboundMessage> delivered;
  std::vector<SmtpVerdict> verdicts{SmtpVerdict{250, "2.0.0", "delivered"}};
  bool hold_recipients = false;
  int tls_requests = 0;
  int closes = 0;
};

const std::string envelope = "EHLO mta.example.net\r\n"
                             "MAIL FROM:<bob@example.com>\r\n"
                             "RCPT TO:<alice@example.org>\r\n"
                             "DATA\r\n";

/// The reply codes in `written`, one per line.
std::vector<std::string> codes(const std::string& written) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < written.size()) {
    const auto end = written.find("\r\n", start);
    out.push_back(written.substr(start, 4));
    start = end + 2;
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(smtp_server_session)

BOOST_AUTO_TEST_CASE(a_pipelined_transaction_delivers_the_unstuffed_message) {
  Driver d;
  const auto written =
      d.send(envelope + "Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n");
  BOOST_TEST(codes(written) == (std::vector<std::string>{"250-", "250-", "250-", "250-", "250 ",
                                                         "250 ", "250 ", "354 ", "250 ", "221 "}),
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(d.delivered.size() == 1u);
  const auto& message = d.delivered[0];
  BOOST_TEST(message.helo == "mta.example.net");
  BOOST_TEST(message.mail_from == "bob@example.com");
  BOOST_TEST(message.recipients == std::vector<std::string>{"alice@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(message.data == "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n");
  BOOST_TEST(!message.eight_bit);
  BOOST_TEST(d.closes == 1);
  BOOST_TEST(d.session.closed());
}

BOOST_AUTO_TEST_CASE(ehlo_lists_the_extensions_and_starttls_only_when_available) {
  Driver plain;
  const auto answer = plain.send("EHLO x\r\n");
  for (const auto* extension : {"PIPELINING", "SIZE 10485760", "8BITMIME", "ENHANCEDSTATUSCODES"}) {
    BOOST_TEST(answer.find(extension) != std::string::npos, extension);
  }
  BOOST_TEST(answer.find("STARTTLS") == std::string::npos);
  BOOST_TEST(plain.send("STARTTLS\r\n").starts_with("502 5.5.1"));

  SmtpServerOptions options;
  options.tls_available = true;
  Driver tls(options);
  BOOST_TEST(tls.send("EHLO x\r\n").find("STARTTLS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(starttls_drops_what_was_pipelined_behind_it_and_needs_a_new_ehlo) {
  SmtpServerOptions options;
  options.tls_available = true;
  Driver d(options);
  d.send("EHLO x\r\n");
  // CVE-2011-0411: commands sent in plain text after STARTTLS must not run under TLS.
  const auto written = d.send("STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n");
  BOOST_TEST(written == "220 2.0.0 ready to start TLS\r\n");
  BOOST_TEST(d.tls_requests == 1);
  d.take(d.session.tls_started());
  BOOST_TEST(d.send("MAIL FROM:<a@example.net>\r\n").starts_with("503 5.5.1"));
  const auto again = d.send("EHLO x\r\n");
  BOOST_TEST(again.find("STARTTLS") == std::string::npos);
  d.send("MAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nhi\r\n.\r\n");
  BOOST_TEST_REQUIRE(d.delivered.size() == 1u);
  BOOST_TEST(d.delivered[0].tls);
}

BOOST_AUTO_TEST_CASE(unknown_recipients_get_550_and_a_message_without_any_is_refused) {
  Driver d;
  const auto written =
      d.send("EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@elsewhere.net>\r\nDATA\r\n");
  BOOST_TEST(written.find("550 5.1.1 no such user here\r\n") != std::string::npos);
  BOOST_TEST(written.ends_with("554 5.5.1 no valid recipients\r\n"));
  BOOST_TEST(d.checked == std::vector<std::string>{"nobody@elsewhere.net"},
             boost::test_tools::per_element());
  BOOST_TEST(d.delivered.empty());
}

BOOST_AUTO_TEST_CASE(the_message_carries_what_the_check_found_of_each_accepted_recipient) {
  Driver d;
  d.send("EHLO x\r\nMAIL FROM:<bob@example.com>\r\nRCPT TO:<alice@example.org>\r\n"
         "RCPT TO:<nobody@elsewhere.net>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\nhi\r\n.\r\n");
  BOOST_REQUIRE_EQUAL(d.delivered.size(), 1u);
  const auto& message = d.delivered[0];
  BOOST_TEST(message.recipients ==
                 (std::vector<std::string>{"alice@example.org", "carol@example.org"}),
             boost::test_tools::per_element());
  BOOST_TEST(message.accepted_as == (std::vector<std::string>{"user of alice@example.org",
                                                              "user of carol@example.org"}),
             boost::test_tools::per_element());
  // The next transaction starts afresh.
  d.send("MAIL FROM:<bob@example.com>\r\nRCPT TO:<dave@example.org>\r\nDATA\r\nhi\r\n.\r\n");
  BOOST_REQUIRE_EQUAL(d.delivered.size(), 2u);
  BOOST_TEST(d.delivered[1].accepted_as == std::vector<std::string>{"user of dave@example.org"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_null_sender_is_accepted_for_bounces) {
  Driver d;
  d.send("EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nbounce\r\n.\r\n");
  BOOST_TEST_REQUIRE(d.delivered.size() == 1u);
  BOOST_TEST(d.delivered[0].mail_from.empty());
}

BOOST_AUTO_TEST_CASE(commands_out_of_order_and_bad_syntax_are_refused) {
  SmtpServerOptions options;
  options.max_errors = 100;
  Driver d(options);
  BOOST_TEST(d.send("MAIL FROM:<a@b>\r\n").starts_with("503 5.5.1"));
  d.send("EHLO x\r\n");
  BOOST_TEST(d.send("RCPT TO:<alice@example.org>\r\n").starts_with("503 5.5.1"));
  BOOST_TEST(d.send("DATA\r\n").starts_with("503 5.5.1"));
  BOOST_TEST(d.send("MAIL FROM:a@b\r\n").starts_with("501 5.1.7"));
  BOOST_TEST(d.send("MAIL TO:<a@b>\r\n").starts_with("501 5.5.4"));
  BOOST_TEST(d.send("MAIL FROM:<a@b> SMTPUTF8\r\n").starts_with("555 5.5.4"));
  BOOST_TEST(d.send("FROB\r\n").starts_with("500 5.5.2"));
  BOOST_TEST(d.send("HELO\r\n").starts_with("501 5.5.4"));
  BOOST_TEST(d.send("LHLO x\r\n").starts_with("500 5.5.1"));
  BOOST_TEST(d.send("NOOP\r\n") == "250 2.0.0 OK\r\n");
  BOOST_TEST(d.send("VRFY alice\r\n").starts_with("252"));
  BOOST_TEST(d.send("MAIL FROM:<a@b>\r\n").starts_with("250 2.1.0"));
  BOOST_TEST(d.send("MAIL FROM:<a@b>\r\n").starts_with("503 5.5.1"));
  BOOST_TEST(d.send("RSET\r\n") == "250 2.0.0 reset\r\n");
  BOOST_TEST(d.send("MAIL FROM:<a@b>\r\n").starts_with("250 2.1.0"));
}

BOOST_AUTO_TEST_CASE(too_many_errors_end_the_session_with_421) {
  SmtpServerOptions options;
  options.max_errors = 3;
  Driver d(options);
  const auto written = d.send("A\r\nB\r\nC\r\nNOOP\r\n");
  BOOST_TEST(codes(written) == (std::vector<std::string>{"500 ", "500 ", "421 "}),
             boost::test_tools::per_element());
  BOOST_TEST(d.closes == 1);
  BOOST_TEST(d.send("NOOP\r\n").empty());
}

BOOST_AUTO_TEST_CASE(bare_lf_in_commands_is_refused) {
  Driver d;
  BOOST_TEST(d.send("EHLO x\n").starts_with("500 5.5.2 bare LF"));
  BOOST_TEST(d.send("EHLO x\rMAIL\r\n").starts_with("500 5.5.2 bare LF"));
}

BOOST_AUTO_TEST_CASE(bare_lf_in_the_data_refuses_the_message_and_never_ends_it_early) {
  Driver d;
  // "\n.\n" ends the data for a lax MTA; here it is a bad line inside the
  // message, so the smuggled MAIL never runs as a command.
  const auto written = d.send(envelope + "one\n.\nMAIL FROM:<smuggled@example.net>\r\n.\r\n");
  BOOST_TEST(written.ends_with("554 5.6.0 bare LF or CR in the message; lines end in CR LF\r\n"));
  BOOST_TEST(d.delivered.empty());
  BOOST_TEST(d.send("NOOP\r\n") == "250 2.0.0 OK\r\n");
}

BOOST_AUTO_TEST_CASE(long_lines_are_refused_with_a_clear_reply) {
  Driver d;
  BOOST_TEST(d.send("EHLO " + std::string(600, 'x') + "\r\n").starts_with("500 5.5.2"));
  // In the data: refused at the end; a "." after the overlong part is not the end.
  d.send(envelope);
  auto written = d.send(std::string(1500, 'a'));
  written += d.send(".\r\nstill the message\r\n.\r\n");
  BOOST_TEST(written == "500 5.5.2 a line is longer than 1000 bytes\r\n");
  BOOST_TEST(d.delivered.empty());
  // A command line with no end at all closes the session.
  written = d.send(std::string(600, 'y'));
  BOOST_TEST(written.starts_with("421"));
  BOOST_TEST(d.session.closed());
}

BOOST_AUTO_TEST_CASE(eight_bit_data_needs_8bitmime) {
  Driver d;
  const auto written = d.send(envelope + "caf\xc3\xa9\r\n.\r\n");
  BOOST_TEST(written.ends_with("554 5.6.1 8-bit data without BODY=8BITMIME\r\n"));
  BOOST_TEST(d.delivered.empty());
  d.send("MAIL FROM:<bob@example.com> BODY=8BITMIME\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"
         "caf\xc3\xa9\r\n.\r\n");
  BOOST_TEST_REQUIRE(d.delivered.size() == 1u);
  BOOST_TEST(d.delivered[0].eight_bit);
  BOOST_TEST(d.delivered[0].data == "caf\xc3\xa9\r\n");
}

BOOST_AUTO_TEST_CASE(the_size_limit_holds_for_the_declaration_and_the_data) {
  SmtpServerOptions options;
  options.max_message_bytes = 100;
  Driver d(options);
  d.send("EHLO x\r\n");
  BOOST_TEST(d.send("MAIL FROM:<a@b> SIZE=101\r\n").starts_with("552 5.3.4"));
  BOOST_TEST(d.send("MAIL FROM:<a@b> SIZE=abc\r\n").starts_with("501 5.5.4"));
  d.send("MAIL FROM:<a@b> SIZE=50\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n");
  std::string body;
  for (int i = 0; i < 20; ++i) {
    body += "0123456789\r\n";
  }
  const auto written = d.send(body + ".\r\n");
  BOOST_TEST(written == "552 5.3.4 message too big: the limit is 100 bytes\r\n");
  BOOST_TEST(d.delivered.empty());
  BOOST_TEST(d.session.buffered_bytes() < 100u);
}

BOOST_AUTO_TEST_CASE(recipients_are_capped) {
  SmtpServerOptions options;
  options.max_recipients = 2;
  Driver d(options);
  const auto written = d.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@example.org>\r\n"
                              "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n");
  BOOST_TEST(
      written.ends_with("452 4.5.3 too many recipients; send the rest in another message\r\n"));
  BOOST_TEST(d.checked.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_failed_delivery_is_answered_with_the_drivers_verdict) {
  Driver d;
  d.verdicts = {SmtpVerdict{451, "4.3.0", "the XMPP server is unreachable; try again later"}};
  const auto written = d.send(envelope + "hello\r\n.\r\n");
  BOOST_TEST(written.ends_with("451 4.3.0 the XMPP server is unreachable; try again later\r\n"));
}

BOOST_AUTO_TEST_CASE(smtp_answers_451_when_any_recipient_failed_for_now) {
  Driver d;
  d.verdicts = {SmtpVerdict{250, "2.0.0", "delivered"},
                SmtpVerdict{451, "4.3.0", "cannot keep it now"}};
  const auto two = "EHLO mta.example.net\r\nMAIL FROM:<bob@example.com>\r\n"
                   "RCPT TO:<alice@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n";
  auto written = d.send(std::string(two) + "hello\r\n.\r\n");
  BOOST_TEST(written.ends_with("451 4.3.0 cannot keep it now\r\n"));
  // A refusal and a success: the success (the refused one was a rare case).
  d.written.clear();
  d.verdicts = {SmtpVerdict{550, "5.1.1", "gone"}, SmtpVerdict{250, "2.0.0", "delivered"}};
  written = d.send(std::string(two).substr(std::string(two).find("MAIL")) + "again\r\n.\r\n");
  BOOST_TEST(written.ends_with("250 2.0.0 delivered\r\n"));
}

BOOST_AUTO_TEST_CASE(commands_wait_for_a_pending_recipient_check) {
  Driver d;
  d.hold_recipients = true;
  const auto first = d.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.org>\r\nNOOP\r\n");
  BOOST_TEST(codes(first).back() == "250 ");
  BOOST_TEST(d.session.waiting());
  d.written.clear();
  d.hold_recipients = false;
  d.take(d.session.answer_recipient(SmtpVerdict{}));
  BOOST_TEST(d.written == "250 2.0.0 OK\r\n250 2.0.0 OK\r\n");
  // Held input is bounded: a flood behind a pending answer closes the session.
  d.hold_recipients = true;
  d.send("RCPT TO:<bob@example.org>\r\n");
  const auto flood = d.send(std::string(70000, 'N') + "\r\n");
  BOOST_TEST(flood.starts_with("421"));
}

BOOST_AUTO_TEST_CASE(lmtp_answers_once_per_recipient_after_the_data) {
  SmtpServerOptions options;
  options.lmtp = true;
  Driver d(options);
  BOOST_TEST(d.send("EHLO x\r\n").starts_with("500 5.5.1"));
  d.verdicts = {SmtpVerdict{250, "2.0.0", "delivered"},
                SmtpVerdict{451, "4.3.0", "try again later"}};
  const auto written = d.send("LHLO mta\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@example.org>\r\n"
                              "RCPT TO:<b@example.org>\r\nDATA\r\nhi\r\n.\r\n");
  BOOST_TEST(written.ends_with("250 2.0.0 delivered\r\n451 4.3.0 try again later\r\n"));
}

BOOST_AUTO_TEST_CASE(a_timeout_closes_with_421) {
  Driver d;
  d.take(d.session.timed_out());
  BOOST_TEST(d.written.find("421 4.4.2 localhost timeout") != std::string::npos);
  BOOST_TEST(d.session.closed());
}

BOOST_AUTO_TEST_SUITE_END()
