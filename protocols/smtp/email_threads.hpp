#pragma once

#include "repositories.hpp"
#include "store.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::smtp {

/// Where an outgoing message goes in its email thread.
struct ThreadPosition {
  /// The XMPP thread id.
  std::string thread;
  /// Message-IDs for References (the thread's first and newest mail), the
  /// last one for In-Reply-To; empty for a new thread.
  std::vector<std::string> references;
};

/// The mapping between XMPP threads and email threads, per user and
/// contact, kept in the store's correlation table so that replies stay in
/// one thread on both sides, across restarts:
/// - `email-msg`: a Message-ID → the thread it belongs to;
/// - `email-root` / `email-tip`: a thread → its first / newest Message-ID;
/// - `email-last`: a user and contact → the thread used last.
/// A chat message without `<thread>` continues the last thread with that
/// contact. Store failures degrade to a new thread, never to a lost message.
class EmailThreads {
public:
  /// `context` must outlive this object; its store holds the threads.
  explicit EmailThreads(gateway::AdapterContext& context);

  /// The thread and references for a message from `user` (bare JID) to
  /// `peer` (an email address); `thread` is the XMPP `<thread>`, or empty.
  [[nodiscard]] gateway::Awaitable<ThreadPosition>
  outgoing(const std::string& user, const std::string& peer, const std::string& thread);
  /// The XMPP thread of a received mail: the one its In-Reply-To or
  /// References belong to for this user, else a new one. `known` tells
  /// which. Of the References, the newest 20 (newest first) and the first
  /// are looked up, so that a list of any length costs a bounded number of
  /// store lookups.
  [[nodiscard]] gateway::Awaitable<std::string> incoming(const std::string& user,
                                                         const std::string& in_reply_to,
                                                         const std::vector<std::string>& references,
                                                         bool& known);
  /// Records `message_id` (sent or received) as the newest mail of `thread`,
  /// at once: what the user sends next must see it.
  [[nodiscard]] gateway::Awaitable<void> record(const std::string& user, const std::string& peer,
                                                const std::string& thread,
                                                const std::string& message_id, std::int64_t now);
  /// The correlations that record a mail, for keeping with its message.
  /// They say how to meet the rows already there: a thread's first mail
  /// stays its root, and a Message-ID that is another user's is not taken
  /// over (a sender chooses it). No lookup: the store applies it.
  std::vector<gateway::Correlation> rows_to_record(const std::string& user, const std::string& peer,
                                                   const std::string& thread,
                                                   const std::string& message_id,
                                                   std::int64_t now) const;

private:
  gateway::AdapterContext& context_;
};

/// A new random XMPP thread id.
std::string make_thread_id();

} // namespace trestle::smtp
