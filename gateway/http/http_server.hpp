#pragma once

#include "config.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace trestle::gateway {

class Logger;

/// One HTTP request as the handlers see it (headers keyed in lower case).
struct HttpRequest {
  std::string method;
  /// The path without the query string.
  std::string path;
  /// The raw query string (after `?`), if any.
  std::string query;
  std::map<std::string, std::string> headers;
  std::string body;
  /// The peer address, for logs.
  std::string remote;
};

/// The answer to an HttpRequest.
struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Answers a request by calling `reply` exactly once, now or later (so a
/// webhook can answer only after its message is delivered or stored).
using HttpHandler =
    std::function<void(const HttpRequest&, std::function<void(HttpResponse)> reply)>;

/// HTTP/1.1 server on Boost.Beast for /healthz, /metrics and webhooks. Each
/// connection is one coroutine with a deadline per request, a body limit and a
/// cap on concurrent connections. Runs on the given io_context's thread.
class HttpServer {
public:
  HttpServer(boost::asio::io_context& io, const HttpConfig& config, Logger& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Routes requests whose path is exactly `path` to `handler`.
  void route(std::string path, HttpHandler handler);
  /// Whether a handler serves `path`.
  bool has_route(const std::string& path) const;
  /// Binds and starts accepting; throws std::runtime_error if it cannot bind.
  void start();
  /// Stops accepting and closes open connections.
  void stop();
  /// The bound port (useful when the config asked for port 0).
  std::uint16_t port() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace trestle::gateway
