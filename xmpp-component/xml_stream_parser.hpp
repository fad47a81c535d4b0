#pragma once

#include "element.hpp"
#include "stream_error.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace trestle::xmpp {

/// Limits applied to every stanza the parser builds; all configurable.
struct XmlLimits {
  /// Bytes of one top-level stanza (names, attribute values and text as built).
  std::size_t max_stanza_bytes = 512 * 1024;
  /// Element depth below the stream element (a stanza is depth 1).
  std::size_t max_depth = 32;
  /// Attributes on one element.
  std::size_t max_attributes = 64;
};

/// Incremental XML stream parser on libxml2's push (SAX2) interface. Feed it
/// bytes as they arrive, split anywhere (even inside a UTF-8 sequence); it
/// reports the stream header, each complete top-level stanza, and the stream end.
///
/// Hardened: DTDs, entity declarations and references other than the five
/// predefined ones and character references, processing instructions and
/// comments are refused with `restricted-xml`; limit breaches with
/// `policy-violation`; malformed XML with `not-well-formed`. After an error the
/// parser stays failed until reset(). Sans-io: no sockets.
class XmlStreamParser {
public:
  /// Receives parse events. Callbacks run inside feed(); they must not call
  /// feed() or reset() on the same parser and must not throw.
  class Handler {
  public:
    virtual ~Handler() = default;
    /// The `<stream:stream>` start tag: its attributes, no children.
    virtual void on_stream_open(const Element& header) = 0;
    /// A complete top-level stanza; the handler owns it.
    virtual void on_stanza(Element stanza) = 0;
    /// `</stream:stream>` was received.
    virtual void on_stream_close() = 0;
  };

  explicit XmlStreamParser(Handler& handler, XmlLimits limits = {});
  ~XmlStreamParser();
  XmlStreamParser(const XmlStreamParser&) = delete;
  XmlStreamParser& operator=(const XmlStreamParser&) = delete;

  /// Parses the next chunk. Returns false once the stream is in error.
  bool feed(std::string_view bytes);
  /// The error that stopped the parser, if any.
  const std::optional<StreamError>& error() const;
  /// Forgets all state, ready for a new stream (after a reconnect).
  void reset();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Parses one stanza as serialize(stanza, ns::component) wrote it (kept in a
/// store, say), under the same hardening and `limits` as a stream. Returns
/// nullopt when the text is not exactly one well-formed stanza.
std::optional<Element> parse_stanza(std::string_view text, XmlLimits limits = {});

} // namespace trestle::xmpp
