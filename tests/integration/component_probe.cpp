// A test tool: one ComponentConnection driven from stdin, so that the
// integration tests can send stanzas through trestle's XEP-0114 driver at
// moments of their choosing (for example while the XMPP server is down).
//
// Usage: component_probe HOST PORT DOMAIN SECRET
// stdin, one command per line:
//   send TO BODY   queue a chat message from DOMAIN to TO
//   quit           close the stream gracefully (flushing the queue) and exit
// stdout, one event per line: `state NAME` on every link state change,
// `queued N` after each send (N = queue depth, or `refused`), `stopped`.
#include "component_connection.hpp"
#include "jid.hpp"
#include "stanza.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <istream>
#include <string>
#include <unistd.h>
#include <utility>

namespace asio = boost::asio;
using trestle::xmpp::ComponentConnection;
using trestle::xmpp::ConnectionOptions;
using trestle::xmpp::LinkState;

namespace {

/// Reads commands from stdin and watches the link state.
class Probe {
public:
  Probe(asio::io_context& io, ConnectionOptions options)
      : io_(io), input_(io, ::dup(STDIN_FILENO)), poll_(io),
        connection_(
            io, std::move(options), [](trestle::xmpp::Element) {},
            [](trestle::xmpp::LogSeverity, std::string_view text) {
              std::cerr << "probe: " << text << '\n';
            }) {}

  void start() {
    connection_.start();
    watch_state();
    read_command();
  }

private:
  void emit(const std::string& line) { std::cout << line << std::endl; }

  void watch_state() {
    const auto now = connection_.state();
    if (now != last_) {
      last_ = now;
      emit("state " + std::string(trestle::xmpp::to_string(now)));
    }
    if (now == LinkState::stopped) {
      return;
    }
    poll_.expires_after(std::chrono::milliseconds(10));
    poll_.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        watch_state();
      }
    });
  }

  void read_command() {
    asio::async_read_until(input_, buffer_, '\n',
                           [this](boost::system::error_code ec, std::size_t) {
                             std::string line;
                             if (!ec) {
                               std::istream in(&buffer_);
                               std::getline(in, line);
                             }
                             if (ec || line == "quit") {
                               quit();
                               return;
                             }
                             handle(line);
                             read_command();
                           });
  }

  void handle(const std::string& line) {
    if (line.rfind("send ", 0) != 0) {
      emit("error unknown command");
      return;
    }
    const auto rest = line.substr(5);
    const auto space = rest.find(' ');
    const auto to = trestle::xmpp::Jid::parse(rest.substr(0, space));
    const auto from = trestle::xmpp::Jid::parse(connection_.domain());
    if (!to || !from || space == std::string::npos) {
      emit("error bad send command");
      return;
    }
    auto message = trestle::xmpp::make_message(*from, *to, "chat", rest.substr(space + 1));
    message.set_attr("id", "probe-" + std::to_string(++sent_));
    if (connection_.send(message)) {
      emit("queued " + std::to_string(connection_.queue_depth()));
    } else {
      emit("queued refused");
    }
  }

  void quit() {
    input_.close();
    connection_.stop([this] {
      poll_.cancel();
      emit("stopped");
      io_.stop();
    });
  }

  asio::io_context& io_;
  asio::posix::stream_descriptor input_;
  asio::steady_timer poll_;
  asio::streambuf buffer_;
  ComponentConnection connection_;
  LinkState last_ = LinkState::idle;
  unsigned sent_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: component_probe HOST PORT DOMAIN SECRET\n";
    return 2;
  }
  ConnectionOptions options;
  options.host = argv[1];
  const std::string port = argv[2];
  if (std::from_chars(port.data(), port.data() + port.size(), options.port).ec != std::errc()) {
    std::cerr << "component_probe: bad port\n";
    return 2;
  }
  options.domain = argv[3];
  options.secret = argv[4];
  options.reconnect_min = std::chrono::milliseconds(200);
  options.reconnect_max = std::chrono::milliseconds(1000);
  options.connect_timeout = std::chrono::milliseconds(5000);
  asio::io_context io;
  Probe probe(io, std::move(options));
  probe.start();
  io.run();
  return 0;
}
