// Fuzz target for JID parsing and XEP-0106 escaping: every JID that parses
// must come back unchanged from its own to_string(), and escaping must be
// reversible.
#include "jid.hpp"
#include "xep0106.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using trestle::xmpp::BareJidHash;
using trestle::xmpp::Jid;
using trestle::xmpp::JidHash;
namespace xep0106 = trestle::xmpp::xep0106;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_jid: %s\n", what);
    std::abort();
  }
}

void check_jid(std::string_view input) {
  std::string error;
  const auto jid = Jid::parse(input, &error);
  if (!jid) {
    check(!error.empty(), "rejected without a reason");
    return;
  }
  const std::string text = jid->to_string();
  const auto again = Jid::parse(text);
  check(again.has_value(), "to_string() does not parse");
  check(*again == *jid, "to_string() parses to a different JID");
  check(again->to_string() == text, "to_string() is not stable");
  check(JidHash{}(*again) == JidHash{}(*jid), "equal JIDs hash differently");

  const auto rebuilt = Jid::from_parts(jid->local(), jid->domain(), jid->resource());
  check(rebuilt.has_value() && *rebuilt == *jid, "from_parts() disagrees with parse()");

  const Jid bare = jid->bare();
  check(bare.is_bare() && bare.bare_equals(*jid), "bare() is not the bare form");
  check(BareJidHash{}(bare) == BareJidHash{}(*jid), "bare hash depends on the resource");
  check(bare.to_string() == jid->bare_string(), "bare_string() disagrees with bare()");
}

void check_escaping(std::string_view input) {
  const std::string escaped = xep0106::escape(input);
  // escape() drops outer spaces (XEP-0106 4.1: no leading or trailing \20);
  // everything else must come back.
  const auto first = input.find_first_not_of(' ');
  const std::string_view trimmed =
      first == std::string_view::npos
          ? std::string_view{}
          : input.substr(first, input.find_last_not_of(' ') - first + 1);
  check(xep0106::unescape(escaped) == trimmed, "unescape(escape(x)) != x");
  check(escaped.find_first_of(" \"&'/:<>@") == std::string::npos,
        "escape() left a disallowed character");
  check(!escaped.starts_with("\\20") && !escaped.ends_with("\\20"),
        "escape() produced an outer \\20");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_jid(input);
  check_escaping(input);
  return 0;
}
