#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace trestle::gateway {

/// Now, in Unix seconds: the clock of every timestamp the store keeps.
inline std::int64_t unix_time_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A user's registration with one component (XEP-0077), as field → value.
struct Registration {
  /// Bare JID of the XMPP user.
  std::string user;
  /// Component domain the registration belongs to.
  std::string component;
  std::map<std::string, std::string> fields;
  /// Unix seconds of the last change.
  std::int64_t updated_at = 0;
};

/// One row of the mapping table: a legacy address and its JID localpart.
struct AddressMapping {
  std::string component;
  /// Normalised form used for lookups (e.g. case-folded by CASEMAPPING).
  std::string legacy_key;
  /// The spelling last seen, used when sending back to the legacy network.
  std::string legacy_spelling;
  /// The JID (bare or with resource) that stands for the legacy address.
  std::string jid;
};

/// A message-correlation record: a legacy-side id and the XMPP-side id.
/// What writing a correlation does when one with the same component, kind
/// and legacy id exists already.
enum class IfPresent {
  /// Replaces it.
  replace,
  /// Keeps the old one; the new one is dropped without an error.
  keep,
  /// Replaces it when it is the same user's; keeps another user's.
  replace_own,
  /// Writes nothing of the whole write (every row and what they came with,
  /// such as a kept stanza), without an error: the legacy message was
  /// taken before (a provider repeating a webhook).
  refuse,
};

struct Correlation {
  std::string component;
  /// What is being correlated ("sms-dlr", "email-thread", ...).
  std::string kind;
  std::string legacy_id;
  std::string xmpp_id;
  /// Bare JID of the XMPP user the record belongs to.
  std::string user;
  /// The legacy peer (phone number, email address, ...).
  std::string peer;
  std::int64_t created_at = 0;
  /// Small adapter-specific notes (opaque to the store). Last and
  /// value-initialised so that initialisers naming only the fields above stay
  /// complete (-Wmissing-field-initializers).
  std::string note{};
  /// How it is written over an existing one; not stored.
  IfPresent if_present{IfPresent::replace};
};

/// A message waiting to go out to a legacy network, kept until it is
/// delivered or given up, so that a restart loses nothing.
struct OutboxItem {
  /// Assigned by add_outbox().
  std::int64_t id = 0;
  std::string component;
  /// Bare JID of the XMPP user who wrote it.
  std::string user;
  /// The full JID it came from, to answer with a receipt or an error.
  std::string sender;
  /// The XMPP message id.
  std::string xmpp_id;
  /// The legacy recipient (email address, phone number).
  std::string peer;
  /// What the adapter needs to send it (opaque to the store).
  std::string payload;
  /// Small adapter-specific notes (opaque to the store).
  std::string meta;
  /// Unix seconds.
  std::int64_t created_at = 0;
  std::int64_t next_attempt_at = 0;
  int attempts = 0;
  /// Why the last attempt failed.
  std::string last_error;
};

/// One user's usage as usage_summary() reports it.
struct UsageCount {
  /// Bare JID of the XMPP user.
  std::string user;
  /// Events with at >= now - 3600.
  std::size_t last_hour = 0;
  /// Events with at >= now - 86400.
  std::size_t last_day = 0;
};

/// An inbound legacy message kept in the store: one that belongs to no user
/// (an SMS to a number no one owns), kept for the admins to read, or one for
/// a user that waits for the XMPP server to be reachable again.
struct HeldMessage {
  /// Assigned by add_held().
  std::int64_t id = 0;
  std::string component;
  /// The sender (phone number).
  std::string peer;
  /// The legacy address it was sent to.
  std::string recipient;
  std::string body;
  /// Unix seconds.
  std::int64_t received_at = 0;
  /// The user (bare JID) it waits to be delivered to; empty: nobody's.
  std::string user;
};

/// A stanza for an XMPP user that came from a legacy network and was
/// acknowledged there (a mail answered 250, a text answered 200): kept until
/// the XMPP server confirms that it has it, and sent again until then.
struct Undelivered {
  /// Assigned by add_undelivered(): increasing, so it orders the stanzas.
  std::int64_t id = 0;
  std::string component;
  /// The stanza, serialized.
  std::string stanza;
  /// Unix seconds.
  std::int64_t created_at = 0;
  /// Correlations written in the same transaction (what the legacy message
  /// was: its provider id, its email thread), so that they exist exactly
  /// when the stanza is kept. Not read back.
  std::vector<Correlation> remember;
};

/// A user's own settings for one legacy server (IRC's configure command),
/// as field → value; they win over the registration's.
struct ServerSettings {
  /// Bare JID of the XMPP user.
  std::string user;
  /// Component domain the settings belong to.
  std::string component;
  /// The legacy server (an IRC host name).
  std::string server;
  std::map<std::string, std::string> fields;
};

/// How Store::claim_address() went.
enum class Claim {
  /// The user holds the address now (or held it already).
  claimed,
  /// Another user holds it.
  taken,
  /// The store failed; the error says why.
  failed,
};

/// Persistent state behind the gateway. Narrow on purpose so that a
/// PostgreSQL backend can follow the SQLite one. Every call is short (one
/// indexed statement) and reports failure through `ec`, never by throwing.
class Store {
public:
  virtual ~Store() = default;

  /// The registration of `user` with `component`, or nullopt.
  virtual std::optional<Registration>
  find_registration(const std::string& user, const std::string& component, std::error_code& ec) = 0;
  /// Inserts or replaces a registration.
  virtual void put_registration(const Registration& registration, std::error_code& ec) = 0;
  /// Deletes a registration, and the user's per-server settings with that
  /// component; returns whether a registration existed.
  virtual bool remove_registration(const std::string& user, const std::string& component,
                                   std::error_code& ec) = 0;
  /// All registrations with `component`, ordered by user.
  virtual std::vector<Registration> registrations(const std::string& component,
                                                  std::error_code& ec) = 0;
  /// The registration of `component` whose `field` equals `value` (unique
  /// identities such as an email local part), or nullopt.
  virtual std::optional<Registration> find_registration_by_field(const std::string& component,
                                                                 const std::string& field,
                                                                 const std::string& value,
                                                                 std::error_code& ec) = 0;

  /// Inserts or updates a mapping (keyed by component + legacy_key).
  virtual void put_address(const AddressMapping& mapping, std::error_code& ec) = 0;
  /// The mapping for a legacy key, or nullopt.
  virtual std::optional<AddressMapping> find_address_by_legacy(const std::string& component,
                                                               const std::string& legacy_key,
                                                               std::error_code& ec) = 0;
  /// The mapping for a JID, or nullopt.
  virtual std::optional<AddressMapping> find_address_by_jid(const std::string& component,
                                                            const std::string& jid,
                                                            std::error_code& ec) = 0;

  /// Gives `user` (a bare JID) the legacy address `key` of `component`,
  /// releasing the one they held, unless another user holds it: a user's own
  /// address on a legacy network (an email local part, a phone number) is
  /// unique. One atomic step, so two processes sharing the database cannot
  /// both win the same address.
  virtual Claim claim_address(const std::string& component, const std::string& key,
                              const std::string& user, std::error_code& ec) = 0;

  /// Deletes the mapping of a JID; returns whether one existed.
  virtual bool remove_address_by_jid(const std::string& component, const std::string& jid,
                                     std::error_code& ec) = 0;

  /// Stores a correlation (over one with the same component, kind and
  /// legacy_id as its if_present says).
  virtual void put_correlation(const Correlation& correlation, std::error_code& ec) = 0;
  /// Stores several correlations in one transaction: all or none. Returns
  /// false, having written nothing and without an error, when one marked
  /// IfPresent::refuse exists already.
  virtual bool put_correlations(const std::vector<Correlation>& correlations,
                                std::error_code& ec) = 0;
  /// Looks a correlation up by its legacy id.
  virtual std::optional<Correlation> find_correlation_by_legacy(const std::string& component,
                                                                const std::string& kind,
                                                                const std::string& legacy_id,
                                                                std::error_code& ec) = 0;
  /// Looks a correlation up by its XMPP id.
  virtual std::optional<Correlation> find_correlation_by_xmpp(const std::string& component,
                                                              const std::string& kind,
                                                              const std::string& xmpp_id,
                                                              std::error_code& ec) = 0;
  /// Deletes correlations created before `before` (Unix seconds); returns how many.
  virtual std::size_t prune_correlations(std::int64_t before, std::error_code& ec) = 0;
  /// Deletes one correlation; returns whether it existed.
  virtual bool remove_correlation(const std::string& component, const std::string& kind,
                                  const std::string& legacy_id, std::error_code& ec) = 0;

  /// Records one usage event (a message sent by `user`, a bare JID) at `at`
  /// (Unix seconds), for per-user caps.
  virtual void record_usage(const std::string& component, const std::string& user, std::int64_t at,
                            std::error_code& ec) = 0;
  /// The events of `user` with at >= `since`: an exact sliding window.
  virtual std::size_t count_usage(const std::string& component, const std::string& user,
                                  std::int64_t since, std::error_code& ec) = 0;
  /// Every user of `component` with events at or after now - 86400, with the
  /// counts count_usage() gives for now - 3600 and now - 86400; most active
  /// over the day first, then by user.
  virtual std::vector<UsageCount> usage_summary(const std::string& component, std::int64_t now,
                                                std::error_code& ec) = 0;
  /// Deletes events (of every component) older than `before`; returns how many.
  virtual std::size_t prune_usage(std::int64_t before, std::error_code& ec) = 0;

  /// Keeps a message for the admins; returns its id (0 on failure).
  virtual std::int64_t add_held(const HeldMessage& message, std::error_code& ec) = 0;
  /// Up to `limit` held messages of `component` for nobody, or those
  /// waiting for a user (`for_users`), oldest first.
  virtual std::vector<HeldMessage> held_messages(const std::string& component, bool for_users,
                                                 std::size_t limit, std::error_code& ec) = 0;
  /// How many messages `component` holds, for nobody and waiting.
  virtual std::size_t count_held(const std::string& component, std::error_code& ec) = 0;
  /// Deletes a held message; returns whether it existed.
  virtual bool remove_held(std::int64_t id, std::error_code& ec) = 0;

  /// Adds a message to the outbox; returns its id (0 on failure).
  virtual std::int64_t add_outbox(const OutboxItem& item, std::error_code& ec) = 0;
  /// Up to `limit` messages of `component` whose next attempt is due at
  /// `now`, earliest attempt time first, without leasing them (for reports).
  virtual std::vector<OutboxItem> due_outbox(const std::string& component, std::int64_t now,
                                             std::size_t limit, std::error_code& ec) = 0;
  /// Leases up to `limit` messages of `component` that are due at `now`:
  /// their next attempt moves to `lease_until`, in the same atomic step that
  /// picks them, so that two processes sharing the database never take the
  /// same message. Earliest attempt time first. A message whose sender dies
  /// is due again when its lease ends.
  virtual std::vector<OutboxItem> lease_due_outbox(const std::string& component, std::int64_t now,
                                                   std::int64_t lease_until, std::size_t limit,
                                                   std::error_code& ec) = 0;
  /// The earliest next attempt time of `component`'s messages, or nullopt when none wait.
  virtual std::optional<std::int64_t> next_outbox_due(const std::string& component,
                                                      std::error_code& ec) = 0;
  /// Records a failed attempt and when to try again.
  virtual void reschedule_outbox(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                                 const std::string& last_error, std::error_code& ec) = 0;
  /// Removes a message that was delivered or given up; returns whether it existed.
  virtual bool remove_outbox(std::int64_t id, std::error_code& ec) = 0;
  /// Messages waiting for `component`, of `user` only unless it is empty.
  virtual std::size_t count_outbox(const std::string& component, const std::string& user,
                                   std::error_code& ec) = 0;

  /// A user's settings for one server of `component`, or nullopt.
  virtual std::optional<ServerSettings> find_server_settings(const std::string& user,
                                                             const std::string& component,
                                                             const std::string& server,
                                                             std::error_code& ec) = 0;
  /// Replaces a user's settings for one server as a whole.
  virtual void put_server_settings(const ServerSettings& settings, std::error_code& ec) = 0;

  /// Keeps a stanza until the XMPP server has it, with its `remember`
  /// correlations, all or none; returns its id. 0 is a failure (`ec` says
  /// why), or without an error: one of `remember` marked IfPresent::refuse
  /// exists already, so the stanza was kept before and nothing is written.
  virtual std::int64_t add_undelivered(const Undelivered& stanza, std::error_code& ec) = 0;
  /// Up to `limit` of `component`'s stanzas with an id above `after`, by id.
  virtual std::vector<Undelivered> undelivered_after(const std::string& component,
                                                     std::int64_t after, std::size_t limit,
                                                     std::error_code& ec) = 0;
  /// Forgets the stanzas the XMPP server confirmed, all or none; returns how
  /// many existed.
  virtual std::size_t remove_undelivered(const std::string& component,
                                         const std::vector<std::int64_t>& ids,
                                         std::error_code& ec) = 0;
  /// How many stanzas of `component` wait for a confirmation.
  virtual std::size_t count_undelivered(const std::string& component, std::error_code& ec) = 0;

  /// Starts a group of writes that end_batch() commits as one transaction
  /// (group commit); the transactions of the calls in between become nested
  /// ones. A backend that cannot group does nothing.
  virtual void begin_batch(std::error_code& ec) { ec.clear(); }
  /// Commits (`commit`) or rolls back the group begin_batch() started.
  virtual void end_batch(bool commit, std::error_code& ec) {
    (void)commit;
    ec.clear();
  }

  /// Makes everything written durable (WAL checkpoint); called at shutdown.
  virtual void flush(std::error_code& ec) = 0;
  /// The schema version the database is at.
  virtual int schema_version() const = 0;
};

/// Whether `path` names a database file that a second connection opens too
/// (not ":memory:" nor an SQLite "file:" URI).
inline bool is_database_file(const std::string& path) {
  return path != ":memory:" && !path.starts_with("file:");
}

/// Opens (creating and migrating) the SQLite store at `path` (":memory:" for
/// tests). Throws std::runtime_error with a clear message on start-up failure.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

} // namespace trestle::gateway
