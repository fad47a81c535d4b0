#pragma once

#include "smtp_client_session.hpp"

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

namespace trestle::smtp {

/// Where the relay client reports events (one line each, never secrets or
/// message content). `warning` is true for problems an operator should see.
using RelayLog = std::function<void(bool warning, std::string_view line)>;

/// The relay (smarthost) and how to reach it.
struct SmtpRelayOptions {
  std::string host = "localhost";
  std::uint16_t port = 587;
  /// How the link is secured.
  enum class Security {
    /// Plain connection upgraded with STARTTLS; sending stops if the relay
    /// does not offer it (the default).
    starttls,
    /// TLS from the first byte (port 465).
    implicit_tls,
    /// No TLS required; only for a relay on the same host. STARTTLS is
    /// still used when the relay offers it, without checking the certificate.
    none,
  };
  Security security = Security::starttls;
  bool verify_certificate = true;
  /// PEM file of trusted certificates; empty means the system's CA paths.
  std::string ca_file;
  /// Name checked in the certificate and sent as SNI; empty means `host`.
  std::string server_name;
  /// EHLO name, AUTH credentials (empty username: no AUTH).
  std::string helo_name = "localhost";
  std::string username;
  std::string password;
  /// Resolving, connecting and the TLS handshake together.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  /// Longest wait for each reply of the relay (RFC 5321 section 4.5.3.2
  /// suggests minutes; the final dot's reply gets twice this).
  std::chrono::milliseconds reply_timeout{std::chrono::minutes(2)};
  /// Deliveries in progress at once; more wait in order.
  std::size_t max_connections = 4;
  /// Deliveries waiting for a connection; send() refuses more.
  std::size_t max_waiting = 10000;
};

/// Counters for metrics and tests: connections started, and outcomes given
/// (deliveries ended by stop() count as temporary failures).
struct SmtpRelayStats {
  std::uint64_t attempts = 0;
  std::uint64_t sent = 0;
  std::uint64_t permanent_failures = 0;
  std::uint64_t temporary_failures = 0;
};

/// Sends messages to the relay: one connection per message, running an
/// SmtpClientSession with STARTTLS or implicit TLS (certificate verified,
/// SNI), at most max_connections at a time. Single-threaded: all calls on
/// the io_context's thread.
class SmtpRelay {
public:
  SmtpRelay(boost::asio::io_context& io, SmtpRelayOptions options, RelayLog log = {});
  /// Drops every delivery at once, without calling their callbacks.
  ~SmtpRelay();
  SmtpRelay(const SmtpRelay&) = delete;
  SmtpRelay& operator=(const SmtpRelay&) = delete;

  /// Delivers `envelope`; `done` is called exactly once with the outcome, on
  /// the io_context's thread and never inside send(). Returns false (and
  /// never calls `done`) when max_waiting deliveries wait already. After
  /// stop(), every send ends at once with a temporary failure.
  bool send(OutboundEnvelope envelope, std::function<void(SmtpOutcome)> done);
  /// Deliveries running or waiting whose outcome is not known yet.
  std::size_t pending() const;
  /// Ends every delivery now; each `done` not called yet gets a temporary
  /// failure ("shutting down"), posted like any outcome.
  void stop();
  const SmtpRelayStats& stats() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace trestle::smtp
