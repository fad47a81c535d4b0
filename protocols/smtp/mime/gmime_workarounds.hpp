#pragma once

// Work-arounds for what GMime 3.2.13 (Debian 12) gets wrong with hostile or
// merely unusual mail. Plain text in and out; private to smtp_lib.

#include <optional>
#include <string>
#include <string_view>

namespace trestle::smtp::gmime {

/// `raw` (a header value as it stands in the message) with each run of
/// adjacent B encoded words in one charset that has padding inside merged
/// into one word. GMime 3.2.13 (issue #133) decodes such a run as one
/// base64 stream and stops at the first padding, so that
/// `=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=` reads as "Hello"; Thunderbird
/// and Python write such runs. Values over 64 KiB are returned unchanged.
std::string merge_base64_words(std::string_view raw);

/// `message` with each charset label of an RFC 2047 word (`=?label?Q?`) or
/// an RFC 2231 parameter (`name*=label'lang'value`, in Content-Type and
/// Content-Disposition) in its header blocks
/// that is not on a fixed list of real charsets replaced by `utf-8`, or
/// nullopt when nothing needed replacing. GMime keeps every label it meets
/// in a process-wide cache (g_mime_charset_iconv_name()) that hostile mail
/// could grow without bound, one made-up label at a time. Header blocks are
/// the lines before the first blank line and those after each line that
/// starts with `--` (a boundary) up to the next blank line.
std::optional<std::string> bound_charset_labels(std::string_view message);

} // namespace trestle::smtp::gmime
