#pragma once

#include <string_view>

namespace trestle::xmpp {

/// True when `text` is well-formed UTF-8: no overlong forms, no surrogates,
/// nothing above U+10FFFF. libidn and XML must never see anything else.
bool is_valid_utf8(std::string_view text);

} // namespace trestle::xmpp
