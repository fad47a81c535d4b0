// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "smtp_listener_connection.hpp"

#include "smtp_text.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>

namespace trestle::smtp::detail {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

/// Bytes taken from the socket per read. The session holds what a read
/// brings while it waits for an answer, so this also bounds that.
constexpr std::size_t read_chunk_bytes = 16 * 1024;
/// Input the session may hold beyond the largest message before reading
/// pauses. The session bounds itself well below this (a partial line, or one
/// read while it waits); the check is the driver's own guarantee.
constexpr std::size_t input_slack_bytes = 64 * 1024;
/// After our last reply, how long the client has to hang up (and how much it
/// may still send meanwhile): closing with unread input would reset the
/// connection and could destroy that reply in transit.
constexpr std::chrono::milliseconds linger_limit{1000};
constexpr std::size_t linger_drain_bytes = 64 * 1024;
/// What stop() leaves a connection to finish its write, say 421 and close.
constexpr std::chrono::milliseconds stop_limit{2000};

std::string seconds_text(std::chrono::milliseconds delay) {
  const auto tenths = delay.count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "s";
}

/// True for an RFC 3463 status code ("4.3.0") whose class matches `code`.
bool valid_enhanced(std::string_view enhanced, int code) {
  if (enhanced.size() < 5 || enhanced[0] != static_cast<char>('0' + code / 100) ||
      enhanced[1] != '.') {
    return false;
  }
  const auto second_dot = enhanced.find('.', 2);
  if (second_dot == std::string_view::npos) {
    return false;
  }
  const auto subject = enhanced.substr(2, second_dot - 2);
  const auto detail = enhanced.substr(second_dot + 1);
  const auto digits = [](std::string_view part) {
    return !part.empty() && part.size() <= 3 &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(subject) && digits(detail);
}

/// A verdict fit for the wire: the session copies the code and the enhanced
/// code as they are (it makes only the text printable), so an owner's
/// mistake must not reach the client as a malformed or multi-line reply.
SmtpVerdict checked(SmtpVerdict verdict) {
  const int kind = verdict.code / 100;
  if (kind != 2 && kind != 4 && kind != 5) {
    return {451, "4.3.0", "local error; try again later"};
  }
  if (!valid_enhanced(verdict.enhanced, verdict.code)) {
    verdict.enhanced = std::to_string(kind) + ".0.0";
  }
  return verdict;
}

} // namespace

void ListenerShared::say(bool warning, std::string_view line) const {
  if (log) {
    const auto sink = log;
    sink(warning, line);
  }
}

SmtpConnection::SmtpConnection(std::shared_ptr<ListenerShared> shared, tcp::socket socket)
    : shared_(std::move(shared)), socket_(std::move(socket)), session_(shared_->options.session),
      watchdog_(socket_.get_executor()), wake_(socket_.get_executor()) {
  error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : peer.address().to_string();
  // Replies are small and the client waits for each (or for a pipelined
  // batch, which goes out in one write): no reason to hold them back.
  socket_.set_option(tcp::no_delay(true), ec);
}

tcp::socket& SmtpConnection::lowest() {
  return tls_ ? tls_->next_layer() : socket_;
}

void SmtpConnection::arm(Clock::time_point deadline, OnExpiry action) {
  const auto id = ++armed_;
  expired_ = false;
  on_expiry_ = action;
  watchdog_.expires_at(deadline);
  // The check on `armed_` drops a wake-up that was already queued when the
  // operation completed and the next one was armed.
  watchdog_.async_wait([weak = weak_from_this(), id](error_code ec) {
    const auto self = weak.lock();
    if (ec || !self || self->armed_ != id) {
      return;
    }
    self->expired_ = true;
    error_code ignored;
    if (self->on_expiry_ == OnExpiry::cancel) {
      self->lowest().cancel(ignored);
    } else {
      self->lowest().close(ignored);
    }
  });
}

void SmtpConnection::disarm() {
  ++armed_;
  watchdog_.cancel();
}

Clock::time_point SmtpConnection::read_deadline() {
  const auto& options = shared_->options;
  const auto now = Clock::now();
  if (session_.in_data()) {
    // Each piece of data within the command timeout, all of it within the
    // data timeout: a client trickling bytes cannot hold the connection.
    if (!data_deadline_) {
      data_deadline_ = now + options.data_timeout;
    }
    return std::min(now + options.command_timeout, *data_deadline_);
  }
  // The whole command line within the command timeout, counted from when
  // the session last did something, however the line is split into reads.
  if (!command_deadline_) {
    command_deadline_ = now + options.command_timeout;
  }
  return *command_deadline_;
}

awaitable<void> SmtpConnection::serve(std::shared_ptr<SmtpConnection>) {
  const auto& options = shared_->options;
  buffer_.resize(read_chunk_bytes);
  if (!stopping_ && !aborted_) {
    co_await perform(session_.start());
  }
  const std::size_t input_limit = options.session.max_message_bytes + input_slack_bytes;
  while (!aborted_ && !broken_ && !session_.closed()) {
    if (stopping_) {
      end_reason_ = "the listener stopped";
      co_await write("421 4.3.2 " + printable(options.session.hostname, 255) +
                         " Service shutting down\r\n",
                     std::min(options.write_timeout, stop_limit));
      break;
    }
    if (session_.waiting()) {
      // Pipelined commands stay in the socket (and the session) until the
      // owner answers: reading pauses.
      co_await take_answer();
      continue;
    }
    const auto deadline = read_deadline();
    if (session_.buffered_bytes() > input_limit) {
      // Reading more could only grow what is held, and nothing else can
      // shrink it: the client gets nothing more until the read deadline.
      co_await wait_until(deadline);
      if (!aborted_ && !stopping_) {
        co_await time_out();
      }
      continue;
    }
    error_code ec;
    const std::size_t n = co_await read_some(deadline, ec);
    if (aborted_ || stopping_) {
      continue;
    }
    if (expired_) {
      co_await time_out();
      continue;
    }
    if (ec) {
      end_reason_ = ec == asio::error::eof || ec == ssl::error::stream_truncated
                        ? std::string("closed by the client")
                        : "connection lost: " + ec.message();
      break;
    }
    co_await perform(session_.receive(std::string_view(buffer_.data(), n)));
  }
  co_await close_connection();
  if (!aborted_) {
    const std::string_view protocol = options.session.lmtp ? "LMTP" : "SMTP";
    shared_->say(false, std::string(protocol) + " session from " + peer_ + " ended: " +
                            (end_reason_.empty() ? std::string("closed") : end_reason_) + " (" +
                            std::to_string(messages_) +
                            (messages_ == 1 ? " message" : " messages") + (tls_ ? ", TLS)" : ")"));
  }
}

awaitable<void> SmtpConnection::refuse(std::shared_ptr<SmtpConnection>) {
  const auto& options = shared_->options;
  co_await write("421 4.7.0 " + printable(options.session.hostname, 255) +
                     " Too many connections, try again later\r\n",
                 std::min(options.write_timeout, stop_limit));
  co_await close_connection();
}

awaitable<std::size_t> SmtpConnection::read_some(Clock::time_point deadline, error_code& ec) {
  arm(deadline, OnExpiry::cancel);
  phase_ = Phase::reading;
  std::size_t n = 0;
  if (tls_) {
    n = co_await tls_->async_read_some(asio::buffer(buffer_), redirect_error(use_awaitable, ec));
  } else {
    n = co_await socket_.async_read_some(asio::buffer(buffer_), redirect_error(use_awaitable, ec));
  }
  phase_ = Phase::running;
  disarm();
  co_return n;
}

awaitable<bool> SmtpConnection::write(std::string bytes, std::chrono::milliseconds limit) {
  if (aborted_ || broken_) {
    co_return false;
  }
  arm(Clock::now() + limit, OnExpiry::close);
  phase_ = Phase::writing;
  error_code ec;
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes), redirect_error(use_awaitable, ec));
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes), redirect_error(use_awaitable, ec));
  }
  phase_ = Phase::running;
  disarm();
  if (ec) {
    broken_ = true;
    if (stopping_) {
      end_reason_ = "the listener stopped";
    } else if (end_reason_.empty()) {
      if (expired_) {
        ++shared_->stats.timeouts;
      }
      end_reason_ =
          expired_ ? "write timeout (the client does not read)" : "write failed: " + ec.message();
    }
    co_return false;
  }
  // The last line, CR LF dropped: the reason when the session closes.
  const auto content =
      std::string_view(bytes).substr(0, std::max<std::size_t>(bytes.size(), 2) - 2);
  const auto previous = content.rfind('\n');
  last_reply_ =
      printable(previous == std::string_view::npos ? content : content.substr(previous + 1), 200);
  co_return true;
}

awaitable<bool> SmtpConnection::start_tls() {
  if (!shared_->tls) {
    // The session offers STARTTLS only when the listener has a context.
    broken_ = true;
    end_reason_ = "STARTTLS without a TLS context";
    co_return false;
  }
  tls_context_ = shared_->tls;
  tls_.emplace(std::move(socket_), *tls_context_);
  arm(Clock::now() + shared_->options.tls_handshake_timeout, OnExpiry::close);
  phase_ = Phase::handshake;
  error_code ec;
  co_await tls_->async_handshake(ssl::stream_base::server, redirect_error(use_awaitable, ec));
  phase_ = Phase::running;
  disarm();
  if (ec || aborted_) {
    broken_ = true;
    if (stopping_) {
      end_reason_ = "the listener stopped";
    } else if (expired_) {
      ++shared_->stats.timeouts;
      end_reason_ = "TLS handshake timeout";
    } else {
      end_reason_ = "TLS handshake failed: " + ec.message();
    }
    co_return false;
  }
  ++shared_->stats.tls_sessions;
  note_progress();
  co_return true;
}

awaitable<void> SmtpConnection::perform(std::vector<SmtpAction> actions) {
  if (!actions.empty()) {
    note_progress();
  }
  for (auto& action : actions) {
    if (aborted_ || broken_ || stopping_) {
      co_return;
    }
    switch (action.kind) {
    case SmtpAction::Kind::reply:
      if (!co_await write(std::move(action.bytes), shared_->options.write_timeout)) {
        co_return;
      }
      break;
    case SmtpAction::Kind::start_tls:
      if (!co_await start_tls()) {
        co_return;
      }
      co_await perform(session_.tls_started());
      break;
    case SmtpAction::Kind::check_recipient:
      ask_recipient(action.address);
      break;
    case SmtpAction::Kind::deliver:
      ask_delivery(std::move(action.message));
      break;
    case SmtpAction::Kind::close:
      if (end_reason_.empty()) {
        end_reason_ = last_reply_.starts_with("221") ? std::string("the client quit")
                                                     : "closed by the session: " + last_reply_;
      }
      break;
    }
  }
}

void SmtpConnection::ask_recipient(const std::string& address) {
  question_ = Question::recipient;
  const auto id = open_question_ = ++questions_;
  answer_.reset();
  answer_deadline_ = Clock::now() + shared_->options.command_timeout;
  // A copy: the owner may replace the handlers, or destroy the listener,
  // from inside the call.
  const auto handler = shared_->handlers.check_recipient;
  if (!handler) {
    answered(id, {SmtpVerdict{451, "4.3.0", "recipients cannot be checked now"}});
    return;
  }
  try {
    handler(address, [weak = weak_from_this(), id](SmtpVerdict verdict) {
      if (const auto self = weak.lock()) {
        self->answered(id, {std::move(verdict)});
      }
    });
  } catch (const std::exception& e) {
    shared_->say(true, std::string("recipient check failed: ") + e.what());
    answered(id, {SmtpVerdict{451, "4.3.0", "local error; try again later"}});
  }
}

void SmtpConnection::ask_delivery(InboundMessage message) {
  question_ = Question::message;
  const auto id = open_question_ = ++questions_;
  answer_.reset();
  answer_deadline_ = Clock::now() + shared_->options.data_timeout;
  ++messages_;
  ++shared_->stats.messages;
  const auto handler = shared_->handlers.deliver;
  if (!handler) {
    answered(id, {SmtpVerdict{451, "4.3.0", "mail cannot be delivered now"}});
    return;
  }
  try {
    handler(std::move(message), [weak = weak_from_this(), id](std::vector<SmtpVerdict> verdicts) {
      if (const auto self = weak.lock()) {
        self->answered(id, std::move(verdicts));
      }
    });
  } catch (const std::exception& e) {
    shared_->say(true, std::string("delivery failed: ") + e.what());
    answered(id, {SmtpVerdict{451, "4.3.0", "local error; try again later"}});
  }
}

void SmtpConnection::answered(std::uint64_t id, std::vector<SmtpVerdict> verdicts) {
  if (id == 0 || id != open_question_) {
    return; // a second answer, or one after a timeout, a stop or the end
  }
  open_question_ = 0;
  answer_ = std::move(verdicts);
  wake_.cancel();
}

awaitable<void> SmtpConnection::wait_until(Clock::time_point deadline) {
  wake_.expires_at(deadline);
  phase_ = Phase::answering;
  error_code ec;
  co_await wake_.async_wait(redirect_error(use_awaitable, ec));
  phase_ = Phase::running;
}

awaitable<void> SmtpConnection::take_answer() {
  if (!answer_ && open_question_ != 0) {
    co_await wait_until(answer_deadline_);
  }
  if (aborted_ || stopping_) {
    co_return;
  }
  const auto question = std::exchange(question_, Question::none);
  if (!answer_) {
    // A temporary failure; an answer that still comes is ignored. The client
    // retries, so a delivery finished late may arrive twice (never lost).
    open_question_ = 0;
    const auto& options = shared_->options;
    shared_->say(
        true, question == Question::recipient
                  ? "no answer to a recipient check within " + seconds_text(options.command_timeout)
                  : "no answer to a delivery within " + seconds_text(options.data_timeout));
    answer_ = std::vector{SmtpVerdict{451, "4.3.0", "no answer in time; try again later"}};
  }
  auto verdicts = std::move(*answer_);
  answer_.reset();
  for (auto& verdict : verdicts) {
    verdict = checked(std::move(verdict));
  }
  std::vector<SmtpAction> actions;
  if (question == Question::recipient) {
    actions = session_.answer_recipient(verdicts.empty() ? SmtpVerdict{451, "4.3.0", "no answer"}
                                                         : verdicts.front());
  } else {
    actions = session_.answer_message(verdicts);
  }
  if (actions.empty() && session_.waiting()) {
    // The session waits for something that was never asked: end the
    // session rather than wait again.
    shared_->say(true, "SMTP session waits for an answer that was never asked; closing");
    actions = session_.timed_out();
  }
  co_await perform(std::move(actions));
}

awaitable<void> SmtpConnection::time_out() {
  ++shared_->stats.timeouts;
  end_reason_ =
      session_.in_data() ? "timeout in the message data" : "timeout waiting for a command";
  co_await perform(session_.timed_out());
}

awaitable<void> SmtpConnection::close_connection() {
  if (!aborted_ && !broken_) {
    arm(Clock::now() + std::min(shared_->options.write_timeout, linger_limit), OnExpiry::close);
    phase_ = Phase::closing;
    error_code ec;
    if (tls_) {
      // close_notify, then (bounded) the client's own.
      co_await tls_->async_shutdown(redirect_error(use_awaitable, ec));
    } else {
      // Our end first, so the client reads our last reply and then the end
      // of the stream; what it still sends is read and dropped.
      socket_.shutdown(tcp::socket::shutdown_send, ec);
      std::array<char, 2048> scratch;
      std::size_t drained = 0;
      while (!ec && drained < linger_drain_bytes) {
        drained += co_await socket_.async_read_some(asio::buffer(scratch),
                                                    redirect_error(use_awaitable, ec));
      }
    }
    disarm();
  }
  phase_ = Phase::done;
  error_code ignored;
  lowest().close(ignored);
  watchdog_.cancel();
  wake_.cancel();
}

void SmtpConnection::stop() {
  if (stopping_ || aborted_) {
    return;
  }
  stopping_ = true;
  open_question_ = 0;
  error_code ignored;
  switch (phase_) {
  case Phase::reading:
    lowest().cancel(ignored);
    break;
  case Phase::answering:
    wake_.cancel();
    break;
  case Phase::writing:
  case Phase::closing:
    if (const auto cut = Clock::now() + stop_limit; watchdog_.expiry() > cut) {
      arm(cut, OnExpiry::close);
    }
    break;
  case Phase::handshake:
    lowest().close(ignored);
    break;
  case Phase::running:
  case Phase::done:
    break;
  }
}

void SmtpConnection::abort() {
  aborted_ = true;
  open_question_ = 0;
  error_code ignored;
  lowest().close(ignored);
  watchdog_.cancel();
  wake_.cancel();
}

} // namespace trestle::smtp::detail
