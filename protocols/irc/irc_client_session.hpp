#pragma once

#include "irc_message.hpp"
#include "isupport.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// One user's IRC client protocol as a state machine with no I/O: lines in,
/// events out. Registration (RFC 1459 section 4.1, modern.ircdocs.horse
/// "Connection Registration"), IRCv3 capability negotiation (CAP LS 302) and
/// SASL PLAIN (https://ircv3.net/specs/extensions/sasl-3.1).
namespace trestle::irc {

/// SASL PLAIN credentials (RFC 4616); the account is both authzid and authcid.
struct SaslPlain {
  /// The account name (services username).
  std::string account;
  /// The account password.
  std::string password;
};

/// What one IRC client session asks the server for.
struct ClientConfig {
  /// The nick asked for at registration.
  std::string nick;
  /// The ident sent in USER.
  std::string username;
  /// The free text sent in USER; the nick when empty.
  std::string realname;
  /// Sent as PASS when not empty.
  std::string server_password;
  /// SASL PLAIN, used when the server offers `sasl` and acknowledges it.
  std::optional<SaslPlain> sasl;
  /// Capabilities to request when offered; empty means default_caps(), plus
  /// `sasl` when credentials are given.
  std::vector<std::string> wanted_caps;
  /// When the server refuses our nick during registration, try `nick_` once.
  bool try_alternate_nick = true;
};

/// The capabilities requested when ClientConfig::wanted_caps is empty (without `sasl`).
std::vector<std::string> default_caps();

/// One member of a NAMES reply: the nick and its membership prefixes (all of
/// them with multi-prefix, highest rank first as the server sent them).
struct NamesMember {
  /// The nick, without prefixes (nor `!user@host` for userhost-in-names).
  std::string nick;
  /// Membership prefixes such as `@+`, possibly empty.
  std::string prefixes;

  friend bool operator==(const NamesMember&, const NamesMember&) = default;
};

/// What a PRIVMSG or NOTICE carried.
enum class MessageKind {
  privmsg,
  notice,
  /// A CTCP ACTION (`/me`); text is the action's text.
  action,
  /// Any other CTCP request or reply; text is its content without the `\x01`s.
  ctcp,
};

/// One output of the session, in the order it must be handled. Which fields a
/// kind fills is listed by the kind; text fields are UTF-8 (to_utf8()), nicks
/// and channels are the server's bytes.
struct ClientEvent {
  /// What happened; the comment of each kind lists the fields it fills.
  enum class Kind {
    /// `line`: one serialized line with CR LF, to write in order.
    send,
    /// `nick` (as the server confirmed it), `text`: registration is done (001).
    registered,
    /// `params`: the capabilities now enabled, after negotiation or CAP DEL.
    caps,
    /// The server's ISUPPORT (005) changed isupport(): case mapping, channel
    /// types, prefixes. Names kept under the old case mapping need folding again.
    isupport,
    /// `text`: SASL authentication succeeded (903).
    sasl_succeeded,
    /// `numeric` (empty when the server offered no SASL), `text`.
    sasl_failed,
    /// `numeric`, `nick` (refused), `text`: no nick left to try during
    /// registration; call nick() with another one, or quit().
    nick_rejected,
    /// `numeric`, `nick` (refused), `text`: a NICK after registration failed.
    nick_change_failed,
    /// `channel`, `nick`, `self`.
    joined,
    /// `channel`, `nick`, `text` (reason), `self`.
    parted,
    /// `nick`, `text` (reason), `self`.
    quit,
    /// `channel`, `nick` (who was kicked), `by`, `text` (reason), `self` (we were).
    kicked,
    /// `nick` (old), `new_nick`, `self`.
    nick_changed,
    /// `channel`, `text` (empty: no topic), `by` (empty for 331/332).
    topic,
    /// `channel`, `members`: a complete NAMES reply (353 up to 366).
    names,
    /// `message_kind`, `nick` (sender), `target`, `text` (with mIRC
    /// formatting), `plain_text` (without), `self` (our own, echo-message),
    /// `time` and `msgid` (tags, when present).
    message,
    /// `target`, `text` (the mode string), `params`, `by`.
    mode,
    /// `nick`, `text` (empty: back), from away-notify.
    away,
    /// `by`, `nick` (invited), `channel`.
    invite,
    /// `numeric` (4xx/5xx), `params` (after our nick, the text excluded), `text`.
    error_reply,
    /// `numeric` (empty for a NOTICE), `by` (server name), `text`, `params`:
    /// MOTD lines, server notices and other numeric replies, for the server JID.
    server_text,
    /// `text`: the server sent ERROR; it closes the connection.
    closing,
  };

  Kind kind = Kind::send;
  /// A line to write, CR LF included.
  std::string line;
  /// The three-digit numeric that caused the event.
  std::string numeric;
  /// The nick the event is about.
  std::string nick;
  /// The nick after a change.
  std::string new_nick;
  /// The nick (or server) that acted: kicker, topic setter, mode setter, inviter.
  std::string by;
  std::string channel;
  /// A message's or mode change's target: a channel or our nick.
  std::string target;
  /// Text, UTF-8: a reason, topic, message body (with formatting) or server text.
  std::string text;
  /// A message body without mIRC formatting.
  std::string plain_text;
  /// True when the event is about us (our join, our nick, our own message).
  bool self = false;
  MessageKind message_kind = MessageKind::privmsg;
  /// Extra parameters: enabled caps, mode arguments, numeric arguments.
  std::vector<std::string> params;
  /// The members of a NAMES reply.
  std::vector<NamesMember> members;
  /// IRCv3 server-time (`time` tag), or empty.
  std::string time;
  /// IRCv3 message-ids (`msgid` tag), or empty.
  std::string msgid;
};

/// Why a user action was refused.
enum class ActionError {
  none,
  /// A name or text would not make one safe line (CR, LF, NUL, a space or
  /// comma in a name, an empty name, a line too long).
  invalid_input,
  /// The session is not registered yet (or is already closing).
  not_registered,
  /// The session was already started, or has ended.
  wrong_state,
};

/// The outcome of a user action: the lines to send, or why nothing is sent.
struct ActionResult {
  ActionError error = ActionError::none;
  /// Why, in English, when refused.
  std::string reason;
  /// Kind::send events, empty when refused.
  std::vector<ClientEvent> events;

  /// True when the action was accepted.
  bool ok() const { return error == ActionError::none; }
};

/// An IRC client session (one user, one server, one TCP connection). The
/// driver writes every `send` line in order, feeds every received line to
/// receive_line(), and times keepalives and registration itself: no clocks here.
class IrcClientSession {
public:
  /// The session's named states; only transition() moves between them.
  enum class State {
    idle,
    /// CAP LS sent, waiting for the list or for the REQ answers.
    negotiating,
    /// SASL PLAIN in progress.
    authenticating,
    /// CAP END sent (or no CAP at all), waiting for 001.
    registering,
    /// 001 received: the session is usable.
    registered,
    /// We sent QUIT and wait for the server's ERROR.
    closing,
    /// The server sent ERROR.
    closed,
  };

  /// Members kept per channel while a NAMES reply accumulates.
  static constexpr std::size_t max_names_members = 100'000;
  /// Channels whose NAMES replies may accumulate at the same time.
  static constexpr std::size_t max_names_channels = 64;
  /// CAP LS lines accepted in one listing.
  static constexpr std::size_t max_cap_ls_lines = 32;
  /// Capabilities remembered from one listing.
  static constexpr std::size_t max_offered_caps = 256;
  /// Bytes of base64 per AUTHENTICATE line (IRCv3 SASL 3.1).
  static constexpr std::size_t sasl_chunk_bytes = 400;

  /// A session that sends nothing until start().
  explicit IrcClientSession(ClientConfig config);

  /// Opens registration: CAP LS 302, PASS (if any), NICK, USER.
  ActionResult start();
  /// Feeds one line received from the server, without CR LF.
  std::vector<ClientEvent> receive_line(std::string_view line);

  /// JOIN `channel`, with `key` when not empty.
  ActionResult join(std::string_view channel, std::string_view key = {});
  /// PART `channel`, with `reason` when not empty.
  ActionResult part(std::string_view channel, std::string_view reason = {});
  /// PRIVMSG, one per line of `text`, each cut to fit the 512-byte relay.
  ActionResult privmsg(std::string_view target, std::string_view text);
  /// NOTICE, split as privmsg().
  ActionResult notice(std::string_view target, std::string_view text);
  /// CTCP ACTION (`/me`), split as privmsg().
  ActionResult action(std::string_view target, std::string_view text);
  /// TOPIC; an empty `text` clears the topic.
  ActionResult set_topic(std::string_view channel, std::string_view text);
  /// KICK `nick` from `channel`, with `reason` when not empty.
  ActionResult kick(std::string_view channel, std::string_view nick, std::string_view reason = {});
  /// MODE `target` `modes` `params...`.
  ActionResult mode(std::string_view target, std::string_view modes,
                    const std::vector<std::string>& params = {});
  /// NICK; allowed during registration too, after a nick_rejected event.
  ActionResult nick(std::string_view new_nick);
  /// AWAY with a non-empty `text`.
  ActionResult away(std::string_view text);
  /// AWAY without text: back.
  ActionResult back();
  /// One raw line typed by the user (the server JID path): parsed, checked
  /// and serialized again; a source prefix is dropped.
  ActionResult raw(std::string_view line);
  /// QUIT, with `reason` when not empty; the session then waits for ERROR.
  ActionResult quit(std::string_view reason = {});

  /// The line a driver sends to check that an idle server is still there.
  static std::string keepalive_line() { return "PING :trestle\r\n"; }

  /// Where the session is.
  State state() const { return state_; }
  /// Our current nick (as sent, then as the server confirmed it).
  const std::string& nick() const { return nick_; }
  /// What the server announced in RPL_ISUPPORT.
  const ISupport& isupport() const { return isupport_; }
  /// True when echo-message is enabled: the server reflects our messages,
  /// so the adapter must not reflect them locally.
  bool echo_message() const { return has_cap("echo-message"); }
  /// True when capability `name` is enabled.
  bool has_cap(std::string_view name) const;
  /// The capabilities enabled, in the order acknowledged.
  const std::vector<std::string>& enabled_caps() const { return enabled_caps_; }
  /// Lines received so far: the driver compares it over time to see the
  /// server alive.
  std::uint64_t lines_received() const { return lines_received_; }
  /// Lines that did not parse, or lacked parameters, and were ignored.
  std::uint64_t malformed_lines() const { return malformed_lines_; }

private:
  using Events = std::vector<ClientEvent>;

  void transition(State next);
  ActionResult require_registered() const;
  ActionResult send_text(std::string_view command, std::string_view target, std::string_view text,
                         bool ctcp_action);
  void send(Events& out, const IrcMessage& message) const;

  void on_message(const IrcMessage& message, Events& out);
  void on_numeric(const IrcMessage& message, int code, Events& out);
  void on_cap(const IrcMessage& message, Events& out);
  void on_cap_ls(const IrcMessage& message, Events& out);
  void on_cap_ack(const IrcMessage& message, bool ack, Events& out);
  void on_authenticate(const IrcMessage& message, Events& out);
  void on_sasl_numeric(const IrcMessage& message, int code, Events& out);
  void on_nick_error(const IrcMessage& message, Events& out);
  void on_names_reply(const IrcMessage& message);
  void on_names_end(const IrcMessage& message, Events& out);
  void on_welcome(const IrcMessage& message, Events& out);
  void on_ping(const IrcMessage& message, Events& out);
  void on_error(const IrcMessage& message, Events& out);
  void on_join(const IrcMessage& message, Events& out);
  void on_part(const IrcMessage& message, Events& out);
  void on_quit(const IrcMessage& message, Events& out);
  void on_kick(const IrcMessage& message, Events& out);
  void on_nick(const IrcMessage& message, Events& out);
  void on_topic(const IrcMessage& message, Events& out);
  void on_mode(const IrcMessage& message, Events& out);
  void on_away(const IrcMessage& message, Events& out);
  void on_invite(const IrcMessage& message, Events& out);
  void on_privmsg(const IrcMessage& message, Events& out);
  void on_notice(const IrcMessage& message, Events& out);
  void on_text(const IrcMessage& message, bool notice, Events& out);
  void request_caps(Events& out);
  void finish_negotiation(Events& out);
  void sasl_failed(std::string numeric, std::string text, Events& out);
  void learn_user_host(std::string_view source);
  bool is_self(std::string_view nick) const;
  ClientEvent event(ClientEvent::Kind kind, const IrcMessage& message) const;

  ClientConfig config_;
  std::vector<std::string> wanted_caps_;
  ISupport isupport_;
  State state_ = State::idle;
  std::string nick_;
  /// Our user and host as the server shows them (empty until seen), for
  /// the message budget.
  std::string user_;
  std::string host_;
  bool tried_alternate_ = false;
  /// True once the SASL PLAIN credentials went out: they go once.
  bool sasl_sent_ = false;
  std::vector<std::string> offered_caps_;
  std::size_t cap_ls_lines_ = 0;
  std::vector<std::string> enabled_caps_;
  std::size_t pending_cap_reqs_ = 0;
  /// NAMES replies in progress, keyed by the folded channel name.
  std::map<std::string, std::vector<NamesMember>, std::less<>> names_;
  std::uint64_t lines_received_ = 0;
  std::uint64_t malformed_lines_ = 0;
};

} // namespace trestle::irc
