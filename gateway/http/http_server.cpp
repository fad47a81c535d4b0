// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

// Project headers, then library headers.
#include "http_server.hpp"
#include "log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace trestle::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

constexpr std::string_view log_area = "http";
/// Request line plus headers; more is refused with 431.
constexpr std::uint32_t header_limit = 8 * 1024;
/// Bytes held unparsed at once. The parser consumes the body as it arrives, so
/// this only has to hold a full header block plus one read.
constexpr std::size_t read_buffer_limit = 2 * header_limit;
/// Bytes read and discarded before closing after an error response, so the
/// peer's unread request does not turn our close into a reset that eats the
/// response.
constexpr std::size_t linger_drain_limit = 64 * 1024;
/// Pause after a failed accept (e.g. out of descriptors) so the loop does not spin.
constexpr std::chrono::milliseconds accept_retry_delay{100};

/// One accepted socket. Owned by its coroutine; the server keeps a weak
/// reference to close it on stop().
struct Connection {
  Connection(tcp::socket socket, std::string peer)
      : stream(std::move(socket)), reply_timer(stream.get_executor()), remote(std::move(peer)) {}

  beast::tcp_stream stream;
  /// Used as an event: waits until the request deadline and is cancelled by
  /// the handler's reply.
  asio::steady_timer reply_timer;
  std::string remote;
};

/// What a handler's reply callback shares with the waiting connection. It
/// holds no I/O object, so a handler may keep the callback past the connection
/// (or the io_context) without harm.
struct ReplySlot {
  std::optional<HttpResponse> response;
  /// False once the connection stopped waiting; later replies are dropped.
  bool open = true;
  std::weak_ptr<Connection> connection;
};

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

asio::ip::address parse_bind_address(std::string_view text) {
  std::string literal(text);
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(literal, ec);
  if (ec) {
    throw std::runtime_error("http: bind address '" + std::string(text) +
                             "' is not an IPv4 or IPv6 literal");
  }
  return address;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

/// Splits an origin-form or absolute-form target (RFC 7230 section 5.3) into
/// path and query; false for any other form.
bool split_target(std::string_view target, std::string& path, std::string& query) {
  if (const auto scheme = target.find("://");
      scheme != std::string_view::npos && target.front() != '/') {
    const auto slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.empty() || target.front() != '/') {
    return false;
  }
  const auto mark = target.find('?');
  path = std::string(target.substr(0, mark));
  query = mark == std::string_view::npos ? std::string() : std::string(target.substr(mark + 1));
  return true;
}

HttpRequest to_http_request(http::request<http::string_body>& message, std::string path,
                            std::string query, const std::string& remote) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.path = std::move(path);
  request.query = std::move(query);
  for (const auto& field : message) {
    // Repeated fields fold into one, comma-separated (RFC 7230 section 3.2.2).
    auto [it, inserted] = request.headers.emplace(lower(field.name_string()), field.value());
    if (!inserted) {
      it->second += ", ";
      it->second += field.value();
    }
  }
  request.body = std::move(message.body());
  request.remote = remote;
  return request;
}

HttpResponse plain_response(unsigned status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

} // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, const HttpConfig& config, Logger& log)
      : io_(io), config_(config), log_(log), acceptor_(io), accept_pause_(io) {}

  void start();
  void stop();
  void admit(tcp::socket socket);
  void finish(std::uint64_t id, bool rejected, std::exception_ptr failure);

  // Each coroutine takes a shared_ptr to Impl that it never names: it keeps
  // the server state alive for as long as the coroutine frame exists.
  awaitable<void> accept_loop(std::shared_ptr<Impl>);
  awaitable<void> run_session(std::shared_ptr<Impl>, std::shared_ptr<Connection> conn);
  awaitable<void> reject(std::shared_ptr<Impl>, std::shared_ptr<Connection> conn);

  awaitable<void> answer_read_error(Connection& conn, const beast::error_code& ec, bool got_bytes);
  awaitable<std::optional<HttpResponse>> dispatch(const std::shared_ptr<Connection>& conn,
                                                  HttpRequest request,
                                                  std::chrono::steady_clock::time_point deadline);
  awaitable<bool> write_response(Connection& conn, HttpResponse response, unsigned version,
                                 bool keep_alive, bool head_only);
  awaitable<void> fail_and_close(Connection& conn, unsigned status, std::string body);
  awaitable<void> linger_close(Connection& conn);

  std::chrono::seconds timeout() const {
    return std::chrono::seconds(config_.request_timeout_seconds);
  }
  // After stop() every error is an expected abort, and the Logger may already
  // be gone if the server was destroyed before the io_context ran out.
  void debug(std::string_view message) {
    if (!stopped_) {
      log_.debug(log_area, message);
    }
  }
  void warning(std::string_view message) {
    if (!stopped_) {
      log_.warning(log_area, message);
    }
  }

  asio::io_context& io_;
  HttpConfig config_;
  Logger& log_;
  std::map<std::string, HttpHandler, std::less<>> routes_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_pause_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::size_t sessions_ = 0;
  std::size_t rejections_ = 0;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
};

void HttpServer::Impl::start() {
  if (started_) {
    throw std::logic_error("http: server started twice");
  }
  const tcp::endpoint endpoint(parse_bind_address(config_.bind), config_.port);
  const auto where = endpoint_text(endpoint);
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    port_ = acceptor_.local_endpoint(ec).port();
  }
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    throw std::runtime_error("http: cannot listen on " + where + ": " + ec.message());
  }
  started_ = true;
  log_.info(log_area, "listening on " + endpoint_text(tcp::endpoint(endpoint.address(), port_)));
  asio::co_spawn(
      io_, accept_loop(shared_from_this()),
      [self = shared_from_this()](std::exception_ptr failure) { self->finish(0, false, failure); });
}

void HttpServer::Impl::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
  // Closing cancels each pending read or write; cancelling the reply timer
  // wakes a connection that waits for its handler. Every coroutine then sees
  // stopped_ and returns, so the io_context runs out of work.
  for (auto& [id, weak] : connections_) {
    if (auto conn = weak.lock()) {
      conn->stream.close();
      conn->reply_timer.cancel();
    }
  }
}

awaitable<void> HttpServer::Impl::accept_loop(std::shared_ptr<Impl>) {
  while (!stopped_) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(redirect_error(use_awaitable, ec));
    if (stopped_) {
      co_return;
    }
    if (ec) {
      warning("accept failed: " + ec.message());
      accept_pause_.expires_after(accept_retry_delay);
      co_await accept_pause_.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    admit(std::move(socket));
  }
}

void HttpServer::Impl::admit(tcp::socket socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  auto conn = std::make_shared<Connection>(std::move(socket), ec ? "unknown" : endpoint_text(peer));
  const bool rejected = sessions_ >= config_.max_connections;
  if (rejected && rejections_ >= config_.max_connections) {
    // Even the 503 answers are at their cap: drop without a word.
    debug("connection limit reached; dropping " + conn->remote);
    return;
  }
  const auto id = ++next_id_;
  connections_.emplace(id, conn);
  auto done = [self = shared_from_this(), id, rejected](std::exception_ptr failure) {
    self->finish(id, rejected, failure);
  };
  if (rejected) {
    ++rejections_;
    warning("connection limit (" + std::to_string(config_.max_connections) +
            ") reached; answering 503 to " + conn->remote);
    asio::co_spawn(io_, reject(shared_from_this(), std::move(conn)), std::move(done));
  } else {
    ++sessions_;
    asio::co_spawn(io_, run_session(shared_from_this(), std::move(conn)), std::move(done));
  }
}

void HttpServer::Impl::finish(std::uint64_t id, bool rejected, std::exception_ptr failure) {
  if (id != 0) {
    connections_.erase(id);
    --(rejected ? rejections_ : sessions_);
  }
  if (failure) {
    // Only a bug gets here: every expected failure is an error_code.
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log_.error(log_area, std::string("connection coroutine failed: ") + e.what());
    } catch (...) {
      log_.error(log_area, "connection coroutine failed with an unknown exception");
    }
  }
}

awaitable<void> HttpServer::Impl::reject(std::shared_ptr<Impl>, std::shared_ptr<Connection> conn) {
  co_await fail_and_close(*conn, 503, "too many connections\n");
}

awaitable<void> HttpServer::Impl::run_session(std::shared_ptr<Impl>,
                                              std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer(read_buffer_limit);
  while (!stopped_) {
    // A fresh parser per request: limits and state never leak between requests.
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(config_.max_body_bytes);
    const auto deadline = std::chrono::steady_clock::now() + timeout();
    conn->stream.expires_after(timeout());

    beast::error_code ec;
    co_await http::async_read_header(conn->stream, buffer, parser,
                                     redirect_error(use_awaitable, ec));
    if (!ec && parser.get().version() >= 11 && !parser.is_done() &&
        beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      co_await http::async_write(conn->stream, go_on, redirect_error(use_awaitable, ec));
    }
    if (!ec && !parser.is_done()) {
      co_await http::async_read(conn->stream, buffer, parser, redirect_error(use_awaitable, ec));
    }
    if (stopped_) {
      co_return;
    }
    if (ec) {
      co_await answer_read_error(*conn, ec, parser.got_some());
      co_return;
    }

    auto& message = parser.get();
    const unsigned version = message.version();
    const bool keep_alive = message.keep_alive();
    const bool head_only = message.method() == http::verb::head;
    std::string path;
    std::string query;
    if (!split_target(message.target(), path, query)) {
      debug("bad request target from " + conn->remote);
      co_await fail_and_close(*conn, 400, "bad request target\n");
      co_return;
    }
    HttpRequest request = to_http_request(message, std::move(path), std::move(query), conn->remote);
    auto response = co_await dispatch(conn, std::move(request), deadline);
    if (!response) {
      co_return;
    }
    const bool written =
        co_await write_response(*conn, std::move(*response), version, keep_alive, head_only);
    if (!written) {
      co_return;
    }
    if (!keep_alive) {
      conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

awaitable<void> HttpServer::Impl::answer_read_error(Connection& conn, const beast::error_code& ec,
                                                    bool got_bytes) {
  if (ec == http::error::end_of_stream) {
    co_return; // the client closed between requests: the normal end of keep-alive
  }
  if (ec == beast::error::timeout) {
    // tcp_stream has already closed the socket; there is no one to answer.
    debug((got_bytes ? "request timed out from " : "idle connection timed out from ") +
          conn.remote);
    co_return;
  }
  if (ec == http::error::body_limit) {
    debug("body over " + std::to_string(config_.max_body_bytes) + " bytes from " + conn.remote);
    co_await fail_and_close(conn, 413, "request body too large\n");
  } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    debug("header over " + std::to_string(header_limit) + " bytes from " + conn.remote);
    co_await fail_and_close(conn, 431, "request header too large\n");
  } else if (is_http_parse_error(ec) && ec != http::error::partial_message) {
    debug("malformed request from " + conn.remote + ": " + ec.message());
    co_await fail_and_close(conn, 400, "malformed request\n");
  } else {
    debug("read from " + conn.remote + " failed: " + ec.message());
  }
}

awaitable<std::optional<HttpResponse>>
HttpServer::Impl::dispatch(const std::shared_ptr<Connection>& conn, HttpRequest request,
                           std::chrono::steady_clock::time_point deadline) {
  const auto route = routes_.find(request.path);
  if (route == routes_.end()) {
    co_return plain_response(404, "not found\n");
  }
  // A copy, so a handler that re-registers its own route stays alive while it runs.
  const HttpHandler handler = route->second;
  auto slot = std::make_shared<ReplySlot>();
  slot->connection = conn;
  auto reply = [slot](HttpResponse response) {
    if (!slot->open || slot->response) {
      return; // too late, or a second reply: the first one stands
    }
    slot->response = std::move(response);
    if (auto waiting = slot->connection.lock()) {
      waiting->reply_timer.cancel();
    }
  };
  try {
    handler(request, reply);
  } catch (const std::exception& e) {
    warning("handler for " + request.path + " threw: " + e.what());
    if (!slot->response) {
      slot->response = plain_response(500, "internal error\n");
    }
  }
  if (!slot->response) {
    beast::error_code ec;
    conn->reply_timer.expires_at(deadline);
    co_await conn->reply_timer.async_wait(redirect_error(use_awaitable, ec));
  }
  slot->open = false;
  if (stopped_) {
    co_return std::nullopt;
  }
  if (!slot->response) {
    warning("handler for " + request.path + " did not answer " + request.remote + " within " +
            std::to_string(config_.request_timeout_seconds) + " s");
    co_return plain_response(504, "handler timed out\n");
  }
  co_return std::move(*slot->response);
}

awaitable<bool> HttpServer::Impl::write_response(Connection& conn, HttpResponse response,
                                                 unsigned version, bool keep_alive,
                                                 bool head_only) {
  unsigned status = response.status;
  if (status < 200 || status > 599) {
    // 1xx is never a final answer; anything outside 100-599 is not HTTP.
    warning("handler answered invalid status " + std::to_string(status) + "; sending 500");
    response = plain_response(500, "internal error\n");
    status = 500;
  }
  http::response<http::string_body> message;
  message.version(version);
  message.result(status);
  message.set(http::field::server, "trestle");
  if (!response.content_type.empty()) {
    message.set(http::field::content_type, response.content_type);
  }
  message.keep_alive(keep_alive);
  // 204 and 304 carry no body and, per RFC 7230 section 3.3.2, no Content-Length.
  if (status != 204 && status != 304) {
    message.body() = std::move(response.body);
  }
  message.prepare_payload();

  beast::error_code ec;
  conn.stream.expires_after(timeout());
  if (head_only) {
    http::response_serializer<http::string_body> serializer{message};
    co_await http::async_write_header(conn.stream, serializer, redirect_error(use_awaitable, ec));
  } else {
    co_await http::async_write(conn.stream, message, redirect_error(use_awaitable, ec));
  }
  if (ec) {
    debug("write to " + conn.remote + " failed: " + ec.message());
    co_return false;
  }
  co_return true;
}

awaitable<void> HttpServer::Impl::fail_and_close(Connection& conn, unsigned status,
                                                 std::string body) {
  HttpResponse response = plain_response(status, std::move(body));
  const bool written = co_await write_response(conn, std::move(response), 11, false, false);
  if (written) {
    co_await linger_close(conn);
  }
}

awaitable<void> HttpServer::Impl::linger_close(Connection& conn) {
  beast::error_code ec;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn.stream.expires_after(timeout());
  char scratch[4096];
  std::size_t drained = 0;
  while (!ec && !stopped_ && drained < linger_drain_limit) {
    drained += co_await conn.stream.async_read_some(asio::buffer(scratch),
                                                    redirect_error(use_awaitable, ec));
  }
  conn.stream.close();
}

HttpServer::HttpServer(boost::asio::io_context& io, const HttpConfig& config, Logger& log)
    : impl_(std::make_shared<Impl>(io, config, log)) {}

HttpServer::~HttpServer() {
  impl_->stop();
  // Coroutines still winding down hold impl_; drop the handlers now so that
  // nothing they captured outlives the server.
  impl_->routes_.clear();
}

void HttpServer::route(std::string path, HttpHandler handler) {
  impl_->routes_.insert_or_assign(std::move(path), std::move(handler));
}

bool HttpServer::has_route(const std::string& path) const {
  return impl_->routes_.count(path) != 0;
}

void HttpServer::start() {
  impl_->start();
}

void HttpServer::stop() {
  impl_->stop();
}

std::uint16_t HttpServer::port() const {
  return impl_->port_;
}

} // namespace trestle::gateway
