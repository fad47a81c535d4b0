#pragma once

#include "http_url.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace trestle::protocols {

/// One HTTP request to a provider's API.
struct HttpCall {
  /// "GET" or "POST" (any method Beast knows, case-sensitive).
  std::string method = "GET";
  /// `http://host[:port]/path?query` or `https://...`; the host may be a
  /// name (resolved asynchronously), an IPv4 literal or `[IPv6]`.
  std::string url;
  /// Extra header fields (Authorization, Content-Type, ...). Host,
  /// Content-Length, User-Agent and Connection are set by the client and
  /// replace any given here; Transfer-Encoding is dropped.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// How an HttpCall ended.
struct HttpAnswer {
  /// The HTTP status; 0 when no response arrived (see `error`).
  unsigned status = 0;
  std::string body;
  /// Why no response arrived ("cannot resolve host: ...", "cannot connect
  /// to host:port: ...", "timed out after 30 s waiting for the response from
  /// host:port", "response body over 65536 bytes", a TLS failure with the
  /// certificate problem, "bad URL: ...", "stopped"); empty when `status` is
  /// set. Never contains the URL's path or query, which may hold secrets.
  std::string error;
};

/// Limits of an HttpClient.
struct HttpClientLimits {
  /// Requests in progress at once; more wait in a queue.
  std::size_t max_connections = 4;
  /// Requests waiting for a connection; beyond that request() refuses.
  std::size_t max_waiting = 1000;
  /// The whole request (resolve, connect, TLS, write, read) must end in
  /// this time.
  std::chrono::seconds timeout{30};
  /// A longer response body fails the call.
  std::size_t max_response_bytes = 64 * 1024;
  /// Verify the server certificate and its name (https).
  bool verify = true;
  /// Trusted certificates (PEM) instead of the system store; empty: system.
  std::string ca_file;
};

/// HTTP/1.1 client on Boost.Beast for providers' APIs: one connection per
/// call (`Connection: close`), asynchronous DNS, TLS through the shared
/// client context with SNI and certificate verification, a deadline over
/// the whole call, a bounded response and a bounded number of calls at once.
/// Single-threaded: the io_context's thread. Callbacks never run inside
/// request(), and never after the client is destroyed.
class HttpClient {
public:
  using OnAnswer = std::function<void(HttpAnswer)>;

  HttpClient(boost::asio::io_context& io, HttpClientLimits limits);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Starts `call`, or queues it while max_connections calls are running.
  /// Returns false (and never calls `on_answer`) when the queue is full or
  /// the client was stopped. A malformed URL is answered through
  /// `on_answer` with an error.
  bool request(HttpCall call, OnAnswer on_answer);
  /// Cancels every call; running and queued calls are answered with the
  /// error "stopped" (asynchronously). Later requests are refused.
  void stop();
  /// Calls running now, and calls waiting.
  std::size_t running() const;
  std::size_t waiting() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace trestle::protocols
