#include "path_access.hpp"
#include "sqlite_schema.hpp"
#include "store.hpp"
#include "store_error.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

namespace trestle::gateway {
namespace {

using sqlite_detail::DbHandle;
using sqlite_detail::exec_or_throw;
using sqlite_detail::fail;
using sqlite_detail::migrate;
using sqlite_detail::StatementHandle;

/// The category behind StoreErrc; stateless, so one instance serves every store.
class StoreCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "trestle.store"; }

  std::string message(int value) const override {
    switch (static_cast<StoreErrc>(value)) {
    case StoreErrc::busy:
      return "the database is locked by another connection";
    case StoreErrc::read_only:
      return "the database cannot be written";
    case StoreErrc::constraint:
      return "the write conflicts with an existing row";
    case StoreErrc::corrupt:
      return "the database file is corrupt or not a database";
    case StoreErrc::full:
      return "the disk or the database is full";
    case StoreErrc::io_error:
      return "the database file could not be read or written";
    case StoreErrc::failed:
      return "the database operation failed";
    case StoreErrc::timeout:
      return "the database did not answer in time";
    }
    return "unknown store error";
  }
};

/// Maps an SQLite result code (primary or extended) to the kind callers act on.
std::error_code error_from_sqlite(int rc) {
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return StoreErrc::busy;
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_AUTH:
    return StoreErrc::read_only;
  case SQLITE_CONSTRAINT:
    return StoreErrc::constraint;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return StoreErrc::corrupt;
  case SQLITE_FULL:
    return StoreErrc::full;
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
  case SQLITE_PROTOCOL:
    return StoreErrc::io_error;
  default:
    return StoreErrc::failed;
  }
}

/// The windows of usage_summary(), in seconds.
constexpr std::int64_t usage_hour = 3600;
constexpr std::int64_t usage_day = 86400;

/// Every statement the store runs; each is prepared once at open.
enum class Query : std::size_t {
  begin,
  commit,
  rollback,
  savepoint,
  release,
  rollback_to,
  find_registration,
  list_registrations,
  find_registration_by_field,
  upsert_registration,
  delete_registration_fields,
  insert_registration_field,
  delete_registration,
  delete_user_server_settings,
  upsert_address,
  find_address_by_legacy,
  find_address_by_jid,
  delete_address_by_jid,
  upsert_correlation,
  insert_correlation_unless_present,
  upsert_own_correlation,
  find_correlation_by_legacy,
  find_correlation_by_xmpp,
  prune_correlations,
  delete_correlation,
  insert_outbox,
  due_outbox,
  lease_due_outbox,
  next_outbox_due,
  reschedule_outbox,
  delete_outbox,
  count_outbox,
  count_outbox_of_user,
  insert_usage,
  count_usage,
  usage_summary,
  prune_usage,
  insert_held,
  list_held,
  count_held,
  delete_held,
  find_server_settings,
  delete_server_settings,
  insert_server_setting,
  insert_undelivered,
  undelivered_after,
  delete_undelivered,
  count_undelivered,
  checkpoint,
};

constexpr std::array<std::pair<Query, const char*>, 49> query_sql{{
    {Query::begin, "BEGIN IMMEDIATE"},
    {Query::commit, "COMMIT"},
    {Query::rollback, "ROLLBACK"},
    {Query::savepoint, "SAVEPOINT item"},
    {Query::release, "RELEASE item"},
    {Query::rollback_to, "ROLLBACK TO item"},
    {Query::find_registration,
     "SELECT r.user_jid, r.updated_at, f.field, f.value FROM registrations AS r "
     "LEFT JOIN registration_fields AS f "
     "ON f.component = r.component AND f.user_jid = r.user_jid "
     "WHERE r.component = ?1 AND r.user_jid = ?2"},
    {Query::list_registrations,
     "SELECT r.user_jid, r.updated_at, f.field, f.value FROM registrations AS r "
     "LEFT JOIN registration_fields AS f "
     "ON f.component = r.component AND f.user_jid = r.user_jid "
     "WHERE r.component = ?1 ORDER BY r.user_jid"},
    // Several users may share a value; the smallest user wins so the answer is stable.
    {Query::find_registration_by_field,
     "SELECT r.user_jid, r.updated_at, f.field, f.value FROM registrations AS r "
     "LEFT JOIN registration_fields AS f "
     "ON f.component = r.component AND f.user_jid = r.user_jid "
     "WHERE r.component = ?1 AND r.user_jid = (SELECT user_jid FROM registration_fields "
     "WHERE component = ?1 AND field = ?2 AND value = ?3 ORDER BY user_jid LIMIT 1)"},
    {Query::upsert_registration,
     "INSERT INTO registrations (component, user_jid, updated_at) VALUES (?1, ?2, ?3) "
     "ON CONFLICT (component, user_jid) DO UPDATE SET updated_at = excluded.updated_at"},
    {Query::delete_registration_fields,
     "DELETE FROM registration_fields WHERE component = ?1 AND user_jid = ?2"},
    {Query::insert_registration_field,
     "INSERT INTO registration_fields (component, user_jid, field, value) VALUES (?1, ?2, ?3, ?4)"},
    // Fields go with the row through ON DELETE CASCADE.
    {Query::delete_registration,
     "DELETE FROM registrations WHERE component = ?1 AND user_jid = ?2"},
    {Query::delete_user_server_settings,
     "DELETE FROM server_settings WHERE component = ?1 AND user_jid = ?2"},
    // An upsert on the key only: a JID already used by another key is a
    // constraint error rather than a silent REPLACE of that other row.
    {Query::upsert_address,
     "INSERT INTO address_map (component, legacy_key, legacy_spelling, jid) "
     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (component, legacy_key) DO UPDATE SET "
     "legacy_spelling = excluded.legacy_spelling, jid = excluded.jid"},
    {Query::find_address_by_legacy,
     "SELECT component, legacy_key, legacy_spelling, jid FROM address_map "
     "WHERE component = ?1 AND legacy_key = ?2"},
    {Query::find_address_by_jid, "SELECT component, legacy_key, legacy_spelling, jid FROM "
                                 "address_map WHERE component = ?1 AND jid = ?2"},
    {Query::delete_address_by_jid, "DELETE FROM address_map WHERE component = ?1 AND jid = ?2"},
    {Query::upsert_correlation,
     "INSERT INTO correlations (component, kind, legacy_id, xmpp_id, user_jid, peer, created_at, "
     "note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (component, kind, legacy_id) DO "
     "UPDATE SET xmpp_id = excluded.xmpp_id, user_jid = excluded.user_jid, peer = excluded.peer, "
     "created_at = excluded.created_at, note = excluded.note"},
    {Query::insert_correlation_unless_present,
     "INSERT INTO correlations (component, kind, legacy_id, xmpp_id, user_jid, peer, created_at, "
     "note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (component, kind, legacy_id) DO "
     "NOTHING"},
    {Query::upsert_own_correlation,
     "INSERT INTO correlations (component, kind, legacy_id, xmpp_id, user_jid, peer, created_at, "
     "note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (component, kind, legacy_id) DO "
     "UPDATE SET xmpp_id = excluded.xmpp_id, peer = excluded.peer, created_at = "
     "excluded.created_at, note = excluded.note WHERE correlations.user_jid = excluded.user_jid"},
    {Query::find_correlation_by_legacy,
     "SELECT component, kind, legacy_id, xmpp_id, user_jid, peer, created_at, note FROM "
     "correlations WHERE component = ?1 AND kind = ?2 AND legacy_id = ?3"},
    // One XMPP message may have several legacy ids (a split SMS); the newest answers.
    {Query::find_correlation_by_xmpp,
     "SELECT component, kind, legacy_id, xmpp_id, user_jid, peer, created_at, note FROM "
     "correlations WHERE component = ?1 AND kind = ?2 AND xmpp_id = ?3 "
     "ORDER BY created_at DESC, legacy_id LIMIT 1"},
    {Query::prune_correlations, "DELETE FROM correlations WHERE created_at < ?1"},
    {Query::delete_correlation,
     "DELETE FROM correlations WHERE component = ?1 AND kind = ?2 AND legacy_id = ?3"},
    {Query::insert_outbox,
     "INSERT INTO outbox (component, user_jid, sender, xmpp_id, peer, payload, meta, created_at, "
     "next_attempt_at, attempts, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
     "?11)"},
    {Query::due_outbox,
     "SELECT id, component, user_jid, sender, xmpp_id, peer, payload, meta, created_at, "
     "next_attempt_at, attempts, last_error FROM outbox WHERE component = ?1 AND "
     "next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?3"},
    // Run after due_outbox with the same parameters in one write
    // transaction, so it leases exactly the rows that one read.
    {Query::lease_due_outbox,
     "UPDATE outbox SET next_attempt_at = ?4 WHERE id IN (SELECT id FROM outbox WHERE "
     "component = ?1 AND next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?3)"},
    {Query::next_outbox_due, "SELECT MIN(next_attempt_at) FROM outbox WHERE component = ?1"},
    {Query::reschedule_outbox,
     "UPDATE outbox SET next_attempt_at = ?2, attempts = ?3, last_error = ?4 WHERE id = ?1"},
    {Query::delete_outbox, "DELETE FROM outbox WHERE id = ?1"},
    {Query::count_outbox, "SELECT COUNT(*) FROM outbox WHERE component = ?1"},
    {Query::count_outbox_of_user,
     "SELECT COUNT(*) FROM outbox WHERE component = ?1 AND user_jid = ?2"},
    {Query::insert_usage, "INSERT INTO usage_events (component, user_jid, at) VALUES (?1, ?2, ?3)"},
    {Query::count_usage,
     "SELECT COUNT(*) FROM usage_events WHERE component = ?1 AND user_jid = ?2 AND at >= ?3"},
    // ?2 is the start of the hour, ?3 of the day. The (component, user_jid, at)
    // index covers the query and already groups by user; it reads every event
    // of the component that prune_usage() has left, so callers prune daily.
    {Query::usage_summary,
     "SELECT user_jid, SUM(at >= ?2), COUNT(*) FROM usage_events WHERE component = ?1 AND "
     "at >= ?3 GROUP BY user_jid ORDER BY 3 DESC, user_jid"},
    {Query::prune_usage, "DELETE FROM usage_events WHERE at < ?1"},
    {Query::insert_held,
     "INSERT INTO held_messages (component, peer, recipient, body, received_at, user_jid) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {Query::list_held,
     "SELECT id, component, peer, recipient, body, received_at, user_jid FROM held_messages "
     "WHERE component = ?1 AND (user_jid != '') = ?3 ORDER BY received_at, id LIMIT ?2"},
    {Query::count_held, "SELECT COUNT(*) FROM held_messages WHERE component = ?1"},
    {Query::delete_held, "DELETE FROM held_messages WHERE id = ?1"},
    {Query::find_server_settings,
     "SELECT field, value FROM server_settings WHERE component = ?1 AND user_jid = ?2 AND "
     "server = ?3"},
    {Query::delete_server_settings,
     "DELETE FROM server_settings WHERE component = ?1 AND user_jid = ?2 AND server = ?3"},
    {Query::insert_server_setting,
     "INSERT INTO server_settings (component, user_jid, server, field, value) "
     "VALUES (?1, ?2, ?3, ?4, ?5)"},
    {Query::insert_undelivered,
     "INSERT INTO undelivered (component, stanza, created_at) VALUES (?1, ?2, ?3)"},
    {Query::undelivered_after,
     "SELECT id, component, stanza, created_at FROM undelivered WHERE component = ?1 AND id > ?2 "
     "ORDER BY id LIMIT ?3"},
    {Query::delete_undelivered, "DELETE FROM undelivered WHERE component = ?1 AND id = ?2"},
    {Query::count_undelivered, "SELECT COUNT(*) FROM undelivered WHERE component = ?1"},
    {Query::checkpoint, "PRAGMA wal_checkpoint(TRUNCATE)"},
}};

constexpr bool queries_in_enum_order() {
  for (std::size_t i = 0; i < query_sql.size(); ++i) {
    if (static_cast<std::size_t>(query_sql[i].first) != i) {
      return false;
    }
  }
  return static_cast<std::size_t>(Query::checkpoint) + 1 == query_sql.size();
}
static_assert(queries_in_enum_order(), "query_sql must list every Query in enum order");

/// A cached statement in use for one call. Binds parameters in order and
/// resets the statement on scope exit, so that no cached statement keeps a
/// read transaction (and the WAL) pinned between calls.
class Use {
public:
  explicit Use(sqlite3_stmt* statement) : statement_(statement) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  /// Binds the next parameter; the text must outlive this object (no copy is made).
  Use& text(std::string_view value) {
    note(sqlite3_bind_text64(statement_, ++bound_, value.data(), value.size(), SQLITE_STATIC,
                             SQLITE_UTF8));
    return *this;
  }
  /// Binds the next parameter as a blob; the bytes must outlive this object.
  Use& blob(std::string_view value) {
    note(sqlite3_bind_blob64(statement_, ++bound_, value.data(), value.size(), SQLITE_STATIC));
    return *this;
  }
  /// Binds the next parameter.
  Use& integer(std::int64_t value) {
    note(sqlite3_bind_int64(statement_, ++bound_, value));
    return *this;
  }
  /// Runs one step: SQLITE_ROW, SQLITE_DONE, or the first error (a failed bind included).
  int step() { return bind_error_ != SQLITE_OK ? bind_error_ : sqlite3_step(statement_); }
  /// Runs the statement to its end and reports failure through `ec`.
  bool run(std::error_code& ec) {
    int rc = step();
    while (rc == SQLITE_ROW) {
      rc = step();
    }
    if (rc != SQLITE_DONE) {
      ec = error_from_sqlite(rc);
      return false;
    }
    return true;
  }

  std::string column_text(int column) const {
    // Text first, then bytes: the order SQLite documents for a stable length.
    const auto* data = sqlite3_column_text(statement_, column);
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, column));
    return data == nullptr ? std::string{} : std::string(reinterpret_cast<const char*>(data), size);
  }
  std::string column_blob(int column) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(statement_, column));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, column));
    return data == nullptr ? std::string{} : std::string(data, size);
  }
  std::int64_t column_int(int column) const { return sqlite3_column_int64(statement_, column); }
  bool column_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }

private:
  void note(int rc) {
    if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
      bind_error_ = rc;
    }
  }

  sqlite3_stmt* statement_;
  int bound_ = 0;
  int bind_error_ = SQLITE_OK;
};

/// Reads registration rows (user, updated_at, field, value; one row per field,
/// one row of NULL fields for a registration without any), grouped by user,
/// into `out`; returns the last step's result code.
int read_registrations(Use& query, const std::string& component, std::vector<Registration>& out) {
  int rc = query.step();
  for (; rc == SQLITE_ROW; rc = query.step()) {
    std::string user = query.column_text(0);
    if (out.empty() || out.back().user != user) {
      out.push_back(Registration{std::move(user), component, {}, query.column_int(1)});
    }
    if (!query.column_null(2)) {
      out.back().fields.insert_or_assign(query.column_text(2), query.column_text(3));
    }
  }
  return rc;
}

AddressMapping read_address(const Use& query) {
  return AddressMapping{query.column_text(0), query.column_text(1), query.column_text(2),
                        query.column_text(3)};
}

Correlation read_correlation(const Use& query) {
  return Correlation{query.column_text(0), query.column_text(1), query.column_text(2),
                     query.column_text(3), query.column_text(4), query.column_text(5),
                     query.column_int(6),  query.column_text(7)};
}

OutboxItem read_outbox(const Use& query) {
  OutboxItem item;
  item.id = query.column_int(0);
  item.component = query.column_text(1);
  item.user = query.column_text(2);
  item.sender = query.column_text(3);
  item.xmpp_id = query.column_text(4);
  item.peer = query.column_text(5);
  item.payload = query.column_blob(6);
  item.meta = query.column_text(7);
  item.created_at = query.column_int(8);
  item.next_attempt_at = query.column_int(9);
  item.attempts = static_cast<int>(query.column_int(10));
  item.last_error = query.column_text(11);
  return item;
}

HeldMessage read_held(const Use& query) {
  HeldMessage message;
  message.id = query.column_int(0);
  message.component = query.column_text(1);
  message.peer = query.column_text(2);
  message.recipient = query.column_text(3);
  message.body = query.column_text(4);
  message.received_at = query.column_int(5);
  message.user = query.column_text(6);
  return message;
}

/// Steps a query expected to give at most one row and turns it into a T.
template <typename T, typename Read>
std::optional<T> find_one(Use& query, std::error_code& ec, Read read) {
  const int rc = query.step();
  if (rc == SQLITE_ROW) {
    return read(query);
  }
  if (rc != SQLITE_DONE) {
    ec = error_from_sqlite(rc);
  }
  return std::nullopt;
}

/// Steps a query to its end, turning each row into a T. On failure `ec` is
/// set and the rows read before it are kept (the outbox pump still sends them).
template <typename T, typename Read>
std::vector<T> read_rows(Use& query, std::error_code& ec, Read read) {
  std::vector<T> out;
  int rc = query.step();
  for (; rc == SQLITE_ROW; rc = query.step()) {
    out.push_back(read(query));
  }
  if (rc != SQLITE_DONE) {
    ec = error_from_sqlite(rc);
  }
  return out;
}

/// Steps a query that answers one COUNT(*) and returns it (0 on failure).
std::size_t read_count(Use& query, std::error_code& ec) {
  const auto count =
      find_one<std::int64_t>(query, ec, [](const Use& row) { return row.column_int(0); });
  return count ? static_cast<std::size_t>(*count) : 0;
}

/// Store on one SQLite connection. Not thread-safe: the connection is opened
/// without SQLite's mutex, so one thread at a time uses it.
class SqliteStore final : public Store {
public:
  SqliteStore(DbHandle db, int version) : db_(std::move(db)), version_(version) {}

  /// Prepares every query; throws on failure (a bug or a damaged schema).
  void prepare(const std::string& path) {
    for (std::size_t i = 0; i < query_sql.size(); ++i) {
      sqlite3_stmt* statement = nullptr;
      const int rc = sqlite3_prepare_v3(db_.get(), query_sql[i].second, -1,
                                        SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
      statements_[i].reset(statement);
      if (rc != SQLITE_OK) {
        throw std::runtime_error("store " + path +
                                 ": cannot prepare a query: " + sqlite3_errmsg(db_.get()));
      }
    }
  }

  std::optional<Registration> find_registration(const std::string& user,
                                                const std::string& component,
                                                std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_registration));
    query.text(component).text(user);
    return first_registration(query, component, ec);
  }

  void put_registration(const Registration& registration, std::error_code& ec) override {
    ec.clear();
    in_transaction(ec, [&] { return write_registration(registration, ec); });
  }

  bool remove_registration(const std::string& user, const std::string& component,
                           std::error_code& ec) override {
    ec.clear();
    bool existed = false;
    in_transaction(ec, [&] {
      Use query(statement(Query::delete_registration));
      query.text(component).text(user);
      if (!query.run(ec)) {
        return false;
      }
      existed = sqlite3_changes(db_.get()) > 0;
      return Use(statement(Query::delete_user_server_settings)).text(component).text(user).run(ec);
    });
    return existed && !ec;
  }

  std::vector<Registration> registrations(const std::string& component,
                                          std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::list_registrations));
    query.text(component);
    std::vector<Registration> out;
    if (const int rc = read_registrations(query, component, out); rc != SQLITE_DONE) {
      ec = error_from_sqlite(rc);
      out.clear();
    }
    return out;
  }

  std::optional<Registration> find_registration_by_field(const std::string& component,
                                                         const std::string& field,
                                                         const std::string& value,
                                                         std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_registration_by_field));
    query.text(component).text(field).text(value);
    return first_registration(query, component, ec);
  }

  void put_address(const AddressMapping& mapping, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::upsert_address));
    query.text(mapping.component)
        .text(mapping.legacy_key)
        .text(mapping.legacy_spelling)
        .text(mapping.jid);
    query.run(ec);
  }

  std::optional<AddressMapping> find_address_by_legacy(const std::string& component,
                                                       const std::string& legacy_key,
                                                       std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_address_by_legacy));
    query.text(component).text(legacy_key);
    return find_one<AddressMapping>(query, ec, read_address);
  }

  std::optional<AddressMapping> find_address_by_jid(const std::string& component,
                                                    const std::string& jid,
                                                    std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_address_by_jid));
    query.text(component).text(jid);
    return find_one<AddressMapping>(query, ec, read_address);
  }

  Claim claim_address(const std::string& component, const std::string& key, const std::string& user,
                      std::error_code& ec) override {
    ec.clear();
    Claim outcome = Claim::failed;
    // BEGIN IMMEDIATE takes the write lock before the look-up, so the
    // look-up and the writes are one step for every other connection.
    in_transaction(ec, [&] {
      Use find(statement(Query::find_address_by_legacy));
      find.text(component).text(key);
      const auto holder = find_one<AddressMapping>(find, ec, read_address);
      if (ec) {
        return false;
      }
      if (holder) {
        outcome = holder->jid == user ? Claim::claimed : Claim::taken;
        return true;
      }
      if (!Use(statement(Query::delete_address_by_jid)).text(component).text(user).run(ec) ||
          !Use(statement(Query::upsert_address))
               .text(component)
               .text(key)
               .text(key)
               .text(user)
               .run(ec)) {
        return false;
      }
      outcome = Claim::claimed;
      return true;
    });
    return ec ? Claim::failed : outcome;
  }

  bool remove_address_by_jid(const std::string& component, const std::string& jid,
                             std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::delete_address_by_jid));
    query.text(component).text(jid);
    return query.run(ec) && sqlite3_changes64(db_.get()) > 0;
  }

  void put_correlation(const Correlation& correlation, std::error_code& ec) override {
    ec.clear();
    write_correlation(correlation, ec); // one statement: atomic alone
  }

  bool put_correlations(const std::vector<Correlation>& correlations,
                        std::error_code& ec) override {
    ec.clear();
    bool refused = false;
    in_transaction(ec, [&] { return write_correlations(correlations, refused, ec); });
    return !ec && !refused;
  }

  std::optional<Correlation> find_correlation_by_legacy(const std::string& component,
                                                        const std::string& kind,
                                                        const std::string& legacy_id,
                                                        std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_correlation_by_legacy));
    query.text(component).text(kind).text(legacy_id);
    return find_one<Correlation>(query, ec, read_correlation);
  }

  std::optional<Correlation> find_correlation_by_xmpp(const std::string& component,
                                                      const std::string& kind,
                                                      const std::string& xmpp_id,
                                                      std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_correlation_by_xmpp));
    query.text(component).text(kind).text(xmpp_id);
    return find_one<Correlation>(query, ec, read_correlation);
  }

  std::size_t prune_correlations(std::int64_t before, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::prune_correlations));
    query.integer(before);
    return query.run(ec) ? static_cast<std::size_t>(sqlite3_changes64(db_.get())) : 0;
  }

  bool remove_correlation(const std::string& component, const std::string& kind,
                          const std::string& legacy_id, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::delete_correlation));
    query.text(component).text(kind).text(legacy_id);
    return query.run(ec) && sqlite3_changes64(db_.get()) > 0;
  }

  std::int64_t add_outbox(const OutboxItem& item, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::insert_outbox));
    query.text(item.component)
        .text(item.user)
        .text(item.sender)
        .text(item.xmpp_id)
        .text(item.peer)
        .blob(item.payload)
        .text(item.meta)
        .integer(item.created_at)
        .integer(item.next_attempt_at)
        .integer(item.attempts)
        .text(item.last_error);
    return query.run(ec) ? sqlite3_last_insert_rowid(db_.get()) : 0;
  }

  std::vector<OutboxItem> due_outbox(const std::string& component, std::int64_t now,
                                     std::size_t limit, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::due_outbox));
    query.text(component).integer(now).integer(static_cast<std::int64_t>(limit));
    return read_rows<OutboxItem>(query, ec, read_outbox);
  }

  std::vector<OutboxItem> lease_due_outbox(const std::string& component, std::int64_t now,
                                           std::int64_t lease_until, std::size_t limit,
                                           std::error_code& ec) override {
    ec.clear();
    std::vector<OutboxItem> leased;
    // BEGIN IMMEDIATE holds the write lock from the read to the lease.
    in_transaction(ec, [&] {
      const auto count = static_cast<std::int64_t>(limit);
      Use pick(statement(Query::due_outbox));
      pick.text(component).integer(now).integer(count);
      leased = read_rows<OutboxItem>(pick, ec, read_outbox);
      return !ec && Use(statement(Query::lease_due_outbox))
                        .text(component)
                        .integer(now)
                        .integer(count)
                        .integer(lease_until)
                        .run(ec);
    });
    if (ec) {
      leased.clear();
    }
    for (auto& item : leased) {
      item.next_attempt_at = lease_until;
    }
    return leased;
  }

  std::optional<std::int64_t> next_outbox_due(const std::string& component,
                                              std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::next_outbox_due));
    query.text(component);
    const auto due = find_one<std::optional<std::int64_t>>(query, ec, [](const Use& row) {
      return row.column_null(0) ? std::nullopt : std::optional(row.column_int(0));
    });
    return due ? *due : std::nullopt;
  }

  void reschedule_outbox(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                         const std::string& last_error, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::reschedule_outbox));
    query.integer(id).integer(next_attempt_at).integer(attempts).text(last_error);
    query.run(ec);
  }

  bool remove_outbox(std::int64_t id, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::delete_outbox));
    query.integer(id);
    return query.run(ec) && sqlite3_changes64(db_.get()) > 0;
  }

  std::size_t count_outbox(const std::string& component, const std::string& user,
                           std::error_code& ec) override {
    ec.clear();
    Use query(statement(user.empty() ? Query::count_outbox : Query::count_outbox_of_user));
    query.text(component);
    if (!user.empty()) {
      query.text(user);
    }
    return read_count(query, ec);
  }

  void record_usage(const std::string& component, const std::string& user, std::int64_t at,
                    std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::insert_usage));
    query.text(component).text(user).integer(at);
    query.run(ec);
  }

  std::size_t count_usage(const std::string& component, const std::string& user, std::int64_t since,
                          std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::count_usage));
    query.text(component).text(user).integer(since);
    return read_count(query, ec);
  }

  std::vector<UsageCount> usage_summary(const std::string& component, std::int64_t now,
                                        std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::usage_summary));
    query.text(component).integer(now - usage_hour).integer(now - usage_day);
    return read_rows<UsageCount>(query, ec, [](const Use& row) {
      return UsageCount{row.column_text(0), static_cast<std::size_t>(row.column_int(1)),
                        static_cast<std::size_t>(row.column_int(2))};
    });
  }

  std::size_t prune_usage(std::int64_t before, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::prune_usage));
    query.integer(before);
    return query.run(ec) ? static_cast<std::size_t>(sqlite3_changes64(db_.get())) : 0;
  }

  std::int64_t add_held(const HeldMessage& message, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::insert_held));
    query.text(message.component)
        .text(message.peer)
        .text(message.recipient)
        .text(message.body)
        .integer(message.received_at)
        .text(message.user);
    return query.run(ec) ? sqlite3_last_insert_rowid(db_.get()) : 0;
  }

  std::vector<HeldMessage> held_messages(const std::string& component, bool for_users,
                                         std::size_t limit, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::list_held));
    query.text(component).integer(static_cast<std::int64_t>(limit)).integer(for_users ? 1 : 0);
    return read_rows<HeldMessage>(query, ec, read_held);
  }

  std::size_t count_held(const std::string& component, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::count_held));
    query.text(component);
    return read_count(query, ec);
  }

  bool remove_held(std::int64_t id, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::delete_held));
    query.integer(id);
    return query.run(ec) && sqlite3_changes64(db_.get()) > 0;
  }

  std::int64_t add_undelivered(const Undelivered& stanza, std::error_code& ec) override {
    ec.clear();
    std::int64_t id = 0;
    bool refused = false;
    const auto write = [&] {
      Use query(statement(Query::insert_undelivered));
      query.text(stanza.component).text(stanza.stanza).integer(stanza.created_at);
      if (!query.run(ec)) {
        return false;
      }
      id = sqlite3_last_insert_rowid(db_.get());
      return write_correlations(stanza.remember, refused, ec);
    };
    if (stanza.remember.empty()) {
      write();
    } else {
      in_transaction(ec, write);
    }
    return ec || refused ? 0 : id;
  }

  std::vector<Undelivered> undelivered_after(const std::string& component, std::int64_t after,
                                             std::size_t limit, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::undelivered_after));
    query.text(component).integer(after).integer(static_cast<std::int64_t>(limit));
    return read_rows<Undelivered>(query, ec, [](const Use& row) {
      return Undelivered{
          row.column_int(0), row.column_text(1), row.column_text(2), row.column_int(3), {}};
    });
  }

  std::size_t remove_undelivered(const std::string& component, const std::vector<std::int64_t>& ids,
                                 std::error_code& ec) override {
    ec.clear();
    std::size_t removed = 0;
    in_transaction(ec, [&] {
      for (const auto id : ids) {
        if (!Use(statement(Query::delete_undelivered)).text(component).integer(id).run(ec)) {
          return false;
        }
        removed += static_cast<std::size_t>(sqlite3_changes64(db_.get()));
      }
      return true;
    });
    return ec ? 0 : removed;
  }

  std::size_t count_undelivered(const std::string& component, std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::count_undelivered));
    query.text(component);
    return read_count(query, ec);
  }

  std::optional<ServerSettings> find_server_settings(const std::string& user,
                                                     const std::string& component,
                                                     const std::string& server,
                                                     std::error_code& ec) override {
    ec.clear();
    Use query(statement(Query::find_server_settings));
    query.text(component).text(user).text(server);
    ServerSettings settings{user, component, server, {}};
    int rc = query.step();
    for (; rc == SQLITE_ROW; rc = query.step()) {
      settings.fields.insert_or_assign(query.column_text(0), query.column_text(1));
    }
    if (rc != SQLITE_DONE) {
      ec = error_from_sqlite(rc);
      return std::nullopt;
    }
    if (settings.fields.empty()) {
      return std::nullopt;
    }
    return settings;
  }

  void put_server_settings(const ServerSettings& settings, std::error_code& ec) override {
    ec.clear();
    in_transaction(ec, [&] {
      if (!Use(statement(Query::delete_server_settings))
               .text(settings.component)
               .text(settings.user)
               .text(settings.server)
               .run(ec)) {
        return false;
      }
      for (const auto& [field, value] : settings.fields) {
        if (!Use(statement(Query::insert_server_setting))
                 .text(settings.component)
                 .text(settings.user)
                 .text(settings.server)
                 .text(field)
                 .text(value)
                 .run(ec)) {
          return false;
        }
      }
      return true;
    });
  }

  void begin_batch(std::error_code& ec) override {
    ec.clear();
    batch_ = Use(statement(Query::begin)).run(ec);
  }

  void end_batch(bool commit, std::error_code& ec) override {
    ec.clear();
    batch_ = false;
    if (commit && Use(statement(Query::commit)).run(ec)) {
      return;
    }
    // Rolled back as asked, or a failed COMMIT that left it open.
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      std::error_code ignored;
      Use(statement(Query::rollback)).run(ignored);
    }
  }

  void flush(std::error_code& ec) override {
    ec.clear();
    // The pragma answers one row (busy, wal pages, checkpointed pages); busy
    // means a reader or writer kept part of the WAL from being written back.
    Use query(statement(Query::checkpoint));
    const int rc = query.step();
    if (rc == SQLITE_ROW && query.column_int(0) != 0) {
      ec = StoreErrc::busy;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      ec = error_from_sqlite(rc);
    }
  }

  int schema_version() const override { return version_; }

private:
  sqlite3_stmt* statement(Query query) const {
    return statements_[static_cast<std::size_t>(query)].get();
  }

  /// Runs `write` (which reports through `ec` and returns false on failure)
  /// inside BEGIN IMMEDIATE ... COMMIT, rolling back when anything failed.
  template <typename Write> void in_transaction(std::error_code& ec, Write&& write) {
    if (batch_) {
      // Inside a group: a savepoint, released into the group's transaction.
      if (!Use(statement(Query::savepoint)).run(ec)) {
        return;
      }
      if (write() && Use(statement(Query::release)).run(ec)) {
        return;
      }
      std::error_code ignored;
      Use(statement(Query::rollback_to)).run(ignored);
      Use(statement(Query::release)).run(ignored);
      return;
    }
    if (!Use(statement(Query::begin)).run(ec)) {
      return;
    }
    if (write() && Use(statement(Query::commit)).run(ec)) {
      return;
    }
    // A failed COMMIT may leave the transaction open (busy) or have ended it.
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      std::error_code ignored;
      Use(statement(Query::rollback)).run(ignored);
    }
  }

  /// Writes `rows` inside a transaction; false (to roll it back) on an
  /// error or when a row marked IfPresent::refuse exists already, which
  /// sets `refused`.
  bool write_correlations(const std::vector<Correlation>& rows, bool& refused,
                          std::error_code& ec) {
    for (const auto& row : rows) {
      if (!write_correlation(row, ec)) {
        return false;
      }
      if (row.if_present == IfPresent::refuse && sqlite3_changes64(db_.get()) == 0) {
        refused = true;
        return false;
      }
    }
    return true;
  }

  bool write_correlation(const Correlation& correlation, std::error_code& ec) {
    Use query(statement(correlation_write(correlation.if_present)));
    query.text(correlation.component)
        .text(correlation.kind)
        .text(correlation.legacy_id)
        .text(correlation.xmpp_id)
        .text(correlation.user)
        .text(correlation.peer)
        .integer(correlation.created_at)
        .text(correlation.note);
    return query.run(ec);
  }

  static Query correlation_write(IfPresent if_present) {
    switch (if_present) {
    case IfPresent::keep:
    case IfPresent::refuse:
      return Query::insert_correlation_unless_present;
    case IfPresent::replace_own:
      return Query::upsert_own_correlation;
    case IfPresent::replace:
      break;
    }
    return Query::upsert_correlation;
  }

  /// The registration rows of one user, inside put_registration's transaction:
  /// the row is upserted and its fields replaced as a whole.
  bool write_registration(const Registration& registration, std::error_code& ec) {
    if (!Use(statement(Query::upsert_registration))
             .text(registration.component)
             .text(registration.user)
             .integer(registration.updated_at)
             .run(ec)) {
      return false;
    }
    if (!Use(statement(Query::delete_registration_fields))
             .text(registration.component)
             .text(registration.user)
             .run(ec)) {
      return false;
    }
    for (const auto& [field, value] : registration.fields) {
      Use insert(statement(Query::insert_registration_field));
      if (!insert.text(registration.component)
               .text(registration.user)
               .text(field)
               .text(value)
               .run(ec)) {
        return false;
      }
    }
    return true;
  }

  std::optional<Registration> first_registration(Use& query, const std::string& component,
                                                 std::error_code& ec) {
    std::vector<Registration> found;
    if (const int rc = read_registrations(query, component, found); rc != SQLITE_DONE) {
      ec = error_from_sqlite(rc);
      return std::nullopt;
    }
    if (found.empty()) {
      return std::nullopt;
    }
    return std::move(found.front());
  }

  // Declared before the statements so that it is closed after they are finalized.
  DbHandle db_;
  std::array<StatementHandle, query_sql.size()> statements_;
  int version_;
  /// Inside begin_batch()/end_batch(): transactions become savepoints.
  bool batch_ = false;
};

} // namespace

const std::error_category& store_category() noexcept {
  static const StoreCategory category;
  return category;
}

std::error_code make_error_code(StoreErrc errc) noexcept {
  return {static_cast<int>(errc), store_category()};
}

namespace {

/// Opens, checks and migrates the database at `path`; throws what went wrong.
std::unique_ptr<Store> open_and_migrate(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    fail(db.get(), path, "cannot open");
  }
  // SQLite silently falls back to read-only when the file is write-protected;
  // a gateway that cannot record registrations must not start.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    throw std::runtime_error("store " + path + ": the database file is read-only");
  }
  // Waits out a short lock held by a backup tool or a second instance
  // instead of failing at once; long enough for a commit, short for the loop.
  sqlite3_busy_timeout(db.get(), 2000);
  // The first statement reads the header: a file that is not a database fails here.
  exec_or_throw(db.get(), "PRAGMA journal_mode = WAL", path, "cannot use it as a database");
  exec_or_throw(db.get(), "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", path,
                "cannot configure the connection");
  const int version = migrate(db.get(), path);
  auto store = std::make_unique<SqliteStore>(std::move(db), version);
  store->prepare(path);
  return store;
}

} // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
  try {
    return open_and_migrate(path);
  } catch (const std::runtime_error& failure) {
    // SQLite's "unable to open database file" does not say that the data
    // folder (a bind mount, often) belongs to another user; say it.
    const auto problem =
        is_database_file(path) ? write_access_problem(path, ::geteuid(), ::getegid()) : "";
    if (problem.empty()) {
      throw;
    }
    std::string message = failure.what();
    throw std::runtime_error(message.append(" (").append(problem).append(")"));
  }
}

} // namespace trestle::gateway
