#pragma once

#include "email_config.hpp"
#include "outbox_pump.hpp"
#include "store.hpp"

#include <cstddef>
#include <string>
#include <utility>

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

using gateway::OutboxResult;

/// The persistent queue of outgoing mail (gateway::OutboxPump) sending
/// through the relay: a mail being sent is leased for as long as a delivery
/// can take. Single-threaded: the io_context's thread.
class EmailOutbox {
public:
  using OnDone = gateway::OutboxPump::OnDone;
  using Added = gateway::OutboxPump::Added;

  /// `context`, `settings` and `relay` must outlive the outbox.
  EmailOutbox(gateway::AdapterContext& context, const smtp::EmailSettings& settings,
              SmtpRelay& relay, OnDone on_done);

  /// Stores `item` (id, times and attempts are set here) and starts sending
  /// it. `full`: the queue limits are reached; `failed`: the store failed.
  [[nodiscard]] gateway::Awaitable<Added> add(const gateway::OutboxItem& item) {
    return pump_.add(item);
  }
  /// Sends what is due, what a previous run left included, until cancelled;
  /// mails in flight then become due again at once (OutboxPump::run()).
  [[nodiscard]] gateway::Awaitable<void> run() { return pump_.run(); }
  /// Mails being sent now.
  std::size_t in_flight() const { return pump_.in_flight(); }

private:
  gateway::OutboxPump pump_;
};

} // namespace trestle::smtp
