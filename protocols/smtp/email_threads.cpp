#include "email_threads.hpp"

#include "adapter.hpp"
#include "random_hex.hpp"
#include "store.hpp"

#include <algorithm>
#include <cstddef>
#include <system_error>

namespace trestle::smtp {

namespace {

const std::string message_kind = "email-msg";
const std::string root_kind = "email-root";
const std::string tip_kind = "email-tip";
const std::string last_kind = "email-last";

/// How many of a mail's References are looked up, newest first, besides
/// In-Reply-To and the first one (the thread's root, which mail programs keep
/// when they shorten the list). A References header of any length then costs
/// at most this many plus two store lookups.
constexpr std::size_t max_references_looked_up = 20;

/// The key of one thread: user, contact and XMPP thread, which no JID,
/// address or thread id can run together (none holds a line feed).
std::string thread_key(const std::string& user, const std::string& peer,
                       const std::string& thread) {
  return user + '\n' + peer + '\n' + thread;
}

std::string pair_key(const std::string& user, const std::string& peer) {
  return user + '\n' + peer;
}

} // namespace

std::string make_thread_id() {
  return "mail-" + gateway::random_hex(16);
}

EmailThreads::EmailThreads(gateway::AdapterContext& context) : context_(context) {}

gateway::Awaitable<ThreadPosition> EmailThreads::outgoing(const std::string& user,
                                                          const std::string& peer,
                                                          const std::string& thread) {
  auto& correlations = context_.repositories().correlations();
  const std::string& component = context_.domain().domain();
  ThreadPosition position;
  std::error_code ec;
  position.thread = thread;
  if (position.thread.empty()) {
    const std::string pair = pair_key(user, peer);
    const auto last = co_await correlations.find_by_legacy(component, last_kind, pair, ec);
    position.thread = last ? last->xmpp_id : make_thread_id();
  }
  const std::string key = thread_key(user, peer, position.thread);
  const std::vector<std::pair<std::string, std::string>> keys{{root_kind, key}, {tip_kind, key}};
  const auto found = co_await correlations.find_each_by_legacy(component, keys, ec);
  const auto& root = found.size() == 2 ? found[0] : std::nullopt;
  const auto& tip = found.size() == 2 ? found[1] : std::nullopt;
  if (root) {
    position.references.push_back(root->xmpp_id);
  }
  if (tip && (!root || tip->xmpp_id != root->xmpp_id)) {
    position.references.push_back(tip->xmpp_id);
  }
  co_return position;
}

gateway::Awaitable<std::string> EmailThreads::incoming(const std::string& user,
                                                       const std::string& in_reply_to,
                                                       const std::vector<std::string>& references,
                                                       bool& known) {
  auto& correlations = context_.repositories().correlations();
  const std::string& component = context_.domain().domain();
  std::vector<std::string> candidates;
  if (!in_reply_to.empty()) {
    candidates.push_back(in_reply_to);
  }
  const auto newest = std::min(references.size(), max_references_looked_up);
  candidates.insert(candidates.end(), references.rbegin(),
                    references.rbegin() + static_cast<std::ptrdiff_t>(newest));
  if (references.size() > newest) {
    candidates.push_back(references.front());
  }
  std::vector<std::pair<std::string, std::string>> keys;
  keys.reserve(candidates.size());
  for (const auto& id : candidates) {
    keys.emplace_back(message_kind, id);
  }
  std::error_code ec;
  std::vector<std::optional<gateway::Correlation>> results;
  if (!keys.empty()) {
    // One round trip for all of them, in the order they are tried.
    results = co_await correlations.find_each_by_legacy(component, keys, ec);
  }
  for (const auto& found : results) {
    if (!found || found->user != user) {
      continue;
    }
    // The key ends in the thread; a reply from another address of the same
    // person keeps the thread it answers.
    const auto cut = found->xmpp_id.rfind('\n');
    if (cut != std::string::npos) {
      known = true;
      co_return found->xmpp_id.substr(cut + 1);
    }
  }
  known = false;
  co_return make_thread_id();
}

std::vector<gateway::Correlation> EmailThreads::rows_to_record(const std::string& user,
                                                               const std::string& peer,
                                                               const std::string& thread,
                                                               const std::string& message_id,
                                                               std::int64_t now) const {
  std::vector<gateway::Correlation> rows;
  if (message_id.empty()) {
    return rows;
  }
  const std::string& component = context_.domain().domain();
  const std::string key = thread_key(user, peer, thread);
  const auto put = [&](std::string_view kind, const std::string& legacy, const std::string& xmpp,
                       gateway::IfPresent if_present) {
    rows.push_back(gateway::Correlation{.component = component,
                                        .kind = std::string(kind),
                                        .legacy_id = legacy,
                                        .xmpp_id = xmpp,
                                        .user = user,
                                        .peer = peer,
                                        .created_at = now,
                                        .if_present = if_present});
  };
  using gateway::IfPresent;
  put(root_kind, key, message_id, IfPresent::keep);
  put(message_kind, message_id, key, IfPresent::replace_own);
  put(tip_kind, key, message_id, IfPresent::replace);
  put(last_kind, pair_key(user, peer), thread, IfPresent::replace);
  return rows;
}

gateway::Awaitable<void> EmailThreads::record(const std::string& user, const std::string& peer,
                                              const std::string& thread,
                                              const std::string& message_id, std::int64_t now) {
  std::error_code ec;
  const auto rows = rows_to_record(user, peer, thread, message_id, now);
  // One transaction: one commit instead of four.
  co_await context_.repositories().correlations().put_all(rows, ec);
}

} // namespace trestle::smtp
