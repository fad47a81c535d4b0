#pragma once

#include <string>
#include <string_view>

/// JID escaping (XEP-0106): carries characters a localpart cannot hold.
namespace trestle::xmpp::xep0106 {

/// Escapes space and `" & ' / : < > @ \` as `\20`…`\5c` (a backslash is
/// escaped only where it would start an escape sequence).
std::string escape(std::string_view unescaped);
/// Reverses escape(); sequences that are not escapes are kept as they are.
std::string unescape(std::string_view escaped);

} // namespace trestle::xmpp::xep0106
