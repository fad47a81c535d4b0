// Fuzzes the IRC client session with what a hostile server can send: the
// input is split into lines and fed to a session that negotiates caps and
// SASL. Every line the session wants to write must be one well-formed IRC
// line: CR LF only at its end, no NUL, at most 512 bytes after its tags.
// After the input, the user actions run with text taken from the input, and
// must obey the same rule or be refused.
#include "irc_client_session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using trestle::irc::ActionResult;
using trestle::irc::ClientConfig;
using trestle::irc::ClientEvent;
using trestle::irc::IrcClientSession;

namespace {

void check_line(const std::string& line) {
  const bool framed = line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0;
  const std::string_view body(line.data(), framed ? line.size() - 2 : line.size());
  // Tags (IRCv3) have their own budget of 4096 bytes before the 512-byte line.
  std::size_t tags = 0;
  if (!body.empty() && body.front() == '@') {
    tags = body.find(' ');
    tags = tags == std::string_view::npos ? body.size() : tags + 1;
  }
  if (!framed || tags > 4096 || line.size() - tags > 512 ||
      body.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    std::fprintf(stderr, "bad outgoing line: %s\n", line.c_str());
    std::abort();
  }
}

void check_events(const std::vector<ClientEvent>& events) {
  for (const auto& event : events) {
    if (event.kind == ClientEvent::Kind::send) {
      check_line(event.line);
    }
  }
}

void check_action(const ActionResult& result) {
  if (!result.ok() && !result.events.empty()) {
    std::fprintf(stderr, "refused action with lines to send\n");
    std::abort();
  }
  check_events(result.events);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Built from std::string values: GCC 12 at -O3 reports a false
  // -Wmaybe-uninitialized for string literals assigned into this struct.
  ClientConfig config;
  config.nick = std::string("trestle");
  config.username = std::string("gw");
  config.sasl = trestle::irc::SaslPlain{std::string("account"), std::string("password")};
  IrcClientSession session(config);
  check_action(session.start());

  // Lines as IrcLineReader delivers them: split on LF, one CR dropped.
  std::string_view rest = input;
  std::string_view last;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    check_events(session.receive_line(line));
    last = line;
  }

  // User actions with hostile text (the last line, which may hold anything).
  check_action(session.join("#chan", last));
  check_action(session.join(last));
  check_action(session.privmsg("#chan", input));
  check_action(session.privmsg(last, "hello"));
  check_action(session.action("#chan", input));
  check_action(session.notice("bob", last));
  check_action(session.set_topic("#chan", input));
  check_action(session.kick("#chan", last, input));
  check_action(session.nick(last));
  check_action(session.away(input));
  check_action(session.raw(last));
  check_action(session.part("#chan", input));
  check_action(session.quit(input));
  return 0;
}
