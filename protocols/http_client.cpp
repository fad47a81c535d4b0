// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "http_client.hpp"

#include "address_text.hpp"
#include "tls_client_context.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <optional>

namespace trestle::protocols {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using OnAnswer = HttpClient::OnAnswer;
using Request = http::request<http::string_body>;

/// Status line plus header fields of a response; more fails the call.
constexpr std::uint32_t header_limit = 16 * 1024;
/// Bytes held unparsed at once: a full header block plus one read (the
/// parser moves the body out of the buffer as it arrives).
constexpr std::size_t read_buffer_limit = 2 * header_limit;
/// Interim (1xx) responses skipped before the final one.
constexpr int max_interim_responses = 4;
constexpr std::string_view stopped_text = "stopped";

HttpAnswer failed(std::string error) {
  HttpAnswer answer;
  answer.error = std::move(error);
  return answer;
}

/// The host as it goes into "host:port" and Host: IPv6 literals in brackets.
std::string host_text(const ParsedUrl& url) {
  return url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
}

std::string where(const ParsedUrl& url) {
  return host_text(url) + ":" + std::to_string(url.port);
}

/// Host header (RFC 7230 section 5.4): the port only when not the scheme's.
std::string host_field(const ParsedUrl& url) {
  const unsigned short default_port = url.tls ? 443 : 80;
  return url.port == default_port ? host_text(url) : where(url);
}

/// A header field name is a token (RFC 7230 section 3.2.6).
bool is_token(std::string_view name) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return is_ascii_digit(c) || is_ascii_letter(c) || specials.find(c) != std::string_view::npos;
  });
}

/// A field value may not split the header block.
bool is_field_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

/// The request message, or the reason it cannot be sent. The fields the
/// client owns replace any the caller gave.
std::optional<Request> build_request(HttpCall& call, const ParsedUrl& url, std::string* error) {
  const auto verb = http::string_to_verb(call.method);
  if (verb == http::verb::unknown) {
    return fail_parse(error, "unknown HTTP method '" + call.method + "'");
  }
  Request request(verb, url.target, 11);
  for (auto& [name, value] : call.headers) {
    if (!is_token(name) || !is_field_value(value)) {
      return fail_parse(error, "bad header field '" + name + "'");
    }
    request.insert(name, value);
  }
  request.erase(http::field::content_length);
  request.erase(http::field::transfer_encoding);
  request.set(http::field::host, host_field(url));
  request.set(http::field::user_agent, "trestle");
  request.set(http::field::connection, "close");
  request.body() = std::move(call.body);
  // Content-Length for POST and for any body; none for a bodiless GET.
  request.prepare_payload();
  return request;
}

/// Why reading the response failed, for an operator.
std::string read_failure(const error_code& ec, const std::string& peer, std::size_t body_limit) {
  if (ec == http::error::body_limit) {
    return "response body over " + std::to_string(body_limit) + " bytes";
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return "response header over " + std::to_string(header_limit) + " bytes";
  }
  if (ec == http::error::end_of_stream) {
    return peer + " closed the connection without a response";
  }
  if (ec == http::error::partial_message || ec == asio::ssl::error::stream_truncated) {
    return peer + " closed the connection in the middle of the response";
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return "bad response from " + peer + ": " + ec.message();
  }
  return "reading the response from " + peer + " failed: " + ec.message();
}

/// One call on its own connection. Owned by its coroutine (and held by the
/// client's table of running calls); the deadline's handler holds it weakly.
struct Exchange : std::enable_shared_from_this<Exchange> {
  Exchange(asio::io_context& io, std::shared_ptr<const HttpClientLimits> limits_in,
           ParsedUrl url_in, Request request_in)
      : limits(std::move(limits_in)), url(std::move(url_in)), request(std::move(request_in)),
        peer(where(url)), resolver(io), socket(io), deadline(io) {}

  std::shared_ptr<const HttpClientLimits> limits;
  ParsedUrl url;
  Request request;
  std::string peer;
  tcp::resolver resolver;
  tcp::socket socket;
  /// Empty until the TLS handshake starts; then it owns the socket.
  xmpp::ClientTls tls;
  /// The whole call's deadline; when it passes the connection is closed,
  /// which ends the operation in progress with an error.
  asio::steady_timer deadline;
  /// What the call is doing, for the timeout's text.
  std::string stage;
  bool timed_out = false;
  /// Set by abort(): the call ends with this error whatever happens next.
  std::optional<std::string> aborted;
  bool closed = false;

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  /// The deadline or abort() closed the connection: start no more I/O.
  bool interrupted() const { return timed_out || aborted.has_value(); }

  void close() {
    if (closed) {
      return;
    }
    closed = true;
    error_code ignored;
    resolver.cancel();
    lowest().close(ignored);
    deadline.cancel();
  }
  void abort(std::string why) {
    if (!closed && !aborted) {
      aborted = std::move(why);
    }
    close();
  }
  /// The answer for a failed step: the abort or the timeout takes precedence,
  /// as they caused the step's error.
  HttpAnswer failure(std::string text) const {
    if (aborted) {
      return failed(*aborted);
    }
    if (timed_out) {
      return failed("timed out after " + std::to_string(limits->timeout.count()) + " s " + stage);
    }
    return failed(std::move(text));
  }

  void arm_deadline();
  awaitable<std::optional<HttpAnswer>> connect();
  awaitable<std::optional<HttpAnswer>> handshake();
  template <typename Stream> awaitable<HttpAnswer> converse(Stream& stream);
  template <typename Stream> awaitable<HttpAnswer> receive(Stream& stream);
};

void Exchange::arm_deadline() {
  deadline.expires_after(limits->timeout);
  deadline.async_wait([weak = weak_from_this()](const error_code& ec) {
    const auto self = weak.lock();
    if (!ec && self && !self->closed) {
      self->timed_out = true;
      self->close();
    }
  });
}

/// Resolves (asynchronously) and connects to each address in turn; nullopt
/// when connected, else the failure.
awaitable<std::optional<HttpAnswer>> Exchange::connect() {
  stage = "resolving " + url.host;
  error_code ec;
  const auto endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                         redirect_error(use_awaitable, ec));
  if (interrupted() || ec || endpoints.empty()) {
    co_return failure("cannot resolve " + url.host + ": " + (ec ? ec.message() : "no address"));
  }
  stage = "connecting to " + peer;
  co_await asio::async_connect(socket, endpoints, redirect_error(use_awaitable, ec));
  if (interrupted() || ec) {
    co_return failure("cannot connect to " + peer + ": " + ec.message());
  }
  socket.set_option(tcp::no_delay(true), ec);
  co_return std::nullopt;
}

awaitable<std::optional<HttpAnswer>> Exchange::handshake() {
  stage = "in the TLS handshake with " + peer;
  std::string problem;
  if (!tls.start(socket, limits->verify, limits->ca_file, url.host, &problem)) {
    co_return failure(std::move(problem));
  }
  error_code ec;
  co_await tls->async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
  if (interrupted() || ec) {
    co_return failure(tls.handshake_failure(peer, ec));
  }
  co_return std::nullopt;
}

template <typename Stream> awaitable<HttpAnswer> Exchange::converse(Stream& stream) {
  stage = "sending the request to " + peer;
  error_code ec;
  co_await http::async_write(stream, request, redirect_error(use_awaitable, ec));
  if (interrupted() || ec) {
    co_return failure("cannot send the request to " + peer + ": " + ec.message());
  }
  co_return co_await receive(stream);
}

template <typename Stream> awaitable<HttpAnswer> Exchange::receive(Stream& stream) {
  stage = "waiting for the response from " + peer;
  beast::flat_buffer buffer(read_buffer_limit);
  for (int interim = 0;; ++interim) {
    // A fresh parser per response: an interim 1xx response is a whole message.
    http::response_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(limits->max_response_bytes);
    parser.skip(request.method() == http::verb::head);
    // The header on its own first: Beast 1.74's eager parse (async_read)
    // drops the body_limit error for a Content-Length over the limit when
    // body bytes came in the same read, and would read that body whole.
    error_code ec;
    co_await http::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
    if (!ec && !interrupted() && !parser.is_done()) {
      co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    }
    if (interrupted() || ec) {
      co_return failure(read_failure(ec, peer, limits->max_response_bytes));
    }
    const unsigned status = parser.get().result_int();
    if (status / 100 == 1 && status != 101 && interim < max_interim_responses) {
      continue;
    }
    HttpAnswer answer;
    answer.status = status;
    answer.body = std::move(parser.get().body());
    co_return answer;
  }
}

/// The whole call: resolve, connect, TLS, request, response, under one
/// deadline. `self` keeps the exchange alive while the coroutine runs.
awaitable<HttpAnswer> run_exchange(std::shared_ptr<Exchange> self) {
  auto& x = *self;
  if (x.interrupted()) {
    co_return x.failure(""); // stopped before it began: no lookup, no connection
  }
  x.arm_deadline();
  std::optional<HttpAnswer> problem = co_await x.connect();
  if (!problem && x.url.tls) {
    problem = co_await x.handshake();
  }
  HttpAnswer answer;
  if (problem) {
    answer = std::move(*problem);
  } else if (x.tls) {
    answer = co_await x.converse(*x.tls);
  } else {
    answer = co_await x.converse(x.socket);
  }
  // Connection: close; the answer is complete, so no TLS close_notify wait.
  x.close();
  if (x.aborted) {
    answer = failed(*x.aborted);
  }
  co_return answer;
}

} // namespace

struct HttpClient::Impl : std::enable_shared_from_this<Impl> {
  /// A call waiting for a connection.
  struct Waiting {
    ParsedUrl url;
    Request request;
    OnAnswer on_answer;
  };
  /// A call in progress.
  struct Running {
    std::shared_ptr<Exchange> exchange;
    OnAnswer on_answer;
  };

  Impl(asio::io_context& io_context, HttpClientLimits settings)
      : io(io_context), limits(std::make_shared<const HttpClientLimits>(std::move(settings))) {}

  asio::io_context& io;
  /// Shared with the exchanges, which may outlive this object briefly.
  std::shared_ptr<const HttpClientLimits> limits;
  std::deque<Waiting> waiting;
  std::map<std::uint64_t, Running> running;
  std::uint64_t next_id = 0;
  bool stopped = false;

  std::size_t capacity() const { return std::max<std::size_t>(limits->max_connections, 1); }
  void start_next();
  void finish(std::uint64_t id, HttpAnswer answer);
  void give(OnAnswer on_answer, HttpAnswer answer);
};

void HttpClient::Impl::start_next() {
  while (!stopped && running.size() < capacity() && !waiting.empty()) {
    Waiting job = std::move(waiting.front());
    waiting.pop_front();
    const auto id = next_id++;
    auto exchange =
        std::make_shared<Exchange>(io, limits, std::move(job.url), std::move(job.request));
    running[id] = Running{exchange, std::move(job.on_answer)};
    // The coroutine owns the exchange but holds this object only weakly:
    // once the client is gone, its end reports to no one.
    asio::co_spawn(io, run_exchange(std::move(exchange)),
                   [weak = weak_from_this(), id](std::exception_ptr error, HttpAnswer answer) {
                     const auto self = weak.lock();
                     if (!self) {
                       return;
                     }
                     if (error) {
                       try {
                         std::rethrow_exception(error);
                       } catch (const std::exception& e) {
                         answer = failed(std::string("the HTTP client failed: ") + e.what());
                       } catch (...) {
                         answer = failed("the HTTP client failed");
                       }
                     }
                     self->finish(id, std::move(answer));
                   });
  }
}

void HttpClient::Impl::finish(std::uint64_t id, HttpAnswer answer) {
  const auto found = running.find(id);
  if (found == running.end()) {
    return;
  }
  OnAnswer on_answer = std::move(found->second.on_answer);
  running.erase(found);
  give(std::move(on_answer), std::move(answer));
  start_next();
}

void HttpClient::Impl::give(OnAnswer on_answer, HttpAnswer answer) {
  // Posted: never inside request() or stop(), and never once the client is gone.
  asio::post(io, [weak = weak_from_this(), on_answer = std::move(on_answer),
                  answer = std::move(answer)]() mutable {
    if (const auto self = weak.lock(); self && on_answer) {
      on_answer(std::move(answer));
    }
  });
}

HttpClient::HttpClient(asio::io_context& io, HttpClientLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(limits))) {}

HttpClient::~HttpClient() {
  auto& impl = *impl_;
  impl.stopped = true;
  impl.waiting.clear();
  // Aborting ends each coroutine soon; their ends find no client to report to.
  for (auto& entry : impl.running) {
    entry.second.exchange->abort(std::string(stopped_text));
  }
  impl.running.clear();
}

bool HttpClient::request(HttpCall call, OnAnswer on_answer) {
  auto& impl = *impl_;
  if (impl.stopped) {
    return false;
  }
  if (impl.running.size() >= impl.capacity() && impl.waiting.size() >= impl.limits->max_waiting) {
    return false;
  }
  // A call that cannot be sent fails before it takes a connection.
  ParsedUrl url;
  std::string problem;
  if (!parse_url(call.url, url, &problem)) {
    impl.give(std::move(on_answer), failed("bad URL: " + problem));
    return true;
  }
  auto message = build_request(call, url, &problem);
  if (!message) {
    impl.give(std::move(on_answer), failed(std::move(problem)));
    return true;
  }
  impl.waiting.push_back({std::move(url), std::move(*message), std::move(on_answer)});
  impl.start_next();
  return true;
}

void HttpClient::stop() {
  auto& impl = *impl_;
  if (impl.stopped) {
    return;
  }
  impl.stopped = true;
  // The running calls are answered when their coroutines end.
  for (auto& entry : impl.running) {
    entry.second.exchange->abort(std::string(stopped_text));
  }
  auto queued = std::move(impl.waiting);
  impl.waiting.clear();
  for (auto& job : queued) {
    impl.give(std::move(job.on_answer), failed(std::string(stopped_text)));
  }
}

std::size_t HttpClient::running() const {
  return impl_->running.size();
}

std::size_t HttpClient::waiting() const {
  return impl_->waiting.size();
}

} // namespace trestle::protocols
