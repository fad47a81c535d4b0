#include "element.hpp"
#include "namespaces.hpp"
#include "stream_error.hpp"
#include "xml_stream_parser.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using trestle::xmpp::Element;
using trestle::xmpp::serialize;
using trestle::xmpp::StreamCondition;
using trestle::xmpp::StreamError;
using trestle::xmpp::XmlLimits;
using trestle::xmpp::XmlStreamParser;
namespace ns = trestle::xmpp::ns;

namespace {

const std::string stream_open = "<?xml version='1.0'?>"
                                "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                "xmlns='jabber:component:accept' from='irc.example.org' id='c2s1'>";

/// One parse event, and how many bytes had been fed when the feed() call that
/// produced it returned.
struct Event {
  std::string text;
  std::size_t fed;
};

/// Records every event as text: the header and stanzas serialized with their
/// full namespaces, so namespace resolution is part of what is compared.
class Recorder : public XmlStreamParser::Handler {
public:
  void on_stream_open(const Element& header) override {
    headers.push_back(header);
    events.push_back({"open " + serialize(header), fed_after});
  }
  void on_stanza(Element stanza) override {
    if (throw_on_stanza) {
      throw std::runtime_error("handler bug");
    }
    events.push_back({"stanza " + serialize(stanza), fed_after});
    stanzas.push_back(std::move(stanza));
  }
  void on_stream_close() override { events.push_back({"close", fed_after}); }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& event : events) {
      out.push_back(event.text);
    }
    return out;
  }

  std::vector<Event> events;
  std::vector<Element> headers;
  std::vector<Element> stanzas;
  std::size_t fed_after = 0;
  bool throw_on_stanza = false;
};

/// Feeds `chunks` in order, recording the byte count each call ends at;
/// returns whether every feed() succeeded.
bool feed_all(XmlStreamParser& parser, Recorder& recorder, const std::vector<std::string>& chunks) {
  bool ok = true;
  for (const auto& chunk : chunks) {
    recorder.fed_after += chunk.size();
    ok = parser.feed(chunk) && ok;
  }
  return ok;
}

/// The condition of the error `input` (fed in one piece, after a valid stream
/// header unless `with_header` is false) stops the parser with.
StreamCondition condition_of(const std::string& input, XmlLimits limits = {},
                             bool with_header = true) {
  Recorder recorder;
  XmlStreamParser parser(recorder, limits);
  if (with_header) {
    BOOST_TEST_REQUIRE(parser.feed(stream_open));
  }
  BOOST_TEST(!parser.feed(input), "accepted: " << input);
  BOOST_TEST_REQUIRE(parser.error().has_value());
  BOOST_TEST(!parser.error()->text.empty());
  return parser.error()->condition;
}

/// Whether `input` (after a valid header) is accepted.
bool accepts(const std::string& input, XmlLimits limits = {}) {
  Recorder recorder;
  XmlStreamParser parser(recorder, limits);
  const bool ok = parser.feed(stream_open) && parser.feed(input);
  BOOST_TEST(ok == !parser.error().has_value());
  if (!ok) {
    BOOST_TEST_MESSAGE("refused with " << to_string(parser.error()->condition) << ": "
                                       << parser.error()->text);
  }
  return ok;
}

#define CHECK_CONDITION(actual, expected) BOOST_TEST(to_string(actual) == to_string(expected))

/// A stream as pieces; `true` marks a piece whose last byte completes an event.
using Sample = std::vector<std::pair<std::string, bool>>;

std::string joined(const Sample& sample) {
  std::string out;
  for (const auto& piece : sample) {
    out += piece.first;
  }
  return out;
}

/// The offsets (in bytes) at which each event of `sample` becomes complete.
std::vector<std::size_t> event_ends(const Sample& sample) {
  std::vector<std::size_t> ends;
  std::size_t offset = 0;
  for (const auto& [text, completes] : sample) {
    offset += text.size();
    if (completes) {
      ends.push_back(offset);
    }
  }
  return ends;
}

std::vector<Sample> samples() {
  std::vector<Sample> out;
  out.push_back({
      {stream_open, true},
      {"<handshake/>", true},
      {"\n", false},
      {"<message from='h\xC3\xA9l\xC3\xA8ne@example.org/\xF0\x9F\x98\x80' "
       "to='#caf\xC3\xA9%irc.example.org"
       "@irc.example.org' type='groupchat' id='m&amp;1'><body>caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC "
       "\xF0\x9F\x8E\x89 &lt;3 &amp; &apos;quotes&apos; &quot;too&quot;</body>"
       "<request xmlns='urn:xmpp:receipts'/></message>",
       true},
      {" ", false},
      {"<presence from='a@example.org/r' to='#c%irc.example.org@irc.example.org/nick'>"
       "<x xmlns='http://jabber.org/protocol/muc'><history maxchars='0'/></x></presence>",
       true},
      {"<iq type='get' id='d1' from='a@example.org/r' to='irc.example.org'>"
       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
       true},
      {"</stream:stream>", true},
  });
  // Prefixes, CDATA, character references, xml:lang, and a text long enough
  // (over libxml2's 300-byte look-ahead) to be delivered in pieces.
  std::string long_text;
  for (int i = 0; i < 40; ++i) {
    long_text += "\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80 ab&amp;c ";
  }
  out.push_back({
      {"<stream:stream xmlns='jabber:component:accept' "
       "xmlns:stream='http://etherx.jabber.org/streams' id='x&apos;y' xml:lang='fr'>",
       true},
      {"<message xml:lang='ja'><body>" + long_text + "</body></message>", true},
      {"<iq type='set' id='c'><c:command xmlns:c='http://jabber.org/protocol/commands' "
       "node='list' c:status='executing'><![CDATA[<not markup> & \xE6\x97\xA5]]></c:command></iq>",
       true},
      {"<message><body>&#233;&#x1F600;&#60;</body></message>", true},
      {"\r\n\t ", false},
      {"<message>\xF0\x9F\x98\x80</message>", true},
  });
  out.push_back({
      {stream_open, true},
      {"<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
       "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Bad \xC3\xA9</text>"
       "</stream:error>",
       true},
      {"</stream:stream>", true},
  });
  return out;
}

/// Parses `sample` cut into `chunks` and checks each event fires in the very
/// feed() call that supplies its last byte.
std::vector<std::string> parse_chunked(const Sample& sample,
                                       const std::vector<std::string>& chunks) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(feed_all(parser, recorder, chunks));
  std::vector<std::size_t> boundaries;
  std::size_t offset = 0;
  for (const auto& chunk : chunks) {
    offset += chunk.size();
    boundaries.push_back(offset);
  }
  const auto ends = event_ends(sample);
  BOOST_TEST_REQUIRE(recorder.events.size() == ends.size());
  for (std::size_t i = 0; i < ends.size(); ++i) {
    std::size_t expected = 0;
    for (const auto boundary : boundaries) {
      if (boundary >= ends[i]) {
        expected = boundary;
        break;
      }
    }
    BOOST_TEST(recorder.events[i].fed == expected, "event " << i << " held back");
  }
  return recorder.texts();
}

} // namespace

BOOST_AUTO_TEST_SUITE(xml_stream_parser)

BOOST_AUTO_TEST_CASE(reports_header_stanzas_and_close) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST_REQUIRE(recorder.headers.size() == 1u);
  const Element& header = recorder.headers[0];
  BOOST_TEST(header.name() == "stream");
  BOOST_TEST(header.xmlns() == ns::streams);
  BOOST_TEST(header.attr_or("id") == "c2s1");
  BOOST_TEST(header.attr_or("from") == "irc.example.org");
  BOOST_TEST(header.attr_or("xmlns") == ns::component);
  BOOST_TEST(header.attr_or("xmlns:stream") == ns::streams);
  BOOST_TEST(header.nodes().empty());

  BOOST_TEST(parser.feed("<handshake/><message to='a@b'><body>hi</body>"
                         "<ping xmlns='urn:xmpp:ping'/></message>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 2u);
  BOOST_TEST(recorder.stanzas[0].name() == "handshake");
  BOOST_TEST(recorder.stanzas[0].xmlns() == ns::component);
  const Element& message = recorder.stanzas[1];
  BOOST_TEST(message.xmlns() == ns::component);
  BOOST_TEST(*message.attr("to") == "a@b");
  // Children carry their resolved namespace, inherited or not.
  BOOST_TEST(message.find("body")->xmlns() == ns::component);
  BOOST_TEST(message.child_text("body", ns::component) == "hi");
  BOOST_TEST(message.find("ping", ns::ping) != nullptr);
  BOOST_TEST(serialize(message, ns::component) ==
             "<message to='a@b'><body>hi</body><ping xmlns='urn:xmpp:ping'/></message>");

  BOOST_TEST(parser.feed("</stream:stream>"));
  BOOST_TEST(recorder.texts().back() == "close");
  BOOST_TEST(!parser.error().has_value());
}

BOOST_AUTO_TEST_CASE(header_records_to_version_and_lang) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                         "xmlns='jabber:component:accept' to='irc.example.org' version='1.0' "
                         "xml:lang='en'>"));
  BOOST_TEST_REQUIRE(recorder.headers.size() == 1u);
  BOOST_TEST(recorder.headers[0].attr_or("to") == "irc.example.org");
  BOOST_TEST(recorder.headers[0].attr_or("version") == "1.0");
  BOOST_TEST(recorder.headers[0].attr_or("xml:lang") == "en");
}

BOOST_AUTO_TEST_CASE(stanza_is_delivered_when_its_last_byte_arrives) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(recorder.headers.size() == 1u);
  BOOST_TEST(parser.feed("<message><body>it's &amp; \"x\" > y</body></message"));
  BOOST_TEST(recorder.stanzas.empty());
  BOOST_TEST(parser.feed(">"));
  BOOST_TEST(recorder.stanzas.size() == 1u);
  BOOST_TEST(parser.feed("<presence a='>'/>"));
  BOOST_TEST(recorder.stanzas.size() == 2u);
  BOOST_TEST(parser.feed("<iq><q xmlns='urn:q' a=\"'\"/></iq>"));
  BOOST_TEST(recorder.stanzas.size() == 3u);
  BOOST_TEST(parser.feed("</stream:stream>"));
  BOOST_TEST(recorder.texts().back() == "close");
}

BOOST_AUTO_TEST_CASE(every_split_point_yields_the_same_events_on_time) {
  for (const auto& sample : samples()) {
    const std::string stream = joined(sample);
    const auto whole = parse_chunked(sample, {stream});
    BOOST_TEST_REQUIRE(whole.size() == event_ends(sample).size());
    for (std::size_t split = 1; split < stream.size(); ++split) {
      const auto split_events =
          parse_chunked(sample, {stream.substr(0, split), stream.substr(split)});
      BOOST_TEST(split_events == whole, "split at " << split);
    }
  }
}

BOOST_AUTO_TEST_CASE(one_byte_chunks_yield_the_same_events_on_time) {
  for (const auto& sample : samples()) {
    const std::string stream = joined(sample);
    std::vector<std::string> bytes;
    for (const char c : stream) {
      bytes.emplace_back(1, c);
    }
    BOOST_TEST(parse_chunked(sample, bytes) == parse_chunked(sample, {stream}));
  }
}

BOOST_AUTO_TEST_CASE(multibyte_text_and_attributes_survive) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  const auto sample = samples()[0];
  std::vector<std::string> bytes;
  for (const char c : joined(sample)) {
    bytes.emplace_back(1, c);
  }
  BOOST_TEST(feed_all(parser, recorder, bytes));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 4u);
  const Element& message = recorder.stanzas[1];
  BOOST_TEST(message.attr_or("from") == "h\xC3\xA9l\xC3\xA8ne@example.org/\xF0\x9F\x98\x80");
  BOOST_TEST(message.attr_or("id") == "m&1");
  BOOST_TEST(message.child_text("body") ==
             "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89 <3 & 'quotes' \"too\"");
}

BOOST_AUTO_TEST_CASE(escaping_round_trips_through_the_parser) {
  const std::string nasty = "a&b<c>d'e\"f &amp; \xE6\x97\xA5 tab\tnl\ncr\r end";
  Element message("message", std::string(ns::component));
  message.set_attr("id", nasty);
  message.append("body").append_text(nasty);

  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed(serialize(message, ns::component)));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1u);
  BOOST_TEST(recorder.stanzas[0].attr_or("id") == nasty);
  BOOST_TEST(recorder.stanzas[0].child_text("body") == nasty);
  BOOST_TEST(serialize(recorder.stanzas[0], ns::component) == serialize(message, ns::component));
}

BOOST_AUTO_TEST_CASE(references_in_attributes_are_decoded) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed("<m a='&amp;&lt;&gt;&apos;&quot;' b='&#38;&#x26;&#38;#38;' "
                         "c=\"it's\" d='&#233;&#x65E5;'/>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1u);
  BOOST_TEST(recorder.stanzas[0].attr_or("a") == "&<>'\"");
  BOOST_TEST(recorder.stanzas[0].attr_or("b") == "&&&#38;");
  BOOST_TEST(recorder.stanzas[0].attr_or("c") == "it's");
  BOOST_TEST(recorder.stanzas[0].attr_or("d") == "\xC3\xA9\xE6\x97\xA5");
}

BOOST_AUTO_TEST_CASE(prefixed_elements_resolve_and_reserialize) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed("<iq type='set'><c:command xmlns:c='http://jabber.org/protocol/commands' "
                         "c:status='done' xml:lang='en'><c:note>ok</c:note><plain/></c:command>"
                         "</iq>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1u);
  const Element& command = *recorder.stanzas[0].first_element();
  BOOST_TEST(command.name() == "command");
  BOOST_TEST(command.xmlns() == ns::commands);
  BOOST_TEST(command.attr_or("xml:lang") == "en");
  // A prefixed attribute brings its declaration along so it re-parses alone.
  BOOST_TEST(command.attr_or("c:status") == "done");
  BOOST_TEST(command.attr_or("xmlns:c") == ns::commands);
  BOOST_TEST(command.find("note", ns::commands)->text() == "ok");
  BOOST_TEST(command.find("plain")->xmlns() == ns::component);

  const std::string again = serialize(recorder.stanzas[0], ns::component);
  BOOST_TEST(parser.feed(again));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 2u);
  BOOST_TEST(serialize(recorder.stanzas[1], ns::component) == again);
}

BOOST_AUTO_TEST_CASE(stanza_in_no_namespace_under_empty_default) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed("<message><x xmlns=''><y/></x></message>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1u);
  BOOST_TEST(recorder.stanzas[0].first_element()->xmlns().empty());
}

BOOST_AUTO_TEST_CASE(stream_error_from_the_peer_is_a_stanza_in_the_streams_namespace) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  const StreamError sent{StreamCondition::host_unknown, "no such <host>"};
  BOOST_TEST(parser.feed(serialize(to_element(sent), ns::component)));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1u);
  BOOST_TEST(recorder.stanzas[0].name() == "error");
  BOOST_TEST(recorder.stanzas[0].xmlns() == ns::streams);
  const StreamError received = stream_error_from_element(recorder.stanzas[0]);
  CHECK_CONDITION(received.condition, sent.condition);
  BOOST_TEST(received.text == sent.text);
}

BOOST_AUTO_TEST_CASE(consecutive_stanzas_are_independent) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed("<message><a/><b/></message><message><c/></message>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 2u);
  BOOST_TEST(recorder.stanzas[1].nodes().size() == 1u);
  BOOST_TEST(recorder.stanzas[1].nodes()[0].name() == "c");
}

BOOST_AUTO_TEST_CASE(whitespace_keepalives_are_ignored) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  for (int i = 0; i < 100; ++i) {
    BOOST_TEST(parser.feed(" "));
    BOOST_TEST(parser.feed("\n"));
  }
  BOOST_TEST(recorder.events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(many_stanzas_on_one_stream) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  const std::string stanza = "<message to='a@b' id='x'><body>hello world</body></message>";
  std::string batch;
  for (int i = 0; i < 1000; ++i) {
    batch += stanza;
  }
  for (int round = 0; round < 50; ++round) {
    BOOST_TEST_REQUIRE(parser.feed(batch));
    BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1000u);
    recorder.stanzas.clear();
    recorder.events.clear();
  }
}

// Hostile input: RFC 6120 section 11.1 restricted XML.

BOOST_AUTO_TEST_CASE(doctype_is_restricted) {
  CHECK_CONDITION(condition_of("<!DOCTYPE stream:stream>" + stream_open.substr(21), {}, false),
                  StreamCondition::restricted_xml);
  CHECK_CONDITION(condition_of("<?xml version='1.0'?><!DOCTYPE s SYSTEM 'http://example.org/x.dtd'>"
                               "<s/>",
                               {}, false),
                  StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(billion_laughs_is_restricted) {
  const std::string laughs = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
                             "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
                             "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
                             "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
                             "]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
                             "<message>&lol3;</message>";
  CHECK_CONDITION(condition_of(laughs, {}, false), StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(external_entity_is_restricted) {
  CHECK_CONDITION(condition_of("<!DOCTYPE s [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
                               "<s>&xxe;</s>",
                               {}, false),
                  StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(undeclared_entity_references_are_restricted) {
  CHECK_CONDITION(condition_of("<message><body>&nbsp;</body></message>"),
                  StreamCondition::restricted_xml);
  CHECK_CONDITION(condition_of("<message id='&foo;'/>"), StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(processing_instructions_are_restricted) {
  CHECK_CONDITION(condition_of("<?xml-stylesheet href='x'?>" + stream_open.substr(21), {}, false),
                  StreamCondition::restricted_xml);
  CHECK_CONDITION(condition_of("<message><?php echo 1; ?></message>"),
                  StreamCondition::restricted_xml);
  CHECK_CONDITION(condition_of("<?pi between stanzas?>"), StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(comments_are_restricted) {
  CHECK_CONDITION(condition_of("<!-- hi -->" + stream_open, {}, false),
                  StreamCondition::restricted_xml);
  CHECK_CONDITION(condition_of("<message><!-- hi --></message>"), StreamCondition::restricted_xml);
  CHECK_CONDITION(condition_of("<!---->"), StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(xml_declaration_and_cdata_are_allowed) {
  BOOST_TEST(accepts("<message><body><![CDATA[<b>&amp;</b>]]></body></message>"));
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed("<?xml version='1.0' encoding='UTF-8'?>" + stream_open.substr(21)));
  BOOST_TEST(recorder.headers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_xml_is_not_well_formed) {
  CHECK_CONDITION(condition_of("<message><body></message>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message a='1' a='2'/>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message a=1/>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message>\xC3</message>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message>\xFF\xFE</message>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message>&#0;</message>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message>a & b;</message>"), StreamCondition::not_well_formed);
  // libxml2 judges this start tag once markup follows it.
  CHECK_CONDITION(condition_of("<message a='<'/><presence/>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<?xml version='1.0'?>"), StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("</stream:stream><message/>"), StreamCondition::not_well_formed);
  // A DOCTYPE can only be restricted where XML allows one, before the root.
  CHECK_CONDITION(condition_of("<message><!DOCTYPE x></message>"),
                  StreamCondition::not_well_formed);
}

BOOST_AUTO_TEST_CASE(undeclared_prefix_is_bad_namespace_prefix) {
  CHECK_CONDITION(condition_of("<foo:message/>"), StreamCondition::bad_namespace_prefix);
  CHECK_CONDITION(condition_of("<message foo:a='1'/>"), StreamCondition::bad_namespace_prefix);
  CHECK_CONDITION(condition_of("<stream:stream>", {}, false),
                  StreamCondition::bad_namespace_prefix);
}

BOOST_AUTO_TEST_CASE(wrong_stream_element_is_refused) {
  CHECK_CONDITION(condition_of("<stream:stream xmlns:stream='urn:wrong'>", {}, false),
                  StreamCondition::invalid_namespace);
  CHECK_CONDITION(condition_of("<stream xmlns='jabber:component:accept'>", {}, false),
                  StreamCondition::invalid_namespace);
  CHECK_CONDITION(
      condition_of("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>", {}, false),
      StreamCondition::bad_format);
}

BOOST_AUTO_TEST_CASE(ampersand_in_a_namespace_name_is_bad_format) {
  // libxml2 hands a '&' in a namespace name over as the text "&#38;".
  CHECK_CONDITION(condition_of("<message xmlns='urn:a&#38;b'/>"), StreamCondition::bad_format);
  CHECK_CONDITION(condition_of("<message xmlns:x='urn:a&amp;b'><x:y/></message>"),
                  StreamCondition::bad_format);
  CHECK_CONDITION(
      condition_of("<stream:stream xmlns:stream='http://etherx.jabber.org/streams&amp;'>", {},
                   false),
      StreamCondition::bad_format);
  // Other references in a namespace name are resolved as usual.
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open + "<message xmlns='jabber:&#99;omponent:accept'/>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1U);
  BOOST_TEST(recorder.stanzas[0].xmlns() == "jabber:component:accept");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_not_well_formed) {
  // An overlong form: libxml2 lets it through inside CDATA on its own.
  CHECK_CONDITION(condition_of("<message><body><![CDATA[a\xc1\x8c"
                               "b]]></body></message>"),
                  StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message><body>a\xc1\x8c"
                               "b</body></message>"),
                  StreamCondition::not_well_formed);
  CHECK_CONDITION(condition_of("<message><body>\xed\xa0\x80</body></message>"),
                  StreamCondition::not_well_formed);
}

BOOST_AUTO_TEST_CASE(text_at_stream_level_is_bad_format) {
  CHECK_CONDITION(condition_of("hello<message/>"), StreamCondition::bad_format);
}

// Limits: exactly at the limit is accepted, one more is a policy violation.

BOOST_AUTO_TEST_CASE(stanza_size_limit_is_exact) {
  // message + body, each with the 23-byte component namespace, then the text.
  const std::size_t overhead = 7 + 23 + 4 + 23;
  XmlLimits limits;
  limits.max_stanza_bytes = overhead + 100;
  const auto stanza = [](std::size_t text) {
    return "<message><body>" + std::string(text, 'a') + "</body></message>";
  };
  BOOST_TEST(accepts(stanza(100), limits));
  CHECK_CONDITION(condition_of(stanza(101), limits), StreamCondition::policy_violation);

  // Attribute names and values count too.
  BOOST_TEST(accepts("<message id='" + std::string(98, 'i') + "'><body/></message>", limits));
  CHECK_CONDITION(
      condition_of("<message id='" + std::string(99, 'i') + "'><body/></message>", limits),
      StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(stanza_size_limit_applies_per_stanza) {
  XmlLimits limits;
  limits.max_stanza_bytes = 7 + 23 + 4 + 23 + 100;
  std::string many;
  for (int i = 0; i < 50; ++i) {
    many += "<message><body>" + std::string(100, 'a') + "</body></message>";
  }
  BOOST_TEST(accepts(many, limits));
}

BOOST_AUTO_TEST_CASE(stanza_size_limit_holds_across_chunks) {
  XmlLimits limits;
  limits.max_stanza_bytes = 1000;
  Recorder recorder;
  XmlStreamParser parser(recorder, limits);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed("<message><body>"));
  bool ok = true;
  for (int i = 0; i < 100 && ok; ++i) {
    ok = parser.feed(std::string(50, 'x') + "<b/>");
  }
  BOOST_TEST(!ok);
  BOOST_TEST_REQUIRE(parser.error().has_value());
  CHECK_CONDITION(parser.error()->condition, StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(unfinished_start_tag_is_bounded) {
  XmlLimits limits;
  limits.max_stanza_bytes = 1000;
  Recorder recorder;
  XmlStreamParser parser(recorder, limits);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(parser.feed("<message id='"));
  bool ok = true;
  for (int i = 0; i < 100 && ok; ++i) {
    ok = parser.feed(std::string(100, 'x'));
  }
  BOOST_TEST(!ok);
  BOOST_TEST_REQUIRE(parser.error().has_value());
  CHECK_CONDITION(parser.error()->condition, StreamCondition::policy_violation);
  // The same bytes in one feed() are caught too.
  CHECK_CONDITION(condition_of("<message id='" + std::string(20000, 'x'), limits),
                  StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(unterminated_reference_is_bounded) {
  // libxml2 waits for the `;` of a reference before judging it.
  XmlLimits limits;
  limits.max_stanza_bytes = 1000;
  CHECK_CONDITION(condition_of("<message>a & " + std::string(2000, 'b'), limits),
                  StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(depth_limit_is_exact) {
  XmlLimits limits;
  limits.max_depth = 3;
  BOOST_TEST(accepts("<message><a><b/></a></message>", limits));
  CHECK_CONDITION(condition_of("<message><a><b><c/></b></a></message>", limits),
                  StreamCondition::policy_violation);
  BOOST_TEST(accepts("<message><a><b/><b/></a><a><b/></a></message>", limits));
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_early) {
  std::string deep = "<message>";
  for (int i = 0; i < 100000; ++i) {
    deep += "<a>";
  }
  CHECK_CONDITION(condition_of(deep), StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(attribute_count_limit_is_exact) {
  XmlLimits limits;
  limits.max_attributes = 3;
  BOOST_TEST(accepts("<message a='1' b='2' c='3'><x d='4' e='5' f='6'/></message>", limits));
  CHECK_CONDITION(condition_of("<message a='1' b='2' c='3' d='4'/>", limits),
                  StreamCondition::policy_violation);
  CHECK_CONDITION(condition_of("<message><x a='1' b='2' c='3' d='4'/></message>", limits),
                  StreamCondition::policy_violation);
  CHECK_CONDITION(
      condition_of("<message xmlns:a='u:a' xmlns:b='u:b' xmlns:c='u:c' xmlns:d='u:d'/>", limits),
      StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(header_attribute_count_is_bounded) {
  XmlLimits limits;
  limits.max_attributes = 4;
  Recorder recorder;
  XmlStreamParser at_limit(recorder, limits);
  BOOST_TEST(
      at_limit.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                    "xmlns='jabber:component:accept' id='1' from='f' to='t' version='1.0'>"));
  CHECK_CONDITION(condition_of("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                               "id='1' from='f' to='t' version='1.0' xml:lang='en'>",
                               limits, false),
                  StreamCondition::policy_violation);
}

BOOST_AUTO_TEST_CASE(header_size_is_bounded) {
  XmlLimits limits;
  limits.max_stanza_bytes = 100;
  CHECK_CONDITION(condition_of("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                               "id='" +
                                   std::string(90, 'x') + "'>",
                               limits, false),
                  StreamCondition::policy_violation);
}

// Error handling.

BOOST_AUTO_TEST_CASE(error_sticks_until_reset) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(!parser.feed("<message><!-- no --></message><presence/>"));
  BOOST_TEST_REQUIRE(parser.error().has_value());
  CHECK_CONDITION(parser.error()->condition, StreamCondition::restricted_xml);
  const auto events = recorder.events.size();
  BOOST_TEST(!parser.feed("<presence/>"));
  BOOST_TEST(!parser.feed(""));
  BOOST_TEST(recorder.events.size() == events);
  CHECK_CONDITION(parser.error()->condition, StreamCondition::restricted_xml);

  parser.reset();
  BOOST_TEST(!parser.error().has_value());
  BOOST_TEST(parser.feed(stream_open + "<presence/>"));
  BOOST_TEST(recorder.headers.size() == 2u);
  BOOST_TEST(recorder.stanzas.size() == 1u);
}

BOOST_AUTO_TEST_CASE(first_error_wins) {
  // The entity is refused before libxml2 reports it as undeclared.
  CHECK_CONDITION(condition_of("<message>&bad;</message"), StreamCondition::restricted_xml);
}

BOOST_AUTO_TEST_CASE(reset_discards_a_partial_stanza) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open + "<message><body>half"));
  parser.reset();
  BOOST_TEST(parser.feed(stream_open + "</body></message>") == false);
  CHECK_CONDITION(parser.error()->condition, StreamCondition::not_well_formed);
  parser.reset();
  BOOST_TEST(parser.feed(stream_open + "<message><body>whole</body></message>"));
  BOOST_TEST_REQUIRE(recorder.stanzas.size() == 1u);
  BOOST_TEST(recorder.stanzas[0].child_text("body") == "whole");
}

BOOST_AUTO_TEST_CASE(reset_after_stream_close_starts_a_new_stream) {
  Recorder recorder;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open + "</stream:stream>"));
  parser.reset();
  BOOST_TEST(parser.feed(stream_open + "<handshake/></stream:stream>"));
  BOOST_TEST((recorder.texts().size() == 5u));
  BOOST_TEST(recorder.texts().back() == "close");
}

BOOST_AUTO_TEST_CASE(throwing_handler_stops_the_parser_cleanly) {
  Recorder recorder;
  recorder.throw_on_stanza = true;
  XmlStreamParser parser(recorder);
  BOOST_TEST(parser.feed(stream_open));
  BOOST_TEST(!parser.feed("<message/><message/>"));
  BOOST_TEST_REQUIRE(parser.error().has_value());
  CHECK_CONDITION(parser.error()->condition, StreamCondition::internal_server_error);
}

BOOST_AUTO_TEST_CASE(a_kept_stanza_parses_back_to_what_was_serialized) {
  Element message("message", std::string(trestle::xmpp::ns::component));
  message.set_attr("to", "alice@example.org");
  message.set_attr("id", "m1");
  message.append("body").append_text("a < b & 'c'");
  message.append("origin-id", std::string(trestle::xmpp::ns::sid)).set_attr("id", "m1");
  const auto text = serialize(message, trestle::xmpp::ns::component);
  const auto parsed = trestle::xmpp::parse_stanza(text);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(serialize(*parsed, trestle::xmpp::ns::component) == text);
  BOOST_TEST(parsed->child_text("body") == "a < b & 'c'");
  BOOST_TEST(parsed->find("origin-id", trestle::xmpp::ns::sid) != nullptr);
}

BOOST_AUTO_TEST_CASE(parse_stanza_refuses_anything_but_one_stanza) {
  using trestle::xmpp::parse_stanza;
  BOOST_TEST(!parse_stanza("").has_value());
  BOOST_TEST(!parse_stanza("not xml").has_value());
  BOOST_TEST(!parse_stanza("<message><body>cut").has_value());
  BOOST_TEST(!parse_stanza("<message/><message/>").has_value());
  BOOST_TEST(!parse_stanza("<!DOCTYPE x><message/>").has_value());
  XmlLimits small;
  small.max_depth = 2;
  BOOST_TEST(!parse_stanza("<message><a><b><c/></b></a></message>", small).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
