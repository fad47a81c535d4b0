// clang-format off
#include <utility>
// clang-format on

#include "loopback.hpp"
#include "run_until.hpp"
#include "smtp_relay.hpp"
#include "test_tls.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using trestle::smtp::OutboundEnvelope;
using trestle::smtp::SmtpOutcome;
using trestle::smtp::SmtpRelay;
using trestle::smtp::SmtpRelayOptions;
using Security = SmtpRelayOptions::Security;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

using trestle::test::closed_port;
using trestle::test::run_until;
using trestle::test::TlsFixture;

/// How the fake relay behaves, for every connection it accepts.
struct RelayScript {
  bool offer_starttls = false;
  /// TLS from the first byte (the relay's side of implicit TLS).
  bool implicit_tls = false;
  /// AUTH PLAIN LOGIN in the EHLO reply (only under TLS when STARTTLS is offered).
  bool offer_auth = false;
  /// Accept and read, never answer.
  bool silent = false;
  /// Close right after the greeting.
  bool hang_up = false;
  std::string mail_reply = "250 2.1.0 ok";
  std::string rcpt_reply = "250 2.1.5 ok";
  std::string data_reply = "250 2.0.0 queued";
  /// The pause before answering the final dot.
  milliseconds hold{0};
  /// When set, the greeting goes out one byte per this pause.
  milliseconds trickle{0};
};

/// What the fake relay saw, over all its connections.
struct RelaySeen {
  /// The client's bytes before TLS, and under TLS.
  std::string plain;
  std::string secure;
  /// Each message as it came after DATA (dot-stuffed, with the final dot).
  std::vector<std::string> messages;
  int connections = 0;
  /// Connections between accept and QUIT (or the end); the most at once.
  int active = 0;
  int max_active = 0;
  int closed = 0;
};

/// Writes one reply; errors show in the next read.
template <typename Stream> awaitable<void> answer(Stream& stream, const std::string& text) {
  error_code ec;
  co_await asio::async_write(stream, asio::buffer(text), asio::redirect_error(use_awaitable, ec));
}

/// Plays the relay's side of SMTP until QUIT, the end of the connection or
/// STARTTLS; returns true for STARTTLS (the caller upgrades and calls again).
template <typename Stream>
awaitable<bool> dialogue(Stream& stream, bool secure, const RelayScript& script, RelaySeen& seen,
                         bool& counted) {
  error_code ec;
  if (script.trickle.count() > 0) {
    for (const char c : std::string("220 fake.example ESMTP\r\n")) {
      asio::steady_timer pause(stream.get_executor(), script.trickle);
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      co_await answer(stream, std::string(1, c));
    }
  } else if (!secure || script.implicit_tls) {
    co_await answer(stream, "220 fake.example ESMTP\r\n");
    if (script.hang_up) {
      co_return false;
    }
  }
  std::string input;
  std::string message;
  bool in_data = false;
  std::array<char, 4096> buffer{};
  for (;;) {
    for (auto lf = input.find('\n'); lf != std::string::npos; lf = input.find('\n')) {
      const std::string line = input.substr(0, lf + 1);
      input.erase(0, lf + 1);
      if (in_data) {
        message += line;
        if (line == ".\r\n") {
          in_data = false;
          seen.messages.push_back(std::move(message));
          message.clear();
          if (script.hold.count() > 0) {
            asio::steady_timer pause(stream.get_executor(), script.hold);
            co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
          }
          co_await answer(stream, script.data_reply + "\r\n");
        }
        continue;
      }
      if (line.starts_with("EHLO ")) {
        std::string reply = "250-fake.example\r\n";
        if (script.offer_starttls && !secure) {
          reply += "250-STARTTLS\r\n";
        }
        if (script.offer_auth && (secure || !script.offer_starttls)) {
          reply += "250-AUTH PLAIN LOGIN\r\n";
        }
        co_await answer(stream, reply + "250 8BITMIME\r\n");
      } else if (line == "STARTTLS\r\n") {
        co_await answer(stream, "220 2.0.0 ready\r\n");
        co_return true;
      } else if (line.starts_with("AUTH ")) {
        co_await answer(stream, "235 2.7.0 ok\r\n");
      } else if (line.starts_with("MAIL FROM:")) {
        co_await answer(stream, script.mail_reply + "\r\n");
      } else if (line.starts_with("RCPT TO:")) {
        co_await answer(stream, script.rcpt_reply + "\r\n");
      } else if (line == "DATA\r\n") {
        in_data = true;
        co_await answer(stream, "354 go ahead\r\n");
      } else if (line == "QUIT\r\n") {
        // Counted out before the answer: the client connects again only after it.
        counted = false;
        --seen.active;
        co_await answer(stream, "221 bye\r\n");
        co_return false;
      } else {
        co_await answer(stream, "500 what\r\n");
      }
    }
    const std::size_t n = co_await stream.async_read_some(asio::buffer(buffer),
                                                          asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_return false;
    }
    (secure ? seen.secure : seen.plain).append(buffer.data(), n);
    input.append(buffer.data(), n);
  }
}

awaitable<void> serve(tcp::socket socket, RelayScript script, ssl::context* tls,
                      std::shared_ptr<RelaySeen> seen) {
  error_code ec;
  ++seen->connections;
  seen->max_active = std::max(seen->max_active, ++seen->active);
  bool counted = true;
  if (script.silent) {
    std::array<char, 4096> buffer{};
    while (!ec) {
      co_await socket.async_read_some(asio::buffer(buffer),
                                      asio::redirect_error(use_awaitable, ec));
    }
  } else if (script.implicit_tls) {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      co_await dialogue(stream, true, script, *seen, counted);
    }
  } else if (co_await dialogue(socket, false, script, *seen, counted)) {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      co_await dialogue(stream, true, script, *seen, counted);
    }
  }
  if (counted) {
    --seen->active;
  }
  ++seen->closed;
}

/// A scripted fake relay on 127.0.0.1, plain or TLS; `tls` must outlive it.
class FakeRelay {
public:
  FakeRelay(asio::io_context& io, RelayScript script, ssl::context* tls = nullptr)
      : acceptor_(io, trestle::test::loopback()) {
    auto serve_one = [&io, script = std::move(script), tls, state = seen](tcp::socket socket) {
      asio::co_spawn(io, serve(std::move(socket), script, tls, state), asio::detached);
    };
    asio::co_spawn(io, trestle::test::accept_each(acceptor_, std::move(serve_one)), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::shared_ptr<RelaySeen> seen = std::make_shared<RelaySeen>();

private:
  tcp::acceptor acceptor_;
};

/// The test certificate, made once per test run.
TlsFixture& tls_fixture() {
  static TlsFixture fixture;
  return fixture;
}

/// The outcomes, in the order the callbacks came.
struct Outcomes {
  std::vector<SmtpOutcome> got;
  std::function<void(SmtpOutcome)> callback() {
    return [this](SmtpOutcome outcome) {
      got.push_back(std::move(outcome));
    };
  }
};

/// The relay's log lines.
struct Log {
  std::vector<std::string> lines;
  int warnings = 0;
  trestle::smtp::RelayLog sink() {
    return [this](bool warning, std::string_view line) {
      warnings += warning ? 1 : 0;
      lines.emplace_back(line);
    };
  }
  bool mentions(std::string_view text) const {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find(text) != std::string::npos;
    });
  }
};

SmtpRelayOptions options_for(std::uint16_t port, Security security) {
  SmtpRelayOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.security = security;
  options.server_name = "localhost";
  options.helo_name = "gw.example.org";
  options.connect_timeout = milliseconds(3000);
  options.reply_timeout = milliseconds(3000);
  return options;
}

OutboundEnvelope envelope(const std::string& body = "Subject: hi\n\n.dot\nbody") {
  return {"alice@gw.example.org", {"bob@example.com", "carol@example.com"}, body};
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

/// Sends one message through a fresh SmtpRelay and returns its outcome.
SmtpOutcome deliver_once(asio::io_context& io, const SmtpRelayOptions& options,
                         Log* log = nullptr) {
  SmtpRelay relay(io, options, log != nullptr ? log->sink() : trestle::smtp::RelayLog{});
  Outcomes outcomes;
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));
  BOOST_REQUIRE(run_until(io, [&] { return !outcomes.got.empty(); }));
  BOOST_TEST(outcomes.got.size() == 1u);
  return outcomes.got.front();
}

/// An io_context, a fake relay that plays `script` (and can do TLS with the
/// test certificate), and relay options for it that trust that certificate.
struct Fixture {
  explicit Fixture(RelayScript script = {}, Security security = Security::none)
      : server(io, std::move(script), &tls_fixture().server),
        options(options_for(server.port(), security)) {
    options.ca_file = tls_fixture().cert_file;
  }

  asio::io_context io;
  FakeRelay server;
  SmtpRelayOptions options;
};

/// Sets the relay login that the fake relay's AUTH accepts.
void log_in(SmtpRelayOptions& options) {
  options.username = "gateway";
  options.password = "s3cret";
}

} // namespace

BOOST_AUTO_TEST_SUITE(smtp_relay)

BOOST_AUTO_TEST_CASE(plain_delivery_without_tls) {
  Fixture f;
  Log log;
  SmtpRelay relay(f.io, f.options, log.sink());
  Outcomes outcomes;
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));
  BOOST_TEST(outcomes.got.empty()); // never inside send()
  BOOST_TEST(relay.pending() == 1u);
  BOOST_REQUIRE(run_until(f.io, [&] { return !outcomes.got.empty(); }));
  const auto& outcome = outcomes.got.front();
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::sent));
  BOOST_TEST(outcome.code == 250);
  BOOST_TEST(outcome.text == "2.0.0 queued");
  BOOST_TEST(relay.pending() == 0u);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
  BOOST_TEST(f.server.seen->plain == "EHLO gw.example.org\r\n"
                                     "MAIL FROM:<alice@gw.example.org>\r\n"
                                     "RCPT TO:<bob@example.com>\r\n"
                                     "RCPT TO:<carol@example.com>\r\n"
                                     "DATA\r\n"
                                     "Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n"
                                     "QUIT\r\n");
  BOOST_TEST(f.server.seen->messages ==
                 std::vector<std::string>{"Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n"},
             boost::test_tools::per_element());

  // The warning about the unencrypted link comes once per SmtpRelay.
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));
  BOOST_REQUIRE(run_until(f.io, [&] { return outcomes.got.size() == 2; }));
  BOOST_TEST(std::count_if(log.lines.begin(), log.lines.end(), [](const std::string& line) {
               return contains(line, "not encrypted");
             }) == 1);
  BOOST_TEST(log.warnings == 1);
  BOOST_TEST(relay.stats().attempts == 2u);
  BOOST_TEST(relay.stats().sent == 2u);
  BOOST_TEST(relay.stats().temporary_failures == 0u);
}

BOOST_AUTO_TEST_CASE(starttls_and_auth_plain_verified_against_the_test_ca) {
  Fixture f({.offer_starttls = true, .offer_auth = true}, Security::starttls);
  log_in(f.options);
  Log log;
  SmtpRelay relay(f.io, f.options, log.sink());
  Outcomes outcomes;
  BOOST_TEST(relay.send(envelope("Subject: private\n\nthe secret body"), outcomes.callback()));
  BOOST_REQUIRE(run_until(f.io, [&] { return !outcomes.got.empty(); }));
  BOOST_TEST((outcomes.got.front().kind == SmtpOutcome::Kind::sent), outcomes.got.front().text);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
  BOOST_TEST(f.server.seen->plain == "EHLO gw.example.org\r\nSTARTTLS\r\n");
  // "\0gateway\0s3cret" in base64, only under TLS.
  BOOST_TEST(contains(f.server.seen->secure,
                      "EHLO gw.example.org\r\nAUTH PLAIN AGdhdGV3YXkAczNjcmV0\r\nMAIL FROM:"));
  BOOST_TEST(contains(f.server.seen->secure, "the secret body"));
  BOOST_TEST(!log.mentions("s3cret"));
  BOOST_TEST(!log.mentions("AGdhdGV3YXkAczNjcmV0"));
  BOOST_TEST(!log.mentions("secret body"));
  BOOST_TEST(log.warnings == 0);
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_is_a_temporary_failure) {
  Fixture f({.offer_starttls = true}, Security::starttls);
  f.options.ca_file = ""; // the system's store, which does not know the test CA
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(
      contains(outcome.text, "TLS handshake with 127.0.0.1:" + std::to_string(f.server.port()) +
                                 " failed: certificate verify failed"),
      outcome.text);
  BOOST_TEST(contains(outcome.text, "(certificate: "), outcome.text);
  BOOST_TEST(!contains(f.server.seen->plain, "MAIL"));
  BOOST_TEST(f.server.seen->secure.empty());
}

BOOST_AUTO_TEST_CASE(a_certificate_for_another_name_is_a_temporary_failure) {
  Fixture f({.offer_starttls = true}, Security::starttls);
  f.options.server_name = "relay.example.org";
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(contains(outcome.text, "certificate verify failed"), outcome.text);
  BOOST_TEST(f.server.seen->secure.empty());
}

BOOST_AUTO_TEST_CASE(a_relay_without_starttls_gets_nothing_when_tls_is_required) {
  Fixture f({}, Security::starttls);
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(contains(outcome.text, "no STARTTLS"), outcome.text);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
  BOOST_TEST(f.server.seen->plain == "EHLO gw.example.org\r\nQUIT\r\n");
}

BOOST_AUTO_TEST_CASE(a_550_for_the_recipients_is_permanent_with_the_relay_text) {
  Fixture f({.rcpt_reply = "550 5.1.1 no such user"});
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::permanent));
  BOOST_TEST(outcome.code == 550);
  BOOST_TEST(outcome.text == "5.1.1 no such user");
  BOOST_TEST(!contains(f.server.seen->plain, "DATA"));
}

BOOST_AUTO_TEST_CASE(a_451_is_temporary_with_the_relay_text) {
  Fixture f({.mail_reply = "451 4.3.0 try again later"});
  SmtpRelay relay(f.io, f.options);
  Outcomes outcomes;
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));
  BOOST_REQUIRE(run_until(f.io, [&] { return !outcomes.got.empty(); }));
  BOOST_TEST((outcomes.got.front().kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(outcomes.got.front().code == 451);
  BOOST_TEST(outcomes.got.front().text == "4.3.0 try again later");
  BOOST_TEST(relay.stats().temporary_failures == 1u);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_temporary) {
  asio::io_context io;
  const auto port = closed_port(io);
  const auto outcome = deliver_once(io, options_for(port, Security::starttls));
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(outcome.code == 0);
  BOOST_TEST(outcome.text ==
             "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

BOOST_AUTO_TEST_CASE(a_relay_that_hangs_up_is_temporary) {
  Fixture f({.hang_up = true});
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(contains(outcome.text, "the relay closed the connection"), outcome.text);
}

BOOST_AUTO_TEST_CASE(a_relay_that_never_answers_times_out) {
  Fixture f({.silent = true}, Security::starttls);
  f.options.reply_timeout = milliseconds(200);
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(contains(outcome.text, "the relay did not answer within 0.2 s"), outcome.text);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
}

BOOST_AUTO_TEST_CASE(the_answer_to_the_message_may_take_twice_the_reply_timeout) {
  Fixture f({.hold = milliseconds(600)});
  f.options.reply_timeout = milliseconds(400);
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::sent), outcome.text);
}

BOOST_AUTO_TEST_CASE(security_none_takes_an_offered_starttls_without_checking) {
  Fixture f({.offer_starttls = true});
  f.options.ca_file = ""; // the test CA is unknown: a check would fail
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::sent), outcome.text);
  BOOST_TEST(f.server.seen->plain == "EHLO gw.example.org\r\nSTARTTLS\r\n");
  BOOST_TEST(contains(f.server.seen->secure, "MAIL FROM:<alice@gw.example.org>\r\n"));
}

BOOST_AUTO_TEST_CASE(a_relay_that_trickles_its_reply_times_out_per_reply) {
  Fixture f({.trickle = milliseconds(60)});
  f.options.reply_timeout = milliseconds(300);
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
  BOOST_TEST(contains(outcome.text, "did not answer within 0.3 s"), outcome.text);
}

BOOST_AUTO_TEST_CASE(implicit_tls) {
  Fixture f({.implicit_tls = true, .offer_auth = true}, Security::implicit_tls);
  log_in(f.options);
  const auto outcome = deliver_once(f.io, f.options);
  BOOST_TEST((outcome.kind == SmtpOutcome::Kind::sent), outcome.text);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
  BOOST_TEST(f.server.seen->plain.empty());
  BOOST_TEST(contains(f.server.seen->secure, "AUTH PLAIN AGdhdGV3YXkAczNjcmV0\r\nMAIL FROM:"));
}

BOOST_AUTO_TEST_CASE(one_connection_at_a_time_serves_the_sends_in_order) {
  Fixture f({.hold = milliseconds(30)});
  f.options.max_connections = 1;
  SmtpRelay relay(f.io, f.options);
  Outcomes outcomes;
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(
        relay.send(envelope("Subject: " + std::to_string(i) + "\n\nx"), outcomes.callback()));
  }
  BOOST_TEST(relay.pending() == 3u);
  BOOST_REQUIRE(run_until(f.io, [&] { return outcomes.got.size() == 3; }));
  for (const auto& outcome : outcomes.got) {
    BOOST_TEST((outcome.kind == SmtpOutcome::Kind::sent), outcome.text);
  }
  BOOST_TEST(f.server.seen->connections == 3);
  BOOST_TEST(f.server.seen->max_active == 1);
  BOOST_TEST(f.server.seen->messages == (std::vector<std::string>{"Subject: 0\r\n\r\nx\r\n.\r\n",
                                                                  "Subject: 1\r\n\r\nx\r\n.\r\n",
                                                                  "Subject: 2\r\n\r\nx\r\n.\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(relay.stats().attempts == 3u);
  BOOST_TEST(relay.stats().sent == 3u);
}

BOOST_AUTO_TEST_CASE(send_refuses_beyond_max_waiting) {
  Fixture f({.silent = true});
  f.options.max_connections = 1;
  f.options.max_waiting = 1;
  SmtpRelay relay(f.io, f.options);
  Outcomes outcomes;
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));  // running
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));  // waiting
  BOOST_TEST(!relay.send(envelope(), outcomes.callback())); // refused
  BOOST_TEST(relay.pending() == 2u);
  relay.stop();
  BOOST_REQUIRE(run_until(f.io, [&] { return outcomes.got.size() == 2; }));
  BOOST_TEST(!run_until(
      f.io, [&] { return outcomes.got.size() > 2; }, milliseconds(100)));
}

BOOST_AUTO_TEST_CASE(stop_ends_running_and_waiting_deliveries) {
  Fixture f({.silent = true});
  f.options.max_connections = 1;
  SmtpRelay relay(f.io, f.options);
  Outcomes outcomes;
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(relay.send(envelope(), outcomes.callback()));
  }
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->connections == 1; }));
  relay.stop();
  BOOST_TEST(outcomes.got.empty()); // never inside stop()
  BOOST_TEST(relay.pending() == 0u);
  BOOST_REQUIRE(run_until(f.io, [&] { return outcomes.got.size() == 3; }));
  for (const auto& outcome : outcomes.got) {
    BOOST_TEST((outcome.kind == SmtpOutcome::Kind::temporary));
    BOOST_TEST(outcome.text == "shutting down");
  }
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
  BOOST_TEST(f.server.seen->connections == 1);
  // Later sends end the same way.
  BOOST_TEST(relay.send(envelope(), outcomes.callback()));
  BOOST_TEST(outcomes.got.size() == 3u);
  BOOST_REQUIRE(run_until(f.io, [&] { return outcomes.got.size() == 4; }));
  BOOST_TEST(outcomes.got.back().text == "shutting down");
  BOOST_TEST(relay.stats().temporary_failures == 4u);
  BOOST_TEST(relay.stats().attempts == 1u);
}

BOOST_AUTO_TEST_CASE(destroying_the_relay_calls_back_nothing) {
  Fixture f({.silent = true});
  f.options.max_connections = 1;
  Outcomes outcomes;
  auto relay = std::make_unique<SmtpRelay>(f.io, f.options);
  BOOST_TEST(relay->send(envelope(), outcomes.callback()));
  BOOST_TEST(relay->send(envelope(), outcomes.callback()));
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->connections == 1; }));
  relay.reset();
  BOOST_REQUIRE(run_until(f.io, [&] { return f.server.seen->closed == 1; }));
  BOOST_TEST(!run_until(
      f.io, [&] { return !outcomes.got.empty(); }, milliseconds(200)));

  // Outcomes already posted when the relay goes are dropped too.
  auto stopped = std::make_unique<SmtpRelay>(f.io, f.options);
  BOOST_TEST(stopped->send(envelope(), outcomes.callback()));
  stopped->stop();
  stopped.reset();
  BOOST_TEST(!run_until(
      f.io, [&] { return !outcomes.got.empty(); }, milliseconds(200)));
}

BOOST_AUTO_TEST_SUITE_END()
