#include "sqlite_schema.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace trestle::gateway::sqlite_detail {
namespace {

/// One schema step, applied in its own transaction. A shipped step is history:
/// never edit one, append a new one. Column names avoid words PostgreSQL
/// reserves (`user`) so that its backend can keep the same layout.
struct Migration {
  int version;
  const char* sql;
};

constexpr std::array<Migration, 7> migrations{{
    {1, R"sql(
CREATE TABLE registrations (
  component TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (component, user_jid)
) WITHOUT ROWID;
CREATE TABLE registration_fields (
  component TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (component, user_jid, field),
  FOREIGN KEY (component, user_jid) REFERENCES registrations (component, user_jid)
    ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE address_map (
  component TEXT NOT NULL,
  legacy_key TEXT NOT NULL,
  legacy_spelling TEXT NOT NULL,
  jid TEXT NOT NULL,
  PRIMARY KEY (component, legacy_key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX address_map_jid ON address_map (component, jid);
CREATE TABLE correlations (
  component TEXT NOT NULL,
  kind TEXT NOT NULL,
  legacy_id TEXT NOT NULL,
  xmpp_id TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  peer TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (component, kind, legacy_id)
);
CREATE INDEX correlations_xmpp ON correlations (component, kind, xmpp_id);
)sql"},
    // Version 2 makes find_registration_by_field and prune_correlations index
    // lookups instead of table scans.
    {2, R"sql(
CREATE INDEX correlations_created_at ON correlations (created_at);
CREATE INDEX registration_fields_value ON registration_fields (component, field, value);
)sql"},
    // Version 3 adds the outbox: messages waiting for a legacy network.
    {3, R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  component TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  sender TEXT NOT NULL,
  xmpp_id TEXT NOT NULL,
  peer TEXT NOT NULL,
  payload BLOB NOT NULL,
  meta TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (component, next_attempt_at);
CREATE INDEX outbox_user ON outbox (component, user_jid);
)sql"},
    // Version 4 serves the SMS adapter: a note on correlations, usage events
    // for per-user caps, and inbound messages no user owns.
    //
    // Usage is one row per event rather than a count per (user, hour): caps
    // are in the hundreds a day and events are pruned after a day, so a
    // user's window is at most a few hundred entries of the covering index,
    // read as one range. Per-event rows keep count_usage exact for any
    // `since`, where hour buckets would let a cap slip by up to an hour, and
    // make recording a plain append instead of an upsert.
    // Held messages take AUTOINCREMENT ids, as the outbox does, so that an
    // admin's stale id never removes a newer message.
    {4, R"sql(
ALTER TABLE correlations ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE TABLE usage_events (
  component TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX usage_events_user ON usage_events (component, user_jid, at);
CREATE INDEX usage_events_at ON usage_events (at);
CREATE TABLE held_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  component TEXT NOT NULL,
  peer TEXT NOT NULL,
  recipient TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX held_messages_oldest ON held_messages (component, received_at);
)sql"},
    {5, R"sql(
ALTER TABLE held_messages ADD COLUMN user_jid TEXT NOT NULL DEFAULT '';
)sql"},
    // Version 6 gives a user's per-server settings (IRC's configure command)
    // a table of their own. They were registrations of a made-up component
    // `DOMAIN/SERVER`; a component domain never holds a '/', so those rows
    // are exactly the ones with one.
    {6, R"sql(
CREATE TABLE server_settings (
  component TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  server TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (component, user_jid, server, field)
) WITHOUT ROWID;
INSERT INTO server_settings (component, user_jid, server, field, value)
  SELECT substr(component, 1, instr(component, '/') - 1), user_jid,
         substr(component, instr(component, '/') + 1), field, value
  FROM registration_fields WHERE instr(component, '/') > 0;
DELETE FROM registrations WHERE instr(component, '/') > 0;
)sql"},
    // Version 7 keeps what came from a legacy network for XMPP users until
    // the XMPP server confirms it.
    {7, R"sql(
CREATE TABLE undelivered (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  component TEXT NOT NULL,
  stanza TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX undelivered_component ON undelivered (component, id);
)sql"},
}};

constexpr int latest_version = migrations.back().version;

int read_user_version(sqlite3* db, const std::string& path) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr) != SQLITE_OK) {
    fail(db, path, "cannot read the schema version");
  }
  StatementHandle statement(raw);
  if (sqlite3_step(statement.get()) != SQLITE_ROW) {
    fail(db, path, "cannot read the schema version");
  }
  return sqlite3_column_int(statement.get(), 0);
}

/// Applies one step unless another process got there first while we waited
/// for the write lock; all or nothing.
void apply(sqlite3* db, const Migration& migration, const std::string& path) {
  const std::string what = "migration to schema version " + std::to_string(migration.version);
  exec_or_throw(db, "BEGIN IMMEDIATE", path, what + " cannot lock the database");
  try {
    if (read_user_version(db, path) < migration.version) {
      exec_or_throw(db, migration.sql, path, what + " failed");
      exec_or_throw(db, "PRAGMA user_version = " + std::to_string(migration.version), path,
                    what + " failed");
    }
    exec_or_throw(db, "COMMIT", path, what + " cannot commit");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

} // namespace

[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what) {
  throw std::runtime_error("store " + path + ": " + std::string(what) + ": " +
                           (db == nullptr ? "out of memory" : sqlite3_errmsg(db)));
}

void exec_or_throw(sqlite3* db, const std::string& sql, const std::string& path,
                   std::string_view what) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    fail(db, path, what);
  }
}

int migrate(sqlite3* db, const std::string& path) {
  const int found = read_user_version(db, path);
  if (found > latest_version) {
    throw std::runtime_error("store " + path + ": schema version " + std::to_string(found) +
                             " is newer than this trestle knows (" +
                             std::to_string(latest_version) +
                             "); upgrade trestle or restore a backup");
  }
  for (const Migration& migration : migrations) {
    if (migration.version > found) {
      apply(db, migration, path);
    }
  }
  return read_user_version(db, path);
}

} // namespace trestle::gateway::sqlite_detail
