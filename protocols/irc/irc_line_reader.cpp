#include "irc_line_reader.hpp"

#include <algorithm>

namespace trestle::irc {

IrcLineReader::IrcLineReader(std::size_t max_line_bytes)
    : max_line_bytes_(std::max<std::size_t>(max_line_bytes, 2)) {}

void IrcLineReader::deliver(std::string_view line, const LineHandler& on_line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (!line.empty()) {
    on_line(line);
  }
}

void IrcLineReader::feed(std::string_view bytes, const LineHandler& on_line) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (discarding_) {
      if (newline == std::string_view::npos) {
        return;
      }
      discarding_ = false;
      bytes.remove_prefix(newline + 1);
      continue;
    }
    if (newline == std::string_view::npos) {
      // Even if LF came next, the line would pass the limit: drop what we
      // hold now rather than let a server grow it.
      if (partial_.size() + bytes.size() + 1 > max_line_bytes_) {
        partial_.clear();
        discarding_ = true;
        ++discarded_lines_;
        return;
      }
      partial_.append(bytes);
      return;
    }
    const auto piece = bytes.substr(0, newline);
    bytes.remove_prefix(newline + 1);
    if (partial_.size() + piece.size() + 1 > max_line_bytes_) {
      partial_.clear();
      ++discarded_lines_;
      continue;
    }
    if (partial_.empty()) {
      deliver(piece, on_line); // The common case: no copy.
      continue;
    }
    partial_.append(piece);
    deliver(partial_, on_line);
    partial_.clear();
  }
}

std::vector<std::string> IrcLineReader::feed(std::string_view bytes) {
  std::vector<std::string> lines;
  feed(bytes, [&lines](std::string_view line) { lines.emplace_back(line); });
  return lines;
}

} // namespace trestle::irc
