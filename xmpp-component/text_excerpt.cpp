#include "text_excerpt.hpp"

#include "utf8.hpp"

namespace trestle::xmpp {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";
constexpr std::string_view ellipsis = "\xE2\x80\xA6";

} // namespace

std::string one_line(std::string_view text, std::size_t max_bytes) {
  std::string out;
  std::size_t keep = 0; // the longest prefix that leaves room for the ellipsis
  bool space = false;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = at;
    const auto c = xmpp::decode_utf8(text, at);
    std::string_view piece = text.substr(start, at - start);
    if (!c || *c == 0xFFFE || *c == 0xFFFF) {
      piece = replacement;
    } else if (*c <= 0x20 || *c == 0x7F) {
      space = !out.empty();
      continue;
    }
    if (out.size() + (space ? 1 : 0) + piece.size() > max_bytes) {
      out.resize(keep);
      if (out.size() + ellipsis.size() <= max_bytes) {
        out += ellipsis;
      }
      return out;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += piece;
    if (out.size() + ellipsis.size() <= max_bytes) {
      keep = out.size();
    }
  }
  return out;
}

} // namespace trestle::xmpp
