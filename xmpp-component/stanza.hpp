#pragma once

#include "element.hpp"
#include "jid.hpp"
#include "stanza_error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trestle::xmpp {

/// The three stanza kinds, or other for anything else on the stream.
enum class StanzaKind { message, presence, iq, other };

/// The kind of a top-level element.
StanzaKind kind_of(const Element& stanza);

/// Read-only typed view over a stanza element (does not own it).
class StanzaView {
public:
  explicit StanzaView(const Element& element) : element_(&element) {}
  /// The underlying element.
  const Element& element() const { return *element_; }
  /// Message, presence, iq or other.
  StanzaKind kind() const { return kind_of(*element_); }
  /// The `type` attribute ("" when absent).
  std::string type() const { return element_->attr_or("type"); }
  /// The `id` attribute ("" when absent).
  std::string id() const { return element_->attr_or("id"); }
  /// The parsed `from`; nullopt when absent or invalid.
  std::optional<Jid> from() const;
  /// The parsed `to`; nullopt when absent or invalid.
  std::optional<Jid> to() const;
  /// An iq's payload: its first child element, or null.
  const Element* payload() const { return element_->first_element(); }
  /// True for an iq of type get or set (a request that needs an answer).
  bool is_iq_request() const;

private:
  const Element* element_;
};

/// A new `<iq/>` of `type` ("get", "set", "result", "error").
Element make_iq(std::string_view type, const Jid& from, const Jid& to, std::string_view id);
/// A new `<message/>`; an empty `body` adds no body.
Element make_message(const Jid& from, const Jid& to, std::string_view type,
                     std::string_view body = {});
/// A new `<presence/>`; an empty `type` means available.
Element make_presence(const Jid& from, const Jid& to, std::string_view type = {});
/// The `result` answer to an iq request: addresses swapped, same id, no payload.
Element make_iq_result(const Element& request);
/// The error answer to any stanza: addresses swapped, same id, type error,
/// the original children kept (RFC 6120 8.2) except for iq results, plus `<error/>`.
Element make_error_reply(const Element& request, const StanzaError& error);

/// Adds a XEP-0203 `<delay from=… stamp=…/>` to a message when `stamp` (an
/// XEP-0082 timestamp) is not empty.
void add_delay(Element& stanza, std::string_view from, std::string_view stamp);
/// `unix_seconds` as a XEP-0082 DateTime in UTC ("2026-12-05T04:13:19Z").
std::string xep0082_datetime(std::int64_t unix_seconds);

} // namespace trestle::xmpp
