// Fuzzes the XML stream parser: the input is parsed whole and in three
// chunks split where a hash of the input says (the events must agree, except
// that a chunked parse may still be waiting for input where a whole one
// already failed), both
// as given and after a valid stream header. Every stanza is serialized and
// re-parsed inside a fresh stream, and must come back identical.
#include "element.hpp"
#include "namespaces.hpp"
#include "xml_stream_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using trestle::xmpp::Element;
using trestle::xmpp::serialize;
using trestle::xmpp::StreamCondition;
using trestle::xmpp::XmlLimits;
using trestle::xmpp::XmlStreamParser;
namespace ns = trestle::xmpp::ns;

namespace {

const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                           "xmlns='jabber:component:accept' id='fuzz'>";

/// Events as text, plus the stanzas themselves for the round trip.
class Recorder : public XmlStreamParser::Handler {
public:
  void on_stream_open(const Element& open) override { events.push_back("open " + serialize(open)); }
  void on_stanza(Element stanza) override {
    events.push_back("stanza " + serialize(stanza));
    stanzas.push_back(std::move(stanza));
  }
  void on_stream_close() override { events.push_back("close"); }

  std::vector<std::string> events;
  std::vector<Element> stanzas;
};

struct Outcome {
  std::vector<std::string> events;
  std::vector<Element> stanzas;
  bool failed = false;
  StreamCondition condition = StreamCondition::undefined_condition;
};

/// Small limits so that the fuzzer reaches them.
XmlLimits small_limits() {
  XmlLimits limits;
  limits.max_stanza_bytes = 2048;
  limits.max_depth = 8;
  limits.max_attributes = 8;
  return limits;
}

Outcome run(const std::vector<std::string_view>& chunks) {
  Recorder recorder;
  XmlStreamParser parser(recorder, small_limits());
  Outcome outcome;
  for (const auto chunk : chunks) {
    if (!parser.feed(chunk)) {
      break;
    }
  }
  // A failed parser must stay failed.
  if (parser.error() && parser.feed("<x/>")) {
    std::abort();
  }
  outcome.events = std::move(recorder.events);
  outcome.stanzas = std::move(recorder.stanzas);
  if (parser.error()) {
    outcome.failed = true;
    outcome.condition = parser.error()->condition;
  }
  return outcome;
}

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

/// Serializes `stanza` in the component namespace and parses it back inside
/// a fresh stream; the result must serialize identically.
void check_round_trip(const Element& stanza) {
  const std::string once = serialize(stanza, ns::component);
  Recorder recorder;
  XmlStreamParser parser(recorder);
  if (!parser.feed(header) || !parser.feed(once)) {
    fail("serialized stanza does not parse", once + " (" + parser.error()->text + ")");
  }
  if (recorder.stanzas.size() != 1) {
    fail("serialized stanza is not one stanza", once);
  }
  const std::string twice = serialize(recorder.stanzas[0], ns::component);
  if (twice != once) {
    fail("round trip changed the stanza", once + " became " + twice);
  }
}

void check_stream(std::string_view input) {
  // FNV-1a picks the split points, so they move with the input.
  std::uint64_t hash = 1469598103934665603ULL;
  for (const char c : input) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  std::size_t first = hash % (input.size() + 1);
  std::size_t second = (hash >> 32) % (input.size() + 1);
  if (first > second) {
    std::swap(first, second);
  }
  const Outcome whole = run({input});
  const Outcome chunked =
      run({input.substr(0, first), input.substr(first, second - first), input.substr(second)});
  // Only the check on unfinished markup depends on where chunks end.
  const bool chunk_dependent =
      (whole.failed && whole.condition == StreamCondition::policy_violation) ||
      (chunked.failed && chunked.condition == StreamCondition::policy_violation);
  if (!chunk_dependent) {
    if (whole.failed == chunked.failed) {
      if (whole.events != chunked.events) {
        fail("chunking changed the events", std::string(input));
      }
      // The conditions may differ: where the input breaks several rules
      // close together, libxml2 meets whichever its chunking shows first
      // (for example text at stream level before a bad byte inside it).
    } else {
      // libxml2's push parser may wait for more input (for example inside
      // what it takes for a quoted value) before it sees an error that a
      // bigger chunk shows at once. The undecided parse must have seen a
      // prefix of the decided one's events, and nothing else.
      const Outcome& decided = whole.failed ? whole : chunked;
      const Outcome& pending = whole.failed ? chunked : whole;
      if (pending.events.size() > decided.events.size() ||
          !std::equal(pending.events.begin(), pending.events.end(), decided.events.begin())) {
        fail("chunking changed the events before the error", std::string(input));
      }
    }
  }
  for (const auto& stanza : whole.stanzas) {
    check_round_trip(stanza);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_stream(input);
  check_stream(header + std::string(input));
  return 0;
}
