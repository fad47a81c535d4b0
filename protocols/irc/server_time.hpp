#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace trestle::irc {

/// Parses an IRCv3 `server-time` tag value: `YYYY-MM-DDThh:mm:ss[.fraction]Z`
/// (UTC only, as the specification requires), years 1970 to 2200. Nullopt
/// for anything else, so a hostile or broken server's value is ignored.
std::optional<std::chrono::system_clock::time_point> parse_server_time(std::string_view text);

/// Writes a time as an XEP-0082 timestamp in UTC with milliseconds
/// (`2026-11-24T18:05:09.123Z`).
std::string xep0082_stamp(std::chrono::system_clock::time_point time);

/// The XEP-0203 delay stamp for a message with this server-time, or "" when
/// the message is live. A message the server stamped more than `live_within`
/// before `now` is a delayed one (a bouncer's playback, a server's history on
/// join) and keeps its time; a live one gets no stamp, so clients do not file
/// it as history.
std::string delay_stamp(std::string_view server_time, std::chrono::system_clock::time_point now,
                        std::chrono::seconds live_within = std::chrono::seconds(30));

} // namespace trestle::irc
