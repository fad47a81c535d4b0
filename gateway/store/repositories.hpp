#pragma once

// The store as the event loop sees it: repositories by concern, every call
// awaited. A call never waits for the disk or a lock on the loop's thread;
// it answers within the store's deadline, with StoreErrc::timeout when the
// database did not, so the caller can refuse for now (451, 503,
// internal-server-error) instead of stalling everyone else.
//
// The interfaces name nothing of SQLite, and each call is one round trip
// that a backend does atomically. A backend copies what it needs of the
// arguments before it first suspends, so a caller may pass temporaries.
// (Arguments are references rather than values because GCC 12 destroys a
// by-value argument of a call inside `co_await` twice.)

// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12;
// included here so that no includer has to care.
// clang-format off
#include <utility>
// clang-format on

#include "store.hpp"

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace trestle::gateway {

template <typename T> using Awaitable = boost::asio::awaitable<T>;

/// XEP-0077 registrations.
class Registrations {
public:
  virtual ~Registrations() = default;
  virtual Awaitable<std::optional<Registration>>
  find(const std::string& user, const std::string& component, std::error_code& ec) = 0;
  /// Inserts or replaces a registration.
  virtual Awaitable<void> put(const Registration& registration, std::error_code& ec) = 0;
  /// Deletes a registration and the user's per-server settings; returns
  /// whether a registration existed.
  virtual Awaitable<bool> remove(const std::string& user, const std::string& component,
                                 std::error_code& ec) = 0;
  /// Every registration with `component`, ordered by user.
  virtual Awaitable<std::vector<Registration>> all(const std::string& component,
                                                   std::error_code& ec) = 0;
  /// The registration whose `field` equals `value`, or nullopt.
  virtual Awaitable<std::optional<Registration>> find_by_field(const std::string& component,
                                                               const std::string& field,
                                                               const std::string& value,
                                                               std::error_code& ec) = 0;
};

/// The mapping table: legacy addresses and their JIDs.
class Addresses {
public:
  virtual ~Addresses() = default;
  virtual Awaitable<std::optional<AddressMapping>> find_by_legacy(const std::string& component,
                                                                  const std::string& legacy_key,
                                                                  std::error_code& ec) = 0;
  virtual Awaitable<std::optional<AddressMapping>>
  find_by_jid(const std::string& component, const std::string& jid, std::error_code& ec) = 0;
  /// Inserts or updates a mapping (keyed by component + legacy_key).
  virtual Awaitable<void> put(const AddressMapping& mapping, std::error_code& ec) = 0;
  /// Store::claim_address(): one atomic step.
  virtual Awaitable<Claim> claim(const std::string& component, const std::string& key,
                                 const std::string& user, std::error_code& ec) = 0;
  /// Deletes the mapping of a JID; returns whether one existed.
  virtual Awaitable<bool> remove_by_jid(const std::string& component, const std::string& jid,
                                        std::error_code& ec) = 0;
};

/// Message correlations (legacy id ↔ XMPP id).
class Correlations {
public:
  virtual ~Correlations() = default;
  virtual Awaitable<void> put(const Correlation& correlation, std::error_code& ec) = 0;
  /// Stores several correlations: all or none. False, with nothing written
  /// and no error, when one marked IfPresent::refuse exists already.
  virtual Awaitable<bool> put_all(const std::vector<Correlation>& correlations,
                                  std::error_code& ec) = 0;
  virtual Awaitable<std::optional<Correlation>> find_by_legacy(const std::string& component,
                                                               const std::string& kind,
                                                               const std::string& legacy_id,
                                                               std::error_code& ec) = 0;
  /// The correlation of each (kind, legacy id) of `keys`, in their order,
  /// nullopt where there is none: one round trip for several lookups.
  virtual Awaitable<std::vector<std::optional<Correlation>>>
  find_each_by_legacy(const std::string& component,
                      const std::vector<std::pair<std::string, std::string>>& keys,
                      std::error_code& ec) = 0;
  virtual Awaitable<std::optional<Correlation>> find_by_xmpp(const std::string& component,
                                                             const std::string& kind,
                                                             const std::string& xmpp_id,
                                                             std::error_code& ec) = 0;
  /// Deletes one correlation; returns whether it existed.
  virtual Awaitable<bool> remove(const std::string& component, const std::string& kind,
                                 const std::string& legacy_id, std::error_code& ec) = 0;
  /// Deletes correlations created before `before`; returns how many.
  virtual Awaitable<std::size_t> prune(std::int64_t before, std::error_code& ec) = 0;
};

/// Usage events, for per-user caps.
class UsageLog {
public:
  virtual ~UsageLog() = default;
  virtual Awaitable<void> record(const std::string& component, const std::string& user,
                                 std::int64_t at, std::error_code& ec) = 0;
  /// The events of `user` with at >= `since`.
  virtual Awaitable<std::size_t> count(const std::string& component, const std::string& user,
                                       std::int64_t since, std::error_code& ec) = 0;
  /// Store::usage_summary().
  virtual Awaitable<std::vector<UsageCount>> summary(const std::string& component, std::int64_t now,
                                                     std::error_code& ec) = 0;
  /// Deletes events older than `before`; returns how many.
  virtual Awaitable<std::size_t> prune(std::int64_t before, std::error_code& ec) = 0;
};

/// Inbound legacy messages kept for admins or for a user to come back.
class HeldMessages {
public:
  virtual ~HeldMessages() = default;
  /// Returns the new message's id.
  virtual Awaitable<std::int64_t> add(const HeldMessage& message, std::error_code& ec) = 0;
  /// Store::held_messages().
  virtual Awaitable<std::vector<HeldMessage>> list(const std::string& component, bool for_users,
                                                   std::size_t limit, std::error_code& ec) = 0;
  virtual Awaitable<std::size_t> count(const std::string& component, std::error_code& ec) = 0;
  virtual Awaitable<bool> remove(std::int64_t id, std::error_code& ec) = 0;
};

/// Messages waiting to go out to a legacy network.
class Outbox {
public:
  virtual ~Outbox() = default;
  /// Returns the new item's id.
  virtual Awaitable<std::int64_t> add(const OutboxItem& item, std::error_code& ec) = 0;
  /// Store::lease_due_outbox(): picks and leases in one atomic step.
  virtual Awaitable<std::vector<OutboxItem>> lease_due(const std::string& component,
                                                       std::int64_t now, std::int64_t lease_until,
                                                       std::size_t limit, std::error_code& ec) = 0;
  /// The earliest next attempt time, or nullopt when nothing waits.
  virtual Awaitable<std::optional<std::int64_t>> next_due(const std::string& component,
                                                          std::error_code& ec) = 0;
  virtual Awaitable<void> reschedule(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                                     const std::string& last_error, std::error_code& ec) = 0;
  virtual Awaitable<bool> remove(std::int64_t id, std::error_code& ec) = 0;
  /// Items waiting for `component`, of `user` only unless it is empty.
  virtual Awaitable<std::size_t> count(const std::string& component, const std::string& user,
                                       std::error_code& ec) = 0;
};

/// Stanzas for XMPP users kept until the XMPP server confirms them.
class UndeliveredStanzas {
public:
  virtual ~UndeliveredStanzas() = default;
  /// Returns the new stanza's id: ids increase in the order of the calls.
  virtual Awaitable<std::int64_t> add(const Undelivered& stanza, std::error_code& ec) = 0;
  /// Up to `limit` of `component`'s stanzas with an id above `after`, by id.
  virtual Awaitable<std::vector<Undelivered>> after(const std::string& component,
                                                    std::int64_t after, std::size_t limit,
                                                    std::error_code& ec) = 0;
  /// Forgets confirmed stanzas, all or none; returns how many existed.
  virtual Awaitable<std::size_t> remove(const std::string& component,
                                        const std::vector<std::int64_t>& ids,
                                        std::error_code& ec) = 0;
  virtual Awaitable<std::size_t> count(const std::string& component, std::error_code& ec) = 0;
};

/// A user's own settings per legacy server.
class ServerSettingsRepository {
public:
  virtual ~ServerSettingsRepository() = default;
  virtual Awaitable<std::optional<ServerSettings>> find(const std::string& user,
                                                        const std::string& component,
                                                        const std::string& server,
                                                        std::error_code& ec) = 0;
  /// Replaces the settings as a whole.
  virtual Awaitable<void> put(const ServerSettings& settings, std::error_code& ec) = 0;
};

/// Every repository of one store.
class Repositories {
public:
  virtual ~Repositories() = default;
  virtual Registrations& registrations() = 0;
  virtual Addresses& addresses() = 0;
  virtual Correlations& correlations() = 0;
  virtual UsageLog& usage() = 0;
  virtual HeldMessages& held() = 0;
  virtual Outbox& outbox() = 0;
  virtual ServerSettingsRepository& server_settings() = 0;
  virtual UndeliveredStanzas& undelivered() = 0;
  /// Makes everything written durable (a WAL checkpoint); called at shutdown.
  virtual Awaitable<void> flush(std::error_code& ec) = 0;
};

/// How the repositories reach an SQLite database.
struct StoreThreadOptions {
  /// The longest a caller waits for one call, queueing included.
  std::chrono::milliseconds deadline{2000};
  /// Calls waiting for or at the database at most; more fail at once
  /// with StoreErrc::busy.
  std::size_t max_queued = 4096;
};

/// Called on the loop's thread once per failed call (for /metrics).
using StoreErrorReport = std::function<void(const std::error_code&)>;

/// Repositories over SQLite, each call run on a thread of the store's own:
/// writes on `writer`'s thread in the order they were asked for, reads on
/// `reader`'s (WAL lets them run while a write does). Both connections must
/// be to the same database file. Destroy them before the io_context their
/// callers run on: until its threads are joined, they post answers to it.
std::unique_ptr<Repositories> threaded_repositories(std::unique_ptr<Store> writer,
                                                    std::unique_ptr<Store> reader,
                                                    StoreThreadOptions options,
                                                    StoreErrorReport on_error);

/// Repositories whose calls run at once on `store`, on the caller's thread
/// and without suspending: for an in-memory database, which a second
/// connection cannot share, and for tests.
std::unique_ptr<Repositories> inline_repositories(Store& store, StoreErrorReport on_error);

} // namespace trestle::gateway
