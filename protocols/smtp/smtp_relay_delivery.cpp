// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "smtp_relay_delivery.hpp"

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
#include <chrono>
#include <exception>
#include <iterator>
#include <vector>

namespace trestle::smtp {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Security = SmtpRelayOptions::Security;

/// Bytes taken from the socket per read; replies are short.
constexpr std::size_t read_chunk_bytes = 4096;
/// The longest wait for QUIT's answer once the outcome is known.
constexpr std::chrono::milliseconds quit_wait{1000};

/// "120 s", "0.2 s".
std::string seconds_text(std::chrono::milliseconds delay) {
  if (delay.count() % 1000 == 0) {
    return std::to_string(delay.count() / 1000) + " s";
  }
  const auto tenths = (delay.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

SmtpClientOptions session_options(const SmtpRelayOptions& relay) {
  SmtpClientOptions options;
  options.helo_name = relay.helo_name;
  options.username = relay.username;
  options.password = relay.password;
  options.require_tls = relay.security != Security::none;
  options.tls_from_start = relay.security == Security::implicit_tls;
  return options;
}

SmtpOutcome temporary(std::string text) {
  SmtpOutcome outcome;
  outcome.kind = SmtpOutcome::Kind::temporary;
  outcome.text = std::move(text);
  return outcome;
}

} // namespace

struct RelayDelivery::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, std::shared_ptr<const SmtpRelayOptions> relay,
       OutboundEnvelope envelope, RelayDeliveryHooks h)
      : io(io_context), options(std::move(relay)), hooks(std::move(h)),
        session(session_options(*options), std::move(envelope)), resolver(io_context),
        socket(io_context), deadline(io_context) {
    server_name = options->server_name.empty() ? options->host : options->server_name;
    deadline.expires_at(Clock::time_point::max());
  }

  asio::io_context& io;
  std::shared_ptr<const SmtpRelayOptions> options;
  RelayDeliveryHooks hooks;
  SmtpClientSession session;
  std::string server_name;
  tcp::resolver resolver;
  tcp::socket socket;
  /// Empty until the TLS handshake starts; then it owns the socket.
  xmpp::ClientTls tls;
  /// The deadline of the step in progress; watch() closes the socket when it
  /// passes, which ends the pending operation with an error.
  asio::steady_timer deadline;
  /// What the deadline guards, worded for the outcome.
  std::string late_text;
  bool timed_out = false;
  /// DATA was written: the waits for the message and its answer double.
  bool data_sent = false;
  bool quit_sent = false;
  bool reported = false;
  /// The socket is closed; no more I/O starts.
  bool ended = false;

  std::string where() const { return options->host + ":" + std::to_string(options->port); }
  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  std::chrono::milliseconds reply_timeout() const {
    return data_sent ? options->reply_timeout * 2 : options->reply_timeout;
  }

  void arm(std::chrono::milliseconds timeout, std::string text) {
    late_text = std::move(text);
    deadline.expires_after(timeout);
  }

  /// Hands the outcome to the owner, once.
  void report(SmtpOutcome outcome) {
    if (reported) {
      return;
    }
    reported = true;
    auto hook = std::move(hooks.on_outcome);
    hooks.on_outcome = nullptr;
    if (hook) {
      hook(std::move(outcome));
    }
  }

  /// Closes the connection; pending operations complete with an error.
  void end() {
    if (ended) {
      return;
    }
    ended = true;
    error_code ignored;
    resolver.cancel();
    lowest().close(ignored);
    deadline.cancel();
  }

  /// The link failed before the dialogue began: the reason is the outcome.
  void failed(std::string why) {
    report(temporary(timed_out ? late_text : std::move(why)));
    end();
  }

  /// The link failed during the dialogue: the session words the outcome
  /// (nothing when the message was answered already).
  void lost(const std::string& why) {
    for (auto& action : session.connection_lost(timed_out ? late_text : why)) {
      if (action.kind == SmtpClientAction::Kind::done) {
        report(std::move(action.outcome));
      }
    }
    end();
  }

  /// Ends the delivery: closes, makes sure there was an outcome, then tells
  /// the owner (which may destroy the RelayDelivery inside).
  void close_out() {
    end();
    if (!reported) {
      report(temporary("the delivery to the relay ended without an answer"));
    }
    auto closed = std::move(hooks.on_closed);
    hooks = {};
    if (closed) {
      closed();
    }
  }

  awaitable<void> run();
  awaitable<void> watch();
  awaitable<bool> connect();
  awaitable<bool> handshake(bool after_starttls);
  awaitable<void> converse();
  awaitable<bool> perform(std::vector<SmtpClientAction> actions);
  awaitable<bool> write(const std::string& bytes);
  awaitable<void> say_goodbye();
};

awaitable<void> RelayDelivery::Impl::run() {
  auto self = shared_from_this();
  if (!ended) {
    // One deadline for resolving, connecting and an implicit TLS handshake.
    arm(options->connect_timeout,
        "connecting to " + where() + " timed out after " + seconds_text(options->connect_timeout));
    asio::co_spawn(io, watch(), asio::detached);
    if (co_await connect()) {
      co_await converse();
    }
  }
  close_out();
}

awaitable<void> RelayDelivery::Impl::watch() {
  auto self = shared_from_this();
  error_code ec;
  while (!ended) {
    co_await deadline.async_wait(asio::redirect_error(use_awaitable, ec));
    // A re-armed deadline cancels the wait, or moved on after it fired.
    if (!ended && deadline.expiry() <= Clock::now()) {
      timed_out = true;
      error_code ignored;
      resolver.cancel();
      lowest().close(ignored);
      co_return;
    }
  }
}

awaitable<bool> RelayDelivery::Impl::connect() {
  error_code ec;
  const auto endpoints = co_await resolver.async_resolve(
      options->host, std::to_string(options->port), asio::redirect_error(use_awaitable, ec));
  if (ended) {
    co_return false;
  }
  if (ec || endpoints.empty()) {
    failed("cannot resolve " + options->host + ": " + (ec ? ec.message() : "no address"));
    co_return false;
  }
  // async_connect tries each address in turn (IPv6 and IPv4, resolver order).
  co_await asio::async_connect(socket, endpoints, asio::redirect_error(use_awaitable, ec));
  if (ended) {
    co_return false;
  }
  if (ec) {
    failed("cannot connect to " + where() + ": " + ec.message());
    co_return false;
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (options->security == Security::implicit_tls) {
    co_return co_await handshake(false);
  }
  co_return true;
}

awaitable<bool> RelayDelivery::Impl::handshake(bool after_starttls) {
  // With security `none` the relay's STARTTLS offer is taken without
  // checking its certificate: an attacker could strip the offer anyway, and
  // a check could only fail a delivery that would go through in the clear.
  const bool verify = options->verify_certificate && options->security != Security::none;
  std::string problem;
  if (!tls.start(socket, verify, options->ca_file, server_name, &problem)) {
    after_starttls ? lost(problem) : failed(problem);
    co_return false;
  }
  std::string late = "the TLS handshake with " + where() + " timed out after " +
                     seconds_text(options->connect_timeout);
  if (after_starttls) {
    arm(options->connect_timeout, std::move(late));
  } else {
    late_text = std::move(late); // still the connect deadline
  }
  error_code ec;
  co_await tls->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
  if (ended) {
    co_return false;
  }
  if (ec) {
    const auto reason = tls.handshake_failure(where(), ec);
    after_starttls ? lost(reason) : failed(reason);
    co_return false;
  }
  co_return true;
}

awaitable<void> RelayDelivery::Impl::converse() {
  std::array<char, read_chunk_bytes> buffer{};
  error_code ec;
  // The deadline is per reply, not per read: a relay sending a byte at a
  // time gets no more time than one answering at once.
  bool new_reply = true;
  while (!ended) {
    if (new_reply) {
      arm(reply_timeout(), "the relay did not answer within " + seconds_text(reply_timeout()));
    }
    std::size_t n = 0;
    if (tls) {
      n = co_await tls->async_read_some(asio::buffer(buffer),
                                        asio::redirect_error(use_awaitable, ec));
    } else {
      n = co_await socket.async_read_some(asio::buffer(buffer),
                                          asio::redirect_error(use_awaitable, ec));
    }
    if (ended) {
      co_return;
    }
    if (ec) {
      const bool hung_up = ec == asio::error::eof || ec == ssl::error::stream_truncated;
      lost(hung_up ? std::string("the relay closed the connection") : ec.message());
      co_return;
    }
    auto actions = session.receive(std::string_view(buffer.data(), n));
    new_reply = !actions.empty();
    if (!co_await perform(std::move(actions))) {
      co_return;
    }
  }
}

awaitable<bool> RelayDelivery::Impl::perform(std::vector<SmtpClientAction> actions) {
  // The outcome goes to the owner before the QUIT in front of it is
  // written, so a failing write cannot lose it.
  for (auto& action : actions) {
    if (action.kind == SmtpClientAction::Kind::done) {
      report(std::move(action.outcome));
    }
  }
  for (std::size_t i = 0; i < actions.size() && !ended; ++i) {
    switch (actions[i].kind) {
    case SmtpClientAction::Kind::write:
      if (!co_await write(actions[i].bytes)) {
        co_return false;
      }
      break;
    case SmtpClientAction::Kind::start_tls: {
      if (!co_await handshake(true)) {
        co_return false;
      }
      auto more = session.tls_started();
      std::move(more.begin(), more.end(), std::back_inserter(actions));
      break;
    }
    case SmtpClientAction::Kind::done:
      report(std::move(actions[i].outcome)); // from tls_started(); no-op otherwise
      break;
    }
  }
  if (ended) {
    co_return false;
  }
  if (session.finished()) {
    co_await say_goodbye();
    co_return false;
  }
  co_return true;
}

awaitable<bool> RelayDelivery::Impl::write(const std::string& bytes) {
  // The session writes commands verbatim; these two change the waits.
  if (bytes == "DATA\r\n") {
    data_sent = true;
  } else if (bytes == "QUIT\r\n") {
    quit_sent = true;
  }
  arm(reply_timeout(), "writing to the relay timed out after " + seconds_text(reply_timeout()));
  error_code ec;
  if (tls) {
    co_await asio::async_write(*tls, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  } else {
    co_await asio::async_write(socket, asio::buffer(bytes),
                               asio::redirect_error(use_awaitable, ec));
  }
  if (ended) {
    co_return false;
  }
  if (ec) {
    lost("writing to the relay failed: " + ec.message());
    co_return false;
  }
  co_return true;
}

awaitable<void> RelayDelivery::Impl::say_goodbye() {
  // RFC 5321 section 4.1.1.10: the client SHOULD wait for QUIT's answer.
  // The outcome is known, so the wait is short, and whatever comes ends it.
  if (quit_sent && !timed_out) {
    arm(std::min(quit_wait, options->reply_timeout), "");
    std::array<char, 512> buffer{};
    error_code ec;
    if (tls) {
      co_await tls->async_read_some(asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
    } else {
      co_await socket.async_read_some(asio::buffer(buffer),
                                      asio::redirect_error(use_awaitable, ec));
    }
  }
  end();
}

RelayDelivery::RelayDelivery(asio::io_context& io, std::shared_ptr<const SmtpRelayOptions> options,
                             OutboundEnvelope envelope, RelayDeliveryHooks hooks)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(envelope), std::move(hooks))) {
}

RelayDelivery::~RelayDelivery() {
  impl_->hooks = {};
  impl_->end();
}

void RelayDelivery::start() {
  asio::co_spawn(impl_->io, impl_->run(), [impl = impl_](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        impl->report(temporary(std::string("the relay driver failed: ") + e.what()));
      } catch (...) {
        impl->report(temporary("the relay driver failed"));
      }
      impl->close_out();
    }
  });
}

void RelayDelivery::abort(const std::string& why) {
  impl_->report(temporary(why));
  impl_->end();
}

} // namespace trestle::smtp
