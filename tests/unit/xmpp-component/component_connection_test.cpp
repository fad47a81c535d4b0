#include "component_connection.hpp"
#include "element.hpp"
#include "loopback.hpp"
#include "namespaces.hpp"
#include "run_until.hpp"
#include "xml_stream_parser.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using trestle::xmpp::ComponentConnection;
using trestle::xmpp::ConnectionOptions;
using trestle::xmpp::Element;
using trestle::xmpp::LinkState;
using trestle::xmpp::LogSeverity;
using trestle::xmpp::XmlStreamParser;
namespace ns = trestle::xmpp::ns;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const std::string domain = "irc.example.org";
const std::string secret = "s3cret";
/// The fake server's stream id, raw and as written in its header.
const std::string stream_id_markup = "st&amp;r&lt;m";
/// sha1("st&r<m" + "s3cret") and sha1("st&r<m" + "wrong"), from sha1sum.
const std::string good_digest = "804aa34beb65f133d69d04a06aaadee44210b63f";
const std::string wrong_digest = "e3b71a3e1dfb67ff7c2fe44f5bf49c06f6261a53";

const std::string close_tag = "</stream:stream>";

/// Every test's hard upper bound: a hang fails the test instead of blocking.
using trestle::test::hard_limit;

std::string stream_error(std::string_view condition) {
  return "<stream:error><" + std::string(condition) +
         " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>" + close_tag;
}

/// `<message>` number `n` from the component to a user.
Element message(int n) {
  Element stanza("message");
  stanza.set_attr("from", "bot@" + domain);
  stanza.set_attr("to", "user@example.org");
  stanza.append("body").append_text("m" + std::to_string(n));
  return stanza;
}

/// How the fake server behaves; the same for every connection it accepts.
struct Script {
  /// The first this many connections get no stream header (a stuck server).
  int silent_connections = 0;
  /// Delay before answering a correct handshake.
  milliseconds handshake_delay{0};
  bool answer_pings = true;
  bool answer_close = true;
};

/// One accepted connection of the fake XEP-0114 server. It parses what the
/// driver writes with the project's parser and records it as `events`:
/// `open <to>`, `handshake <digest>`, `early <stanza>` (before the server
/// accepted the handshake), `stanza <stanza>`, `ping <id>`, `close`, `eof`.
class ServerConn : public XmlStreamParser::Handler,
                   public std::enable_shared_from_this<ServerConn> {
public:
  ServerConn(tcp::socket socket, const Script& script, int index)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), script_(script), index_(index) {
  }

  /// Writes `bytes` to the driver. Payloads are tiny and loopback buffers are
  /// large, so a blocking write cannot stall the shared loop.
  void write(std::string_view bytes) {
    if (bytes.ends_with(close_tag)) {
      closed_sent_ = true;
    }
    if (socket_.is_open()) {
      error_code ignored;
      asio::write(socket_, asio::buffer(bytes), ignored);
    }
  }
  /// Drops the TCP connection without a closing tag.
  void drop() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  awaitable<void> serve() {
    auto self = shared_from_this();
    std::array<char, 4096> buffer{};
    for (;;) {
      error_code ec;
      const std::size_t n = co_await socket_.async_read_some(
          asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        break;
      }
      if (!parser_.feed(std::string_view(buffer.data(), n))) {
        events.push_back("parse error");
        break;
      }
    }
    events.push_back("eof");
    drop();
  }

  std::vector<std::string> events;
  /// Stanzas after authentication, pings excluded.
  std::vector<Element> stanzas;
  std::vector<Element> pings;
  /// Stream errors the driver sent (top-level `error` in the streams namespace).
  std::vector<Element> errors;
  bool authed = false;
  bool eof() const { return !events.empty() && events.back() == "eof"; }
  bool got(std::string_view event) const {
    for (const auto& e : events) {
      if (e == event) {
        return true;
      }
    }
    return false;
  }
  Clock::time_point accepted_at = Clock::now();

private:
  void on_stream_open(const Element& header) override {
    events.push_back("open " + header.attr_or("to"));
    if (index_ < script_.silent_connections) {
      return;
    }
    write("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns='jabber:component:accept' from='" +
          domain + "' id='" + stream_id_markup + "'>");
  }

  void on_stanza(Element stanza) override {
    if (stanza.name() == "error" && stanza.xmlns() == ns::streams) {
      events.push_back("stream error " + serialize(stanza, ns::component));
      errors.push_back(std::move(stanza));
      return;
    }
    if (!authed && stanza.name() == "handshake") {
      events.push_back("handshake " + stanza.text());
      if (stanza.text() != good_digest) {
        // What Prosody and ejabberd do; then wait for the driver's close.
        write(stream_error("not-authorized"));
        return;
      }
      if (script_.handshake_delay.count() > 0) {
        timer_.expires_after(script_.handshake_delay);
        timer_.async_wait([self = shared_from_this()](error_code ec) {
          if (!ec) {
            self->accept_handshake();
          }
        });
      } else {
        accept_handshake();
      }
      return;
    }
    const std::string markup = serialize(stanza, ns::component);
    if (!authed) {
      events.push_back("early " + markup);
      return;
    }
    if (stanza.name() == "iq" && stanza.find("ping", ns::ping) != nullptr) {
      events.push_back("ping " + stanza.attr_or("id"));
      if (script_.answer_pings) {
        write("<iq type='result' id='" + stanza.attr_or("id") + "' from='" + domain + "' to='" +
              domain + "'/>");
      }
      pings.push_back(std::move(stanza));
      return;
    }
    events.push_back("stanza " + markup);
    stanzas.push_back(std::move(stanza));
  }

  void on_stream_close() override {
    events.push_back("close");
    if (script_.answer_close && !closed_sent_) {
      write(close_tag);
    }
  }

  void accept_handshake() {
    write("<handshake/>");
    authed = true;
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const Script& script_;
  int index_;
  bool closed_sent_ = false;
  XmlStreamParser parser_{*this};
};

/// A fake XEP-0114 server on 127.0.0.1 (ephemeral port).
class FakeServer {
public:
  explicit FakeServer(asio::io_context& io) : io_(io), acceptor_(io, trestle::test::loopback()) {
    auto admit = [this](tcp::socket socket) {
      // No Nagle delay: tests write small pieces back to back.
      error_code ec;
      socket.set_option(tcp::no_delay(true), ec);
      auto conn =
          std::make_shared<ServerConn>(std::move(socket), script, static_cast<int>(conns.size()));
      conns.push_back(conn);
      asio::co_spawn(io_, conn->serve(), asio::detached);
    };
    asio::co_spawn(io_, trestle::test::accept_each(acceptor_, admit), asio::detached);
  }
  ~FakeServer() { close(); }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  /// Stops accepting and drops every connection.
  void close() {
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& conn : conns) {
      conn->drop();
    }
  }
  /// Connection `i` (0-based); the test fails if there is none.
  ServerConn& conn(std::size_t i) {
    BOOST_TEST_REQUIRE(i < conns.size());
    return *conns[i];
  }
  /// Connections that completed the handshake.
  std::size_t authed() const {
    std::size_t n = 0;
    for (const auto& conn : conns) {
      n += conn->authed ? 1 : 0;
    }
    return n;
  }

  Script script;
  std::vector<std::shared_ptr<ServerConn>> conns;

private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
};

/// The io_context, the fake server and the driver under test, with what the
/// driver reported.
struct Harness {
  Harness() = default;
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  ~Harness() {
    // Let every coroutine see its socket close and end, so nothing outlives
    // the objects it refers to.
    conn.reset();
    server.close();
    io.restart();
    io.run_for(hard_limit);
  }

  /// Options for a fast test: small backoff, no keepalive unless asked.
  ConnectionOptions options() const {
    ConnectionOptions o;
    o.host = "127.0.0.1";
    o.port = server.port();
    o.domain = domain;
    o.secret = secret;
    o.connect_timeout = milliseconds(4000);
    o.keepalive_interval = milliseconds(60000);
    o.keepalive_timeout = milliseconds(60000);
    o.close_timeout = milliseconds(2000);
    o.reconnect_min = milliseconds(20);
    o.reconnect_max = milliseconds(100);
    return o;
  }

  ComponentConnection& make(ConnectionOptions o) {
    conn = std::make_unique<ComponentConnection>(
        io, std::move(o), [this](Element stanza) { received.push_back(std::move(stanza)); },
        [this](LogSeverity, std::string_view text) { logs.emplace_back(text); });
    return *conn;
  }

  /// Runs the loop until `done()` holds or `limit` passes.
  bool run_until(const std::function<bool()>& done, milliseconds limit = hard_limit) {
    return trestle::test::run_until(io, done, limit);
  }

  /// Runs the loop for `window`, whatever happens.
  void run_for(milliseconds window) {
    io.restart();
    io.run_for(window);
  }

  /// Whether a log line contains `text`.
  bool logged(std::string_view text) const {
    for (const auto& line : logs) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  asio::io_context io;
  FakeServer server{io};
  std::vector<Element> received;
  std::vector<std::string> logs;
  std::unique_ptr<ComponentConnection> conn;
};

std::vector<std::string> bodies(const std::vector<Element>& stanzas) {
  std::vector<std::string> out;
  for (const auto& stanza : stanzas) {
    out.push_back(stanza.child_text("body"));
  }
  return out;
}

using Strings = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(component_connection)

BOOST_AUTO_TEST_CASE(connects_and_authenticates) {
  Harness h;
  auto& conn = h.make(h.options());
  BOOST_TEST((conn.state() == LinkState::idle));
  BOOST_TEST(conn.domain() == domain);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  BOOST_TEST((conn.state() == LinkState::ready));
  BOOST_TEST(conn.status() == "ready");
  auto& server = h.server.conn(0);
  BOOST_TEST(server.events == (Strings{"open " + domain, "handshake " + good_digest}));
  BOOST_TEST(server.authed);
  BOOST_TEST(conn.stats().attempts == 1u);
  BOOST_TEST(conn.stats().reconnects == 0u);
  BOOST_TEST(conn.stats().auth_failures == 0u);
  BOOST_TEST(h.server.conns.size() == 1u);
}

BOOST_AUTO_TEST_CASE(stanzas_sent_before_the_stream_is_up_arrive_in_order_after_auth) {
  Harness h;
  // The server takes its time to accept the handshake: a driver that wrote
  // its queue early would be caught as "early" stanzas.
  h.server.script.handshake_delay = milliseconds(50);
  auto& conn = h.make(h.options());
  for (int i = 1; i <= 3; ++i) {
    BOOST_TEST(conn.send(message(i)));
  }
  BOOST_TEST(conn.queue_depth() == 3u);
  conn.start();
  BOOST_TEST_REQUIRE(
      h.run_until([&] { return !h.server.conns.empty() && h.server.conn(0).stanzas.size() == 3; }));
  BOOST_TEST(h.server.conn(0).events ==
             (Strings{"open " + domain, "handshake " + good_digest,
                      "stanza " + serialize(message(1), ns::component),
                      "stanza " + serialize(message(2), ns::component),
                      "stanza " + serialize(message(3), ns::component)}));
  BOOST_TEST(conn.queue_depth() == 0u);
  BOOST_TEST(conn.stats().stanzas_out == 3u);
}

BOOST_AUTO_TEST_CASE(dropped_connection_reconnects_and_flushes_the_outage_queue_in_order) {
  Harness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  conn.send(message(1));
  conn.send(message(2));
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.server.conn(0).stanzas.size() == 2; }));

  h.server.conn(0).drop();
  // The outage, as the driver sees it: the link is down until the backoff ends.
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.state() == LinkState::backing_off; }));
  BOOST_TEST(!conn.ready());
  for (int i = 3; i <= 5; ++i) {
    BOOST_TEST(conn.send(message(i)));
  }
  BOOST_TEST(conn.queue_depth() == 3u);

  BOOST_TEST_REQUIRE(h.run_until(
      [&] { return h.server.conns.size() == 2 && h.server.conn(1).stanzas.size() == 3; }));
  BOOST_TEST(bodies(h.server.conn(0).stanzas) == (Strings{"m1", "m2"}));
  BOOST_TEST(bodies(h.server.conn(1).stanzas) == (Strings{"m3", "m4", "m5"}));
  BOOST_TEST(h.server.conn(1).events[1] == "handshake " + good_digest);
  BOOST_TEST(conn.queue_depth() == 0u);
  BOOST_TEST(conn.stats().stanzas_out == 5u);
  BOOST_TEST(conn.stats().attempts == 2u);
  BOOST_TEST(conn.stats().reconnects == 1u);
  BOOST_TEST(h.logged("connection lost"));
  BOOST_TEST(conn.status() == "ready");
}

BOOST_AUTO_TEST_CASE(wrong_secret_retries_with_backoff) {
  Harness h;
  auto options = h.options();
  options.secret = "wrong";
  options.reconnect_min = milliseconds(20);
  options.reconnect_max = milliseconds(80);
  auto& conn = h.make(options);
  conn.start();
  // Four attempts, the first three seen through to the driver's closing tag.
  BOOST_TEST_REQUIRE(h.run_until([&] {
    return h.server.conns.size() >= 4 && h.server.conn(0).got("close") &&
           h.server.conn(1).got("close") && h.server.conn(2).got("close");
  }));

  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("connection " << i) {
      auto& server = h.server.conn(i);
      BOOST_TEST(server.events.at(1) == "handshake " + wrong_digest);
      BOOST_TEST(!server.authed);
      BOOST_TEST(server.errors.empty());
    }
  }
  BOOST_TEST(conn.stats().auth_failures >= 3u);
  BOOST_TEST(conn.stats().attempts >= 4u);
  BOOST_TEST(conn.stats().reconnects == 0u);
  BOOST_TEST(conn.status().find("authentication failed for " + domain) == 0u);
  BOOST_TEST(conn.status().find("not-authorized") != std::string::npos);

  // Each retry waits at least half its backoff step (20, 40, 80 ms, capped),
  // measured between the server's accepts, which bracket the wait.
  const std::vector<milliseconds> min_gap = {milliseconds(10), milliseconds(20), milliseconds(40)};
  for (std::size_t i = 0; i < min_gap.size(); ++i) {
    const auto gap = h.server.conns[i + 1]->accepted_at - h.server.conns[i]->accepted_at;
    BOOST_TEST_CONTEXT("gap " << i) {
      BOOST_TEST((gap >= min_gap[i]));
    }
  }

  // Within a further window, the capped delay (at least 40 ms) bounds how
  // many attempts fit: never a tight loop.
  const auto before = h.server.conns.size();
  const milliseconds window(200);
  h.run_for(window);
  const auto made = h.server.conns.size() - before;
  BOOST_TEST(made <= static_cast<std::size_t>(window / milliseconds(40)) + 1);
  BOOST_TEST(h.server.authed() == 0u);
}

BOOST_AUTO_TEST_CASE(full_queue_refuses_and_counts_drops) {
  Harness h;
  auto options = h.options();
  options.queue_limit = 2;
  auto& conn = h.make(options);
  BOOST_TEST(conn.send(message(1)));
  BOOST_TEST(conn.send(message(2)));
  BOOST_TEST(!conn.send(message(3)));
  BOOST_TEST(conn.stats().dropped == 1u);
  BOOST_TEST(!conn.send(message(4)));
  BOOST_TEST(conn.stats().dropped == 2u);
  BOOST_TEST(conn.queue_depth() == 2u);
  BOOST_TEST(h.logged("send queue full"));

  // Once flushed, the queue takes stanzas again.
  conn.start();
  BOOST_TEST_REQUIRE(
      h.run_until([&] { return !h.server.conns.empty() && h.server.conn(0).stanzas.size() == 2; }));
  BOOST_TEST(bodies(h.server.conn(0).stanzas) == (Strings{"m1", "m2"}));
  BOOST_TEST(conn.send(message(5)));
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.server.conn(0).stanzas.size() == 3; }));
  BOOST_TEST(bodies(h.server.conn(0).stanzas) == (Strings{"m1", "m2", "m5"}));
  BOOST_TEST(conn.stats().dropped == 2u);
}

BOOST_AUTO_TEST_CASE(a_burst_while_up_is_bounded_by_bytes_not_count) {
  Harness h;
  auto options = h.options();
  options.queue_limit = 2;
  options.queue_max_bytes = 4096;
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.state() == LinkState::ready; }));
  // Far more stanzas than the count limit, sent at once: all are taken and
  // all arrive in order, since the stream is up.
  for (int i = 1; i <= 20; ++i) {
    BOOST_TEST(conn.send(message(i)));
  }
  BOOST_TEST(conn.stats().dropped == 0u);
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.server.conn(0).stanzas.size() == 20; }));
  BOOST_TEST(bodies(h.server.conn(0).stanzas).front() == "m1");
  BOOST_TEST(bodies(h.server.conn(0).stanzas).back() == "m20");
  // The byte bound still holds: a burst beyond it is refused and counted.
  std::size_t accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    accepted += conn.send(message(100 + i)) ? 1 : 0;
  }
  BOOST_TEST(accepted < 1000u);
  BOOST_TEST(conn.stats().dropped == 1000u - accepted);
  BOOST_TEST(h.logged("bytes"));
}

BOOST_AUTO_TEST_CASE(congestion_is_reported_at_the_high_water_mark_and_cleared_when_drained) {
  Harness h;
  auto options = h.options();
  options.queue_high_water_bytes = 2048;
  auto& conn = h.make(options);
  std::vector<bool> reports;
  conn.on_congestion([&](bool congested) { reports.push_back(congested); });
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.state() == LinkState::ready; }));
  // Sent without running the loop: the queue grows past the mark once.
  int sent = 0;
  while (conn.queue_bytes() < 4096) {
    BOOST_TEST_REQUIRE(conn.send(message(++sent)));
  }
  BOOST_TEST(conn.congested());
  BOOST_TEST(reports == std::vector<bool>{true});
  // The writer drains the queue: congestion ends, and nothing was dropped.
  BOOST_TEST_REQUIRE(h.run_until([&] {
    return h.server.conn(0).stanzas.size() == static_cast<std::size_t>(sent) && !conn.congested();
  }));
  BOOST_TEST((reports == std::vector<bool>{true, false}));
  BOOST_TEST(conn.stats().dropped == 0u);
}

BOOST_AUTO_TEST_CASE(a_stopping_stream_is_not_congested) {
  Harness h;
  auto options = h.options();
  options.queue_high_water_bytes = 1024;
  auto& conn = h.make(options);
  std::vector<bool> reports;
  conn.on_congestion([&](bool congested) { reports.push_back(congested); });
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.state() == LinkState::ready; }));
  for (int i = 1; conn.queue_bytes() < 2048; ++i) {
    BOOST_TEST_REQUIRE(conn.send(message(i)));
  }
  conn.stop();
  BOOST_TEST(!conn.congested());
  BOOST_TEST((reports == std::vector<bool>{true, false}));
}

BOOST_AUTO_TEST_CASE(a_stream_that_is_down_reports_no_congestion) {
  Harness h;
  auto options = h.options();
  options.queue_high_water_bytes = 1024;
  options.queue_limit = 100000;
  auto& conn = h.make(options);
  bool reported = false;
  conn.on_congestion([&](bool) { reported = true; });
  // Not started: everything waits for a stream, under the count bound only.
  for (int i = 1; conn.queue_bytes() < 4096; ++i) {
    BOOST_TEST_REQUIRE(conn.send(message(i)));
  }
  BOOST_TEST(!conn.congested());
  BOOST_TEST(!reported);
}

BOOST_AUTO_TEST_CASE(keepalive_ping_that_is_answered_keeps_the_link) {
  Harness h;
  auto options = h.options();
  options.keepalive_interval = milliseconds(50);
  options.keepalive_timeout = milliseconds(500);
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(
      h.run_until([&] { return !h.server.conns.empty() && h.server.conn(0).pings.size() >= 2; }));
  BOOST_TEST(h.server.conns.size() == 1u);
  const auto& pings = h.server.conn(0).pings;
  for (std::size_t i = 0; i < 2; ++i) {
    BOOST_TEST_CONTEXT("ping " << i) {
      BOOST_TEST(pings[i].attr_or("type") == "get");
      BOOST_TEST(pings[i].attr_or("id") == "trestle-keepalive-" + std::to_string(i + 1));
      BOOST_TEST(pings[i].attr_or("from") == domain);
      BOOST_TEST(pings[i].attr_or("to") == domain);
    }
  }
  // The answers prove the link alive and are not handed to the application.
  BOOST_TEST(h.received.empty());
  BOOST_TEST(conn.stats().stanzas_in >= 1u);
  BOOST_TEST(conn.ready());
  BOOST_TEST(conn.stats().attempts == 1u);
}

BOOST_AUTO_TEST_CASE(keepalive_without_answer_reconnects) {
  Harness h;
  h.server.script.answer_pings = false;
  auto options = h.options();
  options.keepalive_interval = milliseconds(50);
  options.keepalive_timeout = milliseconds(50);
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until(
      [&] { return h.server.authed() == 2 && conn.ready() && h.server.conn(0).eof(); }));
  const auto& first = h.server.conn(0);
  BOOST_TEST(first.pings.size() == 1u);
  // The driver gave up on the link without a closing tag.
  BOOST_TEST(!first.got("close"));
  BOOST_TEST(h.logged("no answer to keepalive"));
  BOOST_TEST(conn.stats().reconnects == 1u);
}

BOOST_AUTO_TEST_CASE(stop_flushes_the_queue_then_closes_the_stream) {
  Harness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  conn.send(message(1));
  conn.send(message(2));
  bool done = false;
  conn.stop([&] { done = true; });
  BOOST_TEST(!conn.send(message(3)));
  BOOST_TEST(conn.stats().dropped == 1u);
  BOOST_TEST_REQUIRE(h.run_until([&] { return done && h.server.conn(0).eof(); }));
  BOOST_TEST(h.server.conn(0).events ==
             (Strings{"open " + domain, "handshake " + good_digest,
                      "stanza " + serialize(message(1), ns::component),
                      "stanza " + serialize(message(2), ns::component), "close", "eof"}));
  BOOST_TEST((conn.state() == LinkState::stopped));
  BOOST_TEST(conn.status() == "stopped");
  BOOST_TEST(conn.stats().stanzas_out == 2u);
  BOOST_TEST(conn.queue_depth() == 0u);
  BOOST_TEST(h.server.conns.size() == 1u);
}

BOOST_AUTO_TEST_CASE(stop_gives_up_on_a_server_that_does_not_close) {
  Harness h;
  h.server.script.answer_close = false;
  auto options = h.options();
  options.close_timeout = milliseconds(50);
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  bool done = false;
  conn.stop([&] { done = true; });
  BOOST_TEST_REQUIRE(h.run_until([&] { return done; }));
  BOOST_TEST(h.server.conn(0).got("close"));
  BOOST_TEST((conn.state() == LinkState::stopped));
}

BOOST_AUTO_TEST_CASE(stop_while_waiting_to_reconnect_does_not_wait) {
  Harness h;
  auto options = h.options();
  // A backoff far beyond the test's hard limit: stop() must cut it short.
  options.reconnect_min = milliseconds(60000);
  options.reconnect_max = milliseconds(60000);
  h.server.close(); // nothing listens on the port any more
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.state() == LinkState::backing_off; }));
  BOOST_TEST(conn.status().find("cannot connect to 127.0.0.1:") == 0u);
  bool done = false;
  conn.stop([&] { done = true; });
  BOOST_TEST_REQUIRE(h.run_until([&] { return done; }));
  BOOST_TEST((conn.state() == LinkState::stopped));
  BOOST_TEST(conn.stats().attempts == 1u);
}

BOOST_AUTO_TEST_CASE(stop_before_start) {
  Harness h;
  auto& conn = h.make(h.options());
  bool done = false;
  conn.stop([&] { done = true; });
  BOOST_TEST_REQUIRE(h.run_until([&] { return done; }));
  BOOST_TEST((conn.state() == LinkState::stopped));
  BOOST_TEST(h.server.conns.empty());
}

BOOST_AUTO_TEST_CASE(refused_connection_is_retried) {
  Harness h;
  const auto options = h.options();
  h.server.close(); // nothing listens on the port any more
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.stats().attempts >= 3; }));
  BOOST_TEST(conn.status().find("cannot connect to 127.0.0.1:" + std::to_string(options.port)) ==
             0u);
  BOOST_TEST(!conn.ready());
  BOOST_TEST(h.logged("reconnecting in"));
}

BOOST_AUTO_TEST_CASE(silent_server_hits_the_connect_timeout) {
  Harness h;
  h.server.script.silent_connections = 1;
  auto options = h.options();
  options.connect_timeout = milliseconds(200);
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready() && h.server.conn(0).eof(); }));
  BOOST_TEST(h.server.conns.size() >= 2u);
  // The first connection got as far as the driver's header and no further.
  BOOST_TEST(h.server.conn(0).events == (Strings{"open " + domain, "eof"}));
  BOOST_TEST(h.logged("timed out connecting to 127.0.0.1:"));
  BOOST_TEST(conn.stats().attempts >= 2u);
  BOOST_TEST(conn.stats().reconnects == 0u);
}

BOOST_AUTO_TEST_CASE(inbound_stanzas_reach_the_handler) {
  Harness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  h.server.conn(0).write("<message from='u@example.org/r' to='bot@irc.example.org' type='chat'>"
                         "<body>a &amp; b</body></message>"
                         "<iq type='get' id='v1' from='u@example.org/r' to='irc.example.org'>"
                         "<query xmlns='jabber:iq:version'/></iq>");
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.received.size() == 2; }));
  BOOST_TEST(h.received[0].name() == "message");
  BOOST_TEST(h.received[0].child_text("body") == "a & b");
  BOOST_TEST(h.received[0].attr_or("from") == "u@example.org/r");
  BOOST_TEST(h.received[1].name() == "iq");
  BOOST_TEST(h.received[1].find("query", ns::version) != nullptr);
  BOOST_TEST(conn.stats().stanzas_in == 2u);
}

BOOST_AUTO_TEST_CASE(stream_error_from_the_server_causes_a_reconnect) {
  Harness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  h.server.conn(0).write(stream_error("conflict"));
  BOOST_TEST_REQUIRE(h.run_until(
      [&] { return h.server.authed() == 2 && conn.ready() && h.server.conn(0).eof(); }));
  // The driver answered with its closing tag.
  BOOST_TEST(h.server.conn(0).got("close"));
  BOOST_TEST(h.logged("stream error from the server: conflict"));
  BOOST_TEST(conn.stats().reconnects == 1u);
  BOOST_TEST(conn.stats().auth_failures == 0u);
}

BOOST_AUTO_TEST_CASE(server_closing_the_stream_causes_a_reconnect) {
  Harness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  h.server.conn(0).write(close_tag);
  BOOST_TEST_REQUIRE(h.run_until(
      [&] { return h.server.authed() == 2 && conn.ready() && h.server.conn(0).eof(); }));
  BOOST_TEST(h.server.conn(0).got("close"));
  BOOST_TEST(h.logged("stream closed by the server"));
  BOOST_TEST(conn.stats().reconnects == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_input_gets_a_stream_error_and_a_reconnect) {
  Harness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  h.server.conn(0).write("<message><body>x</message>");
  BOOST_TEST_REQUIRE(h.run_until(
      [&] { return h.server.authed() == 2 && conn.ready() && h.server.conn(0).eof(); }));
  auto& first = h.server.conn(0);
  BOOST_TEST_REQUIRE(first.errors.size() == 1u);
  BOOST_TEST(first.errors[0].find("not-well-formed", ns::stream_errors) != nullptr);
  BOOST_TEST(first.got("close"));
  BOOST_TEST(h.logged("stream error sent to the server: not-well-formed"));
}

BOOST_AUTO_TEST_CASE(reconnect_now_skips_the_backoff) {
  Harness h;
  auto options = h.options();
  // A backoff far beyond the test's hard limit: only an immediate reconnect
  // can pass.
  options.reconnect_min = milliseconds(60000);
  options.reconnect_max = milliseconds(60000);
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  conn.reconnect_now();
  BOOST_TEST(conn.status() == "reconnecting on request");
  BOOST_TEST_REQUIRE(h.run_until(
      [&] { return h.server.authed() == 2 && conn.ready() && h.server.conn(0).eof(); }));
  BOOST_TEST(conn.stats().reconnects == 1u);
  BOOST_TEST(conn.stats().attempts == 2u);
}

BOOST_AUTO_TEST_CASE(link_state_names) {
  BOOST_TEST(to_string(LinkState::idle) == "idle");
  BOOST_TEST(to_string(LinkState::connecting) == "connecting");
  BOOST_TEST(to_string(LinkState::authenticating) == "authenticating");
  BOOST_TEST(to_string(LinkState::ready) == "ready");
  BOOST_TEST(to_string(LinkState::backing_off) == "waiting to reconnect");
  BOOST_TEST(to_string(LinkState::stopped) == "stopped");
}

BOOST_AUTO_TEST_SUITE_END()
