// clang-format off
#include <utility>
// clang-format on

#include "loopback.hpp"
#include "run_until.hpp"
#include "smtp_listener.hpp"
#include "test_tls.hpp"

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
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using trestle::smtp::InboundMessage;
using trestle::smtp::ListenerLog;
using trestle::smtp::SmtpListener;
using trestle::smtp::SmtpListenerHandlers;
using trestle::smtp::SmtpListenerOptions;
using trestle::smtp::SmtpVerdict;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

using trestle::test::hard_limit;
using trestle::test::loopback;
using trestle::test::run_until;
using trestle::test::TlsFixture;

/// Short deadlines, so that a test that goes wrong fails fast; the timeout
/// tests shorten them further.
SmtpListenerOptions test_options() {
  SmtpListenerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.session.hostname = "mx.test";
  options.command_timeout = milliseconds(3000);
  options.data_timeout = milliseconds(4000);
  options.tls_handshake_timeout = milliseconds(3000);
  options.write_timeout = milliseconds(3000);
  return options;
}

/// The owner's side: records what the listener asks and answers it, at once,
/// after `delay`, or (with `hold`) whenever the test calls a held answer.
struct Owner {
  std::vector<std::string> checked;
  std::vector<InboundMessage> messages;
  std::vector<std::pair<bool, std::string>> log;
  milliseconds delay{0};
  bool hold = false;
  std::vector<std::function<void(SmtpVerdict)>> held_recipients;
  std::vector<std::function<void(std::vector<SmtpVerdict>)>> held_deliveries;
  std::function<SmtpVerdict(const std::string&)> recipient_verdict = [](const std::string&) {
    return SmtpVerdict{250, "2.1.5", "recipient OK"};
  };
  std::function<std::vector<SmtpVerdict>(const InboundMessage&)> delivery_verdicts =
      [](const InboundMessage&) {
        return std::vector<SmtpVerdict>{{250, "2.0.0", "queued"}};
      };

  SmtpListenerHandlers handlers(asio::io_context& io) {
    SmtpListenerHandlers h;
    h.check_recipient = [this, &io](const std::string& address,
                                    std::function<void(SmtpVerdict)> answer) {
      checked.push_back(address);
      if (hold) {
        held_recipients.push_back(std::move(answer));
        return;
      }
      later(io, [answer, verdict = recipient_verdict(address)] { answer(verdict); });
    };
    h.deliver = [this, &io](InboundMessage message,
                            std::function<void(std::vector<SmtpVerdict>)> answer) {
      messages.push_back(std::move(message));
      if (hold) {
        held_deliveries.push_back(std::move(answer));
        return;
      }
      later(io, [answer, verdicts = delivery_verdicts(messages.back())] { answer(verdicts); });
    };
    return h;
  }

  ListenerLog sink() {
    return [this](bool warning, std::string_view line) {
      log.emplace_back(warning, std::string(line));
    };
  }

  void later(asio::io_context& io, std::function<void()> work) const {
    if (delay.count() == 0) {
      work();
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io, delay);
    timer->async_wait([timer, work](error_code ec) {
      if (!ec) {
        work();
      }
    });
  }

  bool logged(std::string_view part, bool warning) const {
    for (const auto& [is_warning, line] : log) {
      if (is_warning == warning && line.find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
};

/// A test SMTP client on the test's io_context, plain or (after start_tls) TLS.
class Client {
public:
  explicit Client(asio::io_context& io) : socket_(io) {}

  /// Connects to the listener on 127.0.0.1 and returns its greeting.
  awaitable<std::string> connect(std::uint16_t port) {
    co_await socket_.async_connect(loopback(port), use_awaitable);
    greeting_ = co_await replies();
    co_return greeting_;
  }
  const std::string& greeting() const { return greeting_; }

  awaitable<void> send(std::string bytes) {
    if (tls_) {
      co_await asio::async_write(*tls_, asio::buffer(bytes), use_awaitable);
    } else {
      co_await asio::async_write(socket_, asio::buffer(bytes), use_awaitable);
    }
  }

  /// Like send(), but reports a failure instead of throwing.
  awaitable<bool> try_send(std::string bytes) {
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(bytes),
                               asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  /// Sends `commands` and returns the next `count` replies.
  awaitable<std::string> ask(std::string commands, std::size_t count = 1) {
    co_await send(std::move(commands));
    co_return co_await replies(count);
  }

  /// The next `count` replies, each up to its final line, as received.
  awaitable<std::string> replies(std::size_t count = 1) {
    std::string out;
    while (count > 0) {
      const auto end = buffer_.find("\r\n");
      if (end == std::string::npos) {
        if (!co_await read_more()) {
          throw std::runtime_error("the server closed; got \"" + out + buffer_ + "\"");
        }
        continue;
      }
      const std::string line = buffer_.substr(0, end + 2);
      buffer_.erase(0, end + 2);
      out += line;
      if (line.size() >= 4 && line[3] == ' ') {
        --count;
      }
    }
    co_return out;
  }

  /// What comes until the server ends the stream.
  awaitable<std::string> until_closed() {
    bool more = true;
    while (more) {
      more = co_await read_more();
    }
    std::string rest = std::move(buffer_);
    buffer_.clear();
    co_return rest;
  }

  awaitable<void> start_tls(ssl::context& context) {
    tls_.emplace(std::move(socket_), context);
    tls_->set_verify_callback(ssl::host_name_verification("localhost"));
    co_await tls_->async_handshake(ssl::stream_base::client, use_awaitable);
  }

  void close() {
    error_code ignored;
    (tls_ ? tls_->next_layer() : socket_).close(ignored);
  }

private:
  awaitable<bool> read_more() {
    std::array<char, 4096> chunk{};
    error_code ec;
    std::size_t n = 0;
    if (tls_) {
      n = co_await tls_->async_read_some(asio::buffer(chunk),
                                         asio::redirect_error(use_awaitable, ec));
    } else {
      n = co_await socket_.async_read_some(asio::buffer(chunk),
                                           asio::redirect_error(use_awaitable, ec));
    }
    buffer_.append(chunk.data(), n);
    co_return !ec;
  }

  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  std::string buffer_;
  std::string greeting_;
};

awaitable<void> sleep_for(milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(use_awaitable);
}

/// Runs a client script (a coroutine) on `io` to its end, within `limit`;
/// rethrows what it threw.
template <typename Script>
void run_script(asio::io_context& io, Script&& script, milliseconds limit = hard_limit) {
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, script(), [&](std::exception_ptr error) {
    failure = error;
    done = true;
  });
  BOOST_REQUIRE_MESSAGE(run_until(
                            io, [&] { return done; }, limit),
                        "the client script did not finish in time");
  if (failure) {
    std::rethrow_exception(failure);
  }
}

/// An io_context, the owner and a started listener (destroyed in that
/// order's reverse: the listener first).
struct Fixture {
  explicit Fixture(SmtpListenerOptions options = test_options()) {
    listener = std::make_unique<SmtpListener>(io, options, owner.handlers(io), owner.sink());
    std::string error;
    BOOST_REQUIRE_MESSAGE(listener->start(&error), error);
    BOOST_REQUIRE_NE(listener->port(), 0);
  }
  std::uint16_t port() const { return listener->port(); }
  /// Runs `script`, a coroutine that takes a Client&, with a client that
  /// connected and read the greeting.
  template <typename Script> void talk(Script&& script, milliseconds limit = hard_limit) {
    run_script(
        io,
        [&]() -> awaitable<void> {
          Client client(io);
          (void)co_await client.connect(port());
          co_await script(client);
        },
        limit);
  }
  /// The one message the owner got; the test stops unless there is exactly one.
  const InboundMessage& only_message() const {
    BOOST_REQUIRE_EQUAL(owner.messages.size(), 1u);
    return owner.messages.front();
  }
  bool idle() {
    return run_until(io, [&] { return listener->active_connections() == 0; });
  }

  asio::io_context io;
  Owner owner;
  std::unique_ptr<SmtpListener> listener;
};

/// After the greeting: EHLO, MAIL, RCPT for each recipient (each answered
/// 250), DATA.
awaitable<void> open_transaction(Client& client, std::vector<std::string> recipients) {
  (void)co_await client.ask("EHLO client.test\r\n");
  const auto mail = co_await client.ask("MAIL FROM:<alice@example.org>\r\n");
  BOOST_TEST(mail == "250 2.1.0 sender OK\r\n");
  for (const auto& recipient : recipients) {
    const auto rcpt = co_await client.ask("RCPT TO:<" + recipient + ">\r\n");
    BOOST_TEST(rcpt.starts_with("250 "));
  }
  const auto data = co_await client.ask("DATA\r\n");
  BOOST_TEST(data.starts_with("354 "));
}

/// After the greeting: EHLO and a null sender in one write, then `recipient`
/// (its answer is left unread: the owner may hold it).
awaitable<void> begin_mail(Client& client, std::string recipient) {
  (void)co_await client.ask("EHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<" + recipient + ">\r\n",
                            2);
}

/// Listener options that offer STARTTLS with the fixture's certificate.
SmtpListenerOptions tls_options(const TlsFixture& tls) {
  auto options = test_options();
  options.tls_certificate_file = tls.cert_file;
  options.tls_key_file = tls.key_file;
  return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(smtp_listener)

BOOST_AUTO_TEST_CASE(full_transaction_reaches_the_handler) {
  Fixture f;
  f.talk([&](Client& client) -> awaitable<void> {
    BOOST_TEST(client.greeting() == "220 mx.test ESMTP trestle\r\n");
    const auto ehlo = co_await client.ask("EHLO client.test\r\n");
    BOOST_TEST(ehlo.find("250-PIPELINING\r\n") != std::string::npos);
    BOOST_TEST(ehlo.find("STARTTLS") == std::string::npos);
    const auto mail = co_await client.ask("MAIL FROM:<alice@example.org> BODY=8BITMIME\r\n");
    BOOST_TEST(mail == "250 2.1.0 sender OK\r\n");
    const auto rcpt = co_await client.ask("RCPT TO:<bob@gw.test>\r\n");
    BOOST_TEST(rcpt == "250 2.1.5 recipient OK\r\n");
    const auto data = co_await client.ask("DATA\r\n");
    BOOST_TEST(data.starts_with("354 "));
    const auto done = co_await client.ask("Subject: hi\r\n\r\nHello \xc3\xa9\r\n..dot\r\n.\r\n");
    BOOST_TEST(done == "250 2.0.0 queued\r\n");
    const auto bye = co_await client.ask("QUIT\r\n");
    BOOST_TEST(bye == "221 2.0.0 bye\r\n");
    const auto rest = co_await client.until_closed();
    BOOST_TEST(rest == "");
  });
  const auto& message = f.only_message();
  BOOST_TEST(message.helo == "client.test");
  BOOST_TEST(message.mail_from == "alice@example.org");
  BOOST_TEST(message.recipients == std::vector<std::string>{"bob@gw.test"});
  BOOST_TEST(message.data == "Subject: hi\r\n\r\nHello \xc3\xa9\r\n.dot\r\n");
  BOOST_TEST(message.eight_bit);
  BOOST_TEST(!message.tls);
  BOOST_TEST(f.owner.checked == std::vector<std::string>{"bob@gw.test"});
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.listener->stats().connections == 1u);
  BOOST_TEST(f.listener->stats().messages == 1u);
  BOOST_TEST(f.listener->stats().timeouts == 0u);
  BOOST_TEST(
      f.owner.logged("SMTP session from 127.0.0.1 ended: the client quit (1 message)", false));
}

BOOST_AUTO_TEST_CASE(recipient_refused_by_the_handler) {
  Fixture f;
  f.owner.recipient_verdict = [](const std::string& address) {
    return address == "nobody@gw.test" ? SmtpVerdict{550, "5.1.1", "no such user"}
                                       : SmtpVerdict{250, "2.1.5", "recipient OK"};
  };
  f.talk([&](Client& client) -> awaitable<void> {
    (void)co_await client.ask("EHLO client.test\r\nMAIL FROM:<>\r\n", 2);
    const auto refused = co_await client.ask("RCPT TO:<nobody@gw.test>\r\n");
    BOOST_TEST(refused == "550 5.1.1 no such user\r\n");
    const auto data = co_await client.ask("DATA\r\n");
    BOOST_TEST(data == "554 5.5.1 no valid recipients\r\n");
    const auto accepted = co_await client.ask("RCPT TO:<bob@gw.test>\r\n");
    BOOST_TEST(accepted == "250 2.1.5 recipient OK\r\n");
    (void)co_await client.ask("QUIT\r\n");
  });
  BOOST_TEST(f.owner.checked == (std::vector<std::string>{"nobody@gw.test", "bob@gw.test"}));
  BOOST_TEST(f.owner.messages.empty());
}

BOOST_AUTO_TEST_CASE(handler_answers_later) {
  Fixture f;
  f.owner.delay = milliseconds(100);
  f.talk([&](Client& client) -> awaitable<void> {
    const std::vector<std::string> recipients{"bob@gw.test", "carol@gw.test"};
    co_await open_transaction(client, recipients);
    const auto done = co_await client.ask("Hello\r\n.\r\n");
    BOOST_TEST(done == "250 2.0.0 queued\r\n");
    (void)co_await client.ask("QUIT\r\n");
  });
  BOOST_TEST(f.only_message().recipients ==
             (std::vector<std::string>{"bob@gw.test", "carol@gw.test"}));
  BOOST_TEST(f.only_message().data == "Hello\r\n");
}

BOOST_AUTO_TEST_CASE(delivery_answered_451_keeps_the_session) {
  Fixture f;
  f.owner.delivery_verdicts = [](const InboundMessage&) {
    return std::vector<SmtpVerdict>{{451, "4.3.0", "storage unavailable"}};
  };
  f.talk([&](Client& client) -> awaitable<void> {
    const std::vector<std::string> recipients{"bob@gw.test"};
    co_await open_transaction(client, recipients);
    const auto done = co_await client.ask("Hello\r\n.\r\n");
    BOOST_TEST(done == "451 4.3.0 storage unavailable\r\n");
    const auto noop = co_await client.ask("NOOP\r\n");
    BOOST_TEST(noop == "250 2.0.0 OK\r\n");
  });
}

BOOST_AUTO_TEST_CASE(malformed_verdicts_are_made_safe) {
  Fixture f;
  f.owner.recipient_verdict = [](const std::string& address) {
    return address == "odd@gw.test" ? SmtpVerdict{550, "5.1.1\r\n250 2.0.0 fake", "no"}
                                    : SmtpVerdict{999, "9.9.9", "what"};
  };
  f.talk([&](Client& client) -> awaitable<void> {
    (void)co_await client.ask("EHLO client.test\r\nMAIL FROM:<>\r\n", 2);
    const auto replies =
        co_await client.ask("RCPT TO:<odd@gw.test>\r\nRCPT TO:<other@gw.test>\r\n", 2);
    BOOST_TEST(replies == "550 5.0.0 no\r\n451 4.3.0 local error; try again later\r\n");
  });
}

BOOST_AUTO_TEST_CASE(lmtp_answers_per_recipient) {
  auto options = test_options();
  options.session.lmtp = true;
  Fixture f(options);
  f.owner.delivery_verdicts = [](const InboundMessage& message) {
    std::vector<SmtpVerdict> verdicts;
    for (const auto& recipient : message.recipients) {
      verdicts.push_back(recipient == "full@gw.test"
                             ? SmtpVerdict{452, "4.2.2", "mailbox full"}
                             : SmtpVerdict{250, "2.0.0", "delivered to " + recipient});
    }
    return verdicts;
  };
  f.talk([&](Client& client) -> awaitable<void> {
    BOOST_TEST(client.greeting() == "220 mx.test LMTP trestle\r\n");
    const std::array<std::string, 5> commands{"LHLO mta.test", "MAIL FROM:<alice@example.org>",
                                              "RCPT TO:<bob@gw.test>", "RCPT TO:<full@gw.test>",
                                              "DATA"};
    for (const auto& command : commands) {
      (void)co_await client.ask(command + "\r\n");
    }
    const auto answers = co_await client.ask("Hello\r\n.\r\n", 2);
    BOOST_TEST(answers == "250 2.0.0 delivered to bob@gw.test\r\n452 4.2.2 mailbox full\r\n");
  });
  BOOST_TEST(f.only_message().recipients ==
             (std::vector<std::string>{"bob@gw.test", "full@gw.test"}));
}

BOOST_AUTO_TEST_CASE(pipelined_commands_in_one_write) {
  Fixture f;
  // Answers come later, so the pipelined commands wait in the session.
  f.owner.delay = milliseconds(50);
  f.talk([&](Client& client) -> awaitable<void> {
    (void)co_await client.ask("EHLO client.test\r\n");
    const auto replies = co_await client.ask("MAIL FROM:<alice@example.org>\r\n"
                                             "RCPT TO:<bob@gw.test>\r\n"
                                             "RCPT TO:<carol@gw.test>\r\nDATA\r\n",
                                             4);
    BOOST_TEST(replies == "250 2.1.0 sender OK\r\n250 2.1.5 recipient OK\r\n"
                          "250 2.1.5 recipient OK\r\n354 end data with <CR><LF>.<CR><LF>\r\n");
    const auto end = co_await client.ask("Hello\r\n.\r\nQUIT\r\n", 2);
    BOOST_TEST(end == "250 2.0.0 queued\r\n221 2.0.0 bye\r\n");
  });
  BOOST_TEST(f.only_message().recipients ==
             (std::vector<std::string>{"bob@gw.test", "carol@gw.test"}));
}

BOOST_AUTO_TEST_CASE(starttls_then_a_transaction) {
  TlsFixture tls;
  Fixture f(tls_options(tls));
  auto context = trestle::test::client_context(tls.certificate);
  f.talk([&](Client& client) -> awaitable<void> {
    const auto ehlo = co_await client.ask("EHLO client.test\r\n");
    BOOST_TEST(ehlo.ends_with("250 STARTTLS\r\n"));
    // The EHLO behind STARTTLS was sent in the clear: it must not count.
    const auto ready = co_await client.ask("STARTTLS\r\nEHLO injected.test\r\n");
    BOOST_TEST(ready == "220 2.0.0 ready to start TLS\r\n");
    co_await client.start_tls(context);
    const auto early = co_await client.ask("MAIL FROM:<alice@example.org>\r\n");
    BOOST_TEST(early == "503 5.5.1 say EHLO first\r\n");
    const auto again = co_await client.ask("EHLO client.test\r\n");
    BOOST_TEST(again.find("STARTTLS") == std::string::npos);
    const auto opened = co_await client.ask(
        "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@gw.test>\r\nDATA\r\n", 3);
    BOOST_TEST(opened.ends_with("354 end data with <CR><LF>.<CR><LF>\r\n"));
    const auto end = co_await client.ask("Secret\r\n.\r\nQUIT\r\n", 2);
    BOOST_TEST(end == "250 2.0.0 queued\r\n221 2.0.0 bye\r\n");
    (void)co_await client.until_closed();
  });
  const auto& message = f.only_message();
  BOOST_TEST(message.tls);
  BOOST_TEST(message.helo == "client.test");
  BOOST_TEST(message.data == "Secret\r\n");
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.listener->stats().tls_sessions == 1u);
  BOOST_TEST(f.owner.logged("ended: the client quit (1 message, TLS)", false));
}

BOOST_AUTO_TEST_CASE(tls_handshake_timeout_closes) {
  TlsFixture tls;
  auto options = tls_options(tls);
  options.tls_handshake_timeout = milliseconds(200);
  Fixture f(options);
  f.talk([&](Client& client) -> awaitable<void> {
    (void)co_await client.ask("EHLO client.test\r\nSTARTTLS\r\n", 2);
    // No handshake: the server gives up and closes.
    const auto rest = co_await client.until_closed();
    BOOST_TEST(rest == "");
  });
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.listener->stats().timeouts == 1u);
  BOOST_TEST(f.owner.logged("ended: TLS handshake timeout", false));
}

BOOST_AUTO_TEST_CASE(command_timeout_says_421) {
  auto options = test_options();
  options.command_timeout = milliseconds(200);
  Fixture f(options);
  f.talk([&](Client& client) -> awaitable<void> {
    const auto timeout = co_await client.replies();
    BOOST_TEST(timeout == "421 4.4.2 mx.test timeout, closing the connection\r\n");
    const auto rest = co_await client.until_closed();
    BOOST_TEST(rest == "");
  });
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.listener->stats().timeouts == 1u);
  BOOST_TEST(f.owner.logged("ended: timeout waiting for a command (0 messages)", false));
}

/// Sends one byte every 50 ms until the write fails or `stop` is set.
awaitable<void> trickle(std::shared_ptr<Client> client, std::shared_ptr<bool> stop, char byte) {
  for (int i = 0; i < 200 && !*stop; ++i) {
    if (!co_await client->try_send(std::string(1, byte))) {
      break;
    }
    co_await sleep_for(milliseconds(50));
  }
  *stop = true;
}

/// A slow client: connects, runs `prepare` (a coroutine that takes the
/// Client&), then sends `byte` every 50 ms, each well within the command
/// timeout, until the server answers. Returns that answer once the sending
/// stopped and the listener has no connection left.
template <typename Prepare>
std::string trickle_until_answered(Fixture& f, char byte, Prepare&& prepare) {
  auto stop = std::make_shared<bool>(false);
  std::string answer;
  run_script(
      f.io,
      [&]() -> awaitable<void> {
        auto client = std::make_shared<Client>(f.io);
        (void)co_await client->connect(f.port());
        co_await prepare(*client);
        asio::co_spawn(f.io, trickle(client, stop, byte), asio::detached);
        answer = co_await client->replies();
        *stop = true;
      },
      milliseconds(3000));
  BOOST_REQUIRE(run_until(f.io, [&] { return *stop; }));
  BOOST_REQUIRE(f.idle());
  return answer;
}

BOOST_AUTO_TEST_CASE(slowloris_command_line_is_cut) {
  auto options = test_options();
  options.command_timeout = milliseconds(300);
  Fixture f(options);
  // A command line that never ends.
  const auto answer = trickle_until_answered(f, 'N', [](Client&) -> awaitable<void> { co_return; });
  BOOST_TEST(answer.starts_with("421 4.4.2 "));
  BOOST_TEST(f.listener->stats().timeouts == 1u);
}

BOOST_AUTO_TEST_CASE(slowloris_data_is_cut_by_the_data_timeout) {
  auto options = test_options();
  options.command_timeout = milliseconds(300);
  options.data_timeout = milliseconds(800);
  Fixture f(options);
  // Each byte comes within the command timeout; the whole message never does.
  const auto answer = trickle_until_answered(f, 'x', [](Client& client) -> awaitable<void> {
    const std::vector<std::string> recipients{"bob@gw.test"};
    co_await open_transaction(client, recipients);
  });
  BOOST_TEST(answer == "421 4.4.2 mx.test timeout, closing the connection\r\n");
  BOOST_TEST(f.listener->stats().timeouts == 1u);
  BOOST_TEST(f.owner.messages.empty());
  BOOST_TEST(f.owner.logged("ended: timeout in the message data", false));
}

BOOST_AUTO_TEST_CASE(command_timeout_under_tls_says_421) {
  TlsFixture tls;
  auto options = tls_options(tls);
  options.command_timeout = milliseconds(200);
  Fixture f(options);
  auto context = trestle::test::client_context(tls.certificate);
  f.talk([&](Client& client) -> awaitable<void> {
    (void)co_await client.ask("EHLO client.test\r\nSTARTTLS\r\n", 2);
    co_await client.start_tls(context);
    (void)co_await client.ask("EHLO client.test\r\n");
    // Half a command, then silence: the TLS read is cancelled and the 421
    // still goes out under TLS.
    const auto timeout = co_await client.ask("NO");
    BOOST_TEST(timeout == "421 4.4.2 mx.test timeout, closing the connection\r\n");
    (void)co_await client.until_closed();
  });
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.listener->stats().timeouts == 1u);
  BOOST_TEST(f.listener->stats().tls_sessions == 1u);
}

BOOST_AUTO_TEST_CASE(ipv6_literal_in_brackets) {
  auto options = test_options();
  options.bind = "[::1]";
  Fixture f(options);
  run_script(f.io, [&]() -> awaitable<void> {
    tcp::socket socket(f.io);
    co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("::1"), f.port()),
                                  use_awaitable);
    std::array<char, 64> greeting{};
    const auto n = co_await socket.async_read_some(asio::buffer(greeting), use_awaitable);
    BOOST_TEST(std::string(greeting.data(), n) == "220 mx.test ESMTP trestle\r\n");
  });
  BOOST_TEST(f.owner.logged("SMTP listening on [::1]:" + std::to_string(f.port()), false));
}

BOOST_AUTO_TEST_CASE(client_that_does_not_read_is_cut_by_the_write_timeout) {
  auto options = test_options();
  options.write_timeout = milliseconds(200);
  Fixture f(options);
  f.talk([&](Client& client) -> awaitable<void> {
    // Commands, never reading a reply: the server's writes back up until it
    // gives up and closes, which makes a send fail.
    std::string noops;
    for (int i = 0; i < 10000; ++i) {
      noops += "NOOP\r\n";
    }
    for (int i = 0; i < 500; ++i) {
      if (!co_await client.try_send(noops)) {
        break;
      }
    }
  });
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.listener->stats().timeouts == 1u);
  BOOST_TEST(f.owner.logged("ended: write timeout (the client does not read)", false));
}

BOOST_AUTO_TEST_CASE(connection_cap_refuses_with_421) {
  auto options = test_options();
  options.max_connections = 1;
  Fixture f(options);
  run_script(f.io, [&]() -> awaitable<void> {
    Client first(f.io);
    (void)co_await first.connect(f.port());
    Client second(f.io);
    const auto refused = co_await second.connect(f.port());
    BOOST_TEST(refused == "421 4.7.0 mx.test Too many connections, try again later\r\n");
    const auto rest = co_await second.until_closed();
    BOOST_TEST(rest == "");
    BOOST_TEST(f.listener->active_connections() == 1u);
    const auto noop = co_await first.ask("NOOP\r\n");
    BOOST_TEST(noop == "250 2.0.0 OK\r\n");
    (void)co_await first.ask("QUIT\r\n");
    (void)co_await first.until_closed();
    first.close();
    while (f.listener->active_connections() != 0) {
      co_await sleep_for(milliseconds(10));
    }
    // The slot is free again.
    Client third(f.io);
    const auto greeting = co_await third.connect(f.port());
    BOOST_TEST(greeting.starts_with("220 "));
  });
  BOOST_TEST(f.listener->stats().refused_connections == 1u);
  BOOST_TEST(f.listener->stats().connections == 2u);
  BOOST_TEST(f.owner.logged("connection limit (1) reached; refused 127.0.0.1", true));
}

BOOST_AUTO_TEST_CASE(start_errors_are_clear) {
  asio::io_context io;
  Owner owner;
  const auto start_error = [&](const SmtpListenerOptions& options) {
    SmtpListener listener(io, options, owner.handlers(io), owner.sink());
    std::string error;
    BOOST_TEST(!listener.start(&error));
    BOOST_TEST(listener.port() == 0u);
    return error;
  };
  SmtpListener first(io, test_options(), owner.handlers(io), owner.sink());
  std::string error;
  BOOST_REQUIRE(first.start(&error));
  BOOST_TEST(!first.start(&error));
  BOOST_TEST(error == "the SMTP listener is already started");

  auto options = test_options();
  options.port = first.port();
  BOOST_TEST(start_error(options) == "cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                                         ": Address already in use");

  options = test_options();
  options.bind = "localhost";
  BOOST_TEST(start_error(options) ==
             "cannot listen on localhost: the bind address must be an IPv4 or IPv6 "
             "literal (no name is resolved)");

  TlsFixture tls;
  const auto& files = tls.files;
  options = tls_options(tls);
  options.tls_certificate_file = files.path("missing.pem");
  BOOST_TEST(start_error(options) == "cannot load the TLS certificate " +
                                         files.path("missing.pem") + ": No such file or directory");
  BOOST_TEST(owner.logged("cannot load the TLS certificate", true));

  options.tls_certificate_file = files.write("garbage.pem", "not a certificate\n");
  BOOST_TEST(start_error(options).starts_with("cannot load the TLS certificate " +
                                              files.path("garbage.pem") + ": "));

  options.tls_certificate_file = tls.cert_file;
  options.tls_key_file = files.path("missing-key.pem");
  BOOST_TEST(start_error(options) == "cannot load the TLS key " + files.path("missing-key.pem") +
                                         ": No such file or directory");

  options.tls_key_file = files.write("garbage-key.pem", "not a key\n");
  BOOST_TEST(start_error(options).starts_with("cannot load the TLS key " +
                                              files.path("garbage-key.pem") + ": "));

  options.tls_key_file = files.write("other-key.pem", trestle::test::make_certificate().key_pem);
  BOOST_TEST(start_error(options) == "the TLS key " + files.path("other-key.pem") +
                                         " does not match the certificate " + tls.cert_file);

  options.tls_key_file.clear();
  BOOST_TEST(start_error(options) == "STARTTLS needs both a certificate file and a key file");
}

BOOST_AUTO_TEST_CASE(stop_closes_clients_with_421) {
  Fixture f;
  f.owner.hold = true;
  run_script(f.io, [&]() -> awaitable<void> {
    Client idle(f.io);
    (void)co_await idle.connect(f.port());
    (void)co_await idle.ask("EHLO client.test\r\n");
    // The other client waits for the owner's answer to its RCPT.
    Client waiting(f.io);
    (void)co_await waiting.connect(f.port());
    co_await begin_mail(waiting, "bob@gw.test");
    while (f.owner.held_recipients.empty()) {
      co_await sleep_for(milliseconds(10));
    }
    f.listener->stop();
    const auto first = co_await idle.replies();
    BOOST_TEST(first == "421 4.3.2 mx.test Service shutting down\r\n");
    const auto second = co_await waiting.replies();
    BOOST_TEST(second == "421 4.3.2 mx.test Service shutting down\r\n");
    const auto rest_first = co_await idle.until_closed();
    const auto rest_second = co_await waiting.until_closed();
    BOOST_TEST(rest_first == "");
    BOOST_TEST(rest_second == "");
    // The answer after the stop changes nothing.
    f.owner.held_recipients.front()(SmtpVerdict{});
    // Nobody listens any more.
    tcp::socket late(f.io);
    error_code ec;
    co_await late.async_connect(loopback(f.port()), asio::redirect_error(use_awaitable, ec));
    BOOST_TEST(ec == asio::error::connection_refused);
  });
  BOOST_REQUIRE(f.idle());
  BOOST_TEST(f.owner.logged("ended: the listener stopped", false));
}

BOOST_AUTO_TEST_CASE(handler_does_not_answer_in_time) {
  auto options = test_options();
  options.command_timeout = milliseconds(200);
  Fixture f(options);
  f.owner.hold = true;
  f.talk([&](Client& client) -> awaitable<void> {
    co_await begin_mail(client, "bob@gw.test");
    const auto late = co_await client.replies();
    BOOST_TEST(late == "451 4.3.0 no answer in time; try again later\r\n");
    // A late answer, and a second one, are ignored.
    f.owner.held_recipients.at(0)(SmtpVerdict{});
    f.owner.held_recipients.at(0)(SmtpVerdict{});
    const auto noop = co_await client.ask("NOOP\r\n");
    BOOST_TEST(noop == "250 2.0.0 OK\r\n");
  });
  BOOST_TEST(f.owner.logged("no answer to a recipient check within 0.2s", true));
}

BOOST_AUTO_TEST_CASE(destroyed_with_answers_pending) {
  std::function<void(SmtpVerdict)> recipient_answer;
  std::function<void(std::vector<SmtpVerdict>)> delivery_answer;
  {
    Fixture f;
    f.owner.hold = true;
    run_script(f.io, [&]() -> awaitable<void> {
      Client checking(f.io);
      (void)co_await checking.connect(f.port());
      co_await begin_mail(checking, "bob@gw.test");

      Client delivering(f.io);
      (void)co_await delivering.connect(f.port());
      co_await begin_mail(delivering, "carol@gw.test");
      while (f.owner.held_recipients.size() < 2) {
        co_await sleep_for(milliseconds(10));
      }
      f.owner.held_recipients[1](SmtpVerdict{});
      (void)co_await delivering.replies();
      (void)co_await delivering.ask("DATA\r\n");
      co_await delivering.send("Hello\r\n.\r\n");
      while (f.owner.held_deliveries.empty()) {
        co_await sleep_for(milliseconds(10));
      }

      f.listener.reset();
      // Answers right away, while the connections still wind down...
      f.owner.held_recipients[0](SmtpVerdict{});
      f.owner.held_deliveries[0]({SmtpVerdict{}});
      // ...and the clients see the end at once, without a 421.
      const auto rest_checking = co_await checking.until_closed();
      const auto rest_delivering = co_await delivering.until_closed();
      BOOST_TEST(rest_checking == "");
      BOOST_TEST(rest_delivering == "");
    });
    // Let every coroutine wind down.
    run_until(
        f.io, [] { return false; }, milliseconds(100));
    recipient_answer = f.owner.held_recipients.at(0);
    delivery_answer = f.owner.held_deliveries.at(0);
  }
  // The io_context and everything else are gone: still harmless.
  recipient_answer(SmtpVerdict{});
  delivery_answer({SmtpVerdict{}});
}

BOOST_AUTO_TEST_SUITE_END()
