// clang-format off
#include <utility>
// clang-format on

#include "irc_link.hpp"
#include "loopback.hpp"
#include "run_until.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::irc {
// Printers for Boost.Test's messages; found by argument-dependent lookup.
std::ostream& operator<<(std::ostream& out, IrcLinkState state) {
  return out << to_string(state);
}
std::ostream& operator<<(std::ostream& out, ActionError error) {
  return out << "ActionError(" << static_cast<int>(error) << ")";
}
} // namespace trestle::irc

using trestle::irc::ActionError;
using trestle::irc::ActionResult;
using trestle::irc::ClientEvent;
using trestle::irc::IrcClientSession;
using trestle::irc::IrcLink;
using trestle::irc::IrcLinkHandlers;
using trestle::irc::IrcLinkOptions;
using trestle::irc::IrcLinkState;
using trestle::irc::SaslPlain;
using trestle::irc::WantedChannel;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

/// PRIVMSG through the link's perform().
ActionResult privmsg(IrcLink& link, std::string_view target, std::string_view text) {
  return link.perform([&](IrcClientSession& s) { return s.privmsg(target, text); });
}

using trestle::test::closed_port;
using trestle::test::run_until;

/// One connection the fake server accepted, and what it saw.
struct ServerConn {
  explicit ServerConn(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::vector<std::string> lines;
  std::string nick = "*";
  bool registered = false;
  bool closed = false;

  bool saw(std::string_view prefix) const {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& line) { return line.starts_with(prefix); });
  }
  /// Writes at once: small lines on loopback, and the order stays the script's.
  void send(const std::string& line) {
    error_code ec;
    asio::write(socket, asio::buffer(line), ec);
  }
};

/// Answers one received line (without CR LF) with lines to write back.
using Responder = std::function<std::vector<std::string>(ServerConn&, const std::string&)>;

/// What a small IRC server says: no capabilities, 001 after USER, JOINs
/// echoed (474 for #banned), NICK changes confirmed, PINGs answered.
std::vector<std::string> standard_reply(ServerConn& conn, const std::string& line) {
  if (line.starts_with("CAP LS")) {
    return {":srv CAP * LS :\r\n"};
  }
  if (line.starts_with("NICK ")) {
    auto nick = line.substr(5);
    if (nick.starts_with(':')) {
      nick.erase(0, 1);
    }
    const auto old = std::exchange(conn.nick, nick);
    if (conn.registered) {
      return {":" + old + "!u@h NICK :" + nick + "\r\n"};
    }
    return {};
  }
  if (line.starts_with("USER ")) {
    conn.registered = true;
    return {":srv 001 " + conn.nick + " :Welcome\r\n"};
  }
  if (line.starts_with("JOIN ")) {
    auto channel = line.substr(5);
    channel = channel.substr(0, channel.find(' '));
    if (channel == "#banned") {
      return {":srv 474 " + conn.nick + " #banned :Cannot join channel (+b)\r\n"};
    }
    return {":" + conn.nick + "!u@h JOIN " + channel + "\r\n"};
  }
  if (line.starts_with("PING ")) {
    return {":srv PONG srv :trestle\r\n"};
  }
  return {};
}

/// A scripted IRC server on 127.0.0.1 (plain TCP, ephemeral port) that
/// accepts any number of connections and answers each line with `respond`.
class FakeIrcServer {
public:
  FakeIrcServer(asio::io_context& io, Responder respond)
      : acceptor_(io, trestle::test::loopback()), state_(std::make_shared<State>()) {
    state_->respond = std::move(respond);
    auto admit = [&io, state = state_](tcp::socket socket) {
      auto conn = std::make_shared<ServerConn>(std::move(socket));
      state->conns.push_back(conn);
      asio::co_spawn(io, read_loop(conn, state), asio::detached);
    };
    asio::co_spawn(io, trestle::test::accept_each(acceptor_, std::move(admit)), asio::detached);
  }
  ~FakeIrcServer() {
    error_code ec;
    acceptor_.close(ec);
    for (auto& conn : state_->conns) {
      conn->socket.close(ec);
    }
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::size_t count() const { return state_->conns.size(); }
  ServerConn& conn(std::size_t i) { return *state_->conns.at(i); }
  /// Hangs up connection `i`, as a server restart would.
  void drop(std::size_t i) {
    error_code ec;
    conn(i).socket.shutdown(tcp::socket::shutdown_both, ec);
    conn(i).socket.close(ec);
  }

private:
  struct State {
    Responder respond;
    std::vector<std::shared_ptr<ServerConn>> conns;
  };

  static awaitable<void> read_loop(std::shared_ptr<ServerConn> conn, std::shared_ptr<State> state) {
    std::array<char, 4096> buffer{};
    std::string pending;
    error_code ec;
    for (;;) {
      const std::size_t n = co_await conn->socket.async_read_some(
          asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        break;
      }
      pending.append(buffer.data(), n);
      for (auto end = pending.find("\r\n"); end != std::string::npos; end = pending.find("\r\n")) {
        const auto line = pending.substr(0, end);
        pending.erase(0, end + 2);
        conn->lines.push_back(line);
        for (const auto& reply : state->respond(*conn, line)) {
          conn->send(reply);
        }
      }
    }
    conn->socket.close(ec);
    conn->closed = true;
  }

  tcp::acceptor acceptor_;
  std::shared_ptr<State> state_;
};

/// What the link reported.
struct Recorder {
  std::vector<std::pair<IrcLinkState, std::string>> states;
  std::vector<ClientEvent> events;
  std::vector<std::string> log;

  IrcLinkHandlers handlers() {
    IrcLinkHandlers h;
    h.on_event = [this](const ClientEvent& event) {
      events.push_back(event);
    };
    h.on_state = [this](IrcLinkState state, std::string reason) {
      states.emplace_back(state, std::move(reason));
    };
    return h;
  }
  trestle::irc::ConnectionLog sink() {
    return [this](trestle::gateway::LogLevel, std::string_view text) {
      log.emplace_back(text);
    };
  }
  std::size_t count(IrcLinkState state) const {
    return static_cast<std::size_t>(std::count_if(
        states.begin(), states.end(), [&](const auto& entry) { return entry.first == state; }));
  }
  bool saw_event(ClientEvent::Kind kind) const {
    return std::any_of(events.begin(), events.end(),
                       [&](const ClientEvent& event) { return event.kind == kind; });
  }
};

IrcLinkOptions link_options(std::uint16_t port) {
  IrcLinkOptions options;
  options.connection.host = "127.0.0.1";
  options.connection.port = port;
  options.connection.tls = false;
  options.connection.flood_lines_per_second = 0;
  options.connection.connect_timeout = milliseconds(3000);
  options.connection.close_timeout = milliseconds(1000);
  options.client.nick = "alice";
  options.client.username = "alice";
  options.client.realname = "Alice";
  options.reconnect_min = milliseconds(20);
  options.reconnect_max = milliseconds(40);
  options.registration_timeout = milliseconds(3000);
  return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_link)

BOOST_AUTO_TEST_CASE(joins_wanted_channels_after_registration_and_again_after_a_drop) {
  asio::io_context io;
  FakeIrcServer server(io, standard_reply);
  Recorder rec;
  IrcLink link(io, link_options(server.port()), rec.handlers(), rec.sink());

  // Asked for before registration: remembered, nothing sent yet.
  for (const auto& [channel, key] :
       std::vector<std::pair<std::string, std::string>>{{"#a", ""}, {"#b", "sesame"}, {"#c", ""}}) {
    const auto result = link.join(channel, key);
    BOOST_TEST(result.ok());
    BOOST_TEST(result.events.empty());
  }
  link.start();
  BOOST_REQUIRE(run_until(io, [&] {
    return link.state() == IrcLinkState::registered && server.count() == 1 &&
           server.conn(0).saw("JOIN #c");
  }));
  BOOST_TEST(server.conn(0).saw("NICK alice"));
  BOOST_TEST(server.conn(0).saw("USER alice"));
  BOOST_TEST(server.conn(0).saw("JOIN #a"));
  BOOST_TEST(server.conn(0).saw("JOIN #b sesame"));
  BOOST_TEST(rec.count(IrcLinkState::connecting) == 1u);
  BOOST_TEST(rec.count(IrcLinkState::registering) == 1u);
  BOOST_TEST(rec.saw_event(ClientEvent::Kind::registered));
  BOOST_TEST(link.reconnects() == 0u);

  // A part by the user and a kick by an operator: neither is rejoined.
  const auto parted = link.part("#c", "later");
  BOOST_TEST(parted.ok());
  BOOST_TEST(parted.events.size() == 1u);
  server.conn(0).send(":op!o@h KICK #b alice :out\r\n");
  BOOST_REQUIRE(run_until(
      io, [&] { return server.conn(0).saw("PART #c") && link.wanted_channels().size() == 1u; }));
  BOOST_TEST((link.wanted_channels() == std::vector<WantedChannel>{{"#a", ""}}));
  BOOST_TEST(rec.saw_event(ClientEvent::Kind::kicked));

  server.drop(0);
  BOOST_REQUIRE(run_until(io, [&] {
    return server.count() == 2 && link.state() == IrcLinkState::registered &&
           server.conn(1).saw("JOIN #a");
  }));
  BOOST_TEST(rec.count(IrcLinkState::reconnecting) == 1u);
  BOOST_TEST(link.reconnects() == 1u);
  // Lines arrive in order: once the marker is seen, every rejoin is too.
  BOOST_TEST(privmsg(link, "#a", "marker").ok());
  BOOST_REQUIRE(run_until(io, [&] { return server.conn(1).saw("PRIVMSG #a marker"); }));
  BOOST_TEST(server.conn(1).saw("NICK alice"));
  BOOST_TEST(server.conn(1).saw("USER alice"));
  BOOST_TEST(!server.conn(1).saw("JOIN #b"));
  BOOST_TEST(!server.conn(1).saw("JOIN #c"));
}

BOOST_AUTO_TEST_CASE(registration_timeout_reconnects) {
  asio::io_context io;
  FakeIrcServer server(io, [](ServerConn&, const std::string&) {
    return std::vector<std::string>{}; // never welcomes
  });
  Recorder rec;
  auto options = link_options(server.port());
  options.registration_timeout = milliseconds(100);
  IrcLink link(io, options, rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(
      io, [&] { return server.count() >= 2 && rec.count(IrcLinkState::reconnecting) >= 1; }));
  BOOST_TEST(server.conn(0).saw("NICK alice"));
  BOOST_TEST(rec.count(IrcLinkState::registered) == 0u);
  BOOST_TEST(rec.states.at(2).first == IrcLinkState::reconnecting);
  BOOST_TEST(rec.states.at(2).second.find("welcome") != std::string::npos);
  BOOST_TEST(privmsg(link, "#a", "hi").error == ActionError::not_registered);

  bool done = false;
  link.stop("bye", [&] { done = true; });
  BOOST_REQUIRE(run_until(io, [&] { return done; }));
  BOOST_TEST(link.state() == IrcLinkState::stopped);
}

BOOST_AUTO_TEST_CASE(stop_sends_quit_and_does_not_reconnect) {
  asio::io_context io;
  FakeIrcServer server(io, standard_reply);
  Recorder rec;
  IrcLink link(io, link_options(server.port()), rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::registered; }));

  bool done = false;
  link.stop("see you", [&] { done = true; });
  BOOST_REQUIRE(run_until(io, [&] { return done; }));
  BOOST_REQUIRE(run_until(io, [&] { return server.conn(0).closed; }));
  BOOST_TEST(server.conn(0).saw("QUIT :see you"));
  BOOST_TEST(link.state() == IrcLinkState::stopped);
  BOOST_TEST(rec.states.back().first == IrcLinkState::stopped);
  BOOST_TEST(rec.count(IrcLinkState::reconnecting) == 0u);
  io.poll();
  BOOST_TEST(server.count() == 1u);
  BOOST_TEST(privmsg(link, "#a", "late").error == ActionError::not_registered);
  // A second stop still reports done.
  bool again = false;
  link.stop("", [&] { again = true; });
  BOOST_REQUIRE(run_until(io, [&] { return again; }));
}

BOOST_AUTO_TEST_CASE(stop_while_backing_off_ends_without_connecting_again) {
  asio::io_context io;
  Recorder rec;
  auto options = link_options(closed_port(io));
  options.reconnect_min = milliseconds(10);
  IrcLink link(io, options, rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.reconnects() >= 2; }));
  BOOST_TEST(rec.count(IrcLinkState::reconnecting) >= 2u);
  BOOST_TEST(rec.count(IrcLinkState::registering) == 0u);
  bool done = false;
  link.stop("", [&] { done = true; });
  BOOST_REQUIRE(run_until(io, [&] { return done; }));
  BOOST_TEST(link.state() == IrcLinkState::stopped);
}

BOOST_AUTO_TEST_CASE(actions_before_registration_are_refused_but_join_and_part) {
  asio::io_context io;
  Recorder rec;
  IrcLink link(io, link_options(closed_port(io)), rec.handlers(), rec.sink());
  BOOST_TEST(link.state() == IrcLinkState::idle);
  const std::vector<std::string> none;
  for (const auto& result :
       {privmsg(link, "#a", "x"),
        link.perform([](IrcClientSession& s) { return s.notice("#a", "x"); }),
        link.perform([](IrcClientSession& s) { return s.action("#a", "x"); }),
        link.perform([](IrcClientSession& s) { return s.set_topic("#a", "x"); }),
        link.perform([](IrcClientSession& s) { return s.kick("#a", "bob"); }),
        link.perform([](IrcClientSession& s) { return s.mode("#a", "+o", {"bob"}); }),
        link.nick("bob"), link.perform([](IrcClientSession& s) { return s.away("gone"); }),
        link.perform([](IrcClientSession& s) { return s.back(); }), link.raw("PRIVMSG #a :x")}) {
    BOOST_TEST((result.error == ActionError::not_registered));
    BOOST_TEST(result.events.empty());
  }
  BOOST_TEST(link.join("#a").ok());
  BOOST_TEST(link.join("#b", "k").ok());
  BOOST_TEST(link.join("#b", "k2").ok()); // a new key replaces the old one
  BOOST_TEST((link.join("#a b").error == ActionError::invalid_input));
  BOOST_TEST((link.join("nochannel").error == ActionError::invalid_input));
  BOOST_TEST((link.join("#x\r\nQUIT").error == ActionError::invalid_input));
  BOOST_TEST((link.join("#x", "bad key").error == ActionError::invalid_input));
  BOOST_TEST((link.part("#x\r\nQUIT").error == ActionError::invalid_input));
  BOOST_TEST((link.wanted_channels() == std::vector<WantedChannel>{{"#a", ""}, {"#b", "k2"}}));
  const auto parted = link.part("#A"); // rfc1459 case folding
  BOOST_TEST(parted.ok());
  BOOST_TEST(parted.events.empty());
  BOOST_TEST((link.wanted_channels() == std::vector<WantedChannel>{{"#b", "k2"}}));

  bool done = false;
  link.stop("", [&] { done = true; });
  BOOST_REQUIRE(run_until(io, [&] { return done; }));
  BOOST_TEST(link.state() == IrcLinkState::stopped);
  link.start(); // a stopped link stays stopped
  BOOST_TEST(link.state() == IrcLinkState::stopped);
}

BOOST_AUTO_TEST_CASE(answers_server_ping_and_pings_an_idle_server) {
  asio::io_context io;
  FakeIrcServer server(io, [](ServerConn& conn, const std::string& line) {
    auto replies = standard_reply(conn, line);
    if (line.starts_with("USER ")) {
      replies.push_back("PING :abc123\r\n");
    }
    if (line.starts_with("PING ")) {
      replies.clear(); // silence, so the idle warning comes again
    }
    return replies;
  });
  Recorder rec;
  auto options = link_options(server.port());
  options.connection.idle_timeout = milliseconds(300);
  IrcLink link(io, options, rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] {
    return server.count() >= 1 && server.conn(0).saw("PONG") && server.conn(0).saw("PING :trestle");
  }));
  const auto& lines = server.conn(0).lines;
  BOOST_TEST(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.starts_with("PONG") && line.find("abc123") != std::string::npos;
  }));
  link.stop();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::stopped; }));
}

BOOST_AUTO_TEST_CASE(failed_join_is_reported_and_forgotten) {
  asio::io_context io;
  FakeIrcServer server(io, standard_reply);
  Recorder rec;
  IrcLink link(io, link_options(server.port()), rec.handlers(), rec.sink());
  BOOST_TEST(link.join("#banned").ok());
  BOOST_TEST(link.join("#ok").ok());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.wanted_channels().size() == 1u; }));
  BOOST_TEST((link.wanted_channels() == std::vector<WantedChannel>{{"#ok", ""}}));
  const auto it = std::find_if(rec.events.begin(), rec.events.end(), [](const ClientEvent& e) {
    return e.kind == ClientEvent::Kind::error_reply && e.numeric == "474";
  });
  BOOST_REQUIRE(it != rec.events.end());
  BOOST_TEST(it->params.at(0) == "#banned");
  // Joined while registered, refused by the server: forgotten too.
  BOOST_TEST(link.join("#banned").ok());
  BOOST_TEST(link.wanted_channels().size() == 2u);
  BOOST_REQUIRE(run_until(io, [&] { return link.wanted_channels().size() == 1u; }));
  link.stop();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::stopped; }));
}

BOOST_AUTO_TEST_CASE(full_send_queue_drops_the_connection_and_reconnects) {
  asio::io_context io;
  FakeIrcServer server(io, standard_reply);
  Recorder rec;
  auto options = link_options(server.port());
  // CAP LS, NICK, USER, CAP END use four of five tokens; then hardly any.
  options.connection.flood_burst = 5;
  options.connection.flood_lines_per_second = 0.001;
  options.connection.send_queue_limit = 4;
  IrcLink link(io, options, rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::registered; }));
  bool refused = false;
  for (int i = 0; i < 10 && !refused; ++i) {
    const auto result = privmsg(link, "#a", "line " + std::to_string(i));
    refused = !result.ok();
    if (refused) {
      BOOST_TEST((result.error == ActionError::not_registered));
    }
  }
  BOOST_REQUIRE(refused);
  // Dropped: nothing more goes to the dead connection.
  BOOST_TEST((privmsg(link, "#a", "after").error == ActionError::not_registered));
  BOOST_TEST(link.join("#later").ok()); // wanted, joined after the reconnect
  BOOST_REQUIRE(run_until(
      io, [&] { return server.count() == 2 && link.state() == IrcLinkState::registered; }));
  BOOST_TEST(rec.count(IrcLinkState::reconnecting) == 1u);
  const auto it = std::find_if(rec.states.begin(), rec.states.end(), [](const auto& entry) {
    return entry.first == IrcLinkState::reconnecting;
  });
  BOOST_TEST(it->second.find("could not be queued") != std::string::npos);
  BOOST_REQUIRE(run_until(io, [&] { return server.conn(1).saw("JOIN #later"); }));
}

BOOST_AUTO_TEST_CASE(a_confirmed_nick_change_is_kept_across_reconnects) {
  asio::io_context io;
  FakeIrcServer server(io, standard_reply);
  Recorder rec;
  IrcLink link(io, link_options(server.port()), rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::registered; }));
  BOOST_TEST(link.nick("bob").ok());
  BOOST_REQUIRE(run_until(io, [&] { return link.session().nick() == "bob"; }));
  server.drop(0);
  BOOST_REQUIRE(run_until(
      io, [&] { return server.count() == 2 && link.state() == IrcLinkState::registered; }));
  BOOST_TEST(server.conn(1).saw("NICK bob"));
  BOOST_TEST(!server.conn(1).saw("NICK alice"));
  BOOST_TEST(link.session().nick() == "bob");
}

BOOST_AUTO_TEST_CASE(raw_join_and_part_change_the_wanted_channels) {
  asio::io_context io;
  FakeIrcServer server(io, standard_reply);
  Recorder rec;
  IrcLink link(io, link_options(server.port()), rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::registered; }));
  BOOST_TEST(link.raw("JOIN #r1,#r2 k1").ok());
  BOOST_TEST((link.wanted_channels() == std::vector<WantedChannel>{{"#r1", "k1"}, {"#r2", ""}}));
  BOOST_TEST(link.raw("part #r1 :bye").ok());
  BOOST_TEST((link.wanted_channels() == std::vector<WantedChannel>{{"#r2", ""}}));
  BOOST_TEST((link.raw("JOIN #x\r\nQUIT").error == ActionError::invalid_input));
  BOOST_TEST(link.wanted_channels().size() == 1u);
  server.drop(0);
  BOOST_REQUIRE(run_until(
      io, [&] { return server.count() == 2 && link.state() == IrcLinkState::registered; }));
  BOOST_TEST(privmsg(link, "#r2", "marker").ok());
  BOOST_REQUIRE(run_until(io, [&] { return server.conn(1).saw("PRIVMSG #r2 marker"); }));
  BOOST_TEST(server.conn(1).saw("JOIN #r2"));
  BOOST_TEST(!server.conn(1).saw("JOIN #r1"));
}

BOOST_AUTO_TEST_CASE(server_password_and_sasl_never_reach_the_log) {
  asio::io_context io;
  FakeIrcServer server(io, [](ServerConn& conn, const std::string& line) {
    if (line.starts_with("CAP LS")) {
      return std::vector<std::string>{":srv CAP * LS :sasl\r\n"};
    }
    if (line.starts_with("CAP REQ")) {
      return std::vector<std::string>{":srv CAP * ACK :sasl\r\n"};
    }
    if (line == "AUTHENTICATE PLAIN") {
      return std::vector<std::string>{"AUTHENTICATE +\r\n"};
    }
    if (line.starts_with("AUTHENTICATE ")) {
      return std::vector<std::string>{":srv 903 " + conn.nick + " :SASL successful\r\n"};
    }
    if (line == "CAP END") {
      conn.registered = true;
      return std::vector<std::string>{":srv 001 " + conn.nick + " :Welcome\r\n"};
    }
    if (line.starts_with("USER ")) {
      return std::vector<std::string>{};
    }
    return standard_reply(conn, line);
  });
  Recorder rec;
  auto options = link_options(server.port());
  options.client.server_password = "hunter2-pass";
  options.client.sasl = SaslPlain{"alice-acct", "sasl-secret-pw"};
  IrcLink link(io, options, rec.handlers(), rec.sink());
  link.start();
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::registered; }));
  server.drop(0);
  BOOST_REQUIRE(run_until(
      io, [&] { return server.count() == 2 && link.state() == IrcLinkState::registered; }));
  BOOST_TEST(link.raw("PRIVMSG NickServ :IDENTIFY raw-secret").ok());
  link.stop("bye");
  BOOST_REQUIRE(run_until(io, [&] { return link.state() == IrcLinkState::stopped; }));

  // The secrets did go to the server...
  BOOST_TEST(server.conn(0).saw("PASS hunter2-pass"));
  const auto& lines = server.conn(0).lines;
  const auto auth = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
    return line.starts_with("AUTHENTICATE ") && line != "AUTHENTICATE PLAIN";
  });
  BOOST_REQUIRE(auth != lines.end());
  const auto blob = auth->substr(std::string("AUTHENTICATE ").size());
  BOOST_TEST(rec.saw_event(ClientEvent::Kind::sasl_succeeded));
  // ...and never to the log, which did say things.
  BOOST_TEST(rec.log.size() > 5u);
  for (const auto& entry : rec.log) {
    for (const std::string secret :
         {"hunter2", "sasl-secret", "raw-secret", blob.c_str(), "PASS", "AUTHENTICATE"}) {
      BOOST_TEST(entry.find(secret) == std::string::npos, entry << " contains " << secret);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
