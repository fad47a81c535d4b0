#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// How to talk to the relay (smarthost).
struct SmtpClientOptions {
  /// Our name in EHLO.
  std::string helo_name = "localhost";
  /// Refuse to send unless the relay offers STARTTLS (the default), or the
  /// connection is TLS from the start (`tls_from_start`).
  bool require_tls = true;
  /// The connection is already TLS (implicit TLS, port 465).
  bool tls_from_start = false;
  /// AUTH credentials; empty `username` sends no AUTH.
  std::string username;
  std::string password;
};

/// One message for the relay.
struct OutboundEnvelope {
  /// MAIL FROM address (no brackets); empty for the null sender.
  std::string mail_from;
  std::vector<std::string> recipients;
  /// The message (headers and body); LF or CR LF line ends, not dot-stuffed.
  std::string data;
};

/// How a delivery attempt ended.
struct SmtpOutcome {
  enum class Kind {
    /// The relay took the message (for the recipients not in `refused`).
    sent,
    /// The relay refused for good (5xx): do not retry.
    permanent,
    /// Try again later (4xx, a broken dialogue, missing TLS or AUTH).
    temporary,
  };
  Kind kind = Kind::temporary;
  /// The relay's reply code (0 when the failure was ours or the link's).
  int code = 0;
  /// The relay's text, or what went wrong; one line.
  std::string text;
  /// Recipients the relay refused with 5xx while others were accepted.
  std::vector<std::string> refused;
};

/// What the session asks of its driver.
struct SmtpClientAction {
  enum class Kind {
    /// `bytes`: write them.
    write,
    /// Upgrade the connection to TLS now, then call tls_started().
    start_tls,
    /// `outcome`: the attempt is over (QUIT was written when polite).
    done,
  };
  Kind kind = Kind::write;
  std::string bytes;
  SmtpOutcome outcome;
};

/// The client side of one SMTP delivery to a relay, without I/O: the
/// driver feeds the relay's bytes and writes what the session asks. One
/// command at a time; STARTTLS (required by default, verified by the driver),
/// AUTH PLAIN or LOGIN, MAIL, RCPT for each recipient, DATA with
/// dot-stuffing, QUIT. Replies are parsed with bounds (line length, lines per
/// reply); anything malformed ends the attempt as a temporary failure.
class SmtpClientSession {
public:
  SmtpClientSession(SmtpClientOptions options, OutboundEnvelope envelope);

  /// Bytes from the relay.
  std::vector<SmtpClientAction> receive(std::string_view bytes);
  /// The TLS handshake after start_tls succeeded.
  std::vector<SmtpClientAction> tls_started();
  /// The connection broke or timed out before the end: a temporary failure.
  std::vector<SmtpClientAction> connection_lost(std::string_view why);

  /// True once the outcome was given (only QUIT's answer may still come).
  bool finished() const { return state_ == State::quit || state_ == State::done; }

  /// The message as it goes after DATA: CR LF line ends, dot-stuffed, ended
  /// with the lone dot.
  static std::string encode_data(std::string_view data);

private:
  enum class State {
    greeting,
    ehlo,
    helo,
    starttls,
    auth_plain,
    auth_login_user,
    auth_login_password,
    mail,
    rcpt,
    data,
    body,
    quit,
    done
  };

  void on_reply(int code, const std::vector<std::string>& lines,
                std::vector<SmtpClientAction>& out);
  void after_hello(std::vector<SmtpClientAction>& out);
  void send(std::vector<SmtpClientAction>& out, std::string line);
  void next_recipient(std::vector<SmtpClientAction>& out);
  void finish(std::vector<SmtpClientAction>& out, SmtpOutcome::Kind kind, int code,
              std::string text, bool quit);

  SmtpClientOptions options_;
  OutboundEnvelope envelope_;
  State state_ = State::greeting;
  bool tls_ = false;
  std::string input_;
  std::vector<std::string> reply_lines_;
  /// EHLO keywords of the relay, upper case.
  std::vector<std::string> extensions_;
  std::size_t next_recipient_ = 0;
  std::size_t accepted_ = 0;
  std::vector<std::string> refused_;
  int last_rcpt_code_ = 0;
  std::string last_rcpt_text_;
};

} // namespace trestle::smtp
