#pragma once

#include "smtp_server_session.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace trestle::smtp {

/// Where the listener reports events (one line each, never message content).
/// `warning` is true for problems an operator should look at.
using ListenerLog = std::function<void(bool warning, std::string_view line)>;

/// Where and how the inbound listener runs.
struct SmtpListenerOptions {
  /// Address to listen on: an IPv4 or IPv6 literal (brackets allowed); no
  /// name is resolved.
  std::string bind = "127.0.0.1";
  /// TCP port; 0 lets the system pick one (see SmtpListener::port()).
  std::uint16_t port = 2525;
  /// The dialogue's own settings (hostname, LMTP, size and recipient limits).
  /// `tls_available` is set by the listener from the certificate below.
  SmtpServerOptions session;
  /// PEM certificate chain and private key for STARTTLS; both empty: no
  /// STARTTLS; one without the other: start() fails.
  std::string tls_certificate_file;
  std::string tls_key_file;
  /// Connections served at once; more are answered `421 4.7.0` and closed.
  std::size_t max_connections = 100;
  /// A command line must be complete within this, counted from the first
  /// read after the last reply, however it is split; each read of message
  /// data must come within it too. Also the longest wait for check_recipient.
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  /// Longest time from DATA to the final dot. Also the longest wait for deliver.
  std::chrono::milliseconds data_timeout{std::chrono::minutes(10)};
  /// Longest wait for the TLS handshake after STARTTLS.
  std::chrono::milliseconds tls_handshake_timeout{std::chrono::seconds(30)};
  /// Longest wait for a reply to be written to a client that does not read.
  std::chrono::milliseconds write_timeout{std::chrono::minutes(2)};
};

/// The owner's answers. Both are asked on the io_context's thread and may
/// answer later (after I/O of their own), exactly once, on that thread;
/// answering after the connection (or the listener) went away is harmless.
/// An answer that does not come within command_timeout (check_recipient) or
/// data_timeout (deliver) is taken as 451 4.3.0 and a later one is ignored;
/// an empty handler answers 451 4.3.0 at once. A verdict whose code is not
/// 2xx, 4xx or 5xx becomes 451 4.3.0, and a malformed enhanced code becomes
/// "<class>.0.0". Reading from the client pauses while an answer is awaited.
struct SmtpListenerHandlers {
  /// May `address` (RCPT TO, no angle brackets) receive mail?
  std::function<void(const std::string& address, std::function<void(SmtpVerdict)> answer)>
      check_recipient;
  /// A complete message: deliver or store it, then answer (one verdict; in
  /// LMTP one per recipient, in order).
  std::function<void(InboundMessage message, std::function<void(std::vector<SmtpVerdict>)> answer)>
      deliver;
};

/// Counters for metrics and tests.
struct SmtpListenerStats {
  /// Sessions served (refused connections not included).
  std::uint64_t connections = 0;
  /// Turned away because max_connections were busy.
  std::uint64_t refused_connections = 0;
  /// Sessions ended by a timeout: waiting for a command or the data
  /// (answered 421 4.4.2), the TLS handshake, or a write.
  std::uint64_t timeouts = 0;
  /// Messages handed to `deliver`.
  std::uint64_t messages = 0;
  /// Completed STARTTLS handshakes.
  std::uint64_t tls_sessions = 0;
};

/// The inbound SMTP/LMTP listener: accepts connections and runs one
/// SmtpServerSession on each, with the timeouts, the connection cap and
/// STARTTLS (through Asio's OpenSSL stream) around it. Single-threaded: all
/// calls on the io_context's thread.
class SmtpListener {
public:
  SmtpListener(boost::asio::io_context& io, SmtpListenerOptions options,
               SmtpListenerHandlers handlers, ListenerLog log = {});
  /// Closes the listener and every connection at once (no 421), without
  /// further calls to the handlers or the log.
  ~SmtpListener();
  SmtpListener(const SmtpListener&) = delete;
  SmtpListener& operator=(const SmtpListener&) = delete;

  /// Loads the certificate (when configured), binds and starts accepting.
  /// Returns false with a clear reason (bad address, port in use, unreadable
  /// certificate or key) and does nothing else.
  bool start(std::string* error);
  /// Stops accepting and closes every connection with `421 4.3.2` (after a
  /// write in progress; within a few seconds at most). Not restartable.
  void stop();
  /// The bound port (useful with port 0); 0 before start().
  std::uint16_t port() const;
  /// Sessions running now (what max_connections counts; refusals being
  /// answered are not included).
  std::size_t active_connections() const;
  const SmtpListenerStats& stats() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace trestle::smtp
