// Fuzz target for the IRC and email address codecs: every parse either fails
// with a reason or gives an address whose typed form and JID localpart parse
// back to the same address. The SMS number normaliser has fuzz_phone_number.
#include "email_address.hpp"
#include "irc_address.hpp"
#include "jid.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace irc = trestle::irc;
namespace smtp = trestle::smtp;
using trestle::xmpp::Jid;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_addresses: %s\n", what);
    std::abort();
  }
}

/// Characters XEP-0106 must have escaped out of a localpart.
bool has_unescaped_character(std::string_view localpart) {
  return localpart.find_first_of(" \"&'/:<>@") != std::string_view::npos;
}

/// A parse result's invariants and round trips, or its reason when it failed.
void check_irc_address(const std::optional<irc::IrcAddress>& address, const std::string& error,
                       const irc::AddressRules& rules) {
  if (!address) {
    check(!error.empty(), "irc: rejected without a reason");
    return;
  }
  check(address->name.find_first_of(std::string_view("\r\n\0 ,", 5)) == std::string::npos,
        "irc: a name holds a line break, NUL, space or comma");
  check((address->kind == irc::AddressKind::server) == address->name.empty(),
        "irc: only a server has no name");
  check(rules.fixed_server.empty() || address->server == rules.fixed_server,
        "irc: fixed-server mode gave another server");

  const auto typed = irc::parse_typed_address(irc::to_typed(*address, rules), rules);
  check(typed && *typed == *address, "irc: to_typed() does not parse back");
  const std::string localpart = irc::to_localpart(*address, rules);
  check(!has_unescaped_character(localpart), "irc: localpart left a character unescaped");
  const auto from_localpart = irc::parse_localpart(localpart, rules);
  check(from_localpart && *from_localpart == *address, "irc: to_localpart() does not parse back");
  // The adapter's next step; nodeprep may refuse, but must not crash.
  (void)Jid::from_parts(localpart, "irc.example.org");
}

void check_irc(std::string_view input) {
  irc::AddressRules multi;
  irc::AddressRules fixed;
  fixed.fixed_server = "irc.example.net";
  irc::AddressRules hash_only;
  hash_only.channel_prefixes = "#";
  for (const auto* rules : {&multi, &fixed, &hash_only}) {
    std::string error;
    check_irc_address(irc::parse_typed_address(input, *rules, &error), error, *rules);
    error.clear();
    check_irc_address(irc::parse_localpart(input, *rules, &error), error, *rules);
  }
}

void check_email_address(const std::optional<smtp::EmailAddress>& address,
                         const std::string& error) {
  if (!address) {
    check(!error.empty(), "email: rejected without a reason");
    return;
  }
  check(!address->local.empty() && address->local.size() <= 64, "email: local part length");
  check(!address->domain.empty() && address->domain.size() <= 255, "email: domain length");
  const auto typed = smtp::parse_email_address(address->to_string());
  check(typed && *typed == *address, "email: to_string() does not parse back");
  const std::string localpart = smtp::to_localpart(*address);
  check(!has_unescaped_character(localpart), "email: localpart left a character unescaped");
  const auto from_localpart = smtp::parse_localpart(localpart);
  check(from_localpart && *from_localpart == *address, "email: to_localpart() does not parse back");
  check(typed->comparison_key() == address->comparison_key(), "email: unstable comparison key");
  (void)Jid::from_parts(localpart, "mail.example.org");
}

void check_email(std::string_view input) {
  std::string error;
  check_email_address(smtp::parse_email_address(input, &error), error);
  error.clear();
  check_email_address(smtp::parse_localpart(input, &error), error);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_irc(input);
  check_email(input);
  return 0;
}
