// clang-format off
#include <utility>
// clang-format on

#include "irc_connection.hpp"
#include "read_gate.hpp"
#include "run_until.hpp"
#include "test_tls.hpp"

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
#include <optional>
#include <string>
#include <vector>

using trestle::irc::CloseKind;
using trestle::irc::IrcConnection;
using trestle::irc::IrcConnectionHandlers;
using trestle::irc::IrcConnectionOptions;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

using trestle::test::run_until;
using trestle::test::TlsFixture;

/// What the connection reported.
struct Recorder {
  std::vector<std::string> lines;
  bool connected = false;
  int idle_warnings = 0;
  std::optional<CloseKind> closed;
  std::string reason;
  int closed_calls = 0;
  std::vector<std::string> log;

  IrcConnectionHandlers handlers() {
    IrcConnectionHandlers h;
    h.on_connected = [this] {
      connected = true;
    };
    h.on_line = [this](std::string_view line) {
      lines.emplace_back(line);
    };
    h.on_idle_warning = [this] {
      ++idle_warnings;
    };
    h.on_closed = [this](std::string why, CloseKind kind) {
      closed = kind;
      reason = std::move(why);
      ++closed_calls;
    };
    return h;
  }
  trestle::irc::ConnectionLog sink() {
    return [this](trestle::gateway::LogLevel, std::string_view text) {
      log.emplace_back(text);
    };
  }
};

/// How the fake server treats the one connection it accepts.
struct Script {
  /// Written in order, with a pause between, so they arrive as separate segments.
  std::vector<std::string> chunks;
  /// Close right after the chunks instead of reading until the client hangs up.
  bool hang_up = false;
  /// With TLS: accept TCP but never answer the handshake.
  bool silent_tls = false;
};

/// What the fake server saw.
struct ServerState {
  std::string received;
  bool accepted = false;
  bool done = false;
};

/// A one-connection fake IRC server on loopback, plain or TLS.
class FakeServer {
public:
  FakeServer(asio::io_context& io, const std::string& address, ssl::context* tls = nullptr)
      : io_(io), acceptor_(io), tls_(tls) {
    const tcp::endpoint endpoint(asio::ip::make_address(address), 0);
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    ok_ = !ec;
  }
  bool ok() const { return ok_; }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void run(Script script) {
    asio::co_spawn(io_, serve(&acceptor_, tls_, std::move(script), state), asio::detached);
  }
  std::shared_ptr<ServerState> state = std::make_shared<ServerState>();

private:
  template <typename Stream>
  static awaitable<void> talk(Stream& stream, Script script, std::shared_ptr<ServerState> st) {
    error_code ec;
    asio::steady_timer pause(stream.get_executor());
    for (const auto& chunk : script.chunks) {
      co_await asio::async_write(stream, asio::buffer(chunk),
                                 asio::redirect_error(use_awaitable, ec));
      pause.expires_after(milliseconds(15));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (!script.hang_up) {
      std::array<char, 4096> buffer{};
      for (;;) {
        const std::size_t n = co_await stream.async_read_some(
            asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
        if (ec) {
          break;
        }
        st->received.append(buffer.data(), n);
      }
    }
  }

  static awaitable<void> serve(tcp::acceptor* acceptor, ssl::context* tls, Script script,
                               std::shared_ptr<ServerState> st) {
    error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_return;
    }
    st->accepted = true;
    socket.set_option(tcp::no_delay(true), ec);
    if (tls == nullptr || script.silent_tls) {
      script.silent_tls = false;
      co_await talk(socket, std::move(script), st);
    } else {
      ssl::stream<tcp::socket> stream(std::move(socket), *tls);
      co_await stream.async_handshake(ssl::stream_base::server,
                                      asio::redirect_error(use_awaitable, ec));
      if (!ec) {
        co_await talk(stream, std::move(script), st);
      }
      stream.next_layer().close(ec);
    }
    st->done = true;
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ssl::context* tls_;
  bool ok_ = false;
};

IrcConnectionOptions plain_options(std::uint16_t port, const std::string& host = "127.0.0.1") {
  IrcConnectionOptions options;
  options.host = host;
  options.port = port;
  options.tls = false;
  options.flood_lines_per_second = 0;
  options.connect_timeout = milliseconds(3000);
  options.close_timeout = milliseconds(1000);
  return options;
}

/// Connects over TLS to a fake server and returns what happened.
Recorder tls_attempt(TlsFixture& fixture, const std::string& ca_file,
                     const std::string& server_name) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1", &fixture.server);
  server.run({{"hello :tls\r\n"}, false, false});
  auto options = plain_options(server.port());
  options.tls = true;
  options.ca_file = ca_file;
  options.server_name = server_name;
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  run_until(io, [&] { return rec.connected || rec.closed; });
  if (rec.connected) {
    run_until(io, [&] { return !rec.lines.empty(); });
    conn.close("QUIT :bye\r\n");
    run_until(io, [&] { return rec.closed && server.state->done; });
    BOOST_TEST(server.state->received == "QUIT :bye\r\n");
  }
  return rec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_connection)

BOOST_AUTO_TEST_CASE(plain_lines_both_ways_split_across_segments) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  BOOST_REQUIRE(server.ok());
  server.run({{"PI", "NG :a\r", "\n:srv 001 me :hi\n", "NOTICE me :x\r\n"}, false, false});
  Recorder rec;
  IrcConnection conn(io, plain_options(server.port()), rec.handlers(), rec.sink());
  BOOST_TEST(conn.send_line("NICK me\r\n")); // queued before the connection is up
  conn.start();
  BOOST_TEST(!rec.closed); // nothing happens inside start()
  BOOST_REQUIRE(run_until(io, [&] { return rec.lines.size() == 3; }));
  BOOST_TEST(rec.connected);
  BOOST_TEST(conn.connected());
  BOOST_TEST(rec.lines == (std::vector<std::string>{"PING :a", ":srv 001 me :hi", "NOTICE me :x"}),
             boost::test_tools::per_element());
  BOOST_TEST(conn.send_line("PONG :a\r\n"));
  BOOST_REQUIRE(run_until(io, [&] { return server.state->received.size() == 18; }));
  BOOST_TEST(server.state->received == "NICK me\r\nPONG :a\r\n");
  BOOST_TEST(conn.stats().lines_in == 3u);
  BOOST_TEST(conn.stats().lines_out == 2u);
  conn.close();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed && server.state->done; }));
  BOOST_TEST((*rec.closed == CloseKind::local_close));
  BOOST_TEST(rec.closed_calls == 1);
}

BOOST_AUTO_TEST_CASE(ipv6_loopback) {
  asio::io_context io;
  FakeServer server(io, "::1");
  if (!server.ok()) {
    BOOST_TEST_MESSAGE("no IPv6 loopback on this machine; skipped");
    return;
  }
  server.run({{"hello :six\r\n"}, true, false});
  Recorder rec;
  IrcConnection conn(io, plain_options(server.port(), "::1"), rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST(rec.lines == std::vector<std::string>{"hello :six"}, boost::test_tools::per_element());
  BOOST_TEST((*rec.closed == CloseKind::closed_by_peer));
}

BOOST_AUTO_TEST_CASE(peer_close_is_reported) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  server.run({{"ERROR :bye\r\n"}, true, false});
  Recorder rec;
  IrcConnection conn(io, plain_options(server.port()), rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST(rec.connected);
  BOOST_TEST(rec.lines == std::vector<std::string>{"ERROR :bye"}, boost::test_tools::per_element());
  BOOST_TEST((*rec.closed == CloseKind::closed_by_peer));
  BOOST_TEST(!conn.connected());
  BOOST_TEST(!conn.send_line("PRIVMSG x :late\r\n"));
}

BOOST_AUTO_TEST_CASE(close_flushes_queue_then_final_line_then_closes) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  server.run({});
  Recorder rec;
  auto options = plain_options(server.port());
  options.flood_burst = 1;
  options.flood_lines_per_second = 50;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.connected; }));
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(conn.send_line("PRIVMSG #c :" + std::to_string(i) + "\r\n"));
  }
  conn.close("QUIT :bye\r\n");
  BOOST_TEST(!conn.send_line("PRIVMSG #c :after close\r\n"));
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed && server.state->done; }));
  BOOST_TEST(server.state->received ==
             "PRIVMSG #c :0\r\nPRIVMSG #c :1\r\nPRIVMSG #c :2\r\nQUIT :bye\r\n");
  BOOST_TEST((*rec.closed == CloseKind::local_close));
  BOOST_TEST(rec.closed_calls == 1);
}

BOOST_AUTO_TEST_CASE(close_before_connect_stops) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  Recorder rec;
  IrcConnection conn(io, plain_options(server.port()), rec.handlers(), rec.sink());
  conn.start();
  conn.close("QUIT\r\n");
  BOOST_TEST(!rec.closed); // reported from the loop, not inside close()
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST((*rec.closed == CloseKind::local_close));
  BOOST_TEST(!rec.connected);
}

BOOST_AUTO_TEST_CASE(connection_refused) {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    FakeServer closed_again(io, "127.0.0.1");
    port = closed_again.port();
  }
  Recorder rec;
  IrcConnection conn(io, plain_options(port), rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST((*rec.closed == CloseKind::connect_failed));
  BOOST_TEST(!rec.connected);
}

BOOST_AUTO_TEST_CASE(unresolvable_name) {
  asio::io_context io;
  Recorder rec;
  IrcConnection conn(io, plain_options(6667, "no-such-server.invalid"), rec.handlers(), rec.sink());
  conn.start();
  bool loop_ran_first = false;
  asio::post(io, [&] { loop_ran_first = !rec.closed; });
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST(loop_ran_first); // the resolve did not block the loop
  BOOST_TEST((*rec.closed == CloseKind::resolve_failed));
  BOOST_TEST(rec.reason.find("no-such-server.invalid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_handshake_timeout) {
  TlsFixture fixture;
  asio::io_context io;
  FakeServer server(io, "127.0.0.1", &fixture.server);
  server.run({{}, false, true});
  auto options = plain_options(server.port());
  options.tls = true;
  options.ca_file = fixture.cert_file;
  options.server_name = "localhost";
  options.connect_timeout = milliseconds(300);
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST(server.state->accepted);
  BOOST_TEST((*rec.closed == CloseKind::timeout));
  BOOST_TEST(!rec.connected);
}

BOOST_AUTO_TEST_CASE(tls_verified_with_ca_file) {
  TlsFixture fixture;
  const auto rec = tls_attempt(fixture, fixture.cert_file, "localhost");
  BOOST_TEST(rec.connected);
  BOOST_TEST(rec.lines == std::vector<std::string>{"hello :tls"}, boost::test_tools::per_element());
  BOOST_REQUIRE(rec.closed.has_value());
  BOOST_TEST((*rec.closed == CloseKind::local_close));
}

BOOST_AUTO_TEST_CASE(tls_fails_without_the_ca) {
  TlsFixture fixture;
  const auto rec = tls_attempt(fixture, "", "localhost");
  BOOST_TEST(!rec.connected);
  BOOST_REQUIRE(rec.closed.has_value());
  BOOST_TEST((*rec.closed == CloseKind::tls_failed));
  BOOST_TEST(rec.reason.find("certificate verify failed") != std::string::npos, rec.reason);
}

BOOST_AUTO_TEST_CASE(tls_fails_with_a_wrong_server_name) {
  TlsFixture fixture;
  const auto rec = tls_attempt(fixture, fixture.cert_file, "irc.example.org");
  BOOST_TEST(!rec.connected);
  BOOST_REQUIRE(rec.closed.has_value());
  BOOST_TEST((*rec.closed == CloseKind::tls_failed));
  BOOST_TEST(rec.reason.find("certificate verify failed") != std::string::npos, rec.reason);
}

BOOST_AUTO_TEST_CASE(tls_fails_with_a_missing_ca_file) {
  TlsFixture fixture;
  const auto rec = tls_attempt(fixture, fixture.cert_file + ".missing", "localhost");
  BOOST_REQUIRE(rec.closed.has_value());
  BOOST_TEST((*rec.closed == CloseKind::tls_failed));
}

BOOST_AUTO_TEST_CASE(idle_warning_then_timeout) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  server.run({});
  auto options = plain_options(server.port());
  options.idle_timeout = milliseconds(300);
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
  BOOST_TEST(rec.connected);
  BOOST_TEST(rec.idle_warnings == 1);
  BOOST_TEST((*rec.closed == CloseKind::timeout));
}

BOOST_AUTO_TEST_CASE(send_queue_limit_and_malformed_lines) {
  asio::io_context io;
  auto options = plain_options(1);
  options.send_queue_limit = 2;
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  BOOST_TEST(conn.send_line("NICK a\r\n"));
  BOOST_TEST(!conn.send_line("NICK b\r\nQUIT\r\n")); // a second line smuggled in
  BOOST_TEST(!conn.send_line("NICK c"));             // no CR LF
  BOOST_TEST(!conn.send_line(std::string("NICK \0d\r\n", 9)));
  BOOST_TEST(conn.send_line("USER a 0 * :a\r\n"));
  BOOST_TEST(!conn.send_line("PING :full\r\n"));
  BOOST_TEST(conn.queue_depth() == 2u);
  BOOST_TEST(conn.stats().refused == 4u);
}

BOOST_AUTO_TEST_CASE(flood_control_burst_then_paced_in_order) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  server.run({});
  auto options = plain_options(server.port());
  options.flood_burst = 3;
  options.flood_lines_per_second = 20;
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  std::string expected;
  for (int i = 0; i < 7; ++i) {
    const auto line = "PRIVMSG #c :" + std::to_string(i) + "\r\n";
    expected += line;
    BOOST_TEST(conn.send_line(line));
  }
  conn.start();
  // The burst leaves in one write; the stats change only when a write completes.
  BOOST_REQUIRE(run_until(io, [&] { return conn.stats().lines_out > 0; }));
  BOOST_TEST(conn.stats().lines_out == 3u);
  BOOST_TEST(conn.queue_depth() == 4u);
  BOOST_REQUIRE(run_until(io, [&] { return server.state->received.size() == expected.size(); }));
  BOOST_TEST(server.state->received == expected);
  BOOST_TEST(conn.stats().lines_out == 7u);
  conn.close();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
}

BOOST_AUTO_TEST_CASE(overlong_line_is_dropped_and_connection_survives) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  server.run(
      {{"A\r\n" + std::string(100, 'x'), std::string(100, 'y') + "\r\nB\r\n"}, false, false});
  auto options = plain_options(server.port());
  options.max_line_bytes = 64;
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.lines.size() == 2; }));
  BOOST_TEST(rec.lines == (std::vector<std::string>{"A", "B"}), boost::test_tools::per_element());
  BOOST_TEST(conn.stats().discarded == 1u);
  BOOST_TEST(conn.connected());
  BOOST_TEST(conn.send_line("PING :still\r\n"));
  BOOST_REQUIRE(run_until(io, [&] { return !server.state->received.empty(); }));
  BOOST_TEST(server.state->received == "PING :still\r\n");
  conn.close();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(reading_waits_while_the_read_gate_is_closed) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  BOOST_REQUIRE(server.ok());
  server.run({{":srv NOTICE me :one\r\n"}, false, false});
  auto gate = std::make_shared<trestle::gateway::ReadGate>(io);
  gate->close();
  auto options = plain_options(server.port());
  options.read_gate = gate;
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  BOOST_REQUIRE(run_until(io, [&] { return rec.connected; }));
  // The line waits with the server (in the socket) while the gate is closed.
  BOOST_TEST(!run_until(
      io, [&] { return !rec.lines.empty(); }, milliseconds(300)));
  gate->open();
  BOOST_REQUIRE(run_until(io, [&] { return !rec.lines.empty(); }));
  BOOST_TEST(rec.lines == std::vector<std::string>{":srv NOTICE me :one"},
             boost::test_tools::per_element());
  BOOST_TEST(gate->closings() == 1u);
  conn.close();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
}

BOOST_AUTO_TEST_CASE(a_gate_that_stays_closed_holds_reading_back_for_the_pause_limit_only) {
  asio::io_context io;
  FakeServer server(io, "127.0.0.1");
  BOOST_REQUIRE(server.ok());
  server.run({{"PING :keepalive\r\n"}, false, false});
  auto gate = std::make_shared<trestle::gateway::ReadGate>(io);
  gate->close();
  auto options = plain_options(server.port());
  options.read_gate = gate;
  options.read_pause_limit = milliseconds(100);
  Recorder rec;
  IrcConnection conn(io, options, rec.handlers(), rec.sink());
  conn.start();
  // The server's PING still gets read (and could be answered) although the
  // XMPP side never recovers.
  BOOST_REQUIRE(run_until(io, [&] { return !rec.lines.empty(); }));
  BOOST_TEST(rec.lines == std::vector<std::string>{"PING :keepalive"},
             boost::test_tools::per_element());
  BOOST_TEST(!gate->is_open());
  conn.close();
  BOOST_REQUIRE(run_until(io, [&] { return rec.closed.has_value(); }));
}

BOOST_AUTO_TEST_CASE(a_read_gate_wakes_every_waiter_when_opened_or_destroyed) {
  asio::io_context io;
  auto gate = std::make_unique<trestle::gateway::ReadGate>(io);
  std::vector<bool> results;
  const auto wait = [&](trestle::gateway::ReadGate* g) {
    asio::co_spawn(
        io,
        [&results, g]() -> awaitable<void> {
          results.push_back(co_await g->wait_open(milliseconds(4000)));
        },
        asio::detached);
  };
  wait(gate.get()); // open: returns at once
  BOOST_REQUIRE(run_until(io, [&] { return results.size() == 1; }));
  gate->close();
  gate->close(); // counted once
  wait(gate.get());
  wait(gate.get());
  BOOST_TEST(!run_until(
      io, [&] { return results.size() == 3; }, milliseconds(100)));
  gate->open();
  BOOST_REQUIRE(run_until(
      io, [&] { return results.size() == 3; }, milliseconds(1000)));
  BOOST_TEST(gate->closings() == 1u);
  gate->close();
  wait(gate.get());
  BOOST_TEST(!run_until(
      io, [&] { return results.size() == 4; }, milliseconds(50)));
  gate.reset();
  BOOST_REQUIRE(run_until(
      io, [&] { return results.size() == 4; }, milliseconds(1000)));
  BOOST_TEST((results == std::vector<bool>{true, true, true, true}));
}
