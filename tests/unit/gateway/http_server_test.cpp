#include "http_server.hpp"
#include "log.hpp"

#include <arpa/inet.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using trestle::gateway::HttpConfig;
using trestle::gateway::HttpRequest;
using trestle::gateway::HttpResponse;
using trestle::gateway::HttpServer;
using trestle::gateway::Logger;
using trestle::gateway::LogLevel;

/// Upper bound for anything a test waits for; only reached when the server is broken.
constexpr auto wait_limit = 10s;
/// Upper bound for the server's io_context in one test.
constexpr auto run_limit = 30s;

/// One parsed HTTP response as the test client saw it.
struct Response {
  unsigned status = 0;
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;

  bool has(const std::string& name) const { return headers.count(name) != 0; }
};

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

/// A blocking POSIX client: independent of the server code, every wait bounded by poll().
class Client {
public:
  explicit Client(std::uint16_t port, bool ipv6 = false) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd_ >= 0);
    int rc = -1;
    if (ipv6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(port);
      addr.sin6_addr = in6addr_loopback;
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    }
    BOOST_REQUIRE_MESSAGE(rc == 0, "connect failed, errno " << errno);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      BOOST_REQUIRE_MESSAGE(n > 0, "send failed, errno " << errno);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// Reads one response; nullopt if the connection ends or wait_limit passes first.
  std::optional<Response> read_response(bool head_request = false) {
    const auto deadline = std::chrono::steady_clock::now() + wait_limit;
    std::size_t header_end = std::string::npos;
    while ((header_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
    Response response;
    const std::string head = buffered_.substr(0, header_end);
    buffered_.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      return std::nullopt;
    }
    response.status = static_cast<unsigned>(std::stoul(status_line.substr(9, 3)));
    while (line_end != std::string::npos) {
      const auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        const auto value = line.find_first_not_of(' ', colon + 1);
        response.headers[lower(line.substr(0, colon))] =
            value == std::string::npos ? "" : line.substr(value);
      }
    }
    if (head_request || response.status < 200 || !response.has("content-length")) {
      return response;
    }
    const auto length = std::stoul(response.headers["content-length"]);
    while (buffered_.size() < length) {
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
    response.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    return response;
  }

  /// True when the server closes the connection within wait_limit.
  bool closed_by_server() {
    const auto deadline = std::chrono::steady_clock::now() + wait_limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!fill(deadline)) {
        return std::chrono::steady_clock::now() < deadline;
      }
    }
    return false;
  }

private:
  /// Appends what arrives before the deadline; false on end of stream, error or timeout.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      return false;
    }
    buffered_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffered_;
};

HttpConfig test_config() {
  HttpConfig config;
  config.bind = "127.0.0.1";
  config.port = 0;
  config.max_body_bytes = 64;
  config.request_timeout_seconds = 1;
  config.max_connections = 8;
  return config;
}

HttpResponse text(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

/// A server on an ephemeral loopback port whose io_context runs on its own
/// thread (bounded by run_limit); the test thread is the client.
struct Fixture {
  explicit Fixture(HttpConfig cfg = test_config()) : config(std::move(cfg)) {
    server.route("/hello", [](const HttpRequest&, auto reply) { reply(text("hello, world\n")); });
    server.route("/echo", [](const HttpRequest& r, auto reply) {
      auto header = r.headers.find("x-probe");
      reply(text("method=" + r.method + " path=" + r.path + " query=" + r.query + " probe=" +
                 (header == r.headers.end() ? "-" : header->second) + " body=" + r.body));
    });
  }
  ~Fixture() {
    stop_and_join();
    std::fclose(log_file);
  }

  void run() {
    server.start();
    runner = std::thread([this] { io.run_for(run_limit); });
  }
  /// Stops the server from its own thread and waits until run() returns.
  void stop_and_join() {
    if (runner.joinable()) {
      boost::asio::post(io, [this] { server.stop(); });
      runner.join();
    }
  }
  /// Everything logged so far; call only after stop_and_join().
  std::string log_text() {
    std::fflush(log_file);
    std::rewind(log_file);
    std::string out;
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, log_file)) > 0) {
      out.append(chunk, n);
    }
    return out;
  }

  boost::asio::io_context io;
  std::FILE* log_file = std::tmpfile();
  Logger log{LogLevel::debug, log_file};
  HttpConfig config;
  HttpServer server{io, config, log};
  std::thread runner;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(get_route_answers_200) {
  Fixture f;
  f.run();
  BOOST_TEST(f.server.port() != 0);
  Client c(f.server.port());
  c.send(get("/hello"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "hello, world\n");
  BOOST_TEST(r->headers["server"] == "trestle");
  BOOST_TEST(r->headers["content-length"] == "13");
  BOOST_TEST(r->headers["content-type"] == "text/plain; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(query_split_and_headers_lower_case) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send(get("/echo?a=1&b=%20", "X-Probe: one\r\nx-probe: two\r\n"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "method=GET path=/echo query=a=1&b=%20 probe=one, two body=");
}

BOOST_AUTO_TEST_CASE(absolute_form_target_accepted) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send(get("http://test/echo?x"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "method=GET path=/echo query=x probe=- body=");
}

BOOST_AUTO_TEST_CASE(post_body_reaches_handler) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab=cd");
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "method=POST path=/echo query= probe=- body=ab=cd");
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send(get("/nope"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 404u);
  BOOST_TEST(r->has("content-length"));
  // Routes match exactly: a trailing slash is another path.
  c.send(get("/hello/"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 404u);
}

BOOST_AUTO_TEST_CASE(body_over_limit_is_413_and_never_logged) {
  Fixture f;
  f.run();
  const std::string body(65, 'S');
  Client c(f.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n" + body);
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 413u);
  BOOST_TEST(r->headers["connection"] == "close");
  BOOST_TEST(c.closed_by_server());
  f.stop_and_join();
  const auto log = f.log_text();
  BOOST_TEST(log.find("body over 64 bytes") != std::string::npos);
  BOOST_TEST(log.find("SSSS") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(chunked_body_over_limit_is_413) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  const std::string chunk(40, 'x');
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + chunk +
         "\r\n28\r\n" + chunk + "\r\n0\r\n\r\n");
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 413u);
}

BOOST_AUTO_TEST_CASE(body_at_limit_accepted) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 64\r\n\r\n" + std::string(64, 'k'));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
}

BOOST_AUTO_TEST_CASE(malformed_request_is_400) {
  Fixture f;
  f.run();
  {
    Client c(f.server.port());
    c.send("GET /hello HTTP/1.1\r\nBad Header Line\r\n\r\n");
    auto r = c.read_response();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 400u);
    BOOST_TEST(c.closed_by_server());
  }
  {
    Client c(f.server.port());
    c.send("\x01\x02 garbage\r\n\r\n");
    auto r = c.read_response();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 400u);
  }
  {
    Client c(f.server.port());
    c.send(get("hello"));
    auto r = c.read_response();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 400u);
  }
  f.stop_and_join();
  BOOST_TEST(f.log_text().find("malformed request from 127.0.0.1:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(oversized_header_is_431) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send(get("/hello", "X-Big: " + std::string(9000, 'h') + "\r\n"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 431u);
}

BOOST_AUTO_TEST_CASE(deferred_reply_arrives) {
  Fixture f;
  f.server.route("/later", [&f](const HttpRequest&, auto reply) {
    auto timer = std::make_shared<boost::asio::steady_timer>(f.io, 50ms);
    timer->async_wait([timer, reply](auto) { reply(text("later\n")); });
  });
  f.run();
  Client c(f.server.port());
  c.send(get("/later"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "later\n");
  // The connection survives the wait and serves the next request.
  c.send(get("/hello"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "hello, world\n");
}

BOOST_AUTO_TEST_CASE(silent_handler_gets_504_and_late_reply_is_harmless) {
  Fixture f;
  std::function<void(HttpResponse)> kept;
  f.server.route("/silent", [&kept](const HttpRequest&, auto reply) { kept = reply; });
  f.run();
  Client c(f.server.port());
  c.send(get("/silent"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 504u);
  f.stop_and_join();
  BOOST_REQUIRE(kept);
  kept(text("too late")); // after the connection and the io_context are done
  BOOST_TEST(f.log_text().find("did not answer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(second_reply_ignored) {
  Fixture f;
  f.server.route("/twice", [](const HttpRequest&, auto reply) {
    reply(text("first"));
    reply(text("second"));
  });
  f.run();
  Client c(f.server.port());
  c.send(get("/twice"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "first");
  c.send(get("/hello"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "hello, world\n");
}

BOOST_AUTO_TEST_CASE(throwing_handler_gets_500) {
  Fixture f;
  f.server.route("/boom", [](const HttpRequest&, auto) { throw std::runtime_error("boom"); });
  f.run();
  Client c(f.server.port());
  c.send(get("/boom"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 500u);
}

BOOST_AUTO_TEST_CASE(invalid_status_becomes_500_and_204_has_no_body) {
  Fixture f;
  f.server.route("/weird", [](const HttpRequest&, auto reply) {
    HttpResponse response;
    response.status = 42;
    reply(response);
  });
  f.server.route("/empty", [](const HttpRequest&, auto reply) {
    HttpResponse response;
    response.status = 204;
    response.body = "dropped";
    reply(response);
  });
  f.run();
  Client c(f.server.port());
  c.send(get("/weird"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 500u);
  c.send(get("/empty"));
  r = c.read_response(true);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 204u);
  // Nothing of the dropped body may precede the next response.
  c.send(get("/hello"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
}

BOOST_AUTO_TEST_CASE(idle_and_slow_clients_disconnected) {
  Fixture f;
  f.run();
  Client idle(f.server.port());
  Client slow(f.server.port());
  slow.send("GET /hello HTTP/1.1\r\nHost:");
  BOOST_TEST(idle.closed_by_server());
  BOOST_TEST(slow.closed_by_server());
  f.stop_and_join();
  const auto log = f.log_text();
  BOOST_TEST(log.find("idle connection timed out") != std::string::npos);
  BOOST_TEST(log.find("request timed out") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(connection_cap_answers_503) {
  auto config = test_config();
  config.max_connections = 1;
  Fixture f(config);
  f.run();
  Client first(f.server.port());
  first.send(get("/hello"));
  auto r = first.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);

  Client second(f.server.port());
  second.send(get("/hello"));
  r = second.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 503u);
  BOOST_TEST(r->headers["connection"] == "close");
  BOOST_TEST(second.closed_by_server());

  // The first connection is unaffected, and its end frees the slot (the
  // server notices the close asynchronously, hence the bounded retries).
  first.send(get("/hello", "Connection: close\r\n"));
  r = first.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(first.closed_by_server());
  unsigned status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    Client next(f.server.port());
    next.send(get("/hello"));
    auto answer = next.read_response();
    BOOST_REQUIRE(answer);
    status = answer->status;
    if (status != 200) {
      std::this_thread::sleep_for(20ms);
    }
  }
  BOOST_TEST(status == 200u);
  f.stop_and_join();
  BOOST_TEST(f.log_text().find("connection limit (1) reached") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(keep_alive_and_pipelining) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send(get("/hello"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "hello, world\n");
  c.send(get("/echo?second"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "method=GET path=/echo query=second probe=- body=");
  c.send(get("/echo?p1") + get("/echo?p2"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "method=GET path=/echo query=p1 probe=- body=");
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "method=GET path=/echo query=p2 probe=- body=");
}

BOOST_AUTO_TEST_CASE(connection_close_and_http10_end_the_connection) {
  Fixture f;
  f.run();
  {
    Client c(f.server.port());
    c.send(get("/hello", "Connection: close\r\n"));
    auto r = c.read_response();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200u);
    BOOST_TEST(c.closed_by_server());
  }
  {
    Client c(f.server.port());
    c.send("GET /hello HTTP/1.0\r\n\r\n");
    auto r = c.read_response();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200u);
    BOOST_TEST(r->body == "hello, world\n");
    BOOST_TEST(c.closed_by_server());
  }
}

BOOST_AUTO_TEST_CASE(head_sends_length_without_body) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = c.read_response(true);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->headers["content-length"] == "13");
  c.send(get("/echo?after-head"));
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "method=GET path=/echo query=after-head probe=- body=");
}

BOOST_AUTO_TEST_CASE(expect_100_continue) {
  Fixture f;
  f.run();
  Client c(f.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 100u);
  c.send("abc");
  r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "method=POST path=/echo query= probe=- body=abc");
}

BOOST_AUTO_TEST_CASE(stop_closes_connections_and_ends_run) {
  auto config = test_config();
  config.request_timeout_seconds = 20; // so only stop() can end these connections
  Fixture f(config);
  bool handler_called = false;
  f.server.route("/silent", [&](const HttpRequest&, auto) { handler_called = true; });
  f.run();
  Client idle(f.server.port());
  Client keep(f.server.port());
  keep.send(get("/hello"));
  BOOST_REQUIRE(keep.read_response());
  Client waiting(f.server.port());
  waiting.send(get("/silent"));
  Client partial(f.server.port());
  partial.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  // Make sure the /silent request reached its handler before stopping.
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::promise<bool> seen;
    auto result = seen.get_future();
    boost::asio::post(f.io, [&] { seen.set_value(handler_called); });
    if (result.wait_for(wait_limit) == std::future_status::ready && result.get()) {
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  boost::asio::post(f.io, [&f] { f.server.stop(); });
  f.runner.join();
  BOOST_TEST(f.io.stopped()); // ran out of work, not out of time
  BOOST_TEST(handler_called);
  BOOST_TEST(idle.closed_by_server());
  BOOST_TEST(keep.closed_by_server());
  BOOST_TEST(waiting.closed_by_server());
  BOOST_TEST(partial.closed_by_server());
}

BOOST_AUTO_TEST_CASE(ipv6_literal_binds) {
  auto config = test_config();
  config.bind = "[::1]";
  Fixture f(config);
  f.run();
  Client c(f.server.port(), true);
  c.send(get("/echo"));
  auto r = c.read_response();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
}

BOOST_AUTO_TEST_CASE(start_fails_clearly) {
  Fixture busy;
  busy.run();
  auto config = test_config();
  config.port = busy.server.port();
  {
    Fixture clash(config);
    try {
      clash.server.start();
      BOOST_FAIL("start() on a busy port must throw");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      BOOST_TEST(what.find("cannot listen on 127.0.0.1:" + std::to_string(config.port)) !=
                 std::string::npos);
    }
  }
  config.bind = "localhost";
  Fixture bad(config);
  BOOST_CHECK_THROW(bad.server.start(), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
