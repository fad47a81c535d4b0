#include "component_session.hpp"
#include "element.hpp"
#include "namespaces.hpp"
#include "stream_error.hpp"
#include "xml_stream_parser.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::xmpp::CloseReason;
using trestle::xmpp::ComponentSession;
using trestle::xmpp::Element;
using trestle::xmpp::SessionEvent;
using trestle::xmpp::StreamCondition;
using trestle::xmpp::XmlLimits;
using trestle::xmpp::XmlStreamParser;
namespace ns = trestle::xmpp::ns;
using State = ComponentSession::State;
using Events = std::vector<std::string>;

namespace {

const std::string domain = "irc.example.org";
const std::string secret = "secret";

/// What the session writes first (its stream header).
const std::string client_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='irc.example.org'>";

/// A server's answer, as Prosody writes it.
const std::string server_header =
    "<?xml version='1.0'?>"
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns='jabber:component:accept' from='irc.example.org' id='c2s1'>";

/// `<handshake>` with sha1("c2s1" + "secret"), computed with sha1sum.
const std::string handshake = "<handshake>570203225f5390164a409913404b2ae7d236b4e7</handshake>";

const std::string close_tag = "</stream:stream>";

/// The bytes the session writes for a stream error (then it closes).
std::string error_bytes(std::string_view condition, std::string_view text) {
  std::string out = "<error xmlns='http://etherx.jabber.org/streams'><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>";
    out += text;
    out += "</text>";
  }
  out += "</error>";
  out += close_tag;
  return out;
}

std::string reason_name(CloseReason reason) {
  switch (reason) {
  case CloseReason::auth_failed:
    return "auth_failed";
  case CloseReason::stream_error_received:
    return "stream_error_received";
  case CloseReason::stream_error_sent:
    return "stream_error_sent";
  case CloseReason::peer_closed:
    return "peer_closed";
  case CloseReason::local_close:
    return "local_close";
  }
  return "?";
}

/// Events as comparable text: `write <bytes>`, `authenticated`,
/// `stanza <markup>`, `closed <reason>[ <condition>]`.
Events describe(const std::vector<SessionEvent>& events) {
  Events out;
  for (const auto& event : events) {
    switch (event.kind) {
    case SessionEvent::Kind::write:
      out.push_back("write " + event.bytes);
      break;
    case SessionEvent::Kind::authenticated:
      out.push_back("authenticated");
      break;
    case SessionEvent::Kind::stanza:
      out.push_back("stanza " + serialize(event.stanza, ns::component));
      break;
    case SessionEvent::Kind::closed: {
      std::string text = "closed " + reason_name(event.reason);
      if (event.has_error) {
        text += " ";
        text += to_string(event.error.condition);
      }
      out.push_back(text);
      break;
    }
    }
  }
  return out;
}

/// The closed event of `events` (the test fails if there is not exactly one).
SessionEvent closed_event(const std::vector<SessionEvent>& events) {
  SessionEvent found;
  int count = 0;
  for (const auto& event : events) {
    if (event.kind == SessionEvent::Kind::closed) {
      found = event;
      ++count;
    }
  }
  BOOST_TEST(count == 1);
  return found;
}

/// A session that has written its header and is waiting for the server's.
struct Opened {
  explicit Opened(XmlLimits limits = {}) : session(domain, secret, limits) { session.open(); }
  ComponentSession session;
};

/// A session that has sent its handshake.
struct Authenticating : Opened {
  explicit Authenticating(XmlLimits limits = {}) : Opened(limits) {
    BOOST_TEST_REQUIRE(describe(session.receive(server_header)) == Events{"write " + handshake});
  }
};

/// An authenticated session.
struct Ready : Authenticating {
  explicit Ready(XmlLimits limits = {}) : Authenticating(limits) {
    BOOST_TEST_REQUIRE(describe(session.receive("<handshake/>")) == Events{"authenticated"});
  }
};

/// The events of feeding `bytes` to an authenticated session.
Events ready_then(const std::string& bytes, XmlLimits limits = {}) {
  Ready ready(limits);
  auto events = describe(ready.session.receive(bytes));
  BOOST_TEST((ready.session.state() == State::closed));
  return events;
}

/// Parses what the session wrote the way a server would.
class ServerView : public XmlStreamParser::Handler {
public:
  void on_stream_open(const Element&) override { ++headers; }
  void on_stanza(Element stanza) override { stanzas.push_back(std::move(stanza)); }
  void on_stream_close() override { closed = true; }

  int headers = 0;
  std::vector<Element> stanzas;
  bool closed = false;
};

} // namespace

BOOST_AUTO_TEST_SUITE(component_session)

BOOST_AUTO_TEST_CASE(starts_idle_and_ignores_input_before_open) {
  ComponentSession session(domain, secret);
  BOOST_TEST((session.state() == State::idle));
  BOOST_TEST(session.stream_id().empty());
  BOOST_TEST(session.receive(server_header).empty());
  BOOST_TEST(session.close().empty());
  BOOST_TEST((session.state() == State::idle));
}

BOOST_AUTO_TEST_CASE(open_writes_the_stream_header) {
  ComponentSession session(domain, secret);
  BOOST_TEST(describe(session.open()) == Events{"write " + client_header});
  BOOST_TEST((session.state() == State::waiting_for_stream_start));
}

BOOST_AUTO_TEST_CASE(header_escapes_the_domain) {
  ComponentSession session("a'b&c", secret);
  BOOST_TEST(describe(session.open()) ==
             Events{"write <?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                    "xmlns:stream='http://etherx.jabber.org/streams' to='a&apos;b&amp;c'>"});
}

BOOST_AUTO_TEST_CASE(server_header_split_at_every_byte) {
  for (std::size_t split = 0; split <= server_header.size(); ++split) {
    BOOST_TEST_CONTEXT("split at " << split) {
      Opened opened;
      auto& session = opened.session;
      const auto first = describe(session.receive(server_header.substr(0, split)));
      const auto second = describe(session.receive(server_header.substr(split)));
      Events all = first;
      all.insert(all.end(), second.begin(), second.end());
      BOOST_TEST(all == Events{"write " + handshake});
      if (split < server_header.size()) {
        // Nothing can happen before the header's closing '>'.
        BOOST_TEST(first.empty());
      }
      BOOST_TEST((session.state() == State::authenticating));
      BOOST_TEST(session.stream_id() == "c2s1");
    }
  }
}

BOOST_AUTO_TEST_CASE(whole_exchange_fed_one_byte_at_a_time) {
  Opened opened;
  auto& session = opened.session;
  const std::string script =
      server_header + "<handshake/>" +
      "<message from='a@b' to='x@irc.example.org'><body>hi</body></message>" + close_tag;
  Events all;
  for (const char c : script) {
    const auto events = describe(session.receive(std::string(1, c)));
    all.insert(all.end(), events.begin(), events.end());
  }
  BOOST_TEST(all == (Events{"write " + handshake, "authenticated",
                            "stanza <message from='a@b' to='x@irc.example.org'><body>hi</body>"
                            "</message>",
                            "write " + close_tag, "closed peer_closed"}));
  BOOST_TEST((session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(handshake_success_makes_the_session_ready) {
  Authenticating auth;
  BOOST_TEST(describe(auth.session.receive("<handshake/>")) == Events{"authenticated"});
  BOOST_TEST((auth.session.state() == State::ready));
  // An empty element with an end tag is the same answer.
  Authenticating other;
  BOOST_TEST(describe(other.session.receive("<handshake></handshake>")) == Events{"authenticated"});
}

BOOST_AUTO_TEST_CASE(stanzas_are_delivered_once_ready) {
  Ready ready;
  const auto events = ready.session.receive(
      "<message from='a@b' to='x@irc.example.org' type='chat'><body>1 &amp; 2</body></message>"
      "<presence from='a@b/r' to='x@irc.example.org'/>\n "
      "<iq type='get' id='q1' from='a@b/r' to='irc.example.org'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  BOOST_TEST(describe(events) ==
             (Events{"stanza <message from='a@b' to='x@irc.example.org' type='chat'><body>1 &amp; "
                     "2</body></message>",
                     "stanza <presence from='a@b/r' to='x@irc.example.org'/>",
                     "stanza <iq type='get' id='q1' from='a@b/r' to='irc.example.org'><query "
                     "xmlns='http://jabber.org/protocol/disco#info'/></iq>"}));
  BOOST_TEST_REQUIRE(events.size() == 3u);
  BOOST_TEST(events[0].stanza.child_text("body") == "1 & 2");
  BOOST_TEST(events[0].stanza.xmlns() == std::string(ns::component));
  BOOST_TEST((ready.session.state() == State::ready));
}

BOOST_AUTO_TEST_CASE(whitespace_keepalives_produce_nothing) {
  Ready ready;
  BOOST_TEST(ready.session.receive(" \n\t ").empty());
  BOOST_TEST((ready.session.state() == State::ready));
}

BOOST_AUTO_TEST_CASE(stanza_before_authentication_is_a_stream_error) {
  Authenticating auth;
  const auto events = auth.session.receive("<message from='a@b'><body>early</body></message>");
  BOOST_TEST(describe(events) ==
             (Events{"write " + error_bytes("not-authorized", "stanza before handshake"),
                     "closed stream_error_sent not-authorized"}));
  BOOST_TEST((auth.session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(stanza_in_the_same_chunk_as_the_header) {
  Opened opened;
  const auto events = opened.session.receive(server_header + "<presence/>");
  BOOST_TEST(describe(events) ==
             (Events{"write " + handshake,
                     "write " + error_bytes("not-authorized", "stanza before handshake"),
                     "closed stream_error_sent not-authorized"}));
}

BOOST_AUTO_TEST_CASE(header_without_id_is_refused) {
  Opened opened;
  const auto events = describe(
      opened.session.receive("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                             "xmlns='jabber:component:accept' from='irc.example.org'>"));
  BOOST_TEST(events == (Events{"write " + error_bytes("invalid-xml", "stream header without id"),
                               "closed stream_error_sent invalid-xml"}));
  BOOST_TEST((opened.session.state() == State::closed));
  BOOST_TEST(opened.session.stream_id().empty());
}

BOOST_AUTO_TEST_CASE(header_with_empty_id_is_refused) {
  Opened opened;
  const auto events = describe(
      opened.session.receive("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                             "xmlns='jabber:component:accept' id=''>"));
  BOOST_TEST(events == (Events{"write " + error_bytes("invalid-xml", "stream header without id"),
                               "closed stream_error_sent invalid-xml"}));
}

BOOST_AUTO_TEST_CASE(header_in_another_content_namespace_is_refused) {
  // A client-to-server port answers in jabber:client: say so rather than
  // send a handshake that can only fail as "authentication failed".
  Opened opened;
  const auto events =
      opened.session.receive("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                             "xmlns='jabber:client' id='c2s1'>");
  const auto closed = closed_event(events);
  BOOST_TEST((closed.reason == CloseReason::stream_error_sent));
  BOOST_TEST((closed.error.condition == StreamCondition::invalid_namespace));
  BOOST_TEST_REQUIRE(!events.empty());
  BOOST_TEST(events[0].bytes.find("<invalid-namespace ") != std::string::npos);
  BOOST_TEST(events[0].bytes.find("handshake") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(header_in_the_wrong_stream_namespace_is_refused) {
  Opened opened;
  const auto events = describe(opened.session.receive(
      "<stream:stream xmlns:stream='urn:wrong' xmlns='jabber:component:accept' id='c2s1'>"));
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].find("<invalid-namespace ") != std::string::npos);
  BOOST_TEST(events[1] == "closed stream_error_sent invalid-namespace");
}

BOOST_AUTO_TEST_CASE(root_other_than_stream_is_refused) {
  Opened opened;
  const auto events = describe(opened.session.receive(
      "<stream:foo xmlns:stream='http://etherx.jabber.org/streams' id='c2s1'>"));
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1] == "closed stream_error_sent bad-format");
}

BOOST_AUTO_TEST_CASE(not_authorized_answer_is_an_authentication_failure) {
  Authenticating auth;
  const auto events =
      auth.session.receive("<stream:error><not-authorized "
                           "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
  BOOST_TEST(describe(events) ==
             (Events{"write " + close_tag, "closed auth_failed not-authorized"}));
  BOOST_TEST((auth.session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(error_and_closing_tag_in_one_chunk_close_once) {
  // Servers write the error and their closing tag together; the closing tag
  // must not produce a second close (which would hide the real reason).
  Authenticating auth;
  const auto events = auth.session.receive(
      "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad secret</text></stream:error>" +
      close_tag);
  BOOST_TEST(describe(events) ==
             (Events{"write " + close_tag, "closed auth_failed not-authorized"}));
  const auto closed = closed_event(events);
  BOOST_TEST(closed.error.text == "bad secret");
}

BOOST_AUTO_TEST_CASE(any_stream_error_before_authentication_is_an_authentication_failure) {
  Authenticating auth;
  const auto events = describe(auth.session.receive(
      "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>" +
      close_tag));
  BOOST_TEST(events == (Events{"write " + close_tag, "closed auth_failed host-unknown"}));
}

BOOST_AUTO_TEST_CASE(stream_error_when_ready) {
  Ready ready;
  const auto events = ready.session.receive(
      "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>replaced</text></stream:error>" +
      close_tag);
  BOOST_TEST(describe(events) ==
             (Events{"write " + close_tag, "closed stream_error_received conflict"}));
  BOOST_TEST(closed_event(events).error.text == "replaced");
  BOOST_TEST((ready.session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(unknown_stream_error_condition) {
  Ready ready;
  const auto events = describe(ready.session.receive(
      "<stream:error><x-new xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"));
  BOOST_TEST(events ==
             (Events{"write " + close_tag, "closed stream_error_received undefined-condition"}));
}

BOOST_AUTO_TEST_CASE(peer_closes_a_ready_stream) {
  Ready ready;
  const auto events = ready.session.receive(close_tag);
  BOOST_TEST(describe(events) == (Events{"write " + close_tag, "closed peer_closed"}));
  BOOST_TEST(!closed_event(events).has_error);
  BOOST_TEST((ready.session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(peer_closes_before_answering_the_handshake) {
  Authenticating auth;
  BOOST_TEST(describe(auth.session.receive(close_tag)) ==
             (Events{"write " + close_tag, "closed auth_failed"}));
}

BOOST_AUTO_TEST_CASE(local_close_waits_for_the_server) {
  Ready ready;
  auto& session = ready.session;
  BOOST_TEST(describe(session.close()) == Events{"write " + close_tag});
  BOOST_TEST((session.state() == State::closing));
  // Closing again writes nothing more.
  BOOST_TEST(session.close().empty());
  // What the server still sends is delivered (RFC 6120 4.4).
  BOOST_TEST(describe(session.receive("<message from='a@b'><body>late</body></message>")) ==
             Events{"stanza <message from='a@b'><body>late</body></message>"});
  BOOST_TEST((session.state() == State::closing));
  const auto events = session.receive(close_tag);
  BOOST_TEST(describe(events) == Events{"closed local_close"});
  BOOST_TEST(!closed_event(events).has_error);
  BOOST_TEST((session.state() == State::closed));
  BOOST_TEST(session.close().empty());
  BOOST_TEST(session.receive("<presence/>").empty());
}

BOOST_AUTO_TEST_CASE(nothing_is_written_after_our_closing_tag) {
  // RFC 6120 4.4: once our closing tag is out, no stream error may follow
  // it, whatever the server does.
  {
    Ready ready;
    ready.session.close();
    const auto events = ready.session.receive("<message><body></message>");
    BOOST_TEST(describe(events) == Events{"closed local_close not-well-formed"});
  }
  {
    Ready ready;
    ready.session.close();
    BOOST_TEST(describe(ready.session.receive("<foo/>")) ==
               Events{"closed local_close unsupported-stanza-type"});
  }
  {
    Ready ready;
    ready.session.close();
    BOOST_TEST(describe(ready.session.receive("<stream:error><system-shutdown "
                                              "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                                              "</stream:error>" +
                                              close_tag)) ==
               Events{"closed stream_error_received system-shutdown"});
  }
}

BOOST_AUTO_TEST_CASE(close_before_the_server_header) {
  Opened opened;
  auto& session = opened.session;
  BOOST_TEST(describe(session.close()) == Events{"write " + close_tag});
  BOOST_TEST((session.state() == State::closing));
  // The server's header still arrives: no handshake, no error; just wait.
  BOOST_TEST(session.receive(server_header).empty());
  BOOST_TEST((session.state() == State::closing));
  BOOST_TEST(describe(session.receive(close_tag)) == Events{"closed local_close"});
}

BOOST_AUTO_TEST_CASE(close_while_authenticating) {
  Authenticating auth;
  auto& session = auth.session;
  BOOST_TEST(describe(session.close()) == Events{"write " + close_tag});
  // The answer to the handshake we already sent is not a protocol error.
  BOOST_TEST(session.receive("<handshake/>").empty());
  BOOST_TEST((session.state() == State::closing));
  BOOST_TEST(describe(session.receive(close_tag)) == Events{"closed local_close"});
}

BOOST_AUTO_TEST_CASE(malformed_xml_is_not_well_formed) {
  const auto events = ready_then("<message><body>x</message>");
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].starts_with(
      "write <error xmlns='http://etherx.jabber.org/streams'><not-well-formed "
      "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"));
  BOOST_TEST(events[0].ends_with("</error>" + close_tag));
  BOOST_TEST(events[1] == "closed stream_error_sent not-well-formed");
}

BOOST_AUTO_TEST_CASE(malformed_server_header_is_not_well_formed) {
  Opened opened;
  // A repeated attribute is a well-formedness error (XML 1.0 section 3.1).
  const auto events = describe(opened.session.receive(
      "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='a' id='b'>"));
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1] == "closed stream_error_sent not-well-formed");
  BOOST_TEST((opened.session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(restricted_xml_is_refused) {
  for (const std::string bad :
       {"<!-- comment -->", "<?pi data?>", "<message><body>&ent;</body></message>"}) {
    BOOST_TEST_CONTEXT(bad) {
      const auto events = ready_then(bad);
      BOOST_TEST_REQUIRE(events.size() == 2u);
      BOOST_TEST(events[0].find("<restricted-xml ") != std::string::npos);
      BOOST_TEST(events[1] == "closed stream_error_sent restricted-xml");
    }
  }
}

BOOST_AUTO_TEST_CASE(character_data_at_stream_level_is_bad_format) {
  const auto events = ready_then("hello<presence/>");
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1] == "closed stream_error_sent bad-format");
}

BOOST_AUTO_TEST_CASE(unknown_top_level_element_is_unsupported) {
  BOOST_TEST(ready_then("<foo xmlns='urn:x'/>") ==
             (Events{"write " + error_bytes("unsupported-stanza-type", "unexpected &lt;foo/&gt;"),
                     "closed stream_error_sent unsupported-stanza-type"}));
  // A second handshake answer on a ready stream is just as unexpected.
  BOOST_TEST(
      ready_then("<handshake/>") ==
      (Events{"write " + error_bytes("unsupported-stanza-type", "unexpected &lt;handshake/&gt;"),
              "closed stream_error_sent unsupported-stanza-type"}));
}

BOOST_AUTO_TEST_CASE(oversized_stanza_is_a_policy_violation) {
  // The server header charges about 100 bytes; a small stanza about 60.
  XmlLimits limits;
  limits.max_stanza_bytes = 128;
  // Below the limit passes...
  {
    Ready ready(limits);
    BOOST_TEST(ready.session.receive("<message><body>short</body></message>").size() == 1u);
  }
  // ...above it is refused.
  const auto events =
      ready_then("<message><body>" + std::string(200, 'x') + "</body></message>", limits);
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].find("<policy-violation ") != std::string::npos);
  BOOST_TEST(events[1] == "closed stream_error_sent policy-violation");
}

BOOST_AUTO_TEST_CASE(too_deep_stanza_is_a_policy_violation) {
  XmlLimits limits;
  limits.max_depth = 3;
  const auto events = ready_then("<message><a><b><c><d/></c></b></a></message>", limits);
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1] == "closed stream_error_sent policy-violation");
}

BOOST_AUTO_TEST_CASE(too_many_attributes_is_a_policy_violation) {
  XmlLimits limits;
  limits.max_attributes = 2;
  const auto events = ready_then("<message a='1' b='2' c='3'/>", limits);
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1] == "closed stream_error_sent policy-violation");
}

BOOST_AUTO_TEST_CASE(limits_apply_before_authentication) {
  XmlLimits limits;
  limits.max_stanza_bytes = 128;
  Authenticating auth(limits);
  const auto events = describe(auth.session.receive("<handshake>" + std::string(200, 'y')));
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1] == "closed stream_error_sent policy-violation");
}

BOOST_AUTO_TEST_CASE(input_after_close_is_ignored) {
  Ready ready;
  ready.session.receive(close_tag);
  BOOST_TEST(ready.session.receive("<message/>").empty());
  BOOST_TEST(ready.session.receive("garbage <<<").empty());
  BOOST_TEST((ready.session.state() == State::closed));
}

BOOST_AUTO_TEST_CASE(error_output_is_well_formed_for_a_server) {
  // Our header, handshake, a refused stanza's error and the closing tag, read
  // back by a parser: the server sees one stream error and the end.
  Opened opened;
  std::string wire = client_header;
  for (const auto& event : opened.session.receive(server_header + "<handshake/><foo/>")) {
    if (event.kind == SessionEvent::Kind::write) {
      wire += event.bytes;
    }
  }
  ServerView view;
  XmlStreamParser parser(view);
  BOOST_TEST_REQUIRE(parser.feed(wire));
  BOOST_TEST(view.headers == 1);
  BOOST_TEST_REQUIRE(view.stanzas.size() == 2u);
  BOOST_TEST(view.stanzas[0].name() == "handshake");
  BOOST_TEST(view.stanzas[1].name() == "error");
  BOOST_TEST(view.stanzas[1].xmlns() == std::string(ns::streams));
  BOOST_TEST((stream_error_from_element(view.stanzas[1]).condition ==
              StreamCondition::unsupported_stanza_type));
  BOOST_TEST(view.closed);
}

BOOST_AUTO_TEST_CASE(encode_writes_component_stanzas) {
  Ready ready;
  Element message("message");
  message.set_attr("from", "#chan%irc.example.net@irc.example.org/nick");
  message.set_attr("to", "user@example.org");
  message.set_attr("type", "groupchat");
  message.append("body").append_text("<b> & 'q'");
  message.append("request", std::string(ns::receipts));
  BOOST_TEST(ready.session.encode(message) ==
             "<message from='#chan%irc.example.net@irc.example.org/nick' to='user@example.org' "
             "type='groupchat'><body>&lt;b&gt; &amp; &apos;q&apos;</body><request "
             "xmlns='urn:xmpp:receipts'/></message>");
  // A stanza read from the stream is already in the component namespace and
  // encodes back to the same markup.
  const std::string markup = "<iq type='result' id='a&amp;b' to='x@y'/>";
  const auto events = ready.session.receive(markup);
  BOOST_TEST_REQUIRE(events.size() == 1u);
  BOOST_TEST(ready.session.encode(events[0].stanza) == markup);
  // A stanza from another content namespace keeps it.
  BOOST_TEST(ready.session.encode(Element("message", "jabber:client")) ==
             "<message xmlns='jabber:client'/>");
}

BOOST_AUTO_TEST_CASE(open_again_starts_a_fresh_stream) {
  Ready ready;
  auto& session = ready.session;
  session.receive(close_tag);
  BOOST_TEST((session.state() == State::closed));
  BOOST_TEST(describe(session.open()) == Events{"write " + client_header});
  BOOST_TEST((session.state() == State::waiting_for_stream_start));
  BOOST_TEST(session.stream_id().empty());
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                             "xmlns='jabber:component:accept' id='3BF96D75'>";
  ComponentSession other(domain, "sekrit");
  other.open();
  BOOST_TEST(describe(other.receive(header)) ==
             Events{"write <handshake>0c0203136d588264990658bb30ed18dd44a644d7</handshake>"});
  BOOST_TEST(describe(session.receive(header)).size() == 1u);
  BOOST_TEST(session.stream_id() == "3BF96D75");
  BOOST_TEST(describe(session.receive("<handshake/>")) == Events{"authenticated"});
}

BOOST_AUTO_TEST_CASE(close_reason_names) {
  BOOST_TEST(to_string(CloseReason::auth_failed) == "authentication failed");
  BOOST_TEST(to_string(CloseReason::stream_error_received) == "stream error from server");
  BOOST_TEST(to_string(CloseReason::stream_error_sent) == "stream error sent");
  BOOST_TEST(to_string(CloseReason::peer_closed) == "closed by server");
  BOOST_TEST(to_string(CloseReason::local_close) == "closed");
}

BOOST_AUTO_TEST_SUITE_END()
