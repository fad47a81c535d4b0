#include "server_policy.hpp"

#include <algorithm>
#include <utility>

namespace trestle::irc {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point: linear in practice and
  // never recursive, whatever the pattern.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

ServerPolicy::ServerPolicy(irc::IrcSettings settings) : settings_(std::move(settings)) {}

std::optional<std::string> ServerPolicy::refusal(std::string_view server) const {
  const auto matches = [&](const std::string& pattern) {
    return glob_match(pattern, server);
  };
  if (std::any_of(settings_.deny_servers.begin(), settings_.deny_servers.end(), matches)) {
    return "this gateway does not connect to " + std::string(server);
  }
  const bool listed = std::any_of(settings_.servers.begin(), settings_.servers.end(),
                                  [&](const auto& entry) { return entry.host == server; });
  if (server == settings_.fixed_server || listed ||
      std::any_of(settings_.allow_servers.begin(), settings_.allow_servers.end(), matches)) {
    return std::nullopt;
  }
  return "this gateway does not connect to " + std::string(server) +
         "; its operator allows only some IRC servers";
}

irc::IrcServerSettings ServerPolicy::settings_for(std::string_view server) const {
  for (const auto& entry : settings_.servers) {
    if (entry.host == server) {
      return entry;
    }
  }
  auto defaults = settings_.server_defaults;
  defaults.host = std::string(server);
  return defaults;
}

} // namespace trestle::irc
