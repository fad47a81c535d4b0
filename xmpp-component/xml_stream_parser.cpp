#include "xml_stream_parser.hpp"

#include "namespaces.hpp"
#include "utf8.hpp"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <new>
#include <string>
#include <vector>

// What the parser builds:
// - Every element carries its resolved namespace URI, also where it merely
//   inherits it, so `find("body", ns::component)` and `xmlns() == ns::ping`
//   work without knowing the parent; serialize() omits an xmlns equal to the
//   one in scope, so a parsed stanza serializes back to the same markup.
// - An element in no namespace (only possible under an explicit `xmlns=''`)
//   has an empty xmlns and so re-serializes as inheriting its parent's.
// - Prefixed attributes keep their qualified name (`xml:lang`). For a prefix
//   other than `xml`, the element also gets an `xmlns:prefix` attribute with
//   its URI so the serialized stanza stays namespace-well-formed on its own.
// - The stream header reports its namespace declarations as `xmlns` and
//   `xmlns:prefix` attributes, since the session checks the default namespace.

namespace trestle::xmpp {

namespace {

/// Bytes handed to libxml2 per call. libxml2 buffers an unfinished start tag
/// (or comment, PI, ...) whole; feeding in pieces lets feed() notice such a
/// token growing beyond the stanza limit before it is all in memory.
constexpr std::size_t feed_piece_bytes = 4096;

std::string_view view(const xmlChar* text) {
  return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view();
}

std::string_view view(const xmlChar* begin, const xmlChar* end) {
  return {reinterpret_cast<const char*>(begin), static_cast<std::size_t>(end - begin)};
}

/// libxml2 without XML_PARSE_NOENT hands SAX2 attribute values with every
/// escaped `&` left as `&#38;` (for a later tree builder to re-parse); no other
/// reference survives because undeclared entities are refused before this.
std::string decode_attribute(std::string_view raw) {
  constexpr std::string_view amp = "&#38;";
  std::string out;
  out.reserve(raw.size());
  std::size_t pos = 0;
  while (pos < raw.size()) {
    if (raw.compare(pos, amp.size(), amp) == 0) {
      out += '&';
      pos += amp.size();
    } else {
      out += raw[pos++];
    }
  }
  return out;
}

bool is_xml_space(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

/// The qualified name of a SAX2 attribute or element.
std::string qualified(const xmlChar* prefix, const xmlChar* local) {
  std::string name;
  if (prefix) {
    name = view(prefix);
    name += ':';
  }
  name += view(local);
  return name;
}

/// Where a namespace declaration goes when reported as an attribute.
std::string declaration_name(const xmlChar* prefix) {
  return prefix ? "xmlns:" + std::string(view(prefix)) : std::string("xmlns");
}

/// The parser's state and its SAX2 callbacks' targets; owns the libxml2
/// push context.
class SaxStream {
public:
  using Handler = XmlStreamParser::Handler;

  SaxStream(Handler& handler, XmlLimits limits) : handler_(handler), limits_(limits) {
    xmlInitParser();
    init_sax();
    start_context();
  }
  ~SaxStream() { free_context(); }
  SaxStream(const SaxStream&) = delete;
  SaxStream& operator=(const SaxStream&) = delete;

  void init_sax();
  void start_context();
  void free_context();
  void reset();
  void push(std::string_view piece);
  void fail(StreamCondition condition, std::string text);

  void on_start(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri, int nb_namespaces,
                const xmlChar** namespaces, int nb_attributes, const xmlChar** attributes);
  void on_header(const xmlChar* local, const xmlChar* uri, int nb_namespaces,
                 const xmlChar** namespaces, int nb_attributes, const xmlChar** attributes);
  void on_end();
  void on_text(std::string_view text);
  void on_error(const xmlError& error);
  bool charge(std::size_t bytes);

  Handler& handler_;
  XmlLimits limits_;
  xmlSAXHandler sax_{};
  xmlParserCtxtPtr ctxt_ = nullptr;
  std::optional<StreamError> error_;
  /// Open elements including the stream element: 1 between stanzas.
  std::size_t depth_ = 0;
  /// The stanza being built; open_ points into it (innermost last). An
  /// Element's address is stable while it is open, since only its own child
  /// list grows.
  Element stanza_;
  std::vector<Element*> open_;
  std::size_t stanza_bytes_ = 0;
};

/// Runs `body` for a libxml2 callback: nothing happens after a failure, and no
/// exception (allocation failure, a throwing handler) unwinds through C code.
template <typename Body> void guarded(void* user, Body&& body) {
  auto* impl = static_cast<SaxStream*>(user);
  if (impl->error_) {
    return;
  }
  try {
    body(*impl);
  } catch (const std::bad_alloc&) {
    impl->fail(StreamCondition::resource_constraint, "out of memory");
  } catch (...) {
    impl->fail(StreamCondition::internal_server_error, "stream handler failed");
  }
}

void sax_start(void* user, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
               int nb_namespaces, const xmlChar** namespaces, int nb_attributes,
               int /*nb_defaulted*/, const xmlChar** attributes) {
  guarded(user, [&](SaxStream& impl) {
    impl.on_start(local, prefix, uri, nb_namespaces, namespaces, nb_attributes, attributes);
  });
}

void sax_end(void* user, const xmlChar*, const xmlChar*, const xmlChar*) {
  guarded(user, [](SaxStream& impl) { impl.on_end(); });
}

void sax_text(void* user, const xmlChar* text, int len) {
  guarded(user, [&](SaxStream& impl) { impl.on_text(view(text, text + (len > 0 ? len : 0))); });
}

void sax_error(void* user, xmlErrorPtr error) {
  if (error) {
    guarded(user, [&](SaxStream& impl) { impl.on_error(*error); });
  }
}

void restrict(void* user, const char* what) {
  guarded(user, [&](SaxStream& impl) {
    impl.fail(StreamCondition::restricted_xml, std::string(what) + " not allowed");
  });
}

void sax_subset(void* user, const xmlChar*, const xmlChar*, const xmlChar*) {
  restrict(user, "DTD");
}
void sax_entity_decl(void* user, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
  restrict(user, "entity declaration");
}
void sax_notation_decl(void* user, const xmlChar*, const xmlChar*, const xmlChar*) {
  restrict(user, "notation declaration");
}
void sax_attribute_decl(void* user, const xmlChar*, const xmlChar*, int, int, const xmlChar*,
                        xmlEnumerationPtr tree) {
  // libxml2 hands ownership of the enumeration to this callback.
  xmlFreeEnumeration(tree);
  restrict(user, "attribute declaration");
}
void sax_element_decl(void* user, const xmlChar*, int, xmlElementContentPtr) {
  restrict(user, "element declaration");
}
void sax_unparsed_entity_decl(void* user, const xmlChar*, const xmlChar*, const xmlChar*,
                              const xmlChar*) {
  restrict(user, "entity declaration");
}
xmlEntityPtr sax_get_entity(void* user, const xmlChar*) {
  restrict(user, "entity reference");
  return nullptr;
}
xmlParserInputPtr sax_resolve_entity(void* user, const xmlChar*, const xmlChar*) {
  restrict(user, "external entity");
  return nullptr;
}
void sax_pi(void* user, const xmlChar*, const xmlChar*) {
  restrict(user, "processing instruction");
}
void sax_comment(void* user, const xmlChar*) {
  restrict(user, "comment");
}

} // namespace

void SaxStream::init_sax() {
  sax_.initialized = XML_SAX2_MAGIC;
  sax_.startElementNs = sax_start;
  sax_.endElementNs = sax_end;
  sax_.characters = sax_text;
  sax_.ignorableWhitespace = sax_text;
  sax_.cdataBlock = sax_text;
  sax_.serror = sax_error;
  sax_.internalSubset = sax_subset;
  sax_.externalSubset = sax_subset;
  sax_.entityDecl = sax_entity_decl;
  sax_.notationDecl = sax_notation_decl;
  sax_.attributeDecl = sax_attribute_decl;
  sax_.elementDecl = sax_element_decl;
  sax_.unparsedEntityDecl = sax_unparsed_entity_decl;
  sax_.getEntity = sax_get_entity;
  sax_.getParameterEntity = sax_get_entity;
  sax_.resolveEntity = sax_resolve_entity;
  sax_.processingInstruction = sax_pi;
  sax_.comment = sax_comment;
}

void SaxStream::start_context() {
  ctxt_ = xmlCreatePushParserCtxt(&sax_, this, nullptr, 0, nullptr);
  if (!ctxt_) {
    throw std::bad_alloc();
  }
  // No entity substitution, no DTD loading, no network; the encoding is
  // UTF-8 whatever the declaration says (RFC 6120 section 11.6).
  xmlCtxtUseOptions(ctxt_, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
  xmlSwitchEncoding(ctxt_, XML_CHAR_ENCODING_UTF8);
}

void SaxStream::free_context() {
  if (ctxt_) {
    xmlFreeParserCtxt(ctxt_);
    ctxt_ = nullptr;
  }
}

void SaxStream::reset() {
  free_context();
  error_.reset();
  depth_ = 0;
  stanza_ = Element();
  open_.clear();
  stanza_bytes_ = 0;
  start_context();
}

void SaxStream::fail(StreamCondition condition, std::string text) {
  if (error_) {
    return;
  }
  error_ = StreamError{condition, std::move(text)};
  // Callbacks may be running: xmlStopParser only flags the context, and
  // libxml2 makes no further SAX calls after it.
  xmlStopParser(ctxt_);
}

void SaxStream::push(std::string_view piece) {
  const int rc = xmlParseChunk(ctxt_, piece.data(), static_cast<int>(piece.size()), 0);
  if (error_) {
    return;
  }
  if (rc != 0) {
    fail(StreamCondition::not_well_formed, "malformed XML");
    return;
  }
  // libxml2 keeps a token it cannot finish yet (a start tag waiting for its
  // `>`, say) in its input buffer; bound that like a stanza.
  const xmlParserInputPtr input = ctxt_->input;
  if (input && input->cur && input->end &&
      static_cast<std::size_t>(input->end - input->cur) > limits_.max_stanza_bytes) {
    fail(StreamCondition::policy_violation, "unfinished markup exceeds the stanza size limit");
  }
}

bool SaxStream::charge(std::size_t bytes) {
  stanza_bytes_ += bytes;
  if (stanza_bytes_ > limits_.max_stanza_bytes) {
    fail(StreamCondition::policy_violation, "stanza too large");
    return false;
  }
  return true;
}

void SaxStream::on_header(const xmlChar* local, const xmlChar* uri, int nb_namespaces,
                          const xmlChar** namespaces, int nb_attributes,
                          const xmlChar** attributes) {
  if (view(uri) != ns::streams) {
    fail(StreamCondition::invalid_namespace, "the stream element is not in the streams namespace");
    return;
  }
  if (view(local) != "stream") {
    fail(StreamCondition::bad_format, "the root element is not a stream");
    return;
  }
  Element header("stream", std::string(ns::streams));
  for (int i = 0; i < nb_namespaces; ++i) {
    const xmlChar* prefix = namespaces[2 * i];
    const std::string_view value = view(namespaces[2 * i + 1]);
    std::string name = declaration_name(prefix);
    if (!charge(name.size() + value.size())) {
      return;
    }
    header.set_attr(std::move(name), std::string(value));
  }
  for (int i = 0; i < nb_attributes; ++i) {
    const xmlChar** attribute = attributes + 5 * i;
    std::string name = qualified(attribute[1], attribute[0]);
    std::string value = decode_attribute(view(attribute[3], attribute[4]));
    if (!charge(name.size() + value.size())) {
      return;
    }
    header.set_attr(std::move(name), std::move(value));
  }
  stanza_bytes_ = 0;
  depth_ = 1;
  handler_.on_stream_open(header);
}

void SaxStream::on_start(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
                         int nb_namespaces, const xmlChar** namespaces, int nb_attributes,
                         const xmlChar** attributes) {
  (void)prefix;
  // Declarations are bounded like attributes: libxml2 keeps them all.
  if (static_cast<std::size_t>(nb_attributes) > limits_.max_attributes ||
      static_cast<std::size_t>(nb_namespaces) > limits_.max_attributes) {
    fail(StreamCondition::policy_violation, "too many attributes");
    return;
  }
  for (int i = 0; i < nb_namespaces; ++i) {
    // libxml2 hands a '&' in a namespace name over as the text "&#38;", a
    // name that differs from the sender's; no XMPP namespace has one.
    if (view(namespaces[2 * i + 1]).find('&') != std::string_view::npos) {
      fail(StreamCondition::bad_format, "character reference in a namespace name");
      return;
    }
  }
  if (depth_ == 0) {
    on_header(local, uri, nb_namespaces, namespaces, nb_attributes, attributes);
    return;
  }
  // depth_ is this element's level below the stream element: a stanza is 1.
  if (depth_ > limits_.max_depth) {
    fail(StreamCondition::policy_violation, "stanza nested too deeply");
    return;
  }
  if (depth_ == 1) {
    stanza_bytes_ = 0;
  }
  Element element{std::string(view(local)), std::string(view(uri))};
  if (!charge(element.name().size() + element.xmlns().size())) {
    return;
  }
  for (int i = 0; i < nb_namespaces; ++i) {
    // Not stored, but libxml2 holds them while the element is open.
    if (!charge(view(namespaces[2 * i]).size() + view(namespaces[2 * i + 1]).size())) {
      return;
    }
  }
  for (int i = 0; i < nb_attributes; ++i) {
    const xmlChar** attribute = attributes + 5 * i;
    const xmlChar* attribute_prefix = attribute[1];
    std::string name = qualified(attribute_prefix, attribute[0]);
    std::string value = decode_attribute(view(attribute[3], attribute[4]));
    if (!charge(name.size() + value.size())) {
      return;
    }
    if (attribute_prefix && view(attribute_prefix) != "xml") {
      std::string declaration = declaration_name(attribute_prefix);
      if (!element.attr(declaration)) {
        const std::string_view attribute_uri = view(attribute[2]);
        if (!charge(declaration.size() + attribute_uri.size())) {
          return;
        }
        element.set_attr(std::move(declaration), std::string(attribute_uri));
      }
    }
    element.set_attr(std::move(name), std::move(value));
  }
  if (depth_ == 1) {
    stanza_ = std::move(element);
    open_.assign(1, &stanza_);
  } else {
    open_.push_back(&open_.back()->append(std::move(element)));
  }
  ++depth_;
}

void SaxStream::on_end() {
  if (depth_ == 0) {
    return;
  }
  --depth_;
  if (depth_ == 0) {
    handler_.on_stream_close();
    return;
  }
  open_.pop_back();
  if (depth_ == 1) {
    Element stanza = std::move(stanza_);
    stanza_ = Element();
    stanza_bytes_ = 0;
    handler_.on_stanza(std::move(stanza));
  }
}

void SaxStream::on_text(std::string_view text) {
  if (depth_ < 2) {
    // Only whitespace (keepalives) may sit between stanzas.
    if (depth_ == 1 && !is_xml_space(text)) {
      fail(StreamCondition::bad_format, "character data at stream level");
    }
    return;
  }
  // libxml2's push parser checks CDATA sections only loosely (it lets
  // overlong forms through); text must be UTF-8 like the rest of the stream.
  if (!is_valid_utf8(text)) {
    fail(StreamCondition::not_well_formed, "character data is not valid UTF-8");
    return;
  }
  if (charge(text.size())) {
    open_.back()->append_text(text);
  }
}

void SaxStream::on_error(const xmlError& error) {
  if (error.level == XML_ERR_WARNING || error.level == XML_ERR_NONE) {
    return;
  }
  std::string text = error.message ? error.message : "malformed XML";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  switch (error.code) {
  case XML_NS_ERR_UNDEFINED_NAMESPACE:
    fail(StreamCondition::bad_namespace_prefix, std::move(text));
    break;
  case XML_ERR_NAME_TOO_LONG:
    fail(StreamCondition::policy_violation, std::move(text));
    break;
  case XML_ERR_NO_MEMORY:
    // Also what libxml2 reports when its name dictionary reaches its limit.
    fail(StreamCondition::resource_constraint, std::move(text));
    break;
  default:
    fail(StreamCondition::not_well_formed, std::move(text));
  }
}

/// The pimpl is the SAX state itself.
struct XmlStreamParser::Impl : SaxStream {
  using SaxStream::SaxStream;
};

XmlStreamParser::XmlStreamParser(Handler& handler, XmlLimits limits)
    : impl_(std::make_unique<Impl>(handler, limits)) {}

XmlStreamParser::~XmlStreamParser() = default;

bool XmlStreamParser::feed(std::string_view bytes) {
  Impl& impl = *impl_;
  while (!impl.error_ && !bytes.empty()) {
    const std::string_view piece = bytes.substr(0, feed_piece_bytes);
    bytes.remove_prefix(piece.size());
    impl.push(piece);
  }
  return !impl.error_;
}

const std::optional<StreamError>& XmlStreamParser::error() const {
  return impl_->error_;
}

void XmlStreamParser::reset() {
  impl_->reset();
}

namespace {

/// Keeps the stanzas of a one-off parse.
struct StanzaCollector final : XmlStreamParser::Handler {
  std::vector<Element> stanzas;
  void on_stream_open(const Element&) override {}
  void on_stanza(Element stanza) override { stanzas.push_back(std::move(stanza)); }
  void on_stream_close() override {}
};

} // namespace

std::optional<Element> parse_stanza(std::string_view text, XmlLimits limits) {
  StanzaCollector collector;
  XmlStreamParser parser(collector, limits);
  std::string stream = "<stream:stream xmlns='";
  stream += ns::component;
  stream += "' xmlns:stream='";
  stream += ns::streams;
  stream += "'>";
  if (!parser.feed(stream) || !parser.feed(text) || collector.stanzas.size() != 1) {
    return std::nullopt;
  }
  return std::move(collector.stanzas.front());
}

} // namespace trestle::xmpp
