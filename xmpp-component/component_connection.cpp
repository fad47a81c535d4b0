// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "component_connection.hpp"

#include "backoff.hpp"
#include "component_session.hpp"
#include "component_stream.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <random>
#include <vector>

namespace trestle::xmpp {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::string_view keepalive_id_prefix = "trestle-keepalive-";

/// Bytes gathered into one socket write at most.
constexpr std::size_t max_write_batch_bytes = 256 * 1024;

std::string seconds_text(std::chrono::milliseconds delay) {
  const auto tenths = delay.count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "s";
}

} // namespace

/// One connection (TCP, or TLS over TCP) and its session. Shared by the
/// reader, writer and watchdog coroutines of that connection; dies with the
/// last of them.
struct Link {
  explicit Link(asio::io_context& io, const ConnectionOptions& options)
      : stream(io), session(options.domain, options.secret, options.limits), wake(io), watchdog(io),
        writer_exit(io), close_timer(io) {}

  ComponentStream stream;
  ComponentSession session;
  /// Bytes that go out before queued stanzas: header, handshake, pings, errors.
  std::deque<std::string> control;
  asio::steady_timer wake;
  asio::steady_timer watchdog;
  asio::steady_timer writer_exit;
  /// Bounds the TLS close_notify exchange at the end.
  asio::steady_timer close_timer;
  /// What the connect deadline would interrupt, for its log line.
  std::string_view phase = "TCP connect";
  Clock::time_point last_rx = Clock::now();
  bool alive = true;
  bool ready = false;
  /// After the control bytes are written the writer ends (stream is over).
  bool finish_after_control = false;
  bool writer_running = false;
  bool closing = false;
  std::uint64_t pings = 0;

  void notify() { wake.cancel(); }
  void shutdown() {
    alive = false;
    stream.close();
    wake.cancel();
    watchdog.cancel();
    close_timer.cancel();
  }
};

struct ComponentConnection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, ConnectionOptions opts, StanzaHandler handler, LogSink sink)
      : io(io_context), options(std::move(opts)), on_stanza(std::move(handler)),
        log(std::move(sink)),
        backoff(options.reconnect_min, options.reconnect_max, std::random_device{}()),
        backoff_timer(io_context) {}

  asio::io_context& io;
  ConnectionOptions options;
  StanzaHandler on_stanza;
  LogSink log;
  Backoff backoff;
  asio::steady_timer backoff_timer;
  std::deque<std::string> queue;
  /// Bytes held in `queue`.
  std::size_t queued_bytes = 0;
  std::shared_ptr<Link> link;
  LinkState state = LinkState::idle;
  std::string status = "not started";
  ConnectionStats stats;
  bool stopping = false;
  /// Set by reconnect_now(): the next reconnect is a request, not a failure,
  /// so it skips the backoff.
  bool reconnect_requested = false;
  bool ever_ready = false;
  std::function<void()> stopped;
  bool congested = false;
  std::function<void(bool)> congestion_handler;
  std::function<void(bool)> link_handler;

  void say(LogSeverity severity, const std::string& text) {
    if (log) {
      log(severity, text);
    }
  }

  /// Re-evaluates congestion after the queue or the link changed (hysteresis:
  /// on at the high-water mark, off at a quarter of it or when the link is down).
  void update_congestion() {
    const bool up = link && link->ready && !link->closing && !stopping;
    const std::size_t high = options.queue_high_water_bytes;
    bool next = congested;
    if (!up || high == 0) {
      next = false;
    } else if (!congested && queued_bytes >= high) {
      next = true;
    } else if (congested && queued_bytes <= high / 4) {
      next = false;
    }
    if (next != congested) {
      congested = next;
      if (congestion_handler) {
        congestion_handler(next);
      }
    }
  }

  awaitable<void> run();
  awaitable<void> attempt();
  awaitable<bool> start_tls(Link& link, const std::string& where);
  awaitable<void> close_tls(std::shared_ptr<Link> link);
  awaitable<void> write_loop(std::shared_ptr<Link> link);
  awaitable<void> watch(std::shared_ptr<Link> link);
  void handle(Link& link, std::vector<SessionEvent> events);
  void handle_close(Link& link, const SessionEvent& closed);
  bool is_keepalive_answer(const Element& stanza) const;
};

awaitable<void> ComponentConnection::Impl::run() {
  auto self = shared_from_this();
  while (!stopping) {
    reconnect_requested = false;
    co_await attempt();
    if (stopping) {
      break;
    }
    if (reconnect_requested) {
      continue;
    }
    const auto delay = backoff.next();
    state = LinkState::backing_off;
    say(LogSeverity::info, "reconnecting in " + seconds_text(delay));
    backoff_timer.expires_after(delay);
    error_code ec;
    co_await backoff_timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  state = LinkState::stopped;
  status = "stopped";
  if (!queue.empty()) {
    say(LogSeverity::warning,
        std::to_string(queue.size()) + " queued stanzas were not sent before shutdown");
  }
  if (stopped) {
    asio::post(io, std::exchange(stopped, {}));
  }
}

awaitable<void> ComponentConnection::Impl::attempt() {
  auto self = shared_from_this();
  auto current = std::make_shared<Link>(io, options);
  link = current;
  ++stats.attempts;
  state = LinkState::connecting;
  const std::string where = options.host + ":" + std::to_string(options.port);
  say(LogSeverity::info, "connecting to " + where);

  // The watchdog enforces the connect/handshake deadline, then keepalive.
  asio::co_spawn(io, watch(current), asio::detached);

  error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                         asio::redirect_error(use_awaitable, ec));
  if (!ec && current->alive) {
    co_await asio::async_connect(current->stream.lowest(), endpoints,
                                 asio::redirect_error(use_awaitable, ec));
  }
  if (ec || !current->alive) {
    if (!stopping) {
      status = "cannot connect to " + where + ": " +
               (ec ? ec.message()
                   : std::string("timed out after ") + seconds_text(options.connect_timeout));
      say(LogSeverity::warning, status);
    }
    current->shutdown();
    co_return;
  }
  current->stream.lowest().set_option(tcp::no_delay(true), ec);
  if (options.tls && !co_await start_tls(*current, where)) {
    current->shutdown();
    co_return;
  }
  current->phase = "XEP-0114 handshake";
  state = LinkState::authenticating;
  current->writer_running = true;
  handle(*current, current->session.open());
  asio::co_spawn(io, write_loop(current), asio::detached);

  std::array<char, 16384> buffer{};
  while (current->alive) {
    const std::size_t n = co_await current->stream.read_some(asio::buffer(buffer), ec);
    if (ec) {
      if (current->alive && !stopping && !current->closing) {
        status = "connection lost: " + ec.message();
        say(LogSeverity::warning, status);
      }
      break;
    }
    current->last_rx = Clock::now();
    handle(*current, current->session.receive(std::string_view(buffer.data(), n)));
    if (current->session.state() == ComponentSession::State::closed) {
      break;
    }
  }

  // Let the writer put out what the session still had to say (closing tag,
  // stream error), bounded by the close timeout. The queue stays for the
  // next link: a stanza written to a dying socket could vanish unseen.
  const bool orderly = current->session.state() == ComponentSession::State::closed;
  current->closing = true;
  if (current->writer_running) {
    current->finish_after_control = true;
    current->notify();
    current->writer_exit.expires_after(options.close_timeout);
    co_await current->writer_exit.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  if (orderly && current->alive && !current->writer_running) {
    co_await close_tls(current);
  }
  current->shutdown();
  if (state == LinkState::ready) {
    state = LinkState::connecting;
  }
  update_congestion(); // a stream that is down is not congested: the count bound holds
  if (current->ready && link_handler) {
    link_handler(false);
  }
}

awaitable<bool> ComponentConnection::Impl::start_tls(Link& current, const std::string& where) {
  current.phase = "TLS handshake";
  if (!options.verify_certificate) {
    say(LogSeverity::warning, "certificate verification is off for the component link to " + where +
                                  ": anyone on the path can read and change the stream");
  }
  const StreamTls settings{options.verify_certificate, options.ca_file,
                           options.server_name.empty() ? options.host : options.server_name};
  const std::string failure = co_await current.stream.start_tls(settings, where);
  if (!current.alive) {
    co_return false; // the deadline or stop() ended it, and said why
  }
  if (!failure.empty()) {
    if (!stopping) {
      status = failure;
      say(LogSeverity::error, status);
    }
    co_return false;
  }
  say(LogSeverity::info,
      "TLS with " + where + " established (" + current.stream.tls_summary() + ")");
  co_return true;
}

awaitable<void> ComponentConnection::Impl::close_tls(std::shared_ptr<Link> current) {
  if (!current->stream.encrypted()) {
    co_return;
  }
  // The close_notify exchange writes and reads: the reader and the writer
  // are done, and the timer bounds a server that never answers.
  current->close_timer.expires_after(options.close_timeout);
  current->close_timer.async_wait([current](error_code ec) {
    if (!ec) {
      current->shutdown();
    }
  });
  error_code ec;
  co_await current->stream.shutdown_tls(ec);
  current->close_timer.cancel();
}

void ComponentConnection::Impl::handle(Link& current, std::vector<SessionEvent> events) {
  for (auto& event : events) {
    switch (event.kind) {
    case SessionEvent::Kind::write:
      current.control.push_back(std::move(event.bytes));
      current.notify();
      break;
    case SessionEvent::Kind::authenticated:
      current.ready = true;
      state = LinkState::ready;
      status = "ready";
      if (ever_ready) {
        ++stats.reconnects;
      }
      ever_ready = true;
      backoff.reset();
      say(LogSeverity::info, "authenticated as " + options.domain + "; " +
                                 std::to_string(queue.size()) + " queued stanzas to send");
      current.watchdog.cancel(); // switch from the connect deadline to keepalive
      current.notify();
      update_congestion();
      if (link_handler) {
        link_handler(true);
      }
      break;
    case SessionEvent::Kind::stanza:
      ++stats.stanzas_in;
      if (!is_keepalive_answer(event.stanza) && on_stanza) {
        on_stanza(std::move(event.stanza));
      }
      break;
    case SessionEvent::Kind::closed:
      handle_close(current, event);
      break;
    }
  }
}

void ComponentConnection::Impl::handle_close(Link& current, const SessionEvent& closed) {
  current.closing = true;
  current.finish_after_control = true;
  current.notify();
  std::string detail;
  if (closed.has_error) {
    detail = std::string(to_string(closed.error.condition));
    if (!closed.error.text.empty()) {
      detail += " (" + closed.error.text + ")";
    }
  }
  switch (closed.reason) {
  case CloseReason::auth_failed:
    ++stats.auth_failures;
    status = "authentication failed for " + options.domain +
             ": the server refused the handshake; check the component secret and that the "
             "server has a component for this domain" +
             (detail.empty() ? std::string() : "; server said " + detail);
    say(LogSeverity::error, status);
    break;
  case CloseReason::local_close:
    status = "closed";
    say(LogSeverity::info, "stream closed");
    break;
  case CloseReason::peer_closed:
    status = "stream closed by the server";
    say(LogSeverity::warning, status);
    break;
  case CloseReason::stream_error_received:
    status = "stream error from the server: " + detail;
    say(LogSeverity::warning, status);
    break;
  case CloseReason::stream_error_sent:
    status = "stream error sent to the server: " + detail;
    say(LogSeverity::warning, status);
    break;
  }
}

bool ComponentConnection::Impl::is_keepalive_answer(const Element& stanza) const {
  if (stanza.name() != "iq") {
    return false;
  }
  const auto type = stanza.attr_or("type");
  return (type == "result" || type == "error") &&
         stanza.attr_or("id").starts_with(keepalive_id_prefix);
}

awaitable<void> ComponentConnection::Impl::write_loop(std::shared_ptr<Link> current) {
  auto self = shared_from_this();
  error_code ec;
  while (current->alive) {
    // Stanzas go out in batches: one write per burst, not one per stanza.
    std::vector<std::string> batch;
    bool from_queue = false;
    if (!current->control.empty()) {
      batch.push_back(std::move(current->control.front()));
      current->control.pop_front();
    } else if (current->ready && !current->closing && !queue.empty()) {
      std::size_t batch_bytes = 0;
      while (!queue.empty() && batch_bytes < max_write_batch_bytes) {
        batch_bytes += queue.front().size();
        queued_bytes -= queue.front().size();
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      from_queue = true;
    } else if (current->finish_after_control) {
      break;
    } else {
      current->wake.expires_at(Clock::time_point::max());
      co_await current->wake.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    co_await current->stream.write(batch, ec);
    if (ec) {
      if (from_queue) {
        // Not known to have arrived: keep them first in line for the next
        // link (at least once, in order).
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          queued_bytes += it->size();
          queue.push_front(std::move(*it));
        }
      }
      current->shutdown();
      break;
    }
    if (from_queue) {
      stats.stanzas_out += batch.size();
      update_congestion();
    }
  }
  current->writer_running = false;
  current->writer_exit.cancel();
}

awaitable<void> ComponentConnection::Impl::watch(std::shared_ptr<Link> current) {
  auto self = shared_from_this();
  error_code ec;
  const auto deadline = Clock::now() + options.connect_timeout;
  while (current->alive && !current->ready) {
    current->watchdog.expires_at(deadline);
    co_await current->watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
    if (current->alive && !current->ready && Clock::now() >= deadline) {
      status = "timed out connecting to " + options.host + ":" + std::to_string(options.port) +
               " after " + seconds_text(options.connect_timeout) + " (" +
               std::string(current->phase) + " not finished)";
      say(LogSeverity::warning, status);
      current->closing = true;
      current->shutdown();
      co_return;
    }
  }
  while (current->alive && !current->closing) {
    const auto quiet_until = current->last_rx + options.keepalive_interval;
    if (Clock::now() < quiet_until) {
      current->watchdog.expires_at(quiet_until);
      co_await current->watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    // Silence for a whole interval: ping ourselves through the server
    // (XEP-0199); any traffic in the timeout proves the link is alive.
    const auto sent_at = Clock::now();
    const auto jid = options.domain;
    Element ping("iq");
    ping.set_attr("type", "get");
    ping.set_attr("id", std::string(keepalive_id_prefix) + std::to_string(++current->pings));
    ping.set_attr("from", jid);
    ping.set_attr("to", jid);
    ping.append("ping", std::string(ns::ping));
    current->control.push_back(current->session.encode(ping));
    current->notify();
    current->watchdog.expires_at(sent_at + options.keepalive_timeout);
    co_await current->watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
    if (current->alive && !current->closing && current->last_rx < sent_at &&
        Clock::now() >= sent_at + options.keepalive_timeout) {
      status = "no answer to keepalive within " + seconds_text(options.keepalive_timeout);
      say(LogSeverity::warning, status + "; reconnecting");
      current->shutdown();
      co_return;
    }
  }
}

ComponentConnection::ComponentConnection(asio::io_context& io, ConnectionOptions options,
                                         StanzaHandler on_stanza, LogSink log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(on_stanza), std::move(log))) {}

ComponentConnection::~ComponentConnection() {
  impl_->stopping = true;
  impl_->on_stanza = nullptr;
  impl_->log = nullptr;
  impl_->backoff_timer.cancel();
  if (impl_->link) {
    impl_->link->shutdown();
  }
}

void ComponentConnection::start() {
  if (impl_->state != LinkState::idle) {
    return;
  }
  impl_->state = LinkState::connecting;
  asio::co_spawn(impl_->io, impl_->run(), [impl = impl_](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        impl->say(LogSeverity::error, std::string("component driver failed: ") + e.what());
      }
    }
  });
}

void ComponentConnection::stop(std::function<void()> done) {
  auto& impl = *impl_;
  if (impl.state == LinkState::stopped || impl.state == LinkState::idle) {
    impl.state = LinkState::stopped;
    if (done) {
      asio::post(impl.io, std::move(done));
    }
    return;
  }
  impl.stopping = true;
  impl.stopped = std::move(done);
  impl.backoff_timer.cancel();
  impl.update_congestion();
  auto current = impl.link;
  if (!current || !current->alive) {
    return;
  }
  if (current->ready && !current->closing) {
    // Graceful: what is queued, our closing tag, then wait (bounded) for the
    // server's closing tag.
    while (!impl.queue.empty()) {
      current->control.push_back(std::move(impl.queue.front()));
      impl.queue.pop_front();
      ++impl.stats.stanzas_out;
    }
    impl.queued_bytes = 0;
    impl.handle(*current, current->session.close());
    current->closing = true;
    current->watchdog.expires_after(impl.options.close_timeout);
    current->watchdog.async_wait([current](error_code ec) {
      if (!ec) {
        current->shutdown();
      }
    });
  } else {
    current->shutdown();
  }
}

void ComponentConnection::reconnect_now() {
  impl_->reconnect_requested = true;
  if (impl_->link && impl_->link->alive) {
    impl_->status = "reconnecting on request";
    impl_->link->shutdown();
  }
  impl_->backoff_timer.cancel();
}

bool ComponentConnection::send(const Element& stanza) {
  auto& impl = *impl_;
  const bool up = impl.link && impl.link->ready && !impl.link->closing;
  auto bytes = serialize(stanza, ns::component);
  // While the stream is down the stanza count is bounded (what may wait for
  // a reconnect); while it is up only the bytes are, so that a burst (a
  // channel's member list) drains at the socket's pace instead of being dropped.
  const bool full = (!up && impl.queue.size() >= impl.options.queue_limit) ||
                    impl.queued_bytes + bytes.size() > impl.options.queue_max_bytes;
  if (impl.stopping || full) {
    ++impl.stats.dropped;
    impl.say(LogSeverity::warning, impl.stopping
                                       ? "stanza dropped: component is stopping"
                                       : "stanza dropped: send queue full (" +
                                             std::to_string(impl.queue.size()) + " stanzas, " +
                                             std::to_string(impl.queued_bytes) + " bytes)");
    return false;
  }
  impl.queued_bytes += bytes.size();
  impl.queue.push_back(std::move(bytes));
  if (impl.link && impl.link->ready) {
    impl.link->notify();
  }
  impl.update_congestion();
  return true;
}

const std::string& ComponentConnection::domain() const {
  return impl_->options.domain;
}
LinkState ComponentConnection::state() const {
  return impl_->state;
}
const std::string& ComponentConnection::status() const {
  return impl_->status;
}
const ConnectionStats& ComponentConnection::stats() const {
  return impl_->stats;
}
std::size_t ComponentConnection::queue_depth() const {
  return impl_->queue.size();
}
std::size_t ComponentConnection::queue_bytes() const {
  return impl_->queued_bytes;
}
bool ComponentConnection::congested() const {
  return impl_->congested;
}
void ComponentConnection::on_congestion(std::function<void(bool)> handler) {
  impl_->congestion_handler = std::move(handler);
}

void ComponentConnection::on_link(std::function<void(bool)> handler) {
  impl_->link_handler = std::move(handler);
}

std::string_view to_string(LinkState state) {
  switch (state) {
  case LinkState::idle:
    return "idle";
  case LinkState::connecting:
    return "connecting";
  case LinkState::authenticating:
    return "authenticating";
  case LinkState::ready:
    return "ready";
  case LinkState::backing_off:
    return "waiting to reconnect";
  case LinkState::stopped:
    return "stopped";
  }
  return "unknown";
}

} // namespace trestle::xmpp
