// Fuzzes the SMTP client dialogue with what a hostile relay can answer. The
// input is fed in pieces (sizes taken from the input), STARTTLS is
// "completed", and: every command written is one CR LF line, the message body
// goes out only after a 354, there is exactly one outcome per attempt, and
// nothing but QUIT is written after it.
#include "smtp_client_session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace smtp = trestle::smtp;
using Kind = smtp::SmtpClientAction::Kind;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_smtp_client: %s\n", what);
    std::abort();
  }
}

struct Run {
  smtp::SmtpClientSession session;
  std::string body;
  int outcomes = 0;

  void take(std::vector<smtp::SmtpClientAction> actions) {
    for (auto& action : actions) {
      if (action.kind == Kind::start_tls) {
        take(session.tls_started());
      } else if (action.kind == Kind::done) {
        ++outcomes;
        check(outcomes == 1, "more than one outcome");
        check(action.outcome.text.find_first_of("\r\n") == std::string::npos,
              "outcome text holds a line break");
      } else if (action.bytes != body) {
        const auto& line = action.bytes;
        check(line.size() >= 2 && line.ends_with("\r\n"), "command without CR LF");
        check(line.find_first_of(std::string_view("\r\n\0", 3)) == line.size() - 2,
              "command holds a line break");
        check(outcomes == 0 || line == "QUIT\r\n", "a command after the outcome");
      }
    }
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  smtp::SmtpClientOptions options;
  options.require_tls = size > 0 && (data[0] & 1) != 0;
  if (size > 0 && (data[0] & 2) != 0) {
    options.username = "gateway";
    options.password = "secret";
  }
  smtp::OutboundEnvelope envelope{"alice@mail.example.org",
                                  {"bob@example.com", "carol@example.com"},
                                  "Subject: x\n\n.hidden\nbody"};
  Run run{smtp::SmtpClientSession(options, envelope),
          smtp::SmtpClientSession::encode_data(envelope.data)};
  std::size_t pos = 0;
  std::size_t i = 0;
  while (pos < size) {
    const std::size_t piece = 1 + data[i++ % size] % 64;
    run.take(run.session.receive(input.substr(pos, piece)));
    pos += piece;
  }
  run.take(run.session.connection_lost("end of input"));
  check(run.outcomes == 1, "an attempt without an outcome");
  return 0;
}
