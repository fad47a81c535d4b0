#pragma once

#include "config.hpp"
#include "store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::smtp {

class SmtpRelay;

/// What an outgoing mail carries besides its bytes, kept in OutboxItem::meta.
struct MailNotes {
  /// MAIL FROM (the user's address).
  std::string from;
  std::string message_id;
  /// The XMPP thread it belongs to.
  std::string thread;
  /// The sender asked for a receipt (XEP-0184).
  bool receipt = false;

  /// One `key=value` line each.
  std::string encode() const;
  /// Reads what encode() wrote; unknown lines are ignored.
  static MailNotes decode(const std::string& meta);
};

/// How a queued mail ended.
struct OutboxResult {
  enum class Kind {
    /// The relay took it.
    sent,
    /// The relay refused it for good (5xx).
    refused,
    /// Temporary failures went on past the age limit.
    expired,
  };
  Kind kind = Kind::sent;
  /// The relay's reply code (0 when there was none) and its text, or why.
  int code = 0;
  std::string text;
};

/// The persistent queue of outgoing mail: every mail is stored before the
/// relay sees it and removed only when the relay took or refused it, so a
/// restart loses nothing. Temporary failures are retried with capped
/// exponential backoff and jitter until `retry_max_age_seconds`; a mail
/// being sent is leased (its next attempt moved past the time a delivery can
/// take) so that a crash mid-delivery retries it later rather than never.
/// Single-threaded: the io_context's thread.
class EmailOutbox {
public:
  using OnDone = std::function<void(const gateway::OutboxItem&, const OutboxResult&)>;

  /// `context`, `settings` and `relay` must outlive the outbox.
  EmailOutbox(gateway::AdapterContext& context, const gateway::EmailSettings& settings,
              SmtpRelay& relay, OnDone on_done);
  ~EmailOutbox();
  EmailOutbox(const EmailOutbox&) = delete;
  EmailOutbox& operator=(const EmailOutbox&) = delete;

  enum class Added { queued, full, failed };
  /// Stores `item` (id, times and attempts are set here) and starts sending
  /// it. `full`: the queue limits are reached; `failed`: the store failed.
  Added add(gateway::OutboxItem item);
  /// Starts sending what is due, what a previous run left included.
  void start();
  /// Stops sending; mails in flight become due again at once.
  void stop();
  /// Mails being sent now.
  std::size_t in_flight() const { return in_flight_.size(); }

private:
  struct Timer;

  void pump();
  void arm_timer();
  void send(const gateway::OutboxItem& item);
  void finished(const gateway::OutboxItem& item, int code, std::string text, bool permanent,
                bool sent);
  void give_up(const gateway::OutboxItem& item, OutboxResult result);

  gateway::AdapterContext& context_;
  const gateway::EmailSettings& settings_;
  SmtpRelay& relay_;
  OnDone on_done_;
  std::string component_;
  /// Mails being sent, by id, as they were when sent.
  std::map<std::int64_t, gateway::OutboxItem> in_flight_;
  std::unique_ptr<Timer> timer_;
  /// Shared with the relay's callbacks, which may run after this is gone.
  std::shared_ptr<bool> alive_;
  bool stopped_ = true;
};

} // namespace trestle::smtp
