// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "irc_connection.hpp"

#include "read_gate.hpp"
#include "tls_client_context.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <exception>
#include <vector>

namespace trestle::irc {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using gateway::LogLevel;

std::string seconds_text(std::chrono::milliseconds delay) {
  const auto tenths = delay.count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "s";
}

/// True when `line` is one line for the wire: CR LF at the end and no other
/// CR, LF or NUL, so nothing can smuggle in a second command.
bool well_formed(std::string_view line) {
  if (line.size() < 2 || !line.ends_with("\r\n")) {
    return false;
  }
  return line.substr(0, line.size() - 2).find_first_of(std::string_view("\r\n\0", 3)) ==
         std::string_view::npos;
}

/// Bytes taken from the socket per read.
constexpr std::size_t read_chunk_bytes = 16384;

/// The read buffer of every plain connection. A read fills it and hands it
/// to deliver() before the next read anywhere can start: reads run only when
/// the event loop resumes a read loop, never inside another's delivery.
std::array<char, read_chunk_bytes>& shared_read_buffer() {
  static std::array<char, read_chunk_bytes> buffer;
  return buffer;
}

} // namespace

struct IrcConnection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, IrcConnectionOptions opts, IrcConnectionHandlers h,
       ConnectionLog sink)
      : io(io_context), options(std::move(opts)), handlers(std::move(h)), log(std::move(sink)),
        resolver(io_context), socket(io_context), wake(io_context), watchdog(io_context),
        close_timer(io_context), reader(options.max_line_bytes),
        tokens(static_cast<double>(options.flood_burst)) {
    if (options.server_name.empty()) {
      options.server_name = options.host;
    }
  }

  asio::io_context& io;
  IrcConnectionOptions options;
  IrcConnectionHandlers handlers;
  ConnectionLog log;
  tcp::resolver resolver;
  tcp::socket socket;
  /// Empty until the TLS handshake starts; then it owns the socket.
  xmpp::ClientTls tls;
  /// Wakes the writer: a line was queued, or the connection is closing.
  asio::steady_timer wake;
  /// The connect deadline, then the idle timeout.
  asio::steady_timer watchdog;
  asio::steady_timer close_timer;
  IrcLineReader reader;
  std::deque<std::string> queue;
  IrcConnectionStats stats;
  double tokens;
  Clock::time_point refilled_at = Clock::now();
  Clock::time_point last_rx = Clock::now();
  bool started = false;
  bool is_connected = false;
  bool closing = false;
  bool finished = false;

  void say(LogLevel level, const std::string& text) {
    if (log) {
      log(level, text);
    }
  }
  std::string where() const { return options.host + ":" + std::to_string(options.port); }
  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

  /// Ends the connection once: closes the socket, stops every timer, and
  /// reports `kind` (posted, so it never runs inside a caller's call).
  void finish(CloseKind kind, std::string reason) {
    if (finished) {
      return;
    }
    finished = true;
    is_connected = false;
    error_code ignored;
    resolver.cancel();
    lowest().close(ignored);
    wake.cancel();
    watchdog.cancel();
    close_timer.cancel();
    say(kind == CloseKind::local_close ? LogLevel::info : LogLevel::warning,
        "connection to " + where() + " ended: " + reason);
    if (!queue.empty()) {
      say(LogLevel::info, std::to_string(queue.size()) + " queued lines were not sent");
      queue.clear();
    }
    asio::post(io, [self = shared_from_this(), kind, reason = std::move(reason)]() mutable {
      if (self->handlers.on_closed) {
        self->handlers.on_closed(std::move(reason), kind);
      }
    });
  }

  awaitable<void> run();
  awaitable<bool> establish();
  awaitable<bool> handshake();
  awaitable<void> read_loop();
  awaitable<void> write_loop();
  awaitable<void> watch();
  bool take_token();
  void deliver(std::string_view bytes);
};

awaitable<void> IrcConnection::Impl::run() {
  auto self = shared_from_this();
  if (finished) {
    co_return; // closed before the loop got to it
  }
  asio::co_spawn(io, watch(), asio::detached);
  if (!co_await establish() || finished) {
    co_return;
  }
  is_connected = true;
  last_rx = Clock::now();
  watchdog.cancel(); // from the connect deadline to the idle timeout
  say(LogLevel::info, "connected to " + where() + (tls ? " with TLS" : ""));
  if (handlers.on_connected) {
    handlers.on_connected();
  }
  if (finished) {
    co_return;
  }
  asio::co_spawn(io, write_loop(), asio::detached);
  co_await read_loop();
}

awaitable<bool> IrcConnection::Impl::establish() {
  error_code ec;
  say(LogLevel::info, "connecting to " + where());
  const auto endpoints = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                         asio::redirect_error(use_awaitable, ec));
  if (finished) {
    co_return false;
  }
  if (ec || endpoints.empty()) {
    finish(CloseKind::resolve_failed,
           "cannot resolve " + options.host + ": " + (ec ? ec.message() : "no address"));
    co_return false;
  }
  // async_connect tries each address in turn (IPv6 and IPv4, resolver order).
  co_await asio::async_connect(socket, endpoints, asio::redirect_error(use_awaitable, ec));
  if (finished) {
    co_return false;
  }
  if (ec) {
    finish(CloseKind::connect_failed, "cannot connect to " + where() + ": " + ec.message());
    co_return false;
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (!options.tls) {
    // read_loop reads only after the socket reported readability; non-blocking
    // mode makes a spurious wake-up return would_block instead of blocking.
    socket.non_blocking(true, ec);
    if (ec) {
      finish(CloseKind::connect_failed,
             "cannot use the connection to " + where() + ": " + ec.message());
      co_return false;
    }
    co_return true;
  }
  co_return co_await handshake();
}

awaitable<bool> IrcConnection::Impl::handshake() {
  std::string problem;
  if (!tls.start(socket, options.verify_certificate, options.ca_file, options.server_name,
                 &problem)) {
    finish(CloseKind::tls_failed, std::move(problem));
    co_return false;
  }
  if (!options.verify_certificate) {
    say(LogLevel::warning, "certificate verification is off for " + where());
  }
  error_code ec;
  co_await tls->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
  if (finished) {
    co_return false;
  }
  if (ec) {
    finish(CloseKind::tls_failed, tls.handshake_failure(where(), ec));
    co_return false;
  }
  co_return true;
}

void IrcConnection::Impl::deliver(std::string_view bytes) {
  const auto discarded_before = reader.discarded_lines();
  reader.feed(bytes, [this](std::string_view line) {
    if (finished) {
      return; // the owner closed the connection from inside on_line
    }
    ++stats.lines_in;
    if (handlers.on_line) {
      handlers.on_line(line);
    }
  });
  if (reader.discarded_lines() != discarded_before) {
    stats.discarded += reader.discarded_lines() - discarded_before;
    say(LogLevel::warning, "dropped an overlong line from " + where() + " (over " +
                               std::to_string(options.max_line_bytes) + " bytes)");
  }
}

awaitable<void> IrcConnection::Impl::read_loop() {
  auto self = shared_from_this();
  error_code ec;
  // A plain connection waits for readability without a buffer and then reads
  // into the one buffer all plain connections share, so an idle connection
  // holds no read buffer. The TLS engine needs the buffer for the whole
  // pending read, so a TLS connection keeps its own.
  std::vector<char> tls_buffer(tls ? read_chunk_bytes : 0);
  while (!finished) {
    if (options.read_gate && !options.read_gate->is_open()) {
      // The XMPP side is congested: leave the input with the server (bounded).
      co_await options.read_gate->wait_open(options.read_pause_limit);
      if (finished) {
        co_return;
      }
    }
    std::size_t n = 0;
    std::string_view bytes;
    if (tls) {
      n = co_await tls->async_read_some(asio::buffer(tls_buffer),
                                        asio::redirect_error(use_awaitable, ec));
      bytes = std::string_view(tls_buffer.data(), n);
    } else {
      co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(use_awaitable, ec));
      if (!ec && !finished) {
        auto& shared = shared_read_buffer();
        n = socket.read_some(asio::buffer(shared), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          ec.clear();
          continue; // woken without data after all
        }
        bytes = std::string_view(shared.data(), n);
      }
    }
    if (finished) {
      co_return;
    }
    if (ec) {
      if (closing) {
        finish(CloseKind::local_close, "closed");
      } else {
        finish(CloseKind::closed_by_peer, ec == asio::error::eof
                                              ? std::string("closed by the server")
                                              : "connection lost: " + ec.message());
      }
      co_return;
    }
    last_rx = Clock::now();
    deliver(bytes);
  }
}

bool IrcConnection::Impl::take_token() {
  if (options.flood_lines_per_second <= 0) {
    return true;
  }
  const auto now = Clock::now();
  const std::chrono::duration<double> elapsed = now - refilled_at;
  refilled_at = now;
  tokens = std::min(static_cast<double>(std::max<std::size_t>(options.flood_burst, 1)),
                    tokens + elapsed.count() * options.flood_lines_per_second);
  if (tokens < 1.0) {
    return false;
  }
  tokens -= 1.0;
  return true;
}

awaitable<void> IrcConnection::Impl::write_loop() {
  auto self = shared_from_this();
  error_code ec;
  std::string batch;
  while (!finished) {
    // Everything the bucket allows goes out in one write.
    batch.clear();
    std::size_t lines = 0;
    while (!queue.empty() && take_token()) {
      batch += queue.front();
      queue.pop_front();
      ++lines;
    }
    if (lines == 0) {
      if (queue.empty() && closing) {
        // Flushed. Half-close so the server sees the end after our last
        // line; the reader waits (bounded) for it to hang up. With TLS this
        // skips close_notify: an SSL shutdown would read concurrently with
        // the read loop, and the server has our QUIT already.
        lowest().shutdown(tcp::socket::shutdown_send, ec);
        co_return;
      }
      if (queue.empty()) {
        wake.expires_at(Clock::time_point::max());
      } else {
        const auto wait =
            std::chrono::duration<double>((1.0 - tokens) / options.flood_lines_per_second);
        wake.expires_after(std::chrono::duration_cast<Clock::duration>(wait) +
                           std::chrono::milliseconds(1));
      }
      co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    if (tls) {
      co_await asio::async_write(*tls, asio::buffer(batch),
                                 asio::redirect_error(use_awaitable, ec));
    } else {
      co_await asio::async_write(socket, asio::buffer(batch),
                                 asio::redirect_error(use_awaitable, ec));
    }
    if (finished) {
      co_return;
    }
    if (ec) {
      finish(closing ? CloseKind::local_close : CloseKind::closed_by_peer,
             "write failed: " + ec.message());
      co_return;
    }
    stats.lines_out += lines;
  }
}

awaitable<void> IrcConnection::Impl::watch() {
  auto self = shared_from_this();
  error_code ec;
  const auto deadline = Clock::now() + options.connect_timeout;
  while (!finished && !is_connected) {
    watchdog.expires_at(deadline);
    co_await watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!finished && !is_connected && Clock::now() >= deadline) {
      finish(CloseKind::timeout, std::string(tls ? "TLS handshake" : "connecting") + " to " +
                                     where() + " timed out after " +
                                     seconds_text(options.connect_timeout));
      co_return;
    }
  }
  // Idle: warn once per silence at half the timeout, give up at the whole.
  auto warned_for = Clock::time_point::min();
  while (!finished) {
    const auto now = Clock::now();
    const auto warn_at = last_rx + options.idle_timeout / 2;
    const auto dead_at = last_rx + options.idle_timeout;
    if (now >= dead_at) {
      finish(CloseKind::timeout, "nothing received for " + seconds_text(options.idle_timeout));
      co_return;
    }
    if (now >= warn_at && warned_for != last_rx) {
      warned_for = last_rx;
      if (handlers.on_idle_warning) {
        handlers.on_idle_warning();
      }
      continue;
    }
    watchdog.expires_at(warned_for == last_rx ? dead_at : warn_at);
    co_await watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

IrcConnection::IrcConnection(asio::io_context& io, IrcConnectionOptions options,
                             IrcConnectionHandlers handlers, ConnectionLog log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handlers), std::move(log))) {}

IrcConnection::~IrcConnection() {
  impl_->handlers = {};
  impl_->log = nullptr;
  impl_->finish(CloseKind::local_close, "destroyed");
}

void IrcConnection::start() {
  if (impl_->started || impl_->finished) {
    return;
  }
  impl_->started = true;
  asio::co_spawn(impl_->io, impl_->run(), [impl = impl_](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        impl->finish(CloseKind::closed_by_peer, std::string("IRC driver failed: ") + e.what());
      }
    }
  });
}

bool IrcConnection::send_line(std::string line_with_crlf) {
  auto& impl = *impl_;
  const char* refusal = nullptr;
  if (impl.closing || impl.finished) {
    refusal = "the connection is closing";
  } else if (!well_formed(line_with_crlf)) {
    refusal = "not one CR LF terminated line";
  } else if (impl.queue.size() >= impl.options.send_queue_limit) {
    refusal = "send queue full";
  }
  if (refusal != nullptr) {
    ++impl.stats.refused;
    impl.say(LogLevel::warning, std::string("line to ") + impl.where() + " dropped: " + refusal);
    return false;
  }
  impl.queue.push_back(std::move(line_with_crlf));
  impl.wake.cancel();
  return true;
}

void IrcConnection::close(std::string final_line) {
  auto& impl = *impl_;
  if (impl.closing || impl.finished) {
    return;
  }
  impl.closing = true;
  if (!impl.is_connected) {
    impl.finish(CloseKind::local_close, "closed before the connection was up");
    return;
  }
  if (!final_line.empty()) {
    // The closing line may exceed the queue limit: it is the last one.
    impl.queue.push_back(std::move(final_line));
  }
  impl.wake.cancel();
  impl.close_timer.expires_after(impl.options.close_timeout);
  impl.close_timer.async_wait([self = impl_](error_code ec) {
    if (!ec) {
      self->finish(CloseKind::local_close, "closed after the close timeout (" +
                                               seconds_text(self->options.close_timeout) + ")");
    }
  });
}

bool IrcConnection::connected() const {
  return impl_->is_connected;
}
std::size_t IrcConnection::queue_depth() const {
  return impl_->queue.size();
}
const IrcConnectionStats& IrcConnection::stats() const {
  return impl_->stats;
}

std::string_view to_string(CloseKind kind) {
  switch (kind) {
  case CloseKind::resolve_failed:
    return "resolve failed";
  case CloseKind::connect_failed:
    return "connect failed";
  case CloseKind::timeout:
    return "timeout";
  case CloseKind::tls_failed:
    return "TLS failed";
  case CloseKind::closed_by_peer:
    return "closed by peer";
  case CloseKind::local_close:
    return "closed";
  }
  return "unknown";
}

} // namespace trestle::irc
