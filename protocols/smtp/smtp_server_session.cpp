#include "smtp_server_session.hpp"

#include "smtp_text.hpp"

#include <algorithm>
#include <charconv>

namespace trestle::smtp {

namespace {

/// SMTP has one reply for all recipients: a temporary failure of any of them
/// makes it temporary, so that the client sends the message again rather
/// than lose that copy (the others may then get it twice); otherwise a
/// success of any of them is the answer (the refused ones were told at RCPT
/// time in all but rare cases), else the first refusal.
const SmtpVerdict& smtp_verdict(const std::vector<SmtpVerdict>& verdicts) {
  for (const auto& verdict : verdicts) {
    if (verdict.code >= 400 && verdict.code < 500) {
      return verdict;
    }
  }
  for (const auto& verdict : verdicts) {
    if (verdict.code >= 200 && verdict.code < 300) {
      return verdict;
    }
  }
  return verdicts.front();
}

/// RFC 5321 section 4.5.3.1: a command line is at most 512 octets and a text
/// line at most 1000, CR LF included.
constexpr std::size_t max_command_line = 512;
constexpr std::size_t max_text_line = 1000;
/// Input held while the driver's answer is awaited (pipelined commands).
constexpr std::size_t max_pending_input = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
           };
           return lower(x) == lower(y);
         });
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

/// `<path> params` after `FROM:` or `TO:`: the address inside the brackets
/// and the rest. False on a syntax error.
bool split_path(std::string_view argument, std::string& address, std::string_view& params) {
  argument = trim(argument);
  if (argument.empty() || argument.front() != '<') {
    return false;
  }
  const auto close = argument.find('>');
  if (close == std::string_view::npos) {
    return false;
  }
  address = std::string(argument.substr(1, close - 1));
  params = trim(argument.substr(close + 1));
  // A source route (@a,@b:user@c) is accepted and ignored (RFC 5321 C).
  if (!address.empty() && address.front() == '@') {
    const auto colon = address.find(':');
    if (colon == std::string::npos) {
      return false;
    }
    address.erase(0, colon + 1);
  }
  return std::none_of(address.begin(), address.end(), [](char c) {
    return c == ' ' || c == '<' || c == '>' || static_cast<unsigned char>(c) < 0x20;
  });
}

} // namespace

SmtpServerSession::SmtpServerSession(SmtpServerOptions options) : options_(std::move(options)) {}

std::vector<SmtpAction> SmtpServerSession::start() {
  std::vector<SmtpAction> out;
  state_ = State::ready;
  reply(out, 220, "", options_.hostname + (options_.lmtp ? " LMTP" : " ESMTP") + " trestle");
  return out;
}

std::vector<SmtpAction> SmtpServerSession::receive(std::string_view bytes) {
  std::vector<SmtpAction> out;
  if (state_ == State::closed) {
    return out;
  }
  input_.append(bytes);
  process(out);
  return out;
}

std::vector<SmtpAction> SmtpServerSession::tls_started() {
  std::vector<SmtpAction> out;
  tls_ = true;
  helo_.clear();
  reset_transaction();
  state_ = State::ready;
  process(out);
  return out;
}

std::vector<SmtpAction> SmtpServerSession::timed_out() {
  std::vector<SmtpAction> out;
  if (state_ != State::closed) {
    close(out, "timeout, closing the connection", "4.4.2");
  }
  return out;
}

void SmtpServerSession::process(std::vector<SmtpAction>& out) {
  if (waiting_ != Waiting::none && input_.size() > max_pending_input) {
    // Far more pipelined than any client needs while an answer is awaited.
    close(out, "too much input at once");
    return;
  }
  process_lines(out);
  // Lines are read through a cursor and dropped once: a large chunk of data
  // costs one pass, not one move per line.
  input_.erase(0, read_);
  read_ = 0;
}

void SmtpServerSession::process_lines(std::vector<SmtpAction>& out) {
  while (state_ != State::closed && state_ != State::greeting && waiting_ == Waiting::none) {
    const std::string_view rest = std::string_view(input_).substr(read_);
    const auto lf = rest.find('\n');
    if (skipping_line_) {
      // The rest of an overlong data line: never a line of its own (a "."
      // there must not end the data).
      if (lf == std::string_view::npos) {
        read_ = input_.size();
        return;
      }
      read_ += lf + 1;
      skipping_line_ = false;
      continue;
    }
    const std::size_t limit = state_ == State::data ? max_text_line : max_command_line;
    if (lf == std::string_view::npos) {
      if (rest.size() > limit) {
        // No line end in sight: the line is too long whatever follows.
        if (state_ == State::data) {
          set_data_problem(500, "5.5.2", "a line is longer than 1000 bytes");
          read_ = input_.size();
          skipping_line_ = true;
          return;
        }
        close(out, "command line too long");
      }
      return;
    }
    const std::string_view line = rest.substr(0, lf + 1);
    read_ += lf + 1;
    const bool crlf = line.size() >= 2 && line[line.size() - 2] == '\r';
    const std::string_view content = line.substr(0, line.size() - (crlf ? 2 : 1));
    const bool bare_cr = content.find('\r') != std::string_view::npos;
    if (state_ == State::data) {
      if (!crlf || bare_cr) {
        // A lone LF or CR would let "\n.\n" end the data for one MTA and not
        // another (SMTP smuggling): the message is refused at its end.
        set_data_problem(554, "5.6.0", "bare LF or CR in the message; lines end in CR LF");
        continue; // never the end of the data, whatever it holds
      }
      if (line.size() > max_text_line) {
        set_data_problem(500, "5.5.2", "a line is longer than 1000 bytes");
      }
      data_line(content, out);
      continue;
    }
    if (!crlf || bare_cr) {
      error(out, 500, "5.5.2", "bare LF or CR; commands end in CR LF");
      continue;
    }
    if (line.size() > max_command_line) {
      error(out, 500, "5.5.2", "command line too long");
      continue;
    }
    command(content, out);
  }
}

void SmtpServerSession::set_data_problem(int code, std::string_view enhanced,
                                         std::string_view text) {
  data_problem_code_ = code;
  data_problem_enhanced_ = std::string(enhanced);
  data_problem_ = std::string(text);
}

void SmtpServerSession::command(std::string_view line, std::vector<SmtpAction>& out) {
  const auto space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view argument =
      space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  const bool lmtp = options_.lmtp;
  if ((!lmtp && (iequals(verb, "EHLO") || iequals(verb, "HELO"))) ||
      (lmtp && iequals(verb, "LHLO"))) {
    hello(verb, argument, out);
  } else if (iequals(verb, "EHLO") || iequals(verb, "HELO") || iequals(verb, "LHLO")) {
    error(out, 500, "5.5.1", lmtp ? "this is LMTP: use LHLO" : "this is SMTP: use EHLO");
  } else if (iequals(verb, "MAIL")) {
    mail_from(argument, out);
  } else if (iequals(verb, "RCPT")) {
    rcpt_to(argument, out);
  } else if (iequals(verb, "DATA")) {
    if (!trim(argument).empty()) {
      error(out, 501, "5.5.4", "DATA takes no argument");
    } else {
      start_data(out);
    }
  } else if (iequals(verb, "RSET")) {
    reset_transaction();
    reply(out, 250, "2.0.0", "reset");
  } else if (iequals(verb, "NOOP")) {
    reply(out, 250, "2.0.0", "OK");
  } else if (iequals(verb, "QUIT")) {
    reply(out, 221, "2.0.0", "bye");
    state_ = State::closed;
    out.push_back({SmtpAction::Kind::close, {}, {}, {}});
  } else if (iequals(verb, "VRFY")) {
    reply(out, 252, "2.5.0", "cannot verify; send a message and see");
  } else if (iequals(verb, "HELP")) {
    reply(out, 214, "2.0.0", "see RFC 5321");
  } else if (iequals(verb, "STARTTLS")) {
    if (!options_.tls_available || tls_) {
      error(out, 502, "5.5.1", tls_ ? "TLS is already on" : "STARTTLS is not offered here");
    } else if (!trim(argument).empty()) {
      error(out, 501, "5.5.4", "STARTTLS takes no argument");
    } else if (helo_.empty()) {
      error(out, 503, "5.5.1", "say EHLO first");
    } else {
      reply(out, 220, "2.0.0", "ready to start TLS");
      // Nothing sent before the handshake may count as said under TLS.
      input_.clear();
      read_ = 0;
      out.push_back({SmtpAction::Kind::start_tls, {}, {}, {}});
      waiting_ = Waiting::none;
      state_ = State::greeting;
    }
  } else {
    error(out, 500, "5.5.2", "unknown command");
  }
}

void SmtpServerSession::hello(std::string_view verb, std::string_view argument,
                              std::vector<SmtpAction>& out) {
  const auto name = trim(argument);
  if (name.empty()) {
    error(out, 501, "5.5.4", std::string(verb) + " needs the client's name");
    return;
  }
  reset_transaction();
  helo_ = printable(name, 255);
  if (iequals(verb, "HELO")) {
    reply(out, 250, "", options_.hostname);
    return;
  }
  std::vector<std::string> lines{options_.hostname, "PIPELINING",
                                 "SIZE " + std::to_string(options_.max_message_bytes), "8BITMIME",
                                 "ENHANCEDSTATUSCODES"};
  if (options_.tls_available && !tls_) {
    lines.emplace_back("STARTTLS");
  }
  std::string bytes;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    bytes += "250";
    bytes += i + 1 == lines.size() ? ' ' : '-';
    bytes += lines[i];
    bytes += "\r\n";
  }
  out.push_back({SmtpAction::Kind::reply, std::move(bytes), {}, {}});
}

void SmtpServerSession::mail_from(std::string_view argument, std::vector<SmtpAction>& out) {
  if (helo_.empty()) {
    error(out, 503, "5.5.1", options_.lmtp ? "say LHLO first" : "say EHLO first");
    return;
  }
  if (state_ != State::ready) {
    error(out, 503, "5.5.1", "a transaction is already open; RSET first");
    return;
  }
  if (!istarts_with(argument, "FROM:")) {
    error(out, 501, "5.5.4", "syntax: MAIL FROM:<address>");
    return;
  }
  std::string address;
  std::string_view params;
  if (!split_path(argument.substr(5), address, params)) {
    error(out, 501, "5.1.7", "bad sender address syntax");
    return;
  }
  bool eight_bit = false;
  while (!params.empty()) {
    const auto space = params.find(' ');
    const auto param = params.substr(0, space);
    params = space == std::string_view::npos ? std::string_view{} : trim(params.substr(space));
    if (istarts_with(param, "SIZE=")) {
      std::uint64_t size = 0;
      const auto digits = param.substr(5);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
      if (ec != std::errc{} || end != digits.data() + digits.size()) {
        error(out, 501, "5.5.4", "SIZE needs a number");
        return;
      }
      if (size > options_.max_message_bytes) {
        reply(out, 552, "5.3.4",
              "message too big: the limit is " + std::to_string(options_.max_message_bytes) +
                  " bytes");
        return;
      }
    } else if (iequals(param, "BODY=8BITMIME")) {
      eight_bit = true;
    } else if (iequals(param, "BODY=7BIT")) {
      eight_bit = false;
    } else {
      error(out, 555, "5.5.4", "unknown MAIL parameter " + printable(param, 60));
      return;
    }
  }
  mail_from_ = std::move(address);
  eight_bit_ = eight_bit;
  state_ = State::mail;
  reply(out, 250, "2.1.0", "sender OK");
}

void SmtpServerSession::rcpt_to(std::string_view argument, std::vector<SmtpAction>& out) {
  if (state_ != State::mail) {
    error(out, 503, "5.5.1", "MAIL FROM first");
    return;
  }
  if (!istarts_with(argument, "TO:")) {
    error(out, 501, "5.5.4", "syntax: RCPT TO:<address>");
    return;
  }
  std::string address;
  std::string_view params;
  if (!split_path(argument.substr(3), address, params) || address.empty()) {
    error(out, 501, "5.1.3", "bad recipient address syntax");
    return;
  }
  if (!params.empty()) {
    error(out, 555, "5.5.4", "RCPT parameters are not supported");
    return;
  }
  if (recipients_.size() >= options_.max_recipients) {
    reply(out, 452, "4.5.3", "too many recipients; send the rest in another message");
    return;
  }
  pending_recipient_ = address;
  waiting_ = Waiting::recipient;
  out.push_back({SmtpAction::Kind::check_recipient, {}, std::move(address), {}});
}

std::vector<SmtpAction> SmtpServerSession::answer_recipient(const SmtpVerdict& verdict) {
  std::vector<SmtpAction> out;
  if (waiting_ != Waiting::recipient) {
    return out;
  }
  waiting_ = Waiting::none;
  if (verdict.code >= 200 && verdict.code < 300) {
    recipients_.push_back(std::move(pending_recipient_));
    accepted_as_.push_back(verdict.accepted_as);
  }
  pending_recipient_.clear();
  reply(out, verdict.code, verdict.enhanced, verdict.text);
  process(out);
  return out;
}

void SmtpServerSession::start_data(std::vector<SmtpAction>& out) {
  if (state_ != State::mail) {
    error(out, 503, "5.5.1", "MAIL FROM first");
    return;
  }
  if (recipients_.empty()) {
    reply(out, 554, "5.5.1", "no valid recipients");
    return;
  }
  data_.clear();
  data_problem_.clear();
  state_ = State::data;
  reply(out, 354, "", "end data with <CR><LF>.<CR><LF>");
}

void SmtpServerSession::data_line(std::string_view line, std::vector<SmtpAction>& out) {
  if (line == ".") {
    end_data(out);
    return;
  }
  if (!line.empty() && line.front() == '.') {
    line.remove_prefix(1); // dot-stuffing (RFC 5321 section 4.5.2)
  }
  if (!eight_bit_ && data_problem_.empty() && std::any_of(line.begin(), line.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x80;
      })) {
    set_data_problem(554, "5.6.1", "8-bit data without BODY=8BITMIME");
  }
  if (data_.size() + line.size() + 2 > options_.max_message_bytes) {
    if (data_problem_.empty() || data_problem_code_ != 552) {
      data_problem_ =
          "message too big: the limit is " + std::to_string(options_.max_message_bytes) + " bytes";
      data_problem_code_ = 552;
      data_problem_enhanced_ = "5.3.4";
    }
    data_.clear(); // read on to the end without keeping it
    data_.shrink_to_fit();
    return;
  }
  if (data_problem_.empty()) {
    data_.append(line);
    data_.append("\r\n");
  }
}

void SmtpServerSession::end_data(std::vector<SmtpAction>& out) {
  if (!data_problem_.empty()) {
    const std::size_t answers = options_.lmtp ? recipients_.size() : 1;
    for (std::size_t i = 0; i < answers; ++i) {
      reply(out, data_problem_code_, data_problem_enhanced_, data_problem_);
    }
    reset_transaction();
    state_ = State::ready;
    return;
  }
  InboundMessage message;
  message.helo = helo_;
  message.mail_from = mail_from_;
  message.recipients = recipients_;
  message.accepted_as = accepted_as_;
  message.data = std::move(data_);
  message.eight_bit = eight_bit_;
  message.tls = tls_;
  data_.clear();
  waiting_ = Waiting::message;
  SmtpAction action;
  action.kind = SmtpAction::Kind::deliver;
  action.message = std::move(message);
  out.push_back(std::move(action));
}

std::vector<SmtpAction>
SmtpServerSession::answer_message(const std::vector<SmtpVerdict>& verdicts) {
  std::vector<SmtpAction> out;
  if (waiting_ != Waiting::message) {
    return out;
  }
  waiting_ = Waiting::none;
  const SmtpVerdict fallback{451, "4.3.0", "delivery failed; try again later"};
  if (options_.lmtp) {
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
      const auto& verdict =
          verdicts.empty() ? fallback : verdicts[std::min(i, verdicts.size() - 1)];
      reply(out, verdict.code, verdict.enhanced, verdict.text);
    }
  } else {
    const auto& verdict = verdicts.empty() ? fallback : smtp_verdict(verdicts);
    reply(out, verdict.code, verdict.enhanced, verdict.text);
  }
  reset_transaction();
  state_ = State::ready;
  process(out);
  return out;
}

void SmtpServerSession::reply(std::vector<SmtpAction>& out, int code, std::string_view enhanced,
                              std::string_view text) {
  std::string bytes = std::to_string(code);
  bytes += ' ';
  if (!enhanced.empty()) {
    bytes += enhanced;
    bytes += ' ';
  }
  bytes += printable(text, 400);
  bytes += "\r\n";
  // Pipelined replies go out together.
  if (!out.empty() && out.back().kind == SmtpAction::Kind::reply) {
    out.back().bytes += bytes;
  } else {
    out.push_back({SmtpAction::Kind::reply, std::move(bytes), {}, {}});
  }
}

void SmtpServerSession::error(std::vector<SmtpAction>& out, int code, std::string_view enhanced,
                              std::string_view text) {
  if (++errors_ >= options_.max_errors) {
    close(out, "too many errors");
    return;
  }
  reply(out, code, enhanced, text);
}

void SmtpServerSession::close(std::vector<SmtpAction>& out, std::string_view text,
                              std::string_view enhanced) {
  reply(out, 421, enhanced, options_.hostname + " " + std::string(text));
  state_ = State::closed;
  waiting_ = Waiting::none;
  input_.clear();
  read_ = 0;
  data_.clear();
  out.push_back({SmtpAction::Kind::close, {}, {}, {}});
}

void SmtpServerSession::reset_transaction() {
  mail_from_.clear();
  eight_bit_ = false;
  recipients_.clear();
  accepted_as_.clear();
  pending_recipient_.clear();
  data_.clear();
  data_problem_.clear();
  if (state_ == State::mail || state_ == State::data) {
    state_ = State::ready;
  }
}

} // namespace trestle::smtp
