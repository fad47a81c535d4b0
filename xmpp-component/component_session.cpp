#include "component_session.hpp"

#include "handshake.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"

#include <utility>

namespace trestle::xmpp {
namespace {

constexpr std::string_view stream_close_tag = "</stream:stream>";

SessionEvent write_event(std::string bytes) {
  SessionEvent event;
  event.kind = SessionEvent::Kind::write;
  event.bytes = std::move(bytes);
  return event;
}

bool is_stream_error(const Element& element) {
  return element.name() == "error" && element.xmlns() == ns::streams;
}

} // namespace

std::string_view to_string(CloseReason reason) {
  switch (reason) {
  case CloseReason::auth_failed:
    return "authentication failed";
  case CloseReason::stream_error_received:
    return "stream error from server";
  case CloseReason::stream_error_sent:
    return "stream error sent";
  case CloseReason::peer_closed:
    return "closed by server";
  case CloseReason::local_close:
    return "closed";
  }
  return "closed";
}

ComponentSession::ComponentSession(std::string domain, std::string secret, XmlLimits limits)
    : domain_(std::move(domain)), secret_(std::move(secret)), parser_(*this, limits) {}

std::vector<SessionEvent> ComponentSession::open() {
  events_.clear();
  parser_.reset();
  stream_id_.clear();
  std::string header = "<?xml version='1.0'?><stream:stream xmlns='";
  header += ns::component;
  header += "' xmlns:stream='";
  header += ns::streams;
  header += "' to='";
  header += escape_xml(domain_);
  header += "'>";
  events_.push_back(write_event(std::move(header)));
  transition(State::waiting_for_stream_start);
  return std::exchange(events_, {});
}

std::vector<SessionEvent> ComponentSession::receive(std::string_view bytes) {
  if (state_ == State::idle || state_ == State::closed) {
    return {};
  }
  if (!parser_.feed(bytes) && state_ != State::closed) {
    const auto& error = parser_.error();
    fail(error ? error->condition : StreamCondition::not_well_formed, error ? error->text : "");
  }
  return std::exchange(events_, {});
}

std::string ComponentSession::encode(const Element& stanza) const {
  return serialize(stanza, ns::component);
}

std::vector<SessionEvent> ComponentSession::close() {
  if (state_ == State::idle || state_ == State::closed || state_ == State::closing) {
    return {};
  }
  events_.push_back(write_event(std::string(stream_close_tag)));
  transition(State::closing);
  return std::exchange(events_, {});
}

void ComponentSession::on_stream_open(const Element& header) {
  if (state_ == State::closing) {
    // close() came before the server's header: our closing tag is out, so
    // nothing more may be written (RFC 6120 4.4); wait for the server's.
    return;
  }
  if (state_ != State::waiting_for_stream_start) {
    fail(StreamCondition::invalid_xml, "unexpected stream header");
    return;
  }
  const auto content = header.attr("xmlns");
  if (content && *content != ns::component) {
    // A client or server port (jabber:client, jabber:server) would only
    // refuse the handshake later; name the real problem now.
    fail(StreamCondition::invalid_namespace,
         "the server's stream is not " + std::string(ns::component));
    return;
  }
  const auto id = header.attr("id");
  if (!id || id->empty()) {
    // Without an id there is nothing to hash (XEP-0114 section 3).
    fail(StreamCondition::invalid_xml, "stream header without id");
    return;
  }
  stream_id_ = std::string(*id);
  Element handshake("handshake");
  handshake.append_text(handshake_digest(stream_id_, secret_));
  events_.push_back(write_event(encode(handshake)));
  transition(State::authenticating);
}

void ComponentSession::on_stanza(Element stanza) {
  if (state_ == State::closed) {
    return;
  }
  if (is_stream_error(stanza)) {
    auto error = stream_error_from_element(stanza);
    // Servers answer a bad handshake with not-authorized (Prosody, ejabberd);
    // a stream error before authentication is an authentication failure too
    // (e.g. host-unknown for a domain the server does not know).
    const auto reason = state_ == State::authenticating ? CloseReason::auth_failed
                                                        : CloseReason::stream_error_received;
    if (state_ != State::closing) {
      events_.push_back(write_event(std::string(stream_close_tag)));
    }
    finish(reason, &error);
    return;
  }
  switch (state_) {
  case State::authenticating:
    if (stanza.name() == "handshake") {
      transition(State::ready);
      SessionEvent authenticated;
      authenticated.kind = SessionEvent::Kind::authenticated;
      events_.push_back(std::move(authenticated));
    } else {
      fail(StreamCondition::not_authorized, "stanza before handshake");
    }
    return;
  case State::ready:
  case State::closing: {
    if (state_ == State::closing && stanza.name() == "handshake") {
      // The answer to a handshake sent before close(): not a violation.
      return;
    }
    if (kind_of(stanza) == StanzaKind::other) {
      fail(StreamCondition::unsupported_stanza_type, "unexpected <" + stanza.name() + "/>");
      return;
    }
    SessionEvent event;
    event.kind = SessionEvent::Kind::stanza;
    event.stanza = std::move(stanza);
    events_.push_back(std::move(event));
    return;
  }
  case State::idle:
  case State::waiting_for_stream_start:
  case State::closed:
    fail(StreamCondition::not_authorized, "stanza before stream header");
    return;
  }
}

void ComponentSession::on_stream_close() {
  if (state_ == State::closed) {
    // The stream already ended in this chunk (a stream error is usually
    // followed by the closing tag): one close, with the first reason.
    return;
  }
  if (state_ == State::closing) {
    finish(CloseReason::local_close, nullptr);
    return;
  }
  events_.push_back(write_event(std::string(stream_close_tag)));
  finish(state_ == State::authenticating ? CloseReason::auth_failed : CloseReason::peer_closed,
         nullptr);
}

void ComponentSession::transition(State next) {
  state_ = next;
}

void ComponentSession::fail(StreamCondition condition, std::string text) {
  StreamError error{condition, std::move(text)};
  if (state_ == State::closing) {
    // Our closing tag is out: no stream error may follow it (RFC 6120 4.4).
    // The server broke the stream while we waited for its closing tag.
    finish(CloseReason::local_close, &error);
    return;
  }
  // Our stream header is always written before anything is parsed, so the
  // error can go straight into it (RFC 6120 4.9.1.2).
  std::string bytes = serialize(to_element(error), ns::component);
  bytes += stream_close_tag;
  events_.push_back(write_event(std::move(bytes)));
  finish(CloseReason::stream_error_sent, &error);
}

void ComponentSession::finish(CloseReason reason, const StreamError* error) {
  transition(State::closed);
  SessionEvent closed;
  closed.kind = SessionEvent::Kind::closed;
  closed.reason = reason;
  if (error != nullptr) {
    closed.has_error = true;
    closed.error = *error;
  }
  events_.push_back(std::move(closed));
}

} // namespace trestle::xmpp
