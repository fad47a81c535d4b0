#include "server_time.hpp"

#include <cstdio>

namespace trestle::irc {

namespace {

/// Reads exactly `digits` decimal digits at `pos`; nullopt otherwise.
std::optional<int> number_at(std::string_view text, std::size_t pos, std::size_t digits) {
  if (pos + digits > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_server_time(std::string_view text) {
  using namespace std::chrono;
  // 2011-10-19T16:40:51.620Z: fixed positions up to the seconds.
  if (text.size() < 20 || text.size() > 40 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  const auto y = number_at(text, 0, 4);
  const auto mo = number_at(text, 5, 2);
  const auto d = number_at(text, 8, 2);
  const auto h = number_at(text, 11, 2);
  const auto mi = number_at(text, 14, 2);
  const auto s = number_at(text, 17, 2);
  // The years a system_clock time point holds (nanoseconds in 64 bits reach
  // 1677 to 2262), cut to a plausible range for a message's time.
  constexpr int first_year = 1970;
  constexpr int last_year = 2200;
  if (!y || !mo || !d || !h || !mi || !s || *y < first_year || *y > last_year || *h > 23 ||
      *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  // An optional fraction: '.' and 1 to 9 digits, kept to milliseconds.
  milliseconds fraction{0};
  const std::string_view rest = text.substr(19, text.size() - 20);
  if (!rest.empty()) {
    if (rest.size() < 2 || rest.size() > 10 || rest.front() != '.') {
      return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] < '0' || rest[i] > '9') {
        return std::nullopt;
      }
      if (i <= 3) {
        value = value * 10 + (rest[i] - '0');
      }
    }
    for (std::size_t i = rest.size(); i <= 3; ++i) {
      value *= 10; // ".6" is 600 ms
    }
    fraction = milliseconds(value);
  }
  // A leap second (:60) is read as the next second.
  return sys_days(date) + hours(*h) + minutes(*mi) + seconds(*s) + fraction;
}

std::string xep0082_stamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day_start = floor<days>(ms);
  const year_month_day date{day_start};
  const hh_mm_ss clock{ms - day_start};
  char text[64];
  std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

std::string delay_stamp(std::string_view server_time, std::chrono::system_clock::time_point now,
                        std::chrono::seconds live_within) {
  const auto time = parse_server_time(server_time);
  if (!time || *time >= now - live_within) {
    return {};
  }
  return xep0082_stamp(*time);
}

} // namespace trestle::irc
