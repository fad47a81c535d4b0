#pragma once

#include "repositories.hpp"
#include "store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace trestle::gateway {

class AdapterContext;

/// How an adapter's outbox queues and retries.
struct OutboxPolicy {
  /// Messages waiting in all; more are refused.
  std::size_t max_queued = 10000;
  /// ... and per user.
  std::size_t max_queued_per_user = 500;
  /// Retrying temporary failures stops after this long; the sender then gets
  /// an error.
  unsigned retry_max_age_seconds = 86400;
  unsigned retry_min_delay_seconds = 60;
  unsigned retry_max_delay_seconds = 3600;
  /// Messages being sent at once.
  std::size_t max_in_flight = 4;
  /// The longest one attempt can take: a message being sent is not due again
  /// before that, yet is retried after a crash mid-attempt.
  std::int64_t lease_seconds = 300;
};

/// The policy for an adapter's queue settings (EmailSettings, SmsSettings:
/// `max_queued`, `max_queued_per_user` and the `retry_*` delays), with
/// `max_in_flight` messages sent at once, each attempt taking at most
/// `lease_seconds`.
template <typename QueueSettings>
OutboxPolicy outbox_policy(const QueueSettings& settings, std::size_t max_in_flight,
                           std::int64_t lease_seconds) {
  OutboxPolicy policy;
  policy.max_queued = settings.max_queued;
  policy.max_queued_per_user = settings.max_queued_per_user;
  policy.retry_max_age_seconds = settings.retry_max_age_seconds;
  policy.retry_min_delay_seconds = settings.retry_min_delay_seconds;
  policy.retry_max_delay_seconds = settings.retry_max_delay_seconds;
  policy.max_in_flight = max_in_flight;
  policy.lease_seconds = lease_seconds;
  return policy;
}

/// How one attempt to send went, as the adapter's transport tells it.
struct OutboxAttempt {
  enum class Kind {
    /// The legacy network took it.
    sent,
    /// Refused for good.
    permanent,
    /// Try again later.
    temporary,
  };
  Kind kind = Kind::temporary;
  /// The network's reply code (an SMTP code, a provider's error code);
  /// empty when there was none.
  std::string code;
  /// Its words, or why there was no answer.
  std::string text;
  /// What the transport wants remembered of a sent message (a provider's
  /// message id); empty otherwise.
  std::string reference;
};

/// How a queued message ended.
struct OutboxResult {
  enum class Kind {
    /// The legacy network took it.
    sent,
    /// The legacy network refused it for good.
    refused,
    /// Temporary failures went on past the age limit.
    expired,
  };
  Kind kind = Kind::sent;
  /// As in OutboxAttempt: the last reply code and text, or why.
  std::string code;
  std::string text;
  /// OutboxAttempt::reference of the attempt that sent it.
  std::string reference;
};

/// Notes as `key=value` lines (a backslash and a line break in a value
/// escaped), for OutboxItem::meta and Correlation::note.
std::string encode_notes(const std::map<std::string, std::string>& notes);
/// Reads what encode_notes() wrote; lines without `=` are skipped.
std::map<std::string, std::string> decode_notes(std::string_view text);

/// An adapter's persistent queue of outgoing messages: every message is
/// stored before the transport sees it and removed only when the network
/// took or refused it, so a restart loses nothing. Temporary failures are
/// retried with capped exponential backoff and jitter until the age limit; a
/// message being sent is leased (its next attempt moved past the time an
/// attempt can take) so that a crash mid-attempt retries it later rather
/// than never. Single-threaded: the io_context's thread.
///
/// run() is the pump's loop, ended by Asio cancellation. A transport calls a
/// report before its owner destroys the pump, or never: the adapters stop
/// their transport after run() returned, and a report that comes after that
/// is ignored.
class OutboxPump {
public:
  /// Tells the pump how an attempt went; may be called later, once.
  using Report = std::function<void(OutboxAttempt)>;
  /// Starts sending `item`; false when the transport cannot take it now (its
  /// own queue is full), and `report` is then never called.
  using Send = std::function<bool(const OutboxItem& item, Report report)>;
  using OnDone = std::function<void(const OutboxItem&, const OutboxResult&)>;

  /// `context` must outlive the pump.
  OutboxPump(AdapterContext& context, OutboxPolicy policy, Send send, OnDone on_done);
  ~OutboxPump();
  OutboxPump(const OutboxPump&) = delete;
  OutboxPump& operator=(const OutboxPump&) = delete;

  enum class Added { queued, full, failed };
  /// Stores `item` (id, times and attempts are set here) and starts sending
  /// it. `full`: the queue limits are reached; `failed`: the store failed.
  [[nodiscard]] Awaitable<Added> add(const OutboxItem& item);
  /// Sends what is due, what an earlier run left included, until the
  /// coroutine that awaits it is cancelled (Asio's terminal cancellation);
  /// then what is in flight becomes due again at once (a restart sends it),
  /// and it returns. Store calls run to their answer: cancellation acts
  /// between them.
  [[nodiscard]] Awaitable<void> run();
  /// Messages being sent now.
  std::size_t in_flight() const { return in_flight_.size(); }

private:
  struct Timer;

  /// Wakes run() to lease and send what is due now.
  void pump();
  /// Leases what is due into the free slots and sends it.
  Awaitable<void> fill();
  /// Sleeps until the next message is due, a pump() or the cancellation.
  Awaitable<void> sleep_until_due();
  void send(const OutboxItem& item);
  void finished(const OutboxItem& item, OutboxAttempt attempt);
  void give_up(const OutboxItem& item, OutboxResult result);
  /// Moves message `id`'s next attempt to `at` (a spawned store write, which
  /// needs nothing of the pump).
  void reschedule(std::int64_t id, std::int64_t at, int attempts, std::string last_error);
  void log_store_failure(std::string_view what, const std::error_code& ec);

  AdapterContext& context_;
  OutboxPolicy policy_;
  Send send_;
  OnDone on_done_;
  std::string component_;
  /// Messages being sent, by id, as they were when sent.
  std::map<std::int64_t, OutboxItem> in_flight_;
  std::unique_ptr<Timer> timer_;
  /// run() is not running.
  bool stopped_ = true;
  /// pump() asked for a round since run() last leased.
  bool wake_ = false;
};

} // namespace trestle::gateway
