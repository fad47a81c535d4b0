#pragma once

#include "config.hpp"

#include <cstdio>
#include <string_view>

namespace trestle::gateway {

/// Writes one line per event to stderr (journald and Docker collect it):
/// `2026-01-02T03:04:05.678Z level area: message`. Control characters in the
/// message are escaped so an event never spans lines. Never pass secrets.
/// Single-threaded: used from the io_context thread only.
class Logger {
public:
  explicit Logger(LogLevel level = LogLevel::info, std::FILE* out = stderr);

  /// Changes the threshold (SIGHUP reload).
  void set_level(LogLevel level) { level_ = level; }
  /// True when `level` would be written.
  bool enabled(LogLevel level) const { return level >= level_; }
  /// Writes one event at `level` from `area` (e.g. "component irc.example.org").
  void write(LogLevel level, std::string_view area, std::string_view message);

  void debug(std::string_view area, std::string_view message) {
    write(LogLevel::debug, area, message);
  }
  void info(std::string_view area, std::string_view message) {
    write(LogLevel::info, area, message);
  }
  void warning(std::string_view area, std::string_view message) {
    write(LogLevel::warning, area, message);
  }
  void error(std::string_view area, std::string_view message) {
    write(LogLevel::error, area, message);
  }

private:
  LogLevel level_;
  std::FILE* out_;
};

} // namespace trestle::gateway
