#pragma once

// Checks and encoding that the IRC client session's protocol handling and its
// user actions share (irc_client_session.cpp, irc_client_actions.cpp).

#include "irc_client_session.hpp"
#include "irc_message.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::irc::session_support {

/// One word of a command line: not empty, no separator, nothing that could
/// end the line or turn the word into the trailing parameter.
inline bool valid_word(std::string_view word) {
  return !word.empty() && word.front() != ':' &&
         word.find_first_of(std::string_view(" \r\n\0", 4)) == std::string_view::npos;
}

/// A nick, channel or key: one word without the ',' that lists several.
inline bool valid_name(std::string_view name) {
  return valid_word(name) && name.find(',') == std::string_view::npos;
}

inline ActionResult refuse(ActionError error, std::string reason) {
  ActionResult result;
  result.error = error;
  result.reason = std::move(reason);
  return result;
}

/// Serializes every message, or none: one that fails refuses them all.
inline ActionResult encode_all(const std::vector<IrcMessage>& messages) {
  ActionResult result;
  for (const auto& message : messages) {
    std::string error;
    auto line = serialize(message, &error);
    if (!line) {
      return refuse(ActionError::invalid_input, std::move(error));
    }
    ClientEvent event;
    event.line = std::move(*line) + "\r\n";
    result.events.push_back(std::move(event));
  }
  return result;
}

} // namespace trestle::irc::session_support
