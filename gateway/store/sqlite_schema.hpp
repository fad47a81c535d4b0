#pragma once

// The SQLite store's schema and its migrations, with the connection handles
// and start-up error helpers that opening a store shares with them. Internal
// to the gateway_store library: everyone else opens a store through
// open_sqlite_store() in store.hpp.

#include <memory>
#include <sqlite3.h>
#include <string>
#include <string_view>

namespace trestle::gateway::sqlite_detail {

/// Closes a connection; close_v2 defers the close while a statement is still
/// unfinalized instead of failing it.
struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
/// Finalizes a prepared statement.
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
/// An owned connection.
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
/// An owned prepared statement.
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

/// Throws the start-up failure `store <path>: <what>: <SQLite's last message>`.
[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what);

/// Runs `sql` (one or more statements) at start-up; throws through fail() on error.
void exec_or_throw(sqlite3* db, const std::string& sql, const std::string& path,
                   std::string_view what);

/// Brings the schema to the latest version and returns it; refuses a newer one.
/// Each step runs in its own transaction, so a second process may migrate too.
int migrate(sqlite3* db, const std::string& path);

} // namespace trestle::gateway::sqlite_detail
