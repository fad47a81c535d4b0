#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace trestle::xmpp {

/// Decodes the UTF-8 sequence at `at` (which must be inside `text`) and
/// moves `at` past it; a malformed sequence (overlong, surrogate, above
/// U+10FFFF, cut short) gives nullopt and moves `at` one byte on.
std::optional<char32_t> decode_utf8(std::string_view text, std::size_t& at);

/// True when `text` is well-formed UTF-8: no overlong forms, no surrogates,
/// nothing above U+10FFFF. libidn and XML must never see anything else.
bool is_valid_utf8(std::string_view text);

} // namespace trestle::xmpp
