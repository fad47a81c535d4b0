#pragma once

#include "element.hpp"

#include <optional>
#include <string>
#include <string_view>

// What cannot cross the gateway: rules shared by every adapter.
namespace trestle::gateway {

/// The end-to-end encryption a message carries, by name ("OMEMO", "OMEMO 2",
/// "OpenPGP for XMPP", "legacy OpenPGP", "OTR"), or nullopt. Such a message
/// cannot be bridged: the gateway cannot read it, and its body is only a
/// fallback ("I sent you an OMEMO encrypted message…") that must never reach
/// a legacy network. An XEP-0380 `<encryption/>` hint counts too.
std::optional<std::string_view> end_to_end_encryption(const xmpp::Element& message);

/// The error text for a refused encrypted message of `scheme`, to `network`
/// ("IRC", "email", "SMS": NetworkAbilities::network).
std::string encrypted_refusal_text(std::string_view scheme, std::string_view network);

} // namespace trestle::gateway
