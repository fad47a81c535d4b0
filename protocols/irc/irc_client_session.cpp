#include "irc_client_session.hpp"

#include "base64.hpp"
#include "irc_session_support.hpp"
#include "irc_text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace trestle::irc {

using session_support::encode_all;
using session_support::refuse;
using session_support::valid_name;
using session_support::valid_word;

namespace {

using protocols::base64_encode;

/// Bytes of capability names in one CAP REQ line, well under the 510 limit.
constexpr std::size_t max_cap_req_bytes = 400;

/// Space-separated words of `list`, runs of spaces skipped.
std::vector<std::string_view> words(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const auto space = list.find(' ');
    if (space != 0) {
      out.push_back(list.substr(0, space));
    }
    list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
  }
  return out;
}

std::string_view param_or_empty(const IrcMessage& message, std::size_t index) {
  return index < message.params.size() ? std::string_view(message.params[index])
                                       : std::string_view{};
}

} // namespace

std::vector<std::string> default_caps() {
  return {"multi-prefix", "server-time", "message-tags", "echo-message", "away-notify"};
}

IrcClientSession::IrcClientSession(ClientConfig config)
    : config_(std::move(config)),
      wanted_caps_(config_.wanted_caps.empty() ? default_caps() : config_.wanted_caps),
      nick_(config_.nick) {
  if (config_.sasl &&
      std::find(wanted_caps_.begin(), wanted_caps_.end(), "sasl") == wanted_caps_.end()) {
    wanted_caps_.emplace_back("sasl");
  }
}

void IrcClientSession::transition(State next) {
  state_ = next;
}

bool IrcClientSession::has_cap(std::string_view name) const {
  return std::find(enabled_caps_.begin(), enabled_caps_.end(), name) != enabled_caps_.end();
}

bool IrcClientSession::is_self(std::string_view nick) const {
  return isupport_.equal(nick, nick_);
}

void IrcClientSession::send(Events& out, const IrcMessage& message) const {
  // Lines built from parsed server input or our own constants: a failure
  // means a hostile server tried to make us send garbage, so send nothing.
  if (auto line = serialize(message)) {
    ClientEvent event;
    event.line = std::move(*line) + "\r\n";
    out.push_back(std::move(event));
  }
}

ClientEvent IrcClientSession::event(ClientEvent::Kind kind, const IrcMessage& message) const {
  ClientEvent event;
  event.kind = kind;
  for (const auto& [key, value] : message.tags) {
    if (key == "time") {
      event.time = value;
    } else if (key == "msgid") {
      event.msgid = value;
    }
  }
  return event;
}

ActionResult IrcClientSession::start() {
  if (state_ != State::idle) {
    return refuse(ActionError::wrong_state, "the session was already started");
  }
  if (!valid_name(config_.nick) || !valid_name(config_.username)) {
    return refuse(ActionError::invalid_input, "the nick or username is not one IRC word");
  }
  std::vector<IrcMessage> messages{{{}, {}, "CAP", {"LS", "302"}}};
  if (!config_.server_password.empty()) {
    messages.push_back({{}, {}, "PASS", {config_.server_password}});
  }
  messages.push_back({{}, {}, "NICK", {config_.nick}});
  const std::string& realname = config_.realname.empty() ? config_.nick : config_.realname;
  messages.push_back({{}, {}, "USER", {config_.username, "0", "*", realname}});
  auto result = encode_all(messages);
  if (result.ok()) {
    transition(State::negotiating);
  }
  return result;
}

std::vector<ClientEvent> IrcClientSession::receive_line(std::string_view line) {
  ++lines_received_;
  Events out;
  const auto message = parse_line(line);
  if (!message) {
    ++malformed_lines_;
    return out;
  }
  on_message(*message, out);
  return out;
}

void IrcClientSession::on_message(const IrcMessage& message, Events& out) {
  if (state_ == State::closed) {
    return;
  }
  if (is_numeric(message.command)) {
    int code = 0;
    std::from_chars(message.command.data(), message.command.data() + 3, code);
    if (message.params.empty()) {
      ++malformed_lines_;
      return;
    }
    on_numeric(message, code, out);
    return;
  }
  using Handler = void (IrcClientSession::*)(const IrcMessage&, Events&);
  struct Entry {
    std::string_view command;
    std::size_t min_params;
    Handler handler;
  };
  static constexpr Entry table[] = {
      {"PING", 1, &IrcClientSession::on_ping},
      {"PRIVMSG", 2, &IrcClientSession::on_privmsg},
      {"NOTICE", 2, &IrcClientSession::on_notice},
      {"JOIN", 1, &IrcClientSession::on_join},
      {"PART", 1, &IrcClientSession::on_part},
      {"QUIT", 0, &IrcClientSession::on_quit},
      {"KICK", 2, &IrcClientSession::on_kick},
      {"NICK", 1, &IrcClientSession::on_nick},
      {"TOPIC", 1, &IrcClientSession::on_topic},
      {"MODE", 2, &IrcClientSession::on_mode},
      {"AWAY", 0, &IrcClientSession::on_away},
      {"INVITE", 2, &IrcClientSession::on_invite},
      {"CAP", 2, &IrcClientSession::on_cap},
      {"AUTHENTICATE", 1, &IrcClientSession::on_authenticate},
      {"ERROR", 0, &IrcClientSession::on_error},
  };
  for (const auto& entry : table) {
    if (entry.command == message.command) {
      if (message.params.size() < entry.min_params) {
        ++malformed_lines_;
      } else {
        (this->*entry.handler)(message, out);
      }
      return;
    }
  }
}

void IrcClientSession::on_numeric(const IrcMessage& message, int code, Events& out) {
  const auto& params = message.params;
  switch (code) {
  case 1:
    on_welcome(message, out);
    return;
  case 5:
    isupport_.feed(params);
    out.push_back(event(ClientEvent::Kind::isupport, message));
    return;
  case 331:
  case 332:
    if (params.size() >= 2) {
      auto ev = event(ClientEvent::Kind::topic, message);
      ev.channel = params[1];
      ev.text = code == 332 ? to_utf8(param_or_empty(message, 2)) : std::string{};
      out.push_back(std::move(ev));
    }
    return;
  case 353:
    on_names_reply(message);
    return;
  case 366:
    on_names_end(message, out);
    return;
  case 396: // RPL_VISIBLEHOST: the host others now see.
    if (params.size() >= 3) {
      host_ = params[1];
    }
    break;
  case 421:
    if (params.size() >= 2 && params[1] == "CAP" && state_ == State::negotiating) {
      // A server without CAP (RFC 1459 only): registration goes on from NICK and USER.
      if (config_.sasl) {
        sasl_failed({}, "the server does not support CAP, so no SASL", out);
      }
      transition(State::registering);
      return;
    }
    break;
  case 437: // ERR_UNAVAILRESOURCE names a nick or a channel.
    if (params.size() >= 2 && isupport_.is_channel(params[1])) {
      break;
    }
    on_nick_error(message, out);
    return;
  case 432:
  case 433:
  case 436:
    on_nick_error(message, out);
    return;
  case 902:
  case 903:
  case 904:
  case 905:
  case 906:
  case 907:
  case 908:
    if (state_ == State::authenticating) {
      on_sasl_numeric(message, code, out);
      return;
    }
    break;
  default:
    break;
  }
  const bool error = code >= 400 && code < 600;
  auto ev = event(error ? ClientEvent::Kind::error_reply : ClientEvent::Kind::server_text, message);
  ev.numeric = message.command;
  ev.by = message.source;
  if (params.size() >= 2) {
    ev.params.assign(params.begin() + 1, params.end() - 1);
    ev.text = to_utf8(params.back());
  }
  out.push_back(std::move(ev));
}

void IrcClientSession::on_welcome(const IrcMessage& message, Events& out) {
  nick_ = message.params.front();
  // "Welcome to the Network, nick!user@host": our mask, when the server says it.
  const auto text =
      message.params.size() >= 2 ? std::string_view(message.params.back()) : std::string_view{};
  const auto last_space = text.rfind(' ');
  learn_user_host(last_space == std::string_view::npos ? text : text.substr(last_space + 1));
  transition(State::registered);
  auto ev = event(ClientEvent::Kind::registered, message);
  ev.nick = nick_;
  ev.text = to_utf8(text);
  out.push_back(std::move(ev));
}

void IrcClientSession::learn_user_host(std::string_view source) {
  const auto bang = source.find('!');
  const auto at = source.find('@');
  if (bang == std::string_view::npos || at == std::string_view::npos || at < bang) {
    return;
  }
  if (!isupport_.equal(source.substr(0, bang), nick_)) {
    return;
  }
  user_ = source.substr(bang + 1, at - bang - 1);
  host_ = source.substr(at + 1);
}

void IrcClientSession::on_cap(const IrcMessage& message, Events& out) {
  std::string sub = message.params[1];
  std::transform(sub.begin(), sub.end(), sub.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (sub == "LS") {
    on_cap_ls(message, out);
  } else if (sub == "ACK" || sub == "NAK") {
    on_cap_ack(message, sub == "ACK", out);
  } else if (sub == "DEL" && message.params.size() >= 3) {
    for (const auto name : words(message.params.back())) {
      std::erase(enabled_caps_, name);
    }
    auto ev = event(ClientEvent::Kind::caps, message);
    ev.params = enabled_caps_;
    out.push_back(std::move(ev));
  }
}

void IrcClientSession::on_cap_ls(const IrcMessage& message, Events& out) {
  if (state_ != State::negotiating || cap_ls_lines_ >= max_cap_ls_lines) {
    return; // A late or endless listing: the first one decided.
  }
  ++cap_ls_lines_;
  const bool more = message.params.size() >= 4 && message.params[2] == "*";
  if (message.params.size() >= 3) {
    for (const auto token : words(message.params.back())) {
      if (offered_caps_.size() >= max_offered_caps) {
        break;
      }
      offered_caps_.emplace_back(token.substr(0, token.find('=')));
    }
  }
  if (!more || cap_ls_lines_ == max_cap_ls_lines) {
    cap_ls_lines_ = max_cap_ls_lines; // Ignore any further LS line.
    request_caps(out);
  }
}

void IrcClientSession::request_caps(Events& out) {
  std::vector<std::string> lines;
  for (const auto& cap : wanted_caps_) {
    if (std::find(offered_caps_.begin(), offered_caps_.end(), cap) == offered_caps_.end()) {
      continue;
    }
    if (lines.empty() || lines.back().size() + 1 + cap.size() > max_cap_req_bytes) {
      lines.emplace_back();
    } else {
      lines.back() += ' ';
    }
    lines.back() += cap;
  }
  offered_caps_.clear();
  offered_caps_.shrink_to_fit();
  pending_cap_reqs_ = 0;
  for (const auto& caps : lines) {
    // Written with ':' even for one cap, as the IRCv3 examples do; serialize()
    // still vets the names, which came from the server.
    if (serialize({{}, {}, "CAP", {"REQ", caps}})) {
      ClientEvent ev;
      ev.line = "CAP REQ :" + caps + "\r\n";
      out.push_back(std::move(ev));
      ++pending_cap_reqs_;
    }
  }
  if (pending_cap_reqs_ == 0) {
    finish_negotiation(out);
  }
}

void IrcClientSession::on_cap_ack(const IrcMessage& message, bool ack, Events& out) {
  if (message.params.size() < 3) {
    ++malformed_lines_;
    return;
  }
  if (ack) {
    for (auto name : words(message.params.back())) {
      if (name.front() == '-') {
        std::erase(enabled_caps_, name.substr(1));
      } else if (!has_cap(name)) {
        enabled_caps_.emplace_back(name);
      }
    }
  }
  if (state_ != State::negotiating) {
    if (ack) {
      auto ev = event(ClientEvent::Kind::caps, message);
      ev.params = enabled_caps_;
      out.push_back(std::move(ev));
    }
    return;
  }
  if (pending_cap_reqs_ == 0 || --pending_cap_reqs_ > 0) {
    return;
  }
  if (config_.sasl && has_cap("sasl")) {
    send(out, {{}, {}, "AUTHENTICATE", {"PLAIN"}});
    transition(State::authenticating);
    return;
  }
  if (config_.sasl) {
    sasl_failed({}, "the server did not grant SASL", out);
  }
  finish_negotiation(out);
}

void IrcClientSession::finish_negotiation(Events& out) {
  send(out, {{}, {}, "CAP", {"END"}});
  ClientEvent ev;
  ev.kind = ClientEvent::Kind::caps;
  ev.params = enabled_caps_;
  out.push_back(std::move(ev));
  if (state_ == State::negotiating || state_ == State::authenticating) {
    transition(State::registering);
  }
}

void IrcClientSession::on_authenticate(const IrcMessage& message, Events& out) {
  if (state_ != State::authenticating) {
    return;
  }
  if (message.params.front() != "+" || sasl_sent_) {
    // PLAIN has no challenge; anything else is a confused server. Abort, and
    // the server answers 906.
    send(out, {{}, {}, "AUTHENTICATE", {"*"}});
    return;
  }
  sasl_sent_ = true;
  const auto& sasl = *config_.sasl;
  std::string plain = sasl.account;
  plain += '\0';
  plain += sasl.account;
  plain += '\0';
  plain += sasl.password;
  const std::string encoded = base64_encode(plain);
  for (std::size_t at = 0; at < encoded.size(); at += sasl_chunk_bytes) {
    send(out, {{}, {}, "AUTHENTICATE", {encoded.substr(at, sasl_chunk_bytes)}});
  }
  // A last chunk of exactly 400 bytes (or none) says "more follows" unless ended by "+".
  if (encoded.size() % sasl_chunk_bytes == 0) {
    send(out, {{}, {}, "AUTHENTICATE", {"+"}});
  }
}

void IrcClientSession::on_sasl_numeric(const IrcMessage& message, int code, Events& out) {
  const std::string text = to_utf8(message.params.back());
  if (code == 903) {
    auto ev = event(ClientEvent::Kind::sasl_succeeded, message);
    ev.text = text;
    out.push_back(std::move(ev));
  } else {
    sasl_failed(message.command, text, out);
  }
  finish_negotiation(out);
}

void IrcClientSession::sasl_failed(std::string numeric, std::string text, Events& out) {
  ClientEvent ev;
  ev.kind = ClientEvent::Kind::sasl_failed;
  ev.numeric = std::move(numeric);
  ev.text = std::move(text);
  out.push_back(std::move(ev));
}

void IrcClientSession::on_nick_error(const IrcMessage& message, Events& out) {
  const auto& params = message.params;
  const std::string refused = params.size() >= 3 ? params[1] : nick_;
  const bool registering = state_ == State::negotiating || state_ == State::authenticating ||
                           state_ == State::registering;
  if (registering && config_.try_alternate_nick && !tried_alternate_) {
    tried_alternate_ = true;
    nick_ = config_.nick + "_";
    send(out, {{}, {}, "NICK", {nick_}});
    return;
  }
  auto ev =
      event(registering ? ClientEvent::Kind::nick_rejected : ClientEvent::Kind::nick_change_failed,
            message);
  ev.numeric = message.command;
  ev.nick = refused;
  ev.text = to_utf8(params.back());
  out.push_back(std::move(ev));
}

void IrcClientSession::on_names_reply(const IrcMessage& message) {
  // "353 me = #chan :names"; old servers leave out the channel type.
  if (message.params.size() < 3) {
    ++malformed_lines_;
    return;
  }
  const std::string key = isupport_.fold(message.params[message.params.size() - 2]);
  auto it = names_.find(key);
  if (it == names_.end()) {
    if (names_.size() >= max_names_channels) {
      return;
    }
    it = names_.emplace(key, std::vector<NamesMember>{}).first;
  }
  auto& members = it->second;
  for (const auto token : words(message.params.back())) {
    if (members.size() >= max_names_members) {
      break;
    }
    NamesMember member;
    auto nick = isupport_.strip_prefixes(token, &member.prefixes);
    nick = nick.substr(0, nick.find('!')); // userhost-in-names, should a server send it.
    if (!nick.empty()) {
      member.nick = nick;
      members.push_back(std::move(member));
    }
  }
}

void IrcClientSession::on_names_end(const IrcMessage& message, Events& out) {
  if (message.params.size() < 2) {
    ++malformed_lines_;
    return;
  }
  auto ev = event(ClientEvent::Kind::names, message);
  ev.channel = message.params[1];
  if (const auto it = names_.find(isupport_.fold(ev.channel)); it != names_.end()) {
    ev.members = std::move(it->second);
    names_.erase(it);
  }
  out.push_back(std::move(ev));
}

void IrcClientSession::on_ping(const IrcMessage& message, Events& out) {
  send(out, {{}, {}, "PONG", message.params});
}

void IrcClientSession::on_error(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::closing, message);
  ev.text = message.params.empty() ? std::string{} : to_utf8(message.params.back());
  out.push_back(std::move(ev));
  transition(State::closed);
}

void IrcClientSession::on_join(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::joined, message);
  ev.nick = source_nick(message.source);
  ev.channel = message.params[0];
  ev.self = is_self(ev.nick);
  if (ev.self) {
    learn_user_host(message.source);
  }
  out.push_back(std::move(ev));
}

void IrcClientSession::on_part(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::parted, message);
  ev.nick = source_nick(message.source);
  ev.channel = message.params[0];
  ev.text = to_utf8(param_or_empty(message, 1));
  ev.self = is_self(ev.nick);
  out.push_back(std::move(ev));
}

void IrcClientSession::on_quit(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::quit, message);
  ev.nick = source_nick(message.source);
  ev.text = to_utf8(param_or_empty(message, 0));
  ev.self = is_self(ev.nick);
  out.push_back(std::move(ev));
}

void IrcClientSession::on_kick(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::kicked, message);
  ev.by = source_nick(message.source);
  ev.channel = message.params[0];
  ev.nick = message.params[1];
  ev.text = to_utf8(param_or_empty(message, 2));
  ev.self = is_self(ev.nick);
  out.push_back(std::move(ev));
}

void IrcClientSession::on_nick(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::nick_changed, message);
  ev.nick = source_nick(message.source);
  ev.new_nick = message.params[0];
  ev.self = is_self(ev.nick);
  if (ev.self) {
    nick_ = ev.new_nick;
  }
  out.push_back(std::move(ev));
}

void IrcClientSession::on_topic(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::topic, message);
  ev.by = source_nick(message.source);
  ev.channel = message.params[0];
  ev.text = to_utf8(param_or_empty(message, 1));
  out.push_back(std::move(ev));
}

void IrcClientSession::on_mode(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::mode, message);
  ev.by = source_nick(message.source);
  ev.target = message.params[0];
  ev.text = message.params[1];
  ev.params.assign(message.params.begin() + 2, message.params.end());
  out.push_back(std::move(ev));
}

void IrcClientSession::on_away(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::away, message);
  ev.nick = source_nick(message.source);
  ev.text = to_utf8(param_or_empty(message, 0));
  out.push_back(std::move(ev));
}

void IrcClientSession::on_invite(const IrcMessage& message, Events& out) {
  auto ev = event(ClientEvent::Kind::invite, message);
  ev.by = source_nick(message.source);
  ev.nick = message.params[0];
  ev.channel = message.params[1];
  out.push_back(std::move(ev));
}

void IrcClientSession::on_privmsg(const IrcMessage& message, Events& out) {
  on_text(message, false, out);
}

void IrcClientSession::on_notice(const IrcMessage& message, Events& out) {
  on_text(message, true, out);
}

void IrcClientSession::on_text(const IrcMessage& message, bool notice, Events& out) {
  const std::string_view source = message.source;
  // A nick never holds '.', a server name without '!' does.
  const bool from_server = source.empty() || (source.find('!') == std::string_view::npos &&
                                              source.find('.') != std::string_view::npos);
  const std::string_view raw_text = message.params[1];
  if (notice && from_server) {
    auto ev = event(ClientEvent::Kind::server_text, message);
    ev.by = message.source;
    ev.target = message.params[0];
    ev.text = to_utf8(raw_text);
    out.push_back(std::move(ev));
    return;
  }
  auto ev = event(ClientEvent::Kind::message, message);
  std::string_view content = raw_text;
  std::optional<std::string> action;
  if (!notice && (action = ctcp_action_text(raw_text))) {
    ev.message_kind = MessageKind::action;
    content = *action;
  } else if (!raw_text.empty() && raw_text.front() == '\x01') {
    ev.message_kind = MessageKind::ctcp;
    content.remove_prefix(1);
    content = content.substr(0, content.find('\x01'));
  } else {
    ev.message_kind = notice ? MessageKind::notice : MessageKind::privmsg;
  }
  ev.nick = source_nick(source);
  ev.target = message.params[0];
  ev.text = to_utf8(content);
  ev.plain_text = strip_formatting(ev.text);
  ev.self = is_self(ev.nick);
  if (ev.self) {
    learn_user_host(source);
  }
  out.push_back(std::move(ev));
}

} // namespace trestle::irc
