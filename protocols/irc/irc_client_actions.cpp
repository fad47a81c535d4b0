#include "irc_client_session.hpp"
#include "irc_session_support.hpp"
#include "irc_text.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

// The user's actions: each is checked and encoded in full, or refused with
// nothing to send.

namespace trestle::irc {

using session_support::encode_all;
using session_support::refuse;
using session_support::valid_name;
using session_support::valid_word;

ActionResult IrcClientSession::require_registered() const {
  if (state_ != State::registered) {
    return refuse(ActionError::not_registered, "the IRC session is not registered");
  }
  return {};
}

ActionResult IrcClientSession::send_text(std::string_view command, std::string_view target,
                                         std::string_view text, bool ctcp_action) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (!valid_name(target)) {
    return refuse(ActionError::invalid_input, "the target is not one IRC name");
  }
  std::size_t budget = privmsg_budget(nick_, user_, host_, target);
  budget =
      ctcp_action ? (budget > ctcp_action_overhead ? budget - ctcp_action_overhead : 0) : budget;
  if (budget < min_split_bytes) {
    return refuse(ActionError::invalid_input, "the target leaves no room for text");
  }
  std::vector<IrcMessage> messages;
  for (auto& piece : split_for_irc(text, budget)) {
    messages.push_back({{},
                        {},
                        std::string(command),
                        {std::string(target), ctcp_action ? make_ctcp_action(piece) : piece}});
  }
  if (messages.empty()) {
    return refuse(ActionError::invalid_input, "the text is empty");
  }
  return encode_all(messages);
}

ActionResult IrcClientSession::privmsg(std::string_view target, std::string_view text) {
  return send_text("PRIVMSG", target, text, false);
}

ActionResult IrcClientSession::notice(std::string_view target, std::string_view text) {
  return send_text("NOTICE", target, text, false);
}

ActionResult IrcClientSession::action(std::string_view target, std::string_view text) {
  return send_text("PRIVMSG", target, text, true);
}

ActionResult IrcClientSession::join(std::string_view channel, std::string_view key) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (!valid_name(channel) || !isupport_.is_channel(channel) ||
      (!key.empty() && !valid_name(key))) {
    return refuse(ActionError::invalid_input, "the channel or key is not one IRC name");
  }
  IrcMessage message{{}, {}, "JOIN", {std::string(channel)}};
  if (!key.empty()) {
    message.params.emplace_back(key);
  }
  return encode_all({message});
}

ActionResult IrcClientSession::part(std::string_view channel, std::string_view reason) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (!valid_name(channel)) {
    return refuse(ActionError::invalid_input, "the channel is not one IRC name");
  }
  IrcMessage message{{}, {}, "PART", {std::string(channel)}};
  if (!reason.empty()) {
    message.params.emplace_back(reason);
  }
  return encode_all({message});
}

ActionResult IrcClientSession::set_topic(std::string_view channel, std::string_view text) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (!valid_name(channel)) {
    return refuse(ActionError::invalid_input, "the channel is not one IRC name");
  }
  return encode_all({{{}, {}, "TOPIC", {std::string(channel), std::string(text)}}});
}

ActionResult IrcClientSession::kick(std::string_view channel, std::string_view nick,
                                    std::string_view reason) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (!valid_name(channel) || !valid_name(nick)) {
    return refuse(ActionError::invalid_input, "the channel or nick is not one IRC name");
  }
  IrcMessage message{{}, {}, "KICK", {std::string(channel), std::string(nick)}};
  if (!reason.empty()) {
    message.params.emplace_back(reason);
  }
  return encode_all({message});
}

ActionResult IrcClientSession::mode(std::string_view target, std::string_view modes,
                                    const std::vector<std::string>& params) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (!valid_name(target) || !valid_word(modes) ||
      !std::all_of(params.begin(), params.end(), [](const auto& p) { return valid_word(p); })) {
    return refuse(ActionError::invalid_input, "a mode argument is not one IRC word");
  }
  IrcMessage message{{}, {}, "MODE", {std::string(target), std::string(modes)}};
  message.params.insert(message.params.end(), params.begin(), params.end());
  return encode_all({message});
}

ActionResult IrcClientSession::nick(std::string_view new_nick) {
  if (state_ == State::idle || state_ == State::closing || state_ == State::closed) {
    return refuse(ActionError::wrong_state, "the session is not open");
  }
  if (!valid_name(new_nick)) {
    return refuse(ActionError::invalid_input, "the nick is not one IRC name");
  }
  auto result = encode_all({{{}, {}, "NICK", {std::string(new_nick)}}});
  if (result.ok() && state_ != State::registered) {
    nick_ = new_nick; // Before 001 the server confirms nothing but the welcome.
  }
  return result;
}

ActionResult IrcClientSession::away(std::string_view text) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (text.empty()) {
    return refuse(ActionError::invalid_input, "an away message needs text; use back()");
  }
  return encode_all({{{}, {}, "AWAY", {std::string(text)}}});
}

ActionResult IrcClientSession::back() {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  return encode_all({{{}, {}, "AWAY", {}}});
}

ActionResult IrcClientSession::raw(std::string_view line) {
  if (auto check = require_registered(); !check.ok()) {
    return check;
  }
  if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return refuse(ActionError::invalid_input, "a raw command is one line without CR, LF or NUL");
  }
  std::string error;
  auto message = parse_line(line, &error);
  if (!message) {
    return refuse(ActionError::invalid_input, std::move(error));
  }
  message->source.clear();
  return encode_all({*message});
}

ActionResult IrcClientSession::quit(std::string_view reason) {
  if (state_ == State::idle || state_ == State::closing || state_ == State::closed) {
    return refuse(ActionError::wrong_state, "the session is not open");
  }
  IrcMessage message{{}, {}, "QUIT", {}};
  if (!reason.empty()) {
    message.params.emplace_back(reason);
  }
  auto result = encode_all({message});
  if (result.ok()) {
    transition(State::closing);
  }
  return result;
}

} // namespace trestle::irc
