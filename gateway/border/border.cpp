#include "border.hpp"

#include <array>
#include <string>
#include <utility>

namespace trestle::gateway {

namespace {

/// Payload elements of end-to-end encryption: (element, namespace, scheme).
struct Payload {
  std::string_view name;
  std::string_view xmlns;
  std::string_view scheme;
};

constexpr std::array<Payload, 5> payloads = {{
    {"encrypted", "eu.siacs.conversations.axolotl", "OMEMO"},
    {"encrypted", "urn:xmpp:omemo:1", "OMEMO"},
    {"encrypted", "urn:xmpp:omemo:2", "OMEMO 2"},
    {"openpgp", "urn:xmpp:openpgp:0", "OpenPGP for XMPP"},
    {"x", "jabber:x:encrypted", "legacy OpenPGP"},
}};

/// XEP-0380 namespaces and their names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> eme_schemes = {{
    {"eu.siacs.conversations.axolotl", "OMEMO"},
    {"urn:xmpp:omemo:1", "OMEMO"},
    {"urn:xmpp:omemo:2", "OMEMO 2"},
    {"urn:xmpp:openpgp:0", "OpenPGP for XMPP"},
    {"jabber:x:encrypted", "legacy OpenPGP"},
    {"urn:xmpp:otr:0", "OTR"},
}};

constexpr std::string_view eme_namespace = "urn:xmpp:eme:0";

} // namespace

std::optional<std::string_view> end_to_end_encryption(const xmpp::Element& message) {
  for (const auto& payload : payloads) {
    if (message.find(payload.name, payload.xmlns) != nullptr) {
      return payload.scheme;
    }
  }
  if (const auto* hint = message.find("encryption", eme_namespace)) {
    const auto xmlns = hint->attr_or("namespace");
    for (const auto& [name, scheme] : eme_schemes) {
      if (xmlns == name) {
        return scheme;
      }
    }
    return std::string_view("end-to-end encryption");
  }
  // OTR travels in the body: every OTR message starts "?OTR" (a query
  // "?OTR?" or "?OTRv23?", data "?OTR:", an error "?OTR Error:").
  if (const auto* body = message.find("body");
      body != nullptr && body->text().starts_with("?OTR")) {
    return std::string_view("OTR");
  }
  return std::nullopt;
}

std::string encrypted_refusal_text(std::string_view scheme, std::string_view network) {
  return "this message is end-to-end encrypted (" + std::string(scheme) +
         "); the gateway cannot read it, and " + std::string(network) +
         " could not keep it secret, so it was not sent. Turn encryption off for this chat "
         "to reach the other side.";
}

} // namespace trestle::gateway
