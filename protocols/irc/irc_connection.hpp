#pragma once

#include "config.hpp"
#include "irc_line_reader.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace trestle::gateway {
class ReadGate;
}

namespace trestle::irc {

/// Where a connection reports events (one line each, never secrets).
using ConnectionLog = std::function<void(gateway::LogLevel, std::string_view)>;

/// Transport settings of one IRC connection: where, how, and its limits.
struct IrcConnectionOptions {
  std::string host;
  std::uint16_t port = 6697;
  bool tls = true;
  bool verify_certificate = true;
  /// PEM file of trusted certificates; empty means the system's default CA paths.
  std::string ca_file;
  /// Name for SNI and certificate verification; empty means `host`.
  std::string server_name;
  /// Resolving, connecting and the TLS handshake together must finish within this.
  std::chrono::milliseconds connect_timeout{30000};
  /// No byte received for this long: the connection is dead. At half of it
  /// `on_idle_warning` fires, so the caller can send a PING.
  std::chrono::milliseconds idle_timeout{240000};
  /// close() waits this long for the queue to drain and the server to hang up.
  std::chrono::milliseconds close_timeout{3000};
  /// Lines held for sending; send_line() refuses more.
  std::size_t send_queue_limit = 1000;
  /// Flood control (token bucket): this many lines may leave at once...
  std::size_t flood_burst = 5;
  /// ...then this many per second. 0 turns flood control off.
  double flood_lines_per_second = 2.0;
  /// Longest line accepted from the server, CR LF included; longer ones are dropped.
  std::size_t max_line_bytes = IrcLineReader::default_max_line_bytes;
  /// When set, reading waits while the gate is closed (the XMPP side is
  /// congested), at most `read_pause_limit` at a time.
  std::shared_ptr<gateway::ReadGate> read_gate;
  std::chrono::milliseconds read_pause_limit{5000};
};

/// Why a connection ended.
enum class CloseKind {
  /// The host name did not resolve.
  resolve_failed,
  /// No address of the host accepted a TCP connection.
  connect_failed,
  /// The connect deadline passed, or the server went silent for the idle timeout.
  timeout,
  /// The TLS handshake failed, certificate verification included.
  tls_failed,
  /// The server closed the connection, or it broke.
  closed_by_peer,
  /// close() was called.
  local_close,
};

/// What a connection tells its owner. Callbacks run on the io_context's
/// thread, never inside a call to the IrcConnection itself.
struct IrcConnectionHandlers {
  /// TCP (and TLS) are up; queued lines start to flow.
  std::function<void()> on_connected;
  /// One line from the server, without CR LF; the view lives for the call only.
  std::function<void(std::string_view line)> on_line;
  /// Half the idle timeout passed without a byte from the server.
  std::function<void()> on_idle_warning;
  /// The connection is over; called exactly once after start(), never after
  /// the IrcConnection is destroyed.
  std::function<void(std::string reason, CloseKind kind)> on_closed;
};

/// Counters for metrics and tests.
struct IrcConnectionStats {
  std::uint64_t lines_in = 0;
  std::uint64_t lines_out = 0;
  /// Lines refused by send_line() (queue full, closing, malformed).
  std::uint64_t refused = 0;
  /// Overlong lines from the server that were thrown away.
  std::uint64_t discarded = 0;
};

/// The transport of one IRC connection: resolves asynchronously, connects to
/// every address in turn (IPv4 and IPv6), optionally speaks TLS with
/// verification and SNI, splits what arrives into lines and writes queued
/// lines under flood control. No IRC protocol logic and no reconnect: the
/// owner decides both. Single-threaded: all calls on the io_context's thread.
class IrcConnection {
public:
  IrcConnection(boost::asio::io_context& io, IrcConnectionOptions options,
                IrcConnectionHandlers handlers, ConnectionLog log = {});
  /// Drops the connection at once, without callbacks.
  ~IrcConnection();
  IrcConnection(const IrcConnection&) = delete;
  IrcConnection& operator=(const IrcConnection&) = delete;

  /// Starts resolving and connecting; only the first call does anything.
  void start();
  /// Queues one line, which must end in CR LF and hold no other CR, LF or
  /// NUL. Lines queued before the connection is up wait for it. Returns false
  /// when the queue is full, the line is malformed, or the connection is
  /// closing or closed.
  bool send_line(std::string line_with_crlf);
  /// Sends what is queued and then `final_line` (e.g. a QUIT; may be empty),
  /// then closes, all within the close timeout. Before the connection is up
  /// it just stops. on_closed reports local_close.
  void close(std::string final_line = {});

  /// True between on_connected and the end of the connection.
  bool connected() const;
  /// Lines waiting to be sent.
  std::size_t queue_depth() const;
  const IrcConnectionStats& stats() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Name of a close kind, for logs.
std::string_view to_string(CloseKind kind);

} // namespace trestle::irc
