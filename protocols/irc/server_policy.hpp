#pragma once

#include "irc_config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::irc {

/// Matches `text` against a glob `pattern` where `*` is any run of
/// characters and `?` any one character; both are compared as given (the
/// caller lower-cases host names).
bool glob_match(std::string_view pattern, std::string_view text);

/// Which IRC servers users may reach, and with which settings: the
/// operator's `irc` section. A server is allowed when it is the fixed
/// server, is listed in `servers`, or matches `allow_servers`, and matches
/// no `deny_servers` pattern. With nothing configured nothing is allowed, so
/// the gateway is never an open relay by accident.
class ServerPolicy {
public:
  explicit ServerPolicy(irc::IrcSettings settings);

  /// Why `server` (lower case) may not be reached, or nullopt when it may.
  std::optional<std::string> refusal(std::string_view server) const;
  /// The settings for `server`: its own entry, else the defaults with its host.
  irc::IrcServerSettings settings_for(std::string_view server) const;
  /// The whole section.
  const irc::IrcSettings& settings() const { return settings_; }

private:
  irc::IrcSettings settings_;
};

} // namespace trestle::irc
