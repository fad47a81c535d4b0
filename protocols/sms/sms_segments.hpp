#pragma once

#include <cstddef>
#include <string_view>

namespace trestle::sms {

/// How a text travels over SMS.
enum class SmsEncoding {
  /// The GSM 03.38 default alphabet, 7 bits a character; the extension
  /// table's characters (`^ { } \ [ ~ ] | €` and form feed) take two.
  gsm7,
  /// UCS-2 (UTF-16 code units), for anything outside the GSM alphabet;
  /// a character outside the BMP takes two units.
  ucs2,
};

/// The cost of a text as a handset counts it.
struct SegmentCount {
  SmsEncoding encoding = SmsEncoding::gsm7;
  /// Septets (GSM-7) or UTF-16 code units (UCS-2).
  std::size_t units = 0;
  /// Messages it is sent as: one for up to 160 septets or 70 units, else
  /// concatenated parts of 153 septets or 67 units each (the rest of each
  /// part is the concatenation header). An escape pair or a surrogate pair
  /// is never split between parts, as handsets do.
  std::size_t segments = 1;
};

/// Counts `text` (UTF-8; invalid bytes count as U+FFFD, which is UCS-2).
SegmentCount count_segments(std::string_view text);

} // namespace trestle::sms
