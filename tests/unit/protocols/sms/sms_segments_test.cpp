#include "sms_segments.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using trestle::sms::count_segments;
using trestle::sms::SmsEncoding;

namespace {

std::string repeat(const std::string& piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) {
    out += piece;
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sms_segments)

BOOST_AUTO_TEST_CASE(gsm7_single_and_concatenated) {
  BOOST_TEST(count_segments("").segments == 1u);
  const auto single = count_segments(repeat("a", 160));
  BOOST_TEST((single.encoding == SmsEncoding::gsm7));
  BOOST_TEST(single.units == 160u);
  BOOST_TEST(single.segments == 1u);
  BOOST_TEST(count_segments(repeat("a", 161)).segments == 2u);
  BOOST_TEST(count_segments(repeat("a", 306)).segments == 2u);
  BOOST_TEST(count_segments(repeat("a", 307)).segments == 3u);
}

BOOST_AUTO_TEST_CASE(gsm7_alphabet_includes_accents_and_greek) {
  const auto count = count_segments("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ ¤¡ÄÖÑÜ§¿äöñüà\r\n");
  BOOST_TEST((count.encoding == SmsEncoding::gsm7));
  BOOST_TEST(count.units == 45u);
}

BOOST_AUTO_TEST_CASE(extension_characters_take_two_septets_and_are_not_split) {
  const auto euro = count_segments(repeat("€", 80));
  BOOST_TEST((euro.encoding == SmsEncoding::gsm7));
  BOOST_TEST(euro.units == 160u);
  BOOST_TEST(euro.segments == 1u);
  BOOST_TEST(count_segments("{}[]~|^\\\f").units == 18u);
  // 152 septets, then an escape pair that does not fit in the first part.
  const auto split = count_segments(repeat("a", 152) + "€" + repeat("a", 10));
  BOOST_TEST(split.units == 164u);
  BOOST_TEST(split.segments == 2u);
  const auto pushed = count_segments(repeat("a", 152) + "€" + repeat("a", 151));
  BOOST_TEST(pushed.units == 305u);
  BOOST_TEST(pushed.segments == 2u); // 152 | 2 + 151
  BOOST_TEST(count_segments(repeat("a", 152) + "€" + repeat("a", 152)).segments == 3u);
}

BOOST_AUTO_TEST_CASE(ucs2_single_and_concatenated) {
  const auto single = count_segments(repeat("ж", 70));
  BOOST_TEST((single.encoding == SmsEncoding::ucs2));
  BOOST_TEST(single.units == 70u);
  BOOST_TEST(single.segments == 1u);
  BOOST_TEST(count_segments(repeat("ж", 71)).segments == 2u);
  BOOST_TEST(count_segments(repeat("ж", 134)).segments == 2u);
  BOOST_TEST(count_segments(repeat("ж", 135)).segments == 3u);
  // One character outside the alphabet makes the whole text UCS-2.
  BOOST_TEST((count_segments(repeat("a", 100) + "ç").encoding == SmsEncoding::ucs2));
  BOOST_TEST(count_segments(repeat("a", 100) + "ç").segments == 2u);
}

BOOST_AUTO_TEST_CASE(surrogate_pairs_take_two_units_and_are_not_split) {
  BOOST_TEST(count_segments("👍").units == 2u);
  BOOST_TEST(count_segments(repeat("👍", 35)).segments == 1u);
  // 66 units, then a pair that does not fit in the first part of 67.
  const auto split = count_segments(repeat("ж", 66) + "👍" + repeat("ж", 5));
  BOOST_TEST(split.units == 73u);
  BOOST_TEST(split.segments == 2u);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_counts_as_a_replacement_character) {
  const auto count = count_segments(std::string("ab\xff", 3));
  BOOST_TEST((count.encoding == SmsEncoding::ucs2));
  BOOST_TEST(count.units == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
