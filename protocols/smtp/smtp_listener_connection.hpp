#pragma once

// Internal to the SMTP listener (smtp_listener.cpp and
// smtp_listener_connection.cpp): one accepted connection and what it shares
// with the listener. Include only after <utility> (see the .cpp files).

#include "smtp_listener.hpp"
#include "smtp_server_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp::detail {

/// What the listener and its connections share. Connections hold it by
/// shared_ptr, so it outlives the SmtpListener while their coroutines wind
/// down; the listener's destructor empties `handlers` and `log` first, so
/// nothing calls into the owner after it is gone.
struct ListenerShared {
  /// As given, with `session.tls_available` set from `tls`.
  SmtpListenerOptions options;
  SmtpListenerHandlers handlers;
  ListenerLog log;
  /// The STARTTLS context; null when STARTTLS is not offered.
  std::shared_ptr<boost::asio::ssl::context> tls;
  SmtpListenerStats stats;

  /// One log line (a copy of the sink is called, so the sink may replace itself).
  void say(bool warning, std::string_view line) const;
};

/// One accepted connection: runs an SmtpServerSession over the socket (and
/// TLS after STARTTLS), or refuses it. The coroutine owns the connection (it
/// takes a shared_ptr to it); the listener keeps a weak_ptr to stop or abort
/// it, and the handlers' answer callbacks hold weak_ptrs, so an answer that
/// comes after the connection ended does nothing. All on the io_context's
/// thread.
class SmtpConnection : public std::enable_shared_from_this<SmtpConnection> {
public:
  SmtpConnection(std::shared_ptr<ListenerShared> shared, boost::asio::ip::tcp::socket socket);

  /// The connection's coroutine: the greeting, the session, the close and
  /// one log line at the end. `self` is this connection; it keeps it alive
  /// for as long as the coroutine frame exists.
  boost::asio::awaitable<void> serve(std::shared_ptr<SmtpConnection> self);
  /// The coroutine for a connection over the cap: 421 4.7.0, then close.
  boost::asio::awaitable<void> refuse(std::shared_ptr<SmtpConnection> self);
  /// Ends the connection soon: after the write in progress (if any, its
  /// deadline cut short), `421 4.3.2`, then close; bounded in time.
  void stop();
  /// Closes the socket now; the coroutine ends without further I/O, handler
  /// calls or log lines.
  void abort();

private:
  /// Where the coroutine is suspended (what stop() has to interrupt);
  /// `running` when it is not.
  enum class Phase { running, reading, writing, handshake, answering, closing, done };
  /// What the watchdog does when its deadline passes.
  enum class OnExpiry {
    /// Cancels the socket's pending operation; the connection stays usable
    /// for a 421.
    cancel,
    /// Closes the socket: nothing more can be said.
    close,
  };
  /// Which answer of the owner is awaited.
  enum class Question { none, recipient, message };

  boost::asio::ip::tcp::socket& lowest();
  void arm(std::chrono::steady_clock::time_point deadline, OnExpiry action);
  void disarm();
  std::chrono::steady_clock::time_point read_deadline();
  void note_progress() {
    command_deadline_.reset();
    data_deadline_.reset();
  }

  boost::asio::awaitable<void> perform(std::vector<SmtpAction> actions);
  boost::asio::awaitable<bool> write(std::string bytes, std::chrono::milliseconds limit);
  boost::asio::awaitable<std::size_t> read_some(std::chrono::steady_clock::time_point deadline,
                                                boost::system::error_code& ec);
  boost::asio::awaitable<bool> start_tls();
  boost::asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<void> take_answer();
  boost::asio::awaitable<void> time_out();
  boost::asio::awaitable<void> close_connection();
  void ask_recipient(const std::string& address);
  void ask_delivery(InboundMessage message);
  /// Stores the answer to question `id` (ignored unless it is the open one)
  /// and wakes the coroutine.
  void answered(std::uint64_t id, std::vector<SmtpVerdict> verdicts);

  std::shared_ptr<ListenerShared> shared_;
  boost::asio::ip::tcp::socket socket_;
  /// Declared before the stream that uses it, so it outlives it.
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  /// After STARTTLS: the stream, which then owns the socket.
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  SmtpServerSession session_;
  /// The deadline of the operation in progress (see arm()).
  boost::asio::steady_timer watchdog_;
  /// The wait for an owner's answer; cancelled to wake the coroutine.
  boost::asio::steady_timer wake_;
  std::vector<char> buffer_;
  std::string peer_;
  Phase phase_ = Phase::running;
  OnExpiry on_expiry_ = OnExpiry::cancel;
  /// Counts arm() calls: a watchdog wake-up for an older one is stale.
  std::uint64_t armed_ = 0;
  /// The last armed deadline passed before its operation completed.
  bool expired_ = false;
  bool stopping_ = false;
  bool aborted_ = false;
  /// The socket cannot be used any more (a write or the handshake failed).
  bool broken_ = false;
  Question question_ = Question::none;
  /// Id of the question whose answer is awaited; 0 when none is.
  std::uint64_t open_question_ = 0;
  std::uint64_t questions_ = 0;
  std::chrono::steady_clock::time_point answer_deadline_;
  std::optional<std::vector<SmtpVerdict>> answer_;
  /// When the command line being received must be complete (set at the
  /// first read after the session last did something).
  std::optional<std::chrono::steady_clock::time_point> command_deadline_;
  /// When the message data being received must be complete.
  std::optional<std::chrono::steady_clock::time_point> data_deadline_;
  /// The last line written: the reason when the session closes itself.
  std::string last_reply_;
  std::string end_reason_;
  std::uint64_t messages_ = 0;
};

} // namespace trestle::smtp::detail
