#pragma once

#include "irc_message.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::irc {

/// Splits the byte stream from an IRC server into lines (sans-io).
///
/// A line ends at LF; one CR before it is dropped, so both CR LF and a bare
/// LF work (RFC 1459 section 8 asks clients to accept either). Empty lines
/// are skipped. A line longer than the limit is thrown away up to its LF and
/// counted, and the reader never holds more than `max_line_bytes - 1` bytes,
/// whatever the server sends.
class IrcLineReader {
public:
  /// Called with each complete line, without its CR LF. The view is valid
  /// only during the call, and the handler must not feed the same reader.
  using LineHandler = std::function<void(std::string_view line)>;

  /// Room for a full line: IRCv3 tags, a 512-byte message and CR LF.
  static constexpr std::size_t default_max_line_bytes = max_tags_bytes + max_received_bytes + 2;

  /// A reader that accepts lines of up to `max_line_bytes`, terminator
  /// included (at least 2, room for one byte and LF).
  explicit IrcLineReader(std::size_t max_line_bytes = default_max_line_bytes);

  /// Consumes `bytes` and hands each line it completes to `on_line`, in order.
  void feed(std::string_view bytes, const LineHandler& on_line);
  /// Consumes `bytes` and returns the lines it completes, in order.
  std::vector<std::string> feed(std::string_view bytes);

  /// Lines thrown away for being too long, since construction.
  std::size_t discarded_lines() const { return discarded_lines_; }
  /// Bytes held for a line not yet complete (always below the limit).
  std::size_t buffered_bytes() const { return partial_.size(); }

private:
  void deliver(std::string_view line, const LineHandler& on_line);

  std::size_t max_line_bytes_;
  /// The start of the current line, while its LF has not come.
  std::string partial_;
  /// True while skipping the rest of an overlong line.
  bool discarding_ = false;
  std::size_t discarded_lines_ = 0;
};

} // namespace trestle::irc
