// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "irc_link.hpp"

#include "backoff.hpp"
#include "irc_session_support.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <random>

namespace trestle::irc {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using gateway::LogLevel;
using session_support::refuse;

/// Error replies to a JOIN that mean the channel cannot be joined as asked
/// (RFC 2812 section 5.2): its first parameter is the channel.
constexpr std::array<std::string_view, 6> join_failures = {"471", "473", "474",
                                                           "475", "403", "405"};

std::string millis_text(std::chrono::milliseconds delay) {
  return std::to_string(delay.count()) + " ms";
}

bool is_join_failure(const ClientEvent& event) {
  return event.kind == ClientEvent::Kind::error_reply && !event.params.empty() &&
         std::find(join_failures.begin(), join_failures.end(), event.numeric) !=
             join_failures.end();
}

} // namespace

struct IrcLink::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, IrcLinkOptions opts, IrcLinkHandlers h, ConnectionLog sink)
      : io(io_context), options(std::move(opts)), handlers(std::move(h)), log(std::move(sink)),
        backoff(options.reconnect_min, options.reconnect_max, std::random_device{}()),
        backoff_timer(io_context), wake(io_context), session(options.client) {}

  asio::io_context& io;
  IrcLinkOptions options;
  IrcLinkHandlers handlers;
  ConnectionLog log;
  xmpp::Backoff backoff;
  asio::steady_timer backoff_timer;
  /// Wakes the attempt loop: connected, ended, or the registration deadline.
  asio::steady_timer wake;
  IrcClientSession session;
  std::unique_ptr<IrcConnection> connection;
  /// Connections whose end we decided (or were told of) from inside one of
  /// their own callbacks: destroyed later, on a fresh stack.
  std::vector<std::unique_ptr<IrcConnection>> retired;
  /// Which connection the callbacks belong to; older ones are ignored.
  std::uint64_t generation = 0;
  IrcLinkState state = IrcLinkState::idle;
  std::vector<WantedChannel> wanted;
  std::uint64_t attempts = 0;
  bool stopping = false;
  bool attempt_over = true;
  std::optional<Clock::time_point> registration_deadline;
  std::string end_reason;
  CloseKind end_kind = CloseKind::local_close;
  /// The last nick the user asked for, adopted once the server confirms it.
  std::string requested_nick;
  std::function<void()> stopped;

  void say(LogLevel level, const std::string& text) {
    if (log) {
      log(level, text);
    }
  }
  std::string where() const {
    return options.connection.host + ":" + std::to_string(options.connection.port);
  }
  bool current(std::uint64_t gen) const {
    return gen == generation && !attempt_over && connection != nullptr;
  }

  void set_state(IrcLinkState next, std::string reason);
  awaitable<void> run();
  awaitable<void> attempt();
  IrcConnectionHandlers connection_handlers(std::uint64_t gen);
  void on_connected();
  void end_attempt(std::string reason, CloseKind kind);
  void drop(std::string reason, CloseKind kind = CloseKind::closed_by_peer);
  bool transmit(std::string line);
  ActionResult submit(ActionResult result);
  void dispatch(std::vector<ClientEvent> events);
  void track(const ClientEvent& event);
  void on_registered(const ClientEvent& event);
  std::vector<WantedChannel>::iterator find_wanted(std::string_view channel);
  void forget(std::string_view channel);
  void want(std::string_view channel, std::string_view key);
  void track_raw(std::string_view line);
  ActionResult require_registered() const;

  /// Runs a session action when registered, and sends its lines.
  template <typename Action> ActionResult when_registered(Action&& action) {
    if (auto check = require_registered(); !check.ok()) {
      return check;
    }
    return submit(action(session));
  }
};

void IrcLink::Impl::set_state(IrcLinkState next, std::string reason) {
  state = next;
  say(LogLevel::info, "IRC link to " + where() + ": " + std::string(to_string(next)) +
                          (reason.empty() ? std::string() : " (" + reason + ")"));
  if (handlers.on_state) {
    handlers.on_state(next, std::move(reason));
  }
}

awaitable<void> IrcLink::Impl::run() {
  auto self = shared_from_this();
  error_code ec;
  while (!stopping) {
    co_await attempt();
    if (stopping) {
      break;
    }
    const auto delay = backoff.next();
    set_state(IrcLinkState::reconnecting, end_reason);
    if (stopping) {
      break; // stop() from inside on_state
    }
    say(LogLevel::info, "reconnecting to " + where() + " in " + millis_text(delay));
    backoff_timer.expires_after(delay);
    co_await backoff_timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  set_state(IrcLinkState::stopped, "stopped");
  if (stopped) {
    asio::post(io, std::exchange(stopped, {}));
  }
}

awaitable<void> IrcLink::Impl::attempt() {
  auto self = shared_from_this();
  error_code ec;
  ++attempts;
  retired.clear();
  session = IrcClientSession(options.client);
  attempt_over = false;
  end_reason.clear();
  registration_deadline.reset();
  const auto gen = ++generation;
  connection =
      std::make_unique<IrcConnection>(io, options.connection, connection_handlers(gen), log);
  set_state(IrcLinkState::connecting, where());
  if (current(gen)) {
    connection->start();
  }
  // Every wait ends: the connection reports its end within its own
  // deadlines, and registration has ours.
  while (!attempt_over) {
    wake.expires_at(registration_deadline.value_or(Clock::time_point::max()));
    co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!attempt_over && registration_deadline && Clock::now() >= *registration_deadline) {
      drop("no welcome from the server within " + millis_text(options.registration_timeout),
           CloseKind::timeout);
    }
  }
}

IrcConnectionHandlers IrcLink::Impl::connection_handlers(std::uint64_t gen) {
  const std::weak_ptr<Impl> weak = shared_from_this();
  IrcConnectionHandlers h;
  h.on_connected = [weak, gen] {
    if (auto self = weak.lock(); self && self->current(gen)) {
      self->on_connected();
    }
  };
  h.on_line = [weak, gen](std::string_view line) {
    if (auto self = weak.lock(); self && self->current(gen)) {
      self->dispatch(self->session.receive_line(line));
    }
  };
  h.on_idle_warning = [weak, gen] {
    if (auto self = weak.lock(); self && self->current(gen)) {
      self->transmit(IrcClientSession::keepalive_line());
    }
  };
  h.on_closed = [weak, gen](std::string reason, CloseKind kind) {
    if (auto self = weak.lock(); self && self->current(gen)) {
      self->end_attempt(std::move(reason), kind);
    }
  };
  return h;
}

void IrcLink::Impl::on_connected() {
  registration_deadline = Clock::now() + options.registration_timeout;
  wake.cancel();
  set_state(IrcLinkState::registering, where());
  if (!stopping) {
    dispatch(session.start().events);
  }
}

void IrcLink::Impl::end_attempt(std::string reason, CloseKind kind) {
  attempt_over = true;
  end_reason = std::move(reason);
  end_kind = kind;
  registration_deadline.reset();
  if (connection) {
    // We may be inside one of its callbacks: destroy it on a fresh stack.
    retired.push_back(std::move(connection));
    asio::post(io, [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->retired.clear();
      }
    });
  }
  wake.cancel();
}

void IrcLink::Impl::drop(std::string reason, CloseKind kind) {
  if (attempt_over || !connection) {
    return;
  }
  say(LogLevel::warning, "dropping the connection to " + where() + ": " + reason);
  end_attempt(std::move(reason), kind);
}

bool IrcLink::Impl::transmit(std::string line) {
  if (attempt_over || !connection) {
    return false;
  }
  if (connection->send_line(std::move(line))) {
    return true;
  }
  // A line the session believes sent but the server never sees leaves the
  // two out of step (a JOIN, a NICK); a fresh connection resyncs them.
  if (!stopping) {
    drop("a line could not be queued (send queue full or connection closing)");
  }
  return false;
}

ActionResult IrcLink::Impl::submit(ActionResult result) {
  if (!result.ok()) {
    return result;
  }
  for (auto& event : result.events) {
    if (!transmit(event.line)) {
      return refuse(ActionError::not_registered,
                    "the IRC connection could not take the command and is reconnecting");
    }
  }
  return result;
}

void IrcLink::Impl::dispatch(std::vector<ClientEvent> events) {
  auto self = shared_from_this();
  for (const auto& event : events) {
    if (event.kind == ClientEvent::Kind::send) {
      transmit(event.line);
      continue;
    }
    track(event);
    if (handlers.on_event) {
      handlers.on_event(event);
    }
  }
}

void IrcLink::Impl::track(const ClientEvent& event) {
  using Kind = ClientEvent::Kind;
  switch (event.kind) {
  case Kind::registered:
    on_registered(event);
    break;
  case Kind::parted:
  case Kind::kicked:
    if (event.self) {
      forget(event.channel);
    }
    break;
  case Kind::nick_changed:
    if (event.self) {
      options.client.nick = event.new_nick;
      requested_nick.clear();
    }
    break;
  case Kind::error_reply:
    if (is_join_failure(event) && find_wanted(event.params.front()) != wanted.end()) {
      say(LogLevel::info, "cannot join " + event.params.front() + " (" + event.numeric + " " +
                              event.text + "); no longer rejoined");
      forget(event.params.front());
    }
    break;
  default:
    break;
  }
}

void IrcLink::Impl::on_registered(const ClientEvent& event) {
  registration_deadline.reset();
  wake.cancel();
  backoff.reset();
  if (!requested_nick.empty() && session.isupport().equal(event.nick, requested_nick)) {
    options.client.nick = event.nick;
  }
  requested_nick.clear();
  // The user's own commands (NickServ IDENTIFY, user modes) go first, so
  // that they hold before any channel sees us.
  for (const auto& command : options.after_connect) {
    auto result = session.raw(command);
    if (!result.ok()) {
      say(LogLevel::warning, "a command to send after connecting was refused: " + result.reason);
      continue;
    }
    if (!submit(std::move(result)).ok()) {
      return;
    }
  }
  const auto channels = wanted;
  for (const auto& channel : channels) {
    auto result = session.join(channel.name, channel.key);
    if (!result.ok()) {
      say(LogLevel::warning,
          "cannot rejoin " + channel.name + ": " + result.reason + "; no longer rejoined");
      forget(channel.name);
      continue;
    }
    if (!submit(std::move(result)).ok()) {
      return; // dropped; the next registration tries again
    }
  }
  set_state(IrcLinkState::registered, "registered as " + event.nick);
}

std::vector<WantedChannel>::iterator IrcLink::Impl::find_wanted(std::string_view channel) {
  const auto& isupport = session.isupport();
  return std::find_if(wanted.begin(), wanted.end(), [&](const WantedChannel& wanted_channel) {
    return isupport.equal(wanted_channel.name, channel);
  });
}

void IrcLink::Impl::forget(std::string_view channel) {
  if (auto it = find_wanted(channel); it != wanted.end()) {
    wanted.erase(it);
  }
}

void IrcLink::Impl::want(std::string_view channel, std::string_view key) {
  if (auto it = find_wanted(channel); it != wanted.end()) {
    it->key = std::string(key);
  } else {
    wanted.push_back({std::string(channel), std::string(key)});
  }
}

void IrcLink::Impl::track_raw(std::string_view line) {
  // A JOIN or PART typed as a raw command changes what the user wants as
  // much as join() and part() do. Echoed JOINs are not used for this: one
  // arriving after a part() would bring the channel back.
  const auto message = parse_line(line);
  if (!message || message->params.empty() ||
      (message->command != "JOIN" && message->command != "PART")) {
    return;
  }
  const auto split = [](std::string_view list) {
    std::vector<std::string> items;
    for (std::size_t start = 0; start <= list.size();) {
      const auto comma = std::min(list.find(',', start), list.size());
      items.emplace_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    return items;
  };
  const auto channels = split(message->params[0]);
  const auto keys = message->params.size() > 1 && message->command == "JOIN"
                        ? split(message->params[1])
                        : std::vector<std::string>{};
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (message->command == "PART") {
      forget(channels[i]);
    } else if (session_support::valid_name(channels[i]) &&
               session.isupport().is_channel(channels[i])) {
      want(channels[i], i < keys.size() ? keys[i] : std::string());
    }
  }
}

ActionResult IrcLink::Impl::require_registered() const {
  if (state != IrcLinkState::registered || attempt_over) {
    return refuse(ActionError::not_registered, "not connected to the IRC server");
  }
  return {};
}

IrcLink::IrcLink(asio::io_context& io, IrcLinkOptions options, IrcLinkHandlers handlers,
                 ConnectionLog log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handlers), std::move(log))) {}

IrcLink::~IrcLink() {
  auto& impl = *impl_;
  impl.handlers = {};
  impl.log = nullptr;
  impl.stopping = true;
  impl.attempt_over = true;
  impl.stopped = nullptr;
  impl.connection.reset();
  impl.retired.clear();
  impl.backoff_timer.cancel();
  impl.wake.cancel();
}

void IrcLink::start() {
  if (impl_->state != IrcLinkState::idle) {
    return;
  }
  impl_->state = IrcLinkState::connecting;
  asio::co_spawn(impl_->io, impl_->run(), [impl = impl_](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        impl->say(LogLevel::error, std::string("IRC link driver failed: ") + e.what());
      }
    }
  });
}

void IrcLink::stop(std::string_view quit_reason, std::function<void()> done) {
  auto& impl = *impl_;
  if (impl.state == IrcLinkState::idle || impl.state == IrcLinkState::stopped) {
    impl.state = IrcLinkState::stopped;
    impl.stopping = true;
    if (done) {
      asio::post(impl.io, std::move(done));
    }
    return;
  }
  if (impl.stopping) {
    if (done) {
      // A second stop() while the first is under way: both are told.
      impl.stopped = [first = std::move(impl.stopped), second = std::move(done)] {
        if (first) {
          first();
        }
        second();
      };
    }
    return;
  }
  impl.stopping = true;
  impl.stopped = std::move(done);
  impl.backoff_timer.cancel();
  if (impl.attempt_over || !impl.connection) {
    return;
  }
  auto quit = impl.session.quit(quit_reason);
  if (!quit.ok() && quit.error == ActionError::invalid_input) {
    quit = impl.session.quit(); // a reason that cannot go on the wire
  }
  impl.connection->close(quit.ok() && !quit.events.empty() ? quit.events.front().line
                                                           : std::string());
}

ActionResult IrcLink::join(std::string_view channel, std::string_view key) {
  auto& impl = *impl_;
  ActionResult result;
  if (impl.state == IrcLinkState::registered && !impl.attempt_over) {
    result = impl.submit(impl.session.join(channel, key));
    if (!result.ok() && result.error != ActionError::not_registered) {
      return result;
    }
  } else if (!session_support::valid_name(channel) ||
             !impl.session.isupport().is_channel(channel) ||
             (!key.empty() && !session_support::valid_name(key))) {
    return refuse(ActionError::invalid_input, "the channel or key is not one IRC name");
  }
  // Wanted even when the line could not go out: the reconnect joins it.
  impl.want(channel, key);
  if (!result.ok()) {
    return ActionResult{}; // joined after the reconnect
  }
  return result;
}

ActionResult IrcLink::part(std::string_view channel, std::string_view reason) {
  auto& impl = *impl_;
  if (!session_support::valid_name(channel)) {
    return refuse(ActionError::invalid_input, "the channel is not one IRC name");
  }
  impl.forget(channel);
  if (impl.state != IrcLinkState::registered || impl.attempt_over) {
    return {};
  }
  return impl.submit(impl.session.part(channel, reason));
}

ActionResult
IrcLink::perform(const std::function<ActionResult(IrcClientSession& session)>& action) {
  return impl_->when_registered(action);
}

ActionResult IrcLink::nick(std::string_view new_nick) {
  auto& impl = *impl_;
  // While registering the session accepts NICK too: the answer to nick_rejected.
  const bool open =
      (impl.state == IrcLinkState::registered || impl.state == IrcLinkState::registering) &&
      !impl.attempt_over;
  if (!open) {
    return refuse(ActionError::not_registered, "not connected to the IRC server");
  }
  auto result = impl.submit(impl.session.nick(new_nick));
  if (result.ok()) {
    impl.requested_nick = std::string(new_nick);
  }
  return result;
}

ActionResult IrcLink::raw(std::string_view line) {
  auto result = impl_->when_registered([&](IrcClientSession& s) { return s.raw(line); });
  if (result.ok()) {
    impl_->track_raw(line);
  }
  return result;
}

IrcLinkState IrcLink::state() const {
  return impl_->state;
}
const IrcClientSession& IrcLink::session() const {
  return impl_->session;
}
const std::vector<WantedChannel>& IrcLink::wanted_channels() const {
  return impl_->wanted;
}
CloseKind IrcLink::last_close_kind() const {
  return impl_->end_kind;
}

std::uint64_t IrcLink::reconnects() const {
  return impl_->attempts > 0 ? impl_->attempts - 1 : 0;
}

std::string_view to_string(IrcLinkState state) {
  switch (state) {
  case IrcLinkState::idle:
    return "idle";
  case IrcLinkState::connecting:
    return "connecting";
  case IrcLinkState::registering:
    return "registering";
  case IrcLinkState::registered:
    return "registered";
  case IrcLinkState::reconnecting:
    return "waiting to reconnect";
  case IrcLinkState::stopped:
    return "stopped";
  }
  return "unknown";
}

} // namespace trestle::irc
