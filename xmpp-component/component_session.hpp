#pragma once

#include "element.hpp"
#include "stream_error.hpp"
#include "xml_stream_parser.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::xmpp {

/// Why a component stream ended.
enum class CloseReason {
  /// The server refused the handshake (wrong secret or unknown domain).
  auth_failed,
  /// The server sent a stream error.
  stream_error_received,
  /// We found a protocol violation and sent a stream error.
  stream_error_sent,
  /// The server closed the stream with `</stream:stream>`.
  peer_closed,
  /// We closed the stream (shutdown) and the server answered.
  local_close,
};

/// Human-readable name of a close reason, for logs.
std::string_view to_string(CloseReason reason);

/// One action for the driver, in the order the session produced it.
struct SessionEvent {
  enum class Kind {
    /// Write `bytes` to the socket.
    write,
    /// The handshake was accepted: stanzas may flow.
    authenticated,
    /// `stanza` arrived on an authenticated stream.
    stanza,
    /// The stream is over (`reason`, and `error` when `has_error`); the driver
    /// closes the socket after writing what came before.
    closed,
  };

  Kind kind = Kind::write;
  std::string bytes;
  Element stanza;
  CloseReason reason = CloseReason::local_close;
  bool has_error = false;
  StreamError error;
};

/// XEP-0114 (jabber:component:accept) client session as a state machine with
/// no I/O: bytes in, events out. One instance per TCP connection.
class ComponentSession : private XmlStreamParser::Handler {
public:
  /// The session's named states; only transition() moves between them.
  enum class State { idle, waiting_for_stream_start, authenticating, ready, closing, closed };

  ComponentSession(std::string domain, std::string secret, XmlLimits limits = {});

  /// Starts the stream: the events hold the stream header to write.
  std::vector<SessionEvent> open();
  /// Feeds received bytes.
  std::vector<SessionEvent> receive(std::string_view bytes);
  /// Serialises an outbound stanza (valid only in State::ready).
  std::string encode(const Element& stanza) const;
  /// Starts a graceful close: the events hold `</stream:stream>`; the session
  /// then waits for the server's closing tag.
  std::vector<SessionEvent> close();

  State state() const { return state_; }
  /// The stream id the server assigned (empty before the header arrived).
  const std::string& stream_id() const { return stream_id_; }

private:
  void on_stream_open(const Element& header) override;
  void on_stanza(Element stanza) override;
  void on_stream_close() override;

  void transition(State next);
  void fail(StreamCondition condition, std::string text);
  void finish(CloseReason reason, const StreamError* error);

  std::string domain_;
  std::string secret_;
  XmlStreamParser parser_;
  State state_ = State::idle;
  std::string stream_id_;
  std::vector<SessionEvent> events_;
};

} // namespace trestle::xmpp
