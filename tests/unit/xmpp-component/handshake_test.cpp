#include "component_session.hpp"
#include "element.hpp"
#include "handshake.hpp"
#include "namespaces.hpp"
#include "xml_stream_parser.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::xmpp::ComponentSession;
using trestle::xmpp::Element;
using trestle::xmpp::handshake_digest;
using trestle::xmpp::SessionEvent;
using trestle::xmpp::XmlStreamParser;
namespace ns = trestle::xmpp::ns;

namespace {

// Expected digests were computed outside this code base with
// `printf '%s%s' ID SECRET | sha1sum`, so a wrong implementation cannot
// agree with itself.

/// The raw (unescaped) text used in the markup vectors below.
const std::string special_id = "a&b<'\">";
const std::string special_secret = "s&<>'\"t";
/// sha1(special_id + special_secret).
const std::string special_digest = "9df53a11f9796100642e6dd5ea5831dbab8877ea";

/// Concatenates the bytes of every write event.
std::string written(const std::vector<SessionEvent>& events) {
  std::string out;
  for (const auto& event : events) {
    if (event.kind == SessionEvent::Kind::write) {
      out += event.bytes;
    }
  }
  return out;
}

/// Parses what the session wrote the way a server would.
class ServerView : public XmlStreamParser::Handler {
public:
  void on_stream_open(const Element& header) override { headers.push_back(header); }
  void on_stanza(Element stanza) override { stanzas.push_back(std::move(stanza)); }
  void on_stream_close() override { closed = true; }

  std::vector<Element> headers;
  std::vector<Element> stanzas;
  bool closed = false;
};

/// The handshake a session writes after receiving `server_header`.
std::string handshake_for(const std::string& server_header, const std::string& secret) {
  ComponentSession session("irc.example.org", secret);
  session.open();
  return written(session.receive(server_header));
}

} // namespace

BOOST_AUTO_TEST_SUITE(handshake)

BOOST_AUTO_TEST_CASE(known_vectors) {
  BOOST_TEST(handshake_digest("c2s1", "secret") == "570203225f5390164a409913404b2ae7d236b4e7");
  BOOST_TEST(handshake_digest("3BF96D75", "sekrit") == "0c0203136d588264990658bb30ed18dd44a644d7");
  BOOST_TEST(handshake_digest("st&r<m", "s3cret") == "804aa34beb65f133d69d04a06aaadee44210b63f");
}

BOOST_AUTO_TEST_CASE(empty_inputs) {
  BOOST_TEST(handshake_digest("", "") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

BOOST_AUTO_TEST_CASE(hashes_the_concatenation) {
  // FIPS 180 "abc": where the id ends and the secret begins does not matter.
  const std::string abc = "a9993e364706816aba3e25717850c26c9cd0d89d";
  BOOST_TEST(handshake_digest("abc", "") == abc);
  BOOST_TEST(handshake_digest("a", "bc") == abc);
  BOOST_TEST(handshake_digest("", "abc") == abc);
}

BOOST_AUTO_TEST_CASE(markup_characters_are_hashed_raw) {
  BOOST_TEST(handshake_digest(special_id, special_secret) == special_digest);
  // The escaped spelling is a different input and must give another digest.
  BOOST_TEST(handshake_digest("a&amp;b&lt;&apos;&quot;&gt;", special_secret) ==
             "f5477dbd82f9731ffd7d0728488a1bbbbbaea6be");
}

BOOST_AUTO_TEST_CASE(utf8_bytes) {
  // "ünï" + "κλειδί", as UTF-8 bytes.
  BOOST_TEST(
      handshake_digest("\xc3\xbcn\xc3\xaf", "\xce\xba\xce\xbb\xce\xb5\xce\xb9\xce\xb4\xce\xaf") ==
      "9e49830426b2e4a96c09ececb22f57aac86a5d91");
}

BOOST_AUTO_TEST_CASE(long_secret) {
  BOOST_TEST(handshake_digest("id-1", std::string(1000, 'x')) ==
             "438b037160cb0bb70b6daca3e5bcf0254bb912ce");
}

BOOST_AUTO_TEST_CASE(lowercase_hex_of_forty_digits) {
  const auto digest = handshake_digest("3BF96D75", "sekrit");
  BOOST_TEST(digest.size() == 40u);
  BOOST_TEST(digest.find_first_not_of("0123456789abcdef") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(session_hashes_the_unescaped_stream_id) {
  // The id arrives escaped in the header; the hash input is the parsed text.
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                             "xmlns='jabber:component:accept' from='irc.example.org' "
                             "id='a&amp;b&lt;&apos;&quot;&gt;'>";
  BOOST_TEST(handshake_for(header, special_secret) ==
             "<handshake>" + special_digest + "</handshake>");
}

BOOST_AUTO_TEST_CASE(session_unescapes_every_spelling_of_the_id) {
  // Double quotes and character references name the same raw id.
  const std::string double_quoted =
      "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns='jabber:component:accept' "
      "id=\"a&amp;b&lt;'&quot;&gt;\">";
  BOOST_TEST(handshake_for(double_quoted, special_secret) ==
             "<handshake>" + special_digest + "</handshake>");
  const std::string references = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                 "xmlns='jabber:component:accept' "
                                 "id='a&#38;b&#x3C;&#39;&#34;&#62;'>";
  BOOST_TEST(handshake_for(references, special_secret) ==
             "<handshake>" + special_digest + "</handshake>");
}

BOOST_AUTO_TEST_CASE(session_output_escapes_markup_and_round_trips) {
  // Domain and secret both carry every markup character: what the session
  // writes must stay well-formed, name the raw domain, and carry the digest of
  // the raw id and secret.
  const std::string domain = "c&<>'\"mp.example.org";
  ComponentSession session(domain, special_secret);
  std::string out = written(session.open());
  BOOST_TEST(out.find(domain) == std::string::npos);
  out += written(session.receive("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                 "xmlns='jabber:component:accept' "
                                 "id='a&amp;b&lt;&apos;&quot;&gt;'>"));
  BOOST_TEST(session.stream_id() == special_id);

  ServerView view;
  XmlStreamParser parser(view);
  BOOST_TEST_REQUIRE(parser.feed(out));
  BOOST_TEST_REQUIRE(view.headers.size() == 1u);
  BOOST_TEST(view.headers[0].attr_or("to") == domain);
  BOOST_TEST(view.headers[0].attr_or("xmlns") == std::string(ns::component));
  BOOST_TEST_REQUIRE(view.stanzas.size() == 1u);
  BOOST_TEST(view.stanzas[0].name() == "handshake");
  BOOST_TEST(view.stanzas[0].xmlns() == std::string(ns::component));
  BOOST_TEST(view.stanzas[0].text() == special_digest);
}

BOOST_AUTO_TEST_SUITE_END()
