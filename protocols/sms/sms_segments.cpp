#include "sms_segments.hpp"

#include "utf8.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace trestle::sms {

namespace {

/// The GSM 03.38 default alphabet, as Unicode code points, sorted.
constexpr auto basic_alphabet = [] {
  std::array<char32_t, 128> table = {
      U'@',      U'\u00a3', U'$',      U'\u00a5', U'\u00e8', U'\u00e9', U'\u00f9', U'\u00ec',
      U'\u00f2', U'\u00c7', U'\n',     U'\u00d8', U'\u00f8', U'\r',     U'\u00c5', U'\u00e5',
      U'\u0394', U'_',      U'\u03a6', U'\u0393', U'\u039b', U'\u03a9', U'\u03a0', U'\u03a8',
      U'\u03a3', U'\u0398', U'\u039e', U'\u00a0', U'\u00c6', U'\u00e6', U'\u00df', U'\u00c9',
      U' ',      U'!',      U'"',      U'#',      U'\u00a4', U'%',      U'&',      U'\'',
      U'(',      U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',
      U'0',      U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',
      U'8',      U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',
      U'\u00a1', U'A',      U'B',      U'C',      U'D',      U'E',      U'F',      U'G',
      U'H',      U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',
      U'P',      U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',
      U'X',      U'Y',      U'Z',      U'\u00c4', U'\u00d6', U'\u00d1', U'\u00dc', U'\u00a7',
      U'\u00bf', U'a',      U'b',      U'c',      U'd',      U'e',      U'f',      U'g',
      U'h',      U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',
      U'p',      U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',
      U'x',      U'y',      U'z',      U'\u00e4', U'\u00f6', U'\u00f1', U'\u00fc', U'\u00e0',
  };
  std::sort(table.begin(), table.end());
  return table;
}();

/// The extension table (each character is ESC plus one septet), sorted.
constexpr std::array<char32_t, 10> extension_alphabet = {U'\f', U'[', U'\\', U']', U'^',
                                                         U'{',  U'|', U'}',  U'~', U'\u20ac'};

/// Position 0x1b of the basic table is ESC, which stands for no character;
/// U+00A0 holds its place in `basic_alphabet` and is not GSM.
bool in_basic(char32_t c) {
  return c != U'\u00a0' && std::binary_search(basic_alphabet.begin(), basic_alphabet.end(), c);
}

bool in_extension(char32_t c) {
  return std::binary_search(extension_alphabet.begin(), extension_alphabet.end(), c);
}

/// Parts needed for characters of the given widths: one part up to
/// `single`, else parts of `part` units that never split a character.
template <typename Widths>
std::size_t parts(const Widths& widths, std::size_t total, std::size_t single, std::size_t part) {
  if (total <= single) {
    return 1;
  }
  std::size_t count = 1;
  std::size_t used = 0;
  for (const std::size_t width : widths) {
    if (used + width > part) {
      ++count;
      used = 0;
    }
    used += width;
  }
  return count;
}

} // namespace

SegmentCount count_segments(std::string_view text) {
  std::basic_string<std::uint8_t> septets;
  std::basic_string<std::uint8_t> units;
  bool gsm = true;
  for (std::size_t at = 0; at < text.size();) {
    const char32_t c = xmpp::decode_utf8(text, at).value_or(U'\ufffd');
    units.push_back(c > 0xffff ? 2 : 1);
    if (gsm) {
      if (in_basic(c)) {
        septets.push_back(1);
      } else if (in_extension(c)) {
        septets.push_back(2);
      } else {
        gsm = false;
      }
    }
  }
  SegmentCount count;
  if (gsm) {
    count.encoding = SmsEncoding::gsm7;
    for (const auto width : septets) {
      count.units += width;
    }
    count.segments = parts(septets, count.units, 160, 153);
  } else {
    count.encoding = SmsEncoding::ucs2;
    for (const auto width : units) {
      count.units += width;
    }
    count.segments = parts(units, count.units, 70, 67);
  }
  return count;
}

} // namespace trestle::sms
