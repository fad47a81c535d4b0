// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "smtp_listener.hpp"

#include "smtp_listener_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <optional>
#include <unordered_map>

namespace trestle::smtp {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using detail::ListenerShared;
using detail::SmtpConnection;

/// Pause after a failed accept (e.g. out of descriptors) so the loop does not spin.
constexpr std::chrono::milliseconds accept_retry_delay{100};
/// PEM files larger than this are not certificates or keys.
constexpr std::size_t max_pem_bytes = 1024 * 1024;

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

/// Lets one warning of a kind through per minute and counts the others, so
/// a flood of refused connections or failing accepts costs a line a minute.
class WarningLimiter {
public:
  /// How many were held back since the last line, or nullopt: stay quiet now.
  std::optional<std::uint64_t> allow() {
    const auto now = Clock::now();
    if (now < next_) {
      ++held_;
      return std::nullopt;
    }
    next_ = now + std::chrono::minutes(1);
    return std::exchange(held_, 0);
  }

private:
  Clock::time_point next_ = Clock::time_point::min();
  std::uint64_t held_ = 0;
};

std::string held_text(std::uint64_t held) {
  return held == 0 ? std::string() : " (" + std::to_string(held) + " more since the last report)";
}

/// Reads a PEM file whole; false with the reason (the system's words).
bool read_pem(const std::string& path, std::string& text, std::string& problem) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    problem = std::strerror(errno);
    return false;
  }
  char chunk[4096];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0 && text.size() <= max_pem_bytes) {
    text.append(chunk, n);
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    problem = "read error";
    return false;
  }
  if (text.size() > max_pem_bytes) {
    problem = "larger than 1 MiB; not a PEM file";
    return false;
  }
  return true;
}

std::string ssl_problem(const error_code& ec, std::string_view fallback) {
  // Asio names an OpenSSL error without a reason string "asio.ssl error".
  const auto text = ec.message();
  return text.empty() || text == "asio.ssl error" ? std::string(fallback) : text;
}

/// True when OpenSSL refused a key because it does not belong to the certificate.
bool key_mismatch(const error_code& ec) {
  const auto code = static_cast<unsigned long>(ec.value());
  return ec && ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH;
}

/// The STARTTLS context (TLS 1.2 or newer) from a PEM certificate chain and
/// key; null with the reason in `error` when they cannot be used.
std::shared_ptr<ssl::context> server_tls_context(const std::string& certificate_file,
                                                 const std::string& key_file, std::string& error) {
  if (certificate_file.empty() || key_file.empty()) {
    error = "STARTTLS needs both a certificate file and a key file";
    return nullptr;
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  // Renegotiation only adds work an attacker can ask for.
  SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);
  std::string pem;
  std::string problem;
  error_code ec;
  if (!read_pem(certificate_file, pem, problem)) {
    error = "cannot load the TLS certificate " + certificate_file + ": " + problem;
    return nullptr;
  }
  context->use_certificate_chain(asio::buffer(pem), ec);
  if (ec) {
    error = "cannot load the TLS certificate " + certificate_file + ": " +
            ssl_problem(ec, "not a PEM certificate");
    return nullptr;
  }
  pem.clear();
  if (!read_pem(key_file, pem, problem)) {
    error = "cannot load the TLS key " + key_file + ": " + problem;
    return nullptr;
  }
  context->use_private_key(asio::buffer(pem), ssl::context::pem, ec);
  if (key_mismatch(ec) || (!ec && SSL_CTX_check_private_key(context->native_handle()) != 1)) {
    error = "the TLS key " + key_file + " does not match the certificate " + certificate_file;
    return nullptr;
  }
  if (ec) {
    error = "cannot load the TLS key " + key_file + ": " + ssl_problem(ec, "not a PEM private key");
    return nullptr;
  }
  return context;
}

} // namespace

struct SmtpListener::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, SmtpListenerOptions options, SmtpListenerHandlers handlers,
       ListenerLog log)
      : io(io_context), shared(std::make_shared<ListenerShared>()), acceptor(io_context),
        accept_pause(io_context) {
    shared->options = std::move(options);
    shared->options.session.tls_available = false;
    shared->handlers = std::move(handlers);
    shared->log = std::move(log);
  }

  bool start(std::string* error);
  void stop();
  /// Closes the acceptor and every connection at once.
  void abort_all();
  /// Stops accepting and ends every connection with `end` (stop or abort).
  void end_all(void (SmtpConnection::*end)());
  void admit(tcp::socket socket);
  void finished(std::uint64_t id, bool refused, std::exception_ptr failure);
  // The coroutine's unnamed shared_ptr keeps this state alive for as long as
  // its frame exists.
  awaitable<void> accept_loop(std::shared_ptr<Impl>);

  asio::io_context& io;
  std::shared_ptr<ListenerShared> shared;
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause;
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
  /// Sessions running (what max_connections counts) and refusals being written.
  std::size_t sessions = 0;
  std::size_t refusals = 0;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<SmtpConnection>> connections;
  WarningLimiter refusal_warnings;
  WarningLimiter accept_warnings;
};

bool SmtpListener::Impl::start(std::string* error) {
  const auto fail = [&](std::string text) {
    shared->say(true, text);
    if (error != nullptr) {
      *error = std::move(text);
    }
    return false;
  };
  if (started || stopped) {
    return fail(started ? "the SMTP listener is already started" : "the SMTP listener was stopped");
  }
  auto& options = shared->options;
  std::string literal = options.bind;
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  error_code ec;
  const auto address = asio::ip::make_address(literal, ec);
  if (ec) {
    return fail("cannot listen on " + options.bind +
                ": the bind address must be an IPv4 or IPv6 literal (no name is resolved)");
  }
  std::shared_ptr<ssl::context> tls;
  if (!options.tls_certificate_file.empty() || !options.tls_key_file.empty()) {
    std::string problem;
    tls = server_tls_context(options.tls_certificate_file, options.tls_key_file, problem);
    if (!tls) {
      return fail(std::move(problem));
    }
  }
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    port = acceptor.local_endpoint(ec).port();
  }
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    port = 0;
    return fail("cannot listen on " + endpoint_text(endpoint) + ": " + ec.message());
  }
  started = true;
  shared->tls = std::move(tls);
  options.session.tls_available = shared->tls != nullptr;
  shared->say(false, std::string(options.session.lmtp ? "LMTP" : "SMTP") + " listening on " +
                         endpoint_text(tcp::endpoint(address, port)) +
                         (shared->tls ? " (STARTTLS offered)" : ""));
  asio::co_spawn(io, accept_loop(shared_from_this()),
                 [self = shared_from_this()](std::exception_ptr failure) {
                   self->finished(0, false, failure);
                 });
  return true;
}

awaitable<void> SmtpListener::Impl::accept_loop(std::shared_ptr<Impl>) {
  while (!stopped) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(redirect_error(use_awaitable, ec));
    if (stopped) {
      co_return;
    }
    if (ec) {
      if (const auto held = accept_warnings.allow()) {
        shared->say(true, "SMTP accept failed: " + ec.message() + held_text(*held));
      }
      accept_pause.expires_after(accept_retry_delay);
      co_await accept_pause.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    admit(std::move(socket));
  }
}

void SmtpListener::Impl::admit(tcp::socket socket) {
  const auto& options = shared->options;
  const bool refuse = sessions >= options.max_connections;
  if (refuse) {
    ++shared->stats.refused_connections;
    error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (const auto held = refusal_warnings.allow()) {
      shared->say(true, "SMTP connection limit (" + std::to_string(options.max_connections) +
                            ") reached; refused " +
                            (ec ? std::string("a client") : peer.address().to_string()) +
                            held_text(*held));
    }
    // The 421 answers are capped too: past the cap the socket just closes.
    if (refusals >= std::max<std::size_t>(options.max_connections, 1)) {
      socket.close(ec);
      return;
    }
  }
  auto connection = std::make_shared<SmtpConnection>(shared, std::move(socket));
  const auto id = ++next_id;
  connections.emplace(id, connection);
  auto done = [self = shared_from_this(), id, refuse](std::exception_ptr failure) {
    self->finished(id, refuse, failure);
  };
  if (refuse) {
    ++refusals;
    asio::co_spawn(io, connection->refuse(connection), std::move(done));
  } else {
    ++sessions;
    ++shared->stats.connections;
    asio::co_spawn(io, connection->serve(connection), std::move(done));
  }
}

void SmtpListener::Impl::finished(std::uint64_t id, bool refused, std::exception_ptr failure) {
  if (id != 0) {
    connections.erase(id);
    --(refused ? refusals : sessions);
  }
  if (failure) {
    // Only a bug gets here: every expected failure is an error_code.
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      shared->say(true, std::string("SMTP listener coroutine failed: ") + e.what());
    } catch (...) {
      shared->say(true, "SMTP listener coroutine failed with an unknown exception");
    }
  }
}

void SmtpListener::Impl::stop() {
  if (!stopped) {
    end_all(&SmtpConnection::stop);
  }
}

void SmtpListener::Impl::abort_all() {
  end_all(&SmtpConnection::abort);
}

void SmtpListener::Impl::end_all(void (SmtpConnection::*end)()) {
  stopped = true;
  error_code ignored;
  acceptor.close(ignored);
  accept_pause.cancel();
  for (auto& [id, weak] : connections) {
    if (const auto connection = weak.lock()) {
      (connection.get()->*end)();
    }
  }
}

SmtpListener::SmtpListener(asio::io_context& io, SmtpListenerOptions options,
                           SmtpListenerHandlers handlers, ListenerLog log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handlers), std::move(log))) {}

SmtpListener::~SmtpListener() {
  // Coroutines still winding down hold the shared state; nothing they reach
  // may call into the owner any more.
  impl_->shared->handlers = {};
  impl_->shared->log = nullptr;
  impl_->abort_all();
}

bool SmtpListener::start(std::string* error) {
  return impl_->start(error);
}

void SmtpListener::stop() {
  impl_->stop();
}

std::uint16_t SmtpListener::port() const {
  return impl_->port;
}

std::size_t SmtpListener::active_connections() const {
  return impl_->sessions;
}

const SmtpListenerStats& SmtpListener::stats() const {
  return impl_->shared->stats;
}

} // namespace trestle::smtp
