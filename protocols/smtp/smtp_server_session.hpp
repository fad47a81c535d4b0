#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// Limits and features of the inbound listener (SMTP, or LMTP for an MTA
/// that delivers that way).
struct SmtpServerOptions {
  /// Our name in the greeting and the EHLO answer.
  std::string hostname = "localhost";
  /// LMTP (RFC 2033): LHLO instead of EHLO/HELO, one answer per recipient
  /// after the data.
  bool lmtp = false;
  /// STARTTLS is offered (the driver has a certificate).
  bool tls_available = false;
  /// The largest message accepted, in bytes (the SIZE extension).
  std::size_t max_message_bytes = 10 * 1024 * 1024;
  /// Recipients of one message; more get 452 4.5.3.
  std::size_t max_recipients = 100;
  /// Bad commands in one session before it is closed with 421.
  std::size_t max_errors = 10;
};

/// The envelope and content of one accepted message (after the final dot).
struct InboundMessage {
  /// The client's EHLO/HELO/LHLO name.
  std::string helo;
  /// MAIL FROM, without the angle brackets; empty for the null sender (bounces).
  std::string mail_from;
  /// RCPT TO addresses that were accepted, without angle brackets.
  std::vector<std::string> recipients;
  /// What the recipient check resolved each of them to
  /// (SmtpVerdict::accepted_as), in the same order.
  std::vector<std::string> accepted_as;
  /// The message as received, CR LF line ends, dot-stuffing removed.
  std::string data;
  /// The client declared BODY=8BITMIME.
  bool eight_bit = false;
  /// The session was under TLS when the message came.
  bool tls = false;
};

/// What the session asks of its driver, in order.
struct SmtpAction {
  enum class Kind {
    /// `bytes`: write them (one or more replies, CR LF ended).
    reply,
    /// Upgrade the connection to TLS now (after the 220 was written), then
    /// call tls_started(). Input that came after STARTTLS was thrown away.
    start_tls,
    /// `address`: may this recipient receive mail? Answer with answer_recipient().
    check_recipient,
    /// `message`: the data is complete. Deliver it (or store it), then answer
    /// with answer_message(), once per recipient in LMTP.
    deliver,
    /// Close the connection after writing what came before.
    close,
  };
  Kind kind = Kind::reply;
  std::string bytes;
  std::string address;
  InboundMessage message;
};

/// The answer to a check_recipient or deliver action: an SMTP reply code,
/// an enhanced status code and a text (one line, no CR or LF).
struct SmtpVerdict {
  int code = 250;
  std::string enhanced = "2.0.0";
  std::string text = "OK";
  /// For an accepted recipient: what the checker found it to be (a user),
  /// handed back with the message so that it need not be looked up twice.
  std::string accepted_as{};
};

/// The server side of one SMTP or LMTP session, without I/O ("sans-io"):
/// bytes in, actions out. It speaks RFC 5321 with PIPELINING, SIZE,
/// 8BITMIME, ENHANCEDSTATUSCODES and STARTTLS (when available), and refuses
/// what a careful MTA refuses, each with a clear reply:
/// - lines ending in a bare LF or holding a bare CR (no SMTP smuggling);
/// - command lines over 512 bytes and text lines over 1000 bytes;
/// - 8-bit data without BODY=8BITMIME;
/// - messages over the size limit, too many recipients, commands out of order;
/// - too many errors, which end the session with 421.
/// Commands pipelined behind one that waits for the driver's answer are held
/// and run in order once it comes. The driver owns the timeouts: it uses
/// in_data() to choose between the command and the data timeout.
class SmtpServerSession {
public:
  explicit SmtpServerSession(SmtpServerOptions options);

  /// The greeting (220), to write when the connection opens.
  std::vector<SmtpAction> start();
  /// Bytes from the client.
  std::vector<SmtpAction> receive(std::string_view bytes);
  /// The TLS handshake after start_tls succeeded: the client must greet again.
  std::vector<SmtpAction> tls_started();
  /// The answer to the pending check_recipient: 2xx accepts the recipient.
  std::vector<SmtpAction> answer_recipient(const SmtpVerdict& verdict);
  /// The answer to the pending deliver: one verdict per recipient, in order.
  /// LMTP replies with each (missing ones are taken from the last one
  /// given); SMTP has one reply, a temporary failure if any recipient had
  /// one, else a success if any had one, else the first.
  std::vector<SmtpAction> answer_message(const std::vector<SmtpVerdict>& verdicts);
  /// The reply for a timeout (421 4.4.2) followed by a close, for the driver.
  std::vector<SmtpAction> timed_out();

  /// True while the message data is being received (the data timeout applies).
  bool in_data() const { return state_ == State::data; }
  /// True after QUIT, 421 or a close: no more input is read.
  bool closed() const { return state_ == State::closed; }
  /// True while an answer from the driver is awaited.
  bool waiting() const { return waiting_ != Waiting::none; }
  /// Bytes held: input not yet processed plus the message being received.
  std::size_t buffered_bytes() const { return input_.size() - read_ + data_.size(); }

private:
  enum class State { greeting, ready, mail, data, closed };
  enum class Waiting { none, recipient, message };

  void process(std::vector<SmtpAction>& out);
  void process_lines(std::vector<SmtpAction>& out);
  /// Records why the message being received will be refused at its end.
  void set_data_problem(int code, std::string_view enhanced, std::string_view text);
  void command(std::string_view line, std::vector<SmtpAction>& out);
  void data_line(std::string_view line, std::vector<SmtpAction>& out);
  void hello(std::string_view verb, std::string_view argument, std::vector<SmtpAction>& out);
  void mail_from(std::string_view argument, std::vector<SmtpAction>& out);
  void rcpt_to(std::string_view argument, std::vector<SmtpAction>& out);
  void start_data(std::vector<SmtpAction>& out);
  void end_data(std::vector<SmtpAction>& out);
  void reply(std::vector<SmtpAction>& out, int code, std::string_view enhanced,
             std::string_view text);
  void error(std::vector<SmtpAction>& out, int code, std::string_view enhanced,
             std::string_view text);
  void close(std::vector<SmtpAction>& out, std::string_view text,
             std::string_view enhanced = "4.7.0");
  void reset_transaction();

  SmtpServerOptions options_;
  State state_ = State::greeting;
  Waiting waiting_ = Waiting::none;
  bool tls_ = false;
  std::string input_;
  /// How much of input_ was processed (dropped at the end of each call).
  std::size_t read_ = 0;
  /// Discarding the rest of an overlong data line.
  bool skipping_line_ = false;
  std::size_t errors_ = 0;
  std::string helo_;
  std::string mail_from_;
  bool eight_bit_ = false;
  std::vector<std::string> recipients_;
  std::vector<std::string> accepted_as_;
  std::string pending_recipient_;
  std::string data_;
  /// Why the message being received will be refused at its end ("" if it will not).
  std::string data_problem_;
  int data_problem_code_ = 0;
  std::string data_problem_enhanced_;
};

} // namespace trestle::smtp
