#pragma once

#include "irc_client_session.hpp"
#include "irc_connection.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace trestle::irc {

/// Everything one link needs: where to connect, who to be, and its timings.
struct IrcLinkOptions {
  /// The transport (host, port, TLS, flood control, timeouts).
  IrcConnectionOptions connection;
  /// The session's identity; a fresh session per connection starts from it.
  ClientConfig client;
  /// First delay before a reconnect; doubles per failure (with jitter)...
  std::chrono::milliseconds reconnect_min{2000};
  /// ...up to this.
  std::chrono::milliseconds reconnect_max{120000};
  /// From TCP (and TLS) up to the server's 001; past it the link reconnects.
  std::chrono::milliseconds registration_timeout{60000};
  /// Raw command lines sent after each registration, before channels are
  /// joined again (e.g. `PRIVMSG NickServ :IDENTIFY ...`, `MODE nick +x`).
  std::vector<std::string> after_connect;
};

/// Where a link is; only the link's driver moves between them.
enum class IrcLinkState {
  /// Constructed, start() not called yet.
  idle,
  /// Resolving and connecting (TCP, TLS).
  connecting,
  /// Connected, waiting for the server's welcome (001).
  registering,
  /// Registered: actions go to the server.
  registered,
  /// The connection ended; waiting out the backoff delay before the next one.
  reconnecting,
  /// stop() finished, or the link was stopped before it started.
  stopped,
};

/// One channel the user wants to be in, with its key (empty: none).
struct WantedChannel {
  std::string name;
  std::string key;

  friend bool operator==(const WantedChannel&, const WantedChannel&) = default;
};

/// What a link tells its owner. Callbacks run on the io_context's thread;
/// they may call the link's actions and stop(), but must not destroy the
/// link (post that instead).
struct IrcLinkHandlers {
  /// Every event of the session except `send` (which the link writes itself).
  std::function<void(const ClientEvent& event)> on_event;
  /// The link moved to `state`; `reason` says why (for reconnecting: why the
  /// connection ended).
  std::function<void(IrcLinkState state, std::string reason)> on_state;
};

/// One user's link to one IRC server: an IrcClientSession driven over an
/// IrcConnection, reconnected with backoff when the connection ends, with a
/// fresh session each time and every wanted channel joined again after each
/// registration. Single-threaded: all calls on the io_context's thread.
class IrcLink {
public:
  /// A link that does nothing until start(). `log` gets one line per event
  /// worth noting, never a line's content (so no PASS or SASL secret).
  IrcLink(boost::asio::io_context& io, IrcLinkOptions options, IrcLinkHandlers handlers,
          ConnectionLog log = {});
  /// Drops the connection at once, without callbacks.
  ~IrcLink();
  IrcLink(const IrcLink&) = delete;
  IrcLink& operator=(const IrcLink&) = delete;

  /// Starts connecting; only the first call on an idle link does anything.
  void start();
  /// Sends QUIT (with `quit_reason` when not empty) through the connection's
  /// close, never reconnects again, and calls `done` (posted) once the
  /// connection is over, within the connection's close timeout.
  void stop(std::string_view quit_reason = {}, std::function<void()> done = {});

  /// Wants `channel` (with `key`); JOINs it now when registered, else after
  /// the next registration. Its lines, when any, are already sent.
  ActionResult join(std::string_view channel, std::string_view key = {});
  /// No longer wants `channel`; PARTs it now when registered.
  ActionResult part(std::string_view channel, std::string_view reason = {});
  /// Runs one of the session's actions that the link need not remember
  /// (PRIVMSG, NOTICE, ACTION, TOPIC, KICK, MODE, AWAY: `session.privmsg(...)`
  /// and the like) and sends its lines; refused with not_registered until
  /// registered. join(), part(), nick() and raw() are the link's own, since
  /// it keeps what they change for the next connection.
  ActionResult perform(const std::function<ActionResult(IrcClientSession& session)>& action);
  /// NICK: when registered, or while registering (the answer to a
  /// nick_rejected event); refused with not_registered otherwise. A nick the
  /// server confirms is kept for later connections.
  ActionResult nick(std::string_view new_nick);
  /// One raw command line; refused with not_registered until registered.
  ActionResult raw(std::string_view line);

  /// Where the link is, as last reported to on_state. After a dropped
  /// connection it reads the old state until the driver reports
  /// reconnecting, but actions are refused (not_registered) at once.
  IrcLinkState state() const;
  /// The session of the current (or last) connection.
  const IrcClientSession& session() const;
  /// The channels joined again after each registration, in the order wanted.
  const std::vector<WantedChannel>& wanted_channels() const;
  /// Why the last connection ended (valid once the state left registered
  /// or connecting for reconnecting).
  CloseKind last_close_kind() const;
  /// Connection attempts after the first one.
  std::uint64_t reconnects() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Name of a link state, for logs.
std::string_view to_string(IrcLinkState state);

} // namespace trestle::irc
