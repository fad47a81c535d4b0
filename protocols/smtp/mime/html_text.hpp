#pragma once

#include <string>
#include <string_view>

namespace trestle::smtp {

/// Turns an HTML document or fragment (UTF-8) into readable plain text:
/// scripts, styles and the head are dropped, blocks and `<br>` become line
/// breaks, list items get a "- " mark, links keep their target as
/// "text (url)" when it differs from the text, entities are decoded and
/// runs of blank lines are folded. The result is valid UTF-8.
std::string html_to_text(std::string_view html);

} // namespace trestle::smtp
