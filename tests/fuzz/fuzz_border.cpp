// Fuzzes the border (gateway/border/border_crossing.cpp) with stanzas from the XML
// stream parser: every message goes through cross_border() for each
// network's abilities, sharing one small store of recent messages, so that
// corrections, reactions and replies meet each other. Checks: a passed
// message carries none of the features that were translated to text, has
// something to carry (text, a subject, an invitation) and its body is valid
// UTF-8; a refused one says why; notices have text; the store stays within
// its bound.
#include "border_crossing.hpp"
#include "element.hpp"
#include "network_abilities.hpp"
#include "recent_messages.hpp"
#include "utf8.hpp"
#include "xml_stream_parser.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using trestle::gateway::Carry;
using trestle::gateway::cross_border;
using trestle::gateway::Crossing;
using trestle::gateway::NetworkAbilities;
using trestle::gateway::RecentMessages;
using trestle::xmpp::Element;
using trestle::xmpp::XmlStreamParser;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_border: %s\n", what);
    std::abort();
  }
}

class Collector : public XmlStreamParser::Handler {
public:
  void on_stream_open(const Element&) override {}
  void on_stanza(Element stanza) override { stanzas.push_back(std::move(stanza)); }
  void on_stream_close() override {}
  std::vector<Element> stanzas;
};

const std::array<NetworkAbilities, 3> networks = {{
    {.network = "IRC", .correction_marker = "* ", .actions = true},
    {.network = "email", .correction_marker = "Correction of my last message:\n\n"},
    {.network = "SMS",
     .corrections = Carry::refused,
     .reactions = Carry::refused,
     .retractions = Carry::native},
}};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Collector collector;
  XmlStreamParser parser(collector);
  if (!parser.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                   "xmlns='jabber:component:accept'>")) {
    return 0;
  }
  (void)parser.feed(input);
  RecentMessages recent(8);
  for (const auto& stanza : collector.stanzas) {
    if (stanza.name() != "message") {
      continue;
    }
    recent.remember("bob@example.org", stanza);
    for (const auto& abilities : networks) {
      const auto crossing = cross_border(stanza, abilities, recent, "alice@example.org");
      check(recent.size() <= 8, "the store grew past its bound");
      for (const auto& notice : crossing.notices) {
        check(!notice.topic.empty() && !notice.text.empty(), "an empty notice");
      }
      if (crossing.verdict == Crossing::Verdict::refuse) {
        check(!crossing.error_text.empty(), "a refusal without a reason");
        continue;
      }
      if (crossing.verdict == Crossing::Verdict::drop) {
        continue;
      }
      const auto& out = crossing.message;
      check(out.find("html", "http://jabber.org/protocol/xhtml-im") == nullptr, "XHTML-IM passed");
      check(out.find("x", "jabber:x:oob") == nullptr, "out-of-band data passed");
      check(out.find("reactions", "urn:xmpp:reactions:0") == nullptr ||
                abilities.reactions == Carry::native,
            "a reaction passed untranslated");
      check(out.find("retract", "urn:xmpp:message-retract:1") == nullptr ||
                abilities.retractions == Carry::native,
            "a retraction passed");
      check(out.find("replace", "urn:xmpp:message-correct:0") == nullptr ||
                abilities.corrections == Carry::native,
            "a correction passed untranslated");
      const auto* apply_to = out.find("apply-to", "urn:xmpp:fasten:0");
      check(apply_to == nullptr ||
                apply_to->find("retract", "urn:xmpp:message-retract:0") == nullptr ||
                abilities.retractions == Carry::native,
            "a XEP-0422 retraction passed");
      check(!out.child_text("body").empty() || out.find("subject") != nullptr ||
                out.find("x", "jabber:x:conference") != nullptr ||
                out.find("x", "http://jabber.org/protocol/muc#user") != nullptr,
            "a message without content passed");
      check(trestle::xmpp::is_valid_utf8(out.child_text("body")), "a body that is not UTF-8");
    }
  }
  return 0;
}
