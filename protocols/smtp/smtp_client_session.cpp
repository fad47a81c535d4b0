#include "smtp_client_session.hpp"

#include "base64.hpp"
#include "smtp_text.hpp"

#include <algorithm>

namespace trestle::smtp {

namespace {

/// A reply line longer than this, or a reply of more lines, is not from a
/// sane relay (RFC 5321 allows 512 bytes per reply line).
constexpr std::size_t max_reply_line = 2048;
constexpr std::size_t max_reply_lines = 100;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

SmtpClientSession::SmtpClientSession(SmtpClientOptions options, OutboundEnvelope envelope)
    : options_(std::move(options)), envelope_(std::move(envelope)), tls_(options_.tls_from_start) {}

std::string SmtpClientSession::encode_data(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 50 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (line_start && c == '.') {
      out += '.'; // dot-stuffing (RFC 5321 section 4.5.2)
    }
    if (c == '\r') {
      // CR LF stays, a lone CR becomes a line end too.
      out += "\r\n";
      if (i + 1 < data.size() && data[i + 1] == '\n') {
        ++i;
      }
      line_start = true;
      continue;
    }
    if (c == '\n') {
      out += "\r\n";
      line_start = true;
      continue;
    }
    out += c;
    line_start = false;
  }
  if (!line_start) {
    out += "\r\n";
  }
  out += ".\r\n";
  return out;
}

std::vector<SmtpClientAction> SmtpClientSession::receive(std::string_view bytes) {
  std::vector<SmtpClientAction> out;
  if (state_ == State::done) {
    return out;
  }
  input_.append(bytes);
  std::size_t read = 0;
  while (state_ != State::done) {
    const auto lf = input_.find('\n', read);
    if (lf == std::string::npos) {
      if (input_.size() - read > max_reply_line) {
        finish(out, SmtpOutcome::Kind::temporary, 0, "the relay sent an overlong reply line",
               false);
      }
      break;
    }
    std::string_view line(input_.data() + read, lf - read);
    read = lf + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() > max_reply_line || line.size() < 3 || !is_digit(line[0]) ||
        !is_digit(line[1]) || !is_digit(line[2]) ||
        (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      finish(out, SmtpOutcome::Kind::temporary, 0,
             "the relay sent a malformed reply: " + printable(line), false);
      break;
    }
    const bool last = line.size() == 3 || line[3] == ' ';
    reply_lines_.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
    if (reply_lines_.size() > max_reply_lines) {
      finish(out, SmtpOutcome::Kind::temporary, 0, "the relay sent an endless reply", false);
      break;
    }
    if (last) {
      const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      auto lines = std::move(reply_lines_);
      reply_lines_.clear();
      on_reply(code, lines, out);
      if (!out.empty() && out.back().kind == SmtpClientAction::Kind::start_tls) {
        // Whatever followed the STARTTLS answer came before TLS and must not
        // count as an answer after it (RFC 3207 section 4.2): dropped.
        read = input_.size();
        break;
      }
    }
  }
  input_.erase(0, std::min(read, input_.size()));
  if (state_ == State::done) {
    input_.clear();
  }
  return out;
}

std::vector<SmtpClientAction> SmtpClientSession::tls_started() {
  std::vector<SmtpClientAction> out;
  if (state_ != State::starttls) {
    return out;
  }
  tls_ = true;
  extensions_.clear();
  state_ = State::ehlo;
  send(out, "EHLO " + options_.helo_name);
  return out;
}

std::vector<SmtpClientAction> SmtpClientSession::connection_lost(std::string_view why) {
  std::vector<SmtpClientAction> out;
  if (state_ == State::quit) {
    state_ = State::done; // the message was answered; QUIT needs no answer
    return out;
  }
  if (state_ != State::done) {
    finish(out, SmtpOutcome::Kind::temporary, 0, "connection to the relay lost: " + printable(why),
           false);
  }
  return out;
}

void SmtpClientSession::on_reply(int code, const std::vector<std::string>& lines,
                                 std::vector<SmtpClientAction>& out) {
  const std::string text = printable(lines.empty() ? std::string() : lines.back());
  const bool ok = code >= 200 && code < 300;
  const auto failure = code >= 500 ? SmtpOutcome::Kind::permanent : SmtpOutcome::Kind::temporary;
  switch (state_) {
  case State::greeting:
    if (code != 220) {
      finish(out, failure, code, "the relay refused the connection: " + text, true);
      return;
    }
    state_ = State::ehlo;
    send(out, "EHLO " + options_.helo_name);
    return;
  case State::ehlo:
    if (!ok) {
      // An old relay without ESMTP: HELO, then no STARTTLS and no AUTH.
      state_ = State::helo;
      send(out, "HELO " + options_.helo_name);
      return;
    }
    extensions_.clear();
    for (std::size_t i = 1; i < lines.size(); ++i) {
      extensions_.push_back(upper(lines[i]));
    }
    after_hello(out);
    return;
  case State::helo:
    if (!ok) {
      finish(out, SmtpOutcome::Kind::temporary, code, "the relay refused HELO: " + text, true);
      return;
    }
    extensions_.clear();
    after_hello(out);
    return;
  case State::starttls:
    if (code != 220) {
      finish(out, SmtpOutcome::Kind::temporary, code, "the relay refused STARTTLS: " + text, true);
      return;
    }
    out.push_back({SmtpClientAction::Kind::start_tls, {}, {}});
    return;
  case State::auth_plain:
  case State::auth_login_password:
    if (code != 235) {
      // A configuration problem, not the message's: retried until it is fixed or too old.
      finish(out, SmtpOutcome::Kind::temporary, code, "the relay refused the login: " + text, true);
      return;
    }
    state_ = State::mail;
    send(out, "MAIL FROM:<" + envelope_.mail_from + ">");
    return;
  case State::auth_login_user:
    if (code != 334) {
      finish(out, SmtpOutcome::Kind::temporary, code, "the relay refused the login: " + text, true);
      return;
    }
    state_ = State::auth_login_password;
    send(out, protocols::base64_encode(options_.password));
    return;
  case State::mail:
    if (!ok) {
      finish(out, failure, code, text, true);
      return;
    }
    state_ = State::rcpt;
    next_recipient(out);
    return;
  case State::rcpt:
    if (ok) {
      ++accepted_;
    } else if (code >= 500) {
      refused_.push_back(envelope_.recipients[next_recipient_ - 1]);
    } else {
      // A temporary refusal of one recipient: the whole message waits, so
      // that a retry does not send it twice to the others.
      finish(out, SmtpOutcome::Kind::temporary, code, text, true);
      return;
    }
    last_rcpt_code_ = code;
    last_rcpt_text_ = text;
    next_recipient(out);
    return;
  case State::data:
    if (code != 354) {
      finish(out, failure, code, text, true);
      return;
    }
    state_ = State::body;
    out.push_back({SmtpClientAction::Kind::write, encode_data(envelope_.data), {}});
    return;
  case State::body:
    finish(out, ok ? SmtpOutcome::Kind::sent : failure, code, text, true);
    return;
  case State::quit:
  case State::done:
    return;
  }
}

void SmtpClientSession::after_hello(std::vector<SmtpClientAction>& out) {
  const auto offers = [this](std::string_view keyword) {
    return std::any_of(extensions_.begin(), extensions_.end(), [&](const std::string& line) {
      return line == keyword || line.starts_with(std::string(keyword) + " ");
    });
  };
  if (!tls_ && offers("STARTTLS")) {
    state_ = State::starttls;
    send(out, "STARTTLS");
    return;
  }
  if (!tls_ && options_.require_tls) {
    finish(out, SmtpOutcome::Kind::temporary, 0,
           "the relay offers no STARTTLS, and TLS is required (smtp relay setting)", true);
    return;
  }
  if (!options_.username.empty()) {
    std::string mechanisms;
    for (const auto& line : extensions_) {
      if (line.starts_with("AUTH ") || line.starts_with("AUTH=")) {
        // Appended piecewise: GCC 12 -O3 reports a false -Wrestrict for " " + s.
        mechanisms += ' ';
        mechanisms += std::string_view(line).substr(5);
        mechanisms += ' ';
      }
    }
    if (mechanisms.find(" PLAIN ") != std::string::npos) {
      state_ = State::auth_plain;
      send(out, "AUTH PLAIN " + protocols::base64_encode(std::string(1, '\0') + options_.username +
                                                         std::string(1, '\0') + options_.password));
      return;
    }
    if (mechanisms.find(" LOGIN ") != std::string::npos) {
      state_ = State::auth_login_user;
      send(out, "AUTH LOGIN " + protocols::base64_encode(options_.username));
      return;
    }
    finish(out, SmtpOutcome::Kind::temporary, 0,
           "the relay offers neither AUTH PLAIN nor AUTH LOGIN"
           " (it may offer them only under TLS)",
           true);
    return;
  }
  state_ = State::mail;
  send(out, "MAIL FROM:<" + envelope_.mail_from + ">");
}

void SmtpClientSession::next_recipient(std::vector<SmtpClientAction>& out) {
  if (next_recipient_ < envelope_.recipients.size()) {
    send(out, "RCPT TO:<" + envelope_.recipients[next_recipient_++] + ">");
    return;
  }
  if (accepted_ == 0) {
    finish(out, SmtpOutcome::Kind::permanent, last_rcpt_code_,
           envelope_.recipients.empty() ? "no recipients" : last_rcpt_text_, true);
    return;
  }
  state_ = State::data;
  send(out, "DATA");
}

void SmtpClientSession::send(std::vector<SmtpClientAction>& out, std::string line) {
  // Addresses and names come from the store and the config, already checked;
  // a CR or LF here would still be a second command, so it never goes out.
  if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    finish(out, SmtpOutcome::Kind::permanent, 0, "an address holds a line break", false);
    return;
  }
  out.push_back({SmtpClientAction::Kind::write, std::move(line) + "\r\n", {}});
}

void SmtpClientSession::finish(std::vector<SmtpClientAction>& out, SmtpOutcome::Kind kind, int code,
                               std::string text, bool quit) {
  if (state_ == State::quit || state_ == State::done) {
    state_ = State::done; // the outcome was given; garbage after it ends the talk
    return;
  }
  if (quit) {
    out.push_back({SmtpClientAction::Kind::write, "QUIT\r\n", {}});
  }
  SmtpOutcome outcome;
  outcome.kind = kind;
  outcome.code = code;
  outcome.text = std::move(text);
  outcome.refused = refused_;
  state_ = quit ? State::quit : State::done;
  out.push_back({SmtpClientAction::Kind::done, {}, std::move(outcome)});
}

} // namespace trestle::smtp
