// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "component_connection.hpp"
#include "element.hpp"
#include "loopback.hpp"
#include "namespaces.hpp"
#include "run_until.hpp"
#include "test_tls.hpp"
#include "xml_stream_parser.hpp"

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
#include <functional>
#include <memory>
#include <openssl/ssl.h>
#include <string>
#include <vector>

// The component link over direct TLS: the handshake, the certificate checks
// and their messages, the connect deadline and the TLS close, against a fake
// XEP-0114 server behind TLS on 127.0.0.1.

using trestle::xmpp::ComponentConnection;
using trestle::xmpp::ConnectionOptions;
using trestle::xmpp::Element;
using trestle::xmpp::LogSeverity;
using trestle::xmpp::XmlStreamParser;
namespace ns = trestle::xmpp::ns;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using trestle::test::hard_limit;

namespace {

const std::string domain = "irc.example.org";
const std::string secret = "s3cret";
/// The stream id as the server writes it, and sha1("st&r<m" + "s3cret").
const std::string stream_id_markup = "st&amp;r&lt;m";
const std::string good_digest = "804aa34beb65f133d69d04a06aaadee44210b63f";
const std::string close_tag = "</stream:stream>";

/// How the fake server behaves.
struct TlsScript {
  /// Accept the TCP connection and never start TLS (a stuck server).
  bool silent = false;
  /// Leave the client's TLS close_notify unanswered (and the socket open).
  bool ignore_close_notify = false;
};

/// One connection of the fake server: TLS, then a minimal XEP-0114 server.
/// `events`: `tls`, `tls failed <error>`, `open <to>`, `handshake <digest>`,
/// `stanza <markup>`, `close`, then how the stream ended: `close_notify`
/// (the client ended TLS properly) or `cut <error>`.
class TlsServerConn : public XmlStreamParser::Handler,
                      public std::enable_shared_from_this<TlsServerConn> {
public:
  TlsServerConn(tcp::socket socket, ssl::context& context, const TlsScript& script)
      : stream_(std::move(socket), context), wake_(stream_.get_executor()), script_(script) {}

  awaitable<void> serve() {
    auto self = shared_from_this();
    error_code ec;
    std::array<char, 4096> buffer{};
    if (script_.silent) {
      co_await stream_.next_layer().async_read_some(asio::buffer(buffer),
                                                    asio::redirect_error(use_awaitable, ec));
      events.push_back("cut " + ec.message());
      co_return;
    }
    co_await stream_.async_handshake(ssl::stream_base::server,
                                     asio::redirect_error(use_awaitable, ec));
    // The client's hello was read even when the client then refused us.
    const char* name = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
    sni = name != nullptr ? name : "";
    if (ec) {
      events.push_back("tls failed " + ec.message());
      co_return;
    }
    events.push_back("tls");
    asio::co_spawn(stream_.get_executor(), write_loop(), asio::detached);
    for (;;) {
      const std::size_t n = co_await stream_.async_read_some(
          asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        break;
      }
      if (!parser_.feed(std::string_view(buffer.data(), n))) {
        events.push_back("parse error");
        break;
      }
    }
    // A TLS close_notify reads as end of file; a bare TCP close as truncation.
    events.push_back(ec == asio::error::eof ? "close_notify" : "cut " + ec.message());
    finished_ = true;
    wake_.cancel();
    if (ec == asio::error::eof && !script_.ignore_close_notify) {
      co_await stream_.async_shutdown(asio::redirect_error(use_awaitable, ec));
      drop();
    }
  }

  /// Queues `bytes` for the client.
  void write(std::string_view bytes) {
    if (bytes.ends_with(close_tag)) {
      closed_sent_ = true;
    }
    out_.append(bytes);
    wake_.cancel();
  }
  void drop() {
    error_code ignored;
    stream_.next_layer().close(ignored);
    finished_ = true;
    wake_.cancel();
  }
  bool got(std::string_view event) const {
    for (const auto& e : events) {
      if (e == event) {
        return true;
      }
    }
    return false;
  }
  bool ended() const {
    return !events.empty() &&
           (events.back() == "close_notify" || events.back().starts_with("cut ") ||
            events.back().starts_with("tls failed "));
  }

  std::vector<std::string> events;
  std::vector<Element> stanzas;
  std::string sni;
  bool authed = false;

private:
  /// One write in flight at a time, next to the one read (which TLS allows).
  awaitable<void> write_loop() {
    auto self = shared_from_this();
    error_code ec;
    while (!finished_) {
      if (out_.empty()) {
        wake_.expires_at(Clock::time_point::max());
        co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      const std::string bytes = std::exchange(out_, {});
      co_await asio::async_write(stream_, asio::buffer(bytes),
                                 asio::redirect_error(use_awaitable, ec));
      if (ec) {
        break;
      }
    }
  }

  void on_stream_open(const Element& header) override {
    events.push_back("open " + header.attr_or("to"));
    write("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns='jabber:component:accept' from='" +
          domain + "' id='" + stream_id_markup + "'>");
  }
  void on_stanza(Element stanza) override {
    if (!authed && stanza.name() == "handshake") {
      events.push_back("handshake " + stanza.text());
      if (stanza.text() == good_digest) {
        authed = true;
        write("<handshake/>");
      }
      return;
    }
    events.push_back("stanza " + serialize(stanza, ns::component));
    stanzas.push_back(std::move(stanza));
  }
  void on_stream_close() override {
    events.push_back("close");
    if (!closed_sent_) {
      write(close_tag);
    }
  }

  ssl::stream<tcp::socket> stream_;
  asio::steady_timer wake_;
  const TlsScript& script_;
  std::string out_;
  bool finished_ = false;
  bool closed_sent_ = false;
  XmlStreamParser parser_{*this};
};

/// The io_context, a TLS certificate for "localhost", a fake server that
/// presents it, and the driver under test with what it reported.
struct TlsHarness {
  TlsHarness() : acceptor(io, trestle::test::loopback()) {
    auto admit = [this](tcp::socket socket) {
      auto conn = std::make_shared<TlsServerConn>(std::move(socket), tls.server, script);
      conns.push_back(conn);
      asio::co_spawn(io, conn->serve(), asio::detached);
    };
    asio::co_spawn(io, trestle::test::accept_each(acceptor, admit), asio::detached);
  }
  TlsHarness(const TlsHarness&) = delete;
  TlsHarness& operator=(const TlsHarness&) = delete;
  ~TlsHarness() {
    conn.reset();
    error_code ignored;
    acceptor.close(ignored);
    for (auto& c : conns) {
      c->drop();
    }
    io.restart();
    io.run_for(hard_limit);
  }

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::string where() const { return "127.0.0.1:" + std::to_string(port()); }

  /// TLS to 127.0.0.1 trusting the test certificate, which names "localhost".
  ConnectionOptions options() const {
    ConnectionOptions o;
    o.host = "127.0.0.1";
    o.port = port();
    o.domain = domain;
    o.secret = secret;
    o.tls = true;
    o.ca_file = tls.cert_file;
    o.server_name = "localhost";
    o.connect_timeout = milliseconds(4000);
    o.close_timeout = milliseconds(500);
    o.reconnect_min = milliseconds(20);
    o.reconnect_max = milliseconds(100);
    return o;
  }

  ComponentConnection& make(ConnectionOptions o) {
    conn = std::make_unique<ComponentConnection>(
        io, std::move(o), [this](Element stanza) { received.push_back(std::move(stanza)); },
        [this](LogSeverity severity, std::string_view text) {
          logs.emplace_back(text);
          if (severity == LogSeverity::error) {
            errors.emplace_back(text);
          }
        });
    return *conn;
  }

  bool run_until(const std::function<bool()>& done, milliseconds limit = hard_limit) {
    return trestle::test::run_until(io, done, limit);
  }
  bool logged(std::string_view text) const {
    for (const auto& line : logs) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  TlsServerConn& server(std::size_t i) {
    BOOST_TEST_REQUIRE(i < conns.size());
    return *conns[i];
  }

  asio::io_context io;
  trestle::test::TlsFixture tls;
  TlsScript script;
  tcp::acceptor acceptor;
  std::vector<std::shared_ptr<TlsServerConn>> conns;
  std::vector<Element> received;
  std::vector<std::string> logs;
  std::vector<std::string> errors;
  std::unique_ptr<ComponentConnection> conn;
};

Element message(const std::string& body) {
  Element stanza("message");
  stanza.set_attr("from", "bot@" + domain);
  stanza.set_attr("to", "user@example.org");
  stanza.append("body").append_text(body);
  return stanza;
}

} // namespace

BOOST_AUTO_TEST_SUITE(component_connection_tls)

BOOST_AUTO_TEST_CASE(handshake_and_stanzas_run_inside_tls) {
  TlsHarness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  auto& server = h.server(0);
  BOOST_TEST(server.events.at(0) == "tls");
  BOOST_TEST(server.events.at(1) == "open " + domain);
  BOOST_TEST(server.events.at(2) == "handshake " + good_digest);
  BOOST_TEST(server.sni == "localhost");
  BOOST_TEST(h.logged("TLS with " + h.where() + " established (TLSv1."));

  BOOST_TEST(conn.send(message("out")));
  BOOST_TEST_REQUIRE(h.run_until([&] { return server.stanzas.size() == 1; }));
  BOOST_TEST(server.stanzas.front().find("body")->text() == "out");
  server.write("<message from='user@example.org' to='bot@" + domain +
               "'><body>in</body></message>");
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.received.size() == 1; }));
  BOOST_TEST(h.received.front().find("body")->text() == "in");
}

BOOST_AUTO_TEST_CASE(a_burst_of_stanzas_arrives_whole_and_in_order) {
  TlsHarness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  // Larger than a TLS record, so the joined batch spans several.
  const std::string filler(300, 'x');
  for (int i = 0; i < 200; ++i) {
    BOOST_TEST_REQUIRE(conn.send(message(std::to_string(i) + filler)));
  }
  auto& server = h.server(0);
  BOOST_TEST_REQUIRE(h.run_until([&] { return server.stanzas.size() == 200; }));
  for (int i = 0; i < 200; ++i) {
    BOOST_TEST(server.stanzas[i].find("body")->text() == std::to_string(i) + filler);
  }
}

BOOST_AUTO_TEST_CASE(the_host_name_is_the_default_server_name) {
  TlsHarness h;
  auto options = h.options();
  options.host = "localhost";
  options.server_name.clear();
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  BOOST_TEST(h.conns.back()->sni == "localhost");
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_is_refused_with_the_reason_and_retried) {
  TlsHarness h;
  auto options = h.options();
  options.ca_file.clear(); // the system's store does not know the test certificate
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.stats().attempts >= 2; }));
  BOOST_TEST(!conn.ready());
  BOOST_TEST(h.server(0).authed == false);
  BOOST_TEST(conn.status().starts_with("TLS handshake with " + h.where() +
                                       " failed: certificate verify failed (certificate: "),
             conn.status());
  BOOST_TEST_REQUIRE(!h.errors.empty());
  BOOST_TEST(h.errors.front() == conn.status());
  BOOST_TEST(h.logged("reconnecting in "));
}

BOOST_AUTO_TEST_CASE(a_certificate_for_another_name_is_refused) {
  TlsHarness h;
  auto options = h.options();
  options.server_name = "xmpp.example.org";
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return !h.errors.empty() && h.server(0).ended(); }));
  BOOST_TEST(!conn.ready());
  BOOST_TEST(h.conns.front()->sni == "xmpp.example.org");
  BOOST_TEST(conn.status().find("(certificate: hostname mismatch: it is not issued for "
                                "xmpp.example.org)") != std::string::npos,
             conn.status());
}

BOOST_AUTO_TEST_CASE(an_address_gets_no_sni_and_must_be_in_the_certificate) {
  TlsHarness h;
  auto options = h.options();
  options.server_name.clear(); // so 127.0.0.1, which the certificate does not name
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return !h.errors.empty() && h.server(0).ended(); }));
  BOOST_TEST(!conn.ready());
  BOOST_TEST(h.conns.front()->sni == "");
  BOOST_TEST(conn.status().find("IP address mismatch: it is not issued for 127.0.0.1") !=
                 std::string::npos,
             conn.status());
}

BOOST_AUTO_TEST_CASE(verification_off_connects_with_a_warning) {
  TlsHarness h;
  auto options = h.options();
  options.verify_certificate = false;
  options.ca_file.clear();
  options.server_name.clear();
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  BOOST_TEST(h.logged("certificate verification is off for the component link to " + h.where()));
}

BOOST_AUTO_TEST_CASE(a_missing_ca_file_is_named) {
  TlsHarness h;
  auto options = h.options();
  options.ca_file = h.tls.cert_file + ".missing";
  auto& conn = h.make(options);
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return !h.errors.empty(); }));
  BOOST_TEST(conn.status().starts_with("cannot start TLS with " + h.where() +
                                       ": cannot load the trusted certificates (" +
                                       options.ca_file + ")"),
             conn.status());
}

BOOST_AUTO_TEST_CASE(the_connect_deadline_covers_the_tls_handshake) {
  TlsHarness h;
  h.script.silent = true;
  auto options = h.options();
  options.connect_timeout = milliseconds(300);
  auto& conn = h.make(options);
  const auto started = Clock::now();
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.logged("timed out connecting to "); }));
  BOOST_TEST((Clock::now() - started < milliseconds(2000)));
  BOOST_TEST(h.logged("timed out connecting to " + h.where() +
                      " after 0.3s (TLS handshake not finished)"));
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.server(0).ended(); }));
  BOOST_TEST(!conn.ready());
}

BOOST_AUTO_TEST_CASE(stop_closes_the_stream_then_tls) {
  TlsHarness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  bool stopped = false;
  conn.stop([&] { stopped = true; });
  BOOST_TEST_REQUIRE(h.run_until([&] { return stopped; }));
  auto& server = h.server(0);
  BOOST_TEST_REQUIRE(h.run_until([&] { return server.ended(); }));
  BOOST_TEST(server.got("close"));
  BOOST_TEST(server.events.back() == "close_notify");
}

BOOST_AUTO_TEST_CASE(an_unanswered_close_notify_is_bounded) {
  TlsHarness h;
  h.script.ignore_close_notify = true;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  bool stopped = false;
  const auto started = Clock::now();
  conn.stop([&] { stopped = true; });
  BOOST_TEST_REQUIRE(h.run_until([&] { return stopped; }));
  // The close tags are exchanged at once; close_notify waits close_timeout.
  BOOST_TEST((Clock::now() - started < milliseconds(1500)));
  BOOST_TEST(h.server(0).events.back() == "close_notify");
}

BOOST_AUTO_TEST_CASE(a_server_that_drops_the_connection_is_reconnected_over_tls) {
  TlsHarness h;
  auto& conn = h.make(h.options());
  conn.start();
  BOOST_TEST_REQUIRE(h.run_until([&] { return conn.ready(); }));
  h.server(0).drop();
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.conns.size() == 2 && conn.ready(); }));
  BOOST_TEST(conn.stats().reconnects == 1u);
  BOOST_TEST(h.server(1).got("tls"));
}

BOOST_AUTO_TEST_SUITE_END()
