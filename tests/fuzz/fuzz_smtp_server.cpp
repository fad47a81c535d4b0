// Fuzzes the SMTP/LMTP server dialogue with what a hostile client can send.
// The input is fed in pieces (cut where its first bytes say), recipient
// checks and deliveries are answered, STARTTLS is "completed", and:
// - every reply is one or more lines "ddd[ -]text" CR LF of printable ASCII;
// - a delivered message has only CR LF line ends and fits the size limit;
// - the session's buffers stay bounded, and a closed session says nothing more.
#include "smtp_server_session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace smtp = trestle::smtp;
using Kind = smtp::SmtpAction::Kind;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_smtp_server: %s\n", what);
    std::abort();
  }
}

void check_reply(std::string_view bytes) {
  check(!bytes.empty() && bytes.ends_with("\r\n"), "reply does not end in CR LF");
  std::size_t start = 0;
  while (start < bytes.size()) {
    const auto end = bytes.find("\r\n", start);
    check(end != std::string_view::npos, "reply line without CR LF");
    const auto line = bytes.substr(start, end - start);
    check(line.size() >= 4 && line[0] >= '2' && line[0] <= '5' &&
              (line[3] == ' ' || line[3] == '-'),
          "reply line is not ddd[ -]text");
    for (const char c : line) {
      check(c >= 0x20 && c < 0x7f, "reply holds a control or 8-bit byte");
    }
    start = end + 2;
  }
}

void check_message(const smtp::InboundMessage& message) {
  const std::string& data = message.data;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n') {
      check(i > 0 && data[i - 1] == '\r', "delivered data has a bare LF");
    } else if (data[i] == '\r') {
      check(i + 1 < data.size() && data[i + 1] == '\n', "delivered data has a bare CR");
    }
  }
  check(!message.recipients.empty(), "delivered without recipients");
}

struct Run {
  smtp::SmtpServerSession session;
  std::uint8_t salt;
  std::size_t max_message;

  void take(std::vector<smtp::SmtpAction> actions, int depth = 0) {
    check(depth < 64, "answers feed each other without end");
    for (auto& action : actions) {
      switch (action.kind) {
      case Kind::reply:
        check_reply(action.bytes);
        break;
      case Kind::start_tls:
        take(session.tls_started(), depth + 1);
        break;
      case Kind::close:
        check(session.closed(), "close while the session is open");
        break;
      case Kind::check_recipient:
        take(session.answer_recipient((action.address.size() + salt) % 3 == 0
                                          ? smtp::SmtpVerdict{550, "5.1.1", "no such user"}
                                          : smtp::SmtpVerdict{}),
             depth + 1);
        break;
      case Kind::deliver:
        check_message(action.message);
        check(action.message.data.size() <= max_message, "delivered over the size limit");
        take(session.answer_message({smtp::SmtpVerdict{}, {451, "4.3.0", "later"}}), depth + 1);
        break;
      }
    }
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const bool lmtp : {false, true}) {
    smtp::SmtpServerOptions options;
    options.lmtp = lmtp;
    options.tls_available = size > 0 && (data[0] & 1) != 0;
    options.max_message_bytes = 4096;
    options.max_recipients = 3;
    Run run{smtp::SmtpServerSession(options), size > 1 ? data[1] : std::uint8_t{0}, 4096};
    run.take(run.session.start());
    // Pieces of 1 to 64 bytes, their sizes taken from the input itself.
    std::size_t pos = 0;
    std::size_t i = 0;
    while (pos < size) {
      const std::size_t piece = 1 + data[i++ % size] % 64;
      const bool was_closed = run.session.closed();
      auto actions = run.session.receive(input.substr(pos, piece));
      check(!was_closed || actions.empty(), "a closed session answered");
      run.take(std::move(actions));
      check(run.session.buffered_bytes() <= 64 * 1024 + 4096 + 1024, "buffers grew unbounded");
      pos += piece;
    }
    run.take(run.session.timed_out());
    check(run.session.closed(), "a timeout did not close the session");
  }
  return 0;
}
