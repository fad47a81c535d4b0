#pragma once

#include "element.hpp"
#include "xml_stream_parser.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace trestle::xmpp {

/// Severity of a driver log event; the gateway maps it onto its logger.
enum class LogSeverity { debug, info, warning, error };
/// Where the driver reports events (one line each, never secrets).
using LogSink = std::function<void(LogSeverity, std::string_view)>;

/// Everything one component stream needs to connect and stay connected.
struct ConnectionOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5347;
  std::string domain;
  std::string secret;
  XmlLimits limits;
  /// Direct TLS: the TLS handshake right after the TCP connect, then the
  /// XEP-0114 stream inside it (what ejabberd's `ejabberd_service` listener
  /// with `tls: true` speaks). No STARTTLS.
  bool tls = false;
  /// With `tls`: check the server's certificate chain and name.
  bool verify_certificate = true;
  /// With `tls`: PEM file of trusted certificates; empty means the system's
  /// CA store.
  std::string ca_file;
  /// With `tls`: the name the certificate must carry, also sent as SNI
  /// unless it is an IP address literal; empty means `host`.
  std::string server_name;
  /// TCP connect, TLS handshake and XEP-0114 handshake together must finish
  /// within this.
  std::chrono::milliseconds connect_timeout{15000};
  /// After this much silence from the server, send an XEP-0199 ping.
  std::chrono::milliseconds keepalive_interval{60000};
  /// No traffic this long after the ping: the link is dead; reconnect.
  std::chrono::milliseconds keepalive_timeout{30000};
  /// Graceful close waits this long for the server's `</stream:stream>`, and
  /// as long again for its TLS close_notify.
  std::chrono::milliseconds close_timeout{2000};
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{10000};
  /// Stanzas held while the stream is down; more are refused.
  std::size_t queue_limit = 1000;
  /// Bytes held at any time (down, or up but slower than the senders).
  std::size_t queue_max_bytes = 64 * 1024 * 1024;
  /// While the stream is up and this many bytes wait, the connection reports
  /// congestion (so producers pause reading their networks) until the queue
  /// is down to a quarter of it. 0 turns the report off.
  std::size_t queue_high_water_bytes = 1024 * 1024;
};

/// Where a component link is in its life.
enum class LinkState { idle, connecting, authenticating, ready, backing_off, stopped };

/// Counters for /metrics and the admin commands.
struct ConnectionStats {
  std::uint64_t stanzas_in = 0;
  std::uint64_t stanzas_out = 0;
  /// Connection attempts, successful or not.
  std::uint64_t attempts = 0;
  /// Authenticated streams after the first one.
  std::uint64_t reconnects = 0;
  std::uint64_t auth_failures = 0;
  /// Stanzas refused because the send queue was full.
  std::uint64_t dropped = 0;
};

/// The Asio driver of one component stream (one per component domain): it
/// connects, runs a ComponentSession, reads and writes in coroutines, keeps
/// the link alive, and reconnects with capped exponential backoff and jitter.
/// Outbound stanzas go through a bounded queue that survives reconnects and is
/// flushed in order. Single-threaded: all calls on the io_context's thread.
class ComponentConnection {
public:
  /// Receives every stanza that arrives on an authenticated stream.
  using StanzaHandler = std::function<void(Element)>;

  ComponentConnection(boost::asio::io_context& io, ConnectionOptions options,
                      StanzaHandler on_stanza, LogSink log);
  ~ComponentConnection();
  ComponentConnection(const ComponentConnection&) = delete;
  ComponentConnection& operator=(const ComponentConnection&) = delete;

  /// Starts connecting (and reconnecting until stop()).
  void start();
  /// Closes the stream with `</stream:stream>`, stops reconnecting, and calls
  /// `done` once the socket is closed.
  void stop(std::function<void()> done = {});
  /// Drops the current connection and reconnects at once (admin use, tests).
  void reconnect_now();
  /// Queues a stanza for sending. Returns false (and counts a drop) when the
  /// queue is full or the connection is stopping.
  bool send(const Element& stanza);

  const std::string& domain() const;
  LinkState state() const;
  /// True while the stream is authenticated.
  bool ready() const { return state() == LinkState::ready; }
  /// Why the link is not ready (last failure), or "ready".
  const std::string& status() const;
  const ConnectionStats& stats() const;
  /// Stanzas waiting in the send queue.
  std::size_t queue_depth() const;
  /// Bytes waiting in the send queue.
  std::size_t queue_bytes() const;
  /// True from when the queue passes the high-water mark on an up stream
  /// until it drains to a quarter of it or the stream goes down.
  bool congested() const;
  /// Called with true when congestion starts and false when it ends (on the
  /// io_context's thread; never twice with the same value).
  void on_congestion(std::function<void(bool congested)> handler);
  /// Called with true when a stream is authenticated and with false when an
  /// authenticated stream ends (on the io_context's thread, alternately).
  void on_link(std::function<void(bool up)> handler);

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Name of a link state, for logs and health output.
std::string_view to_string(LinkState state);

} // namespace trestle::xmpp
