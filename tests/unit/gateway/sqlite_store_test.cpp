#include "gateway/store/store.hpp"
#include "gateway/store/store_error.hpp"
#include "temp_dir.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using trestle::gateway::AddressMapping;
using trestle::gateway::Claim;
using trestle::gateway::Correlation;
using trestle::gateway::HeldMessage;
using trestle::gateway::IfPresent;
using trestle::gateway::open_sqlite_store;
using trestle::gateway::OutboxItem;
using trestle::gateway::Registration;
using trestle::gateway::ServerSettings;
using trestle::gateway::Store;
using trestle::gateway::StoreErrc;
using trestle::gateway::Undelivered;
using trestle::gateway::UsageCount;
using trestle::test::TempDir;

/// The schema version the code under test is expected to reach.
constexpr int latest_version = 7;

/// Migration 1 exactly as it shipped. A copy on purpose: the upgrade test must
/// start from the historical schema, not from whatever the code says today.
constexpr const char* version_1_ddl = R"sql(
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
PRAGMA user_version = 1;
)sql";

/// Migrations 2 and 3 as they shipped; with version_1_ddl, a schema-3 database.
constexpr const char* version_2_and_3_ddl = R"sql(
CREATE INDEX correlations_created_at ON correlations (created_at);
CREATE INDEX registration_fields_value ON registration_fields (component, field, value);
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
PRAGMA user_version = 3;
)sql";

/// The rows every old-schema test database starts with; require_sample finds them.
constexpr const char* sample_rows = R"sql(
INSERT INTO registrations VALUES ('irc.example.org', 'alice@example.org', 1700000000);
INSERT INTO registration_fields VALUES
  ('irc.example.org', 'alice@example.org', 'nick', 'alice'),
  ('irc.example.org', 'alice@example.org', 'sasl_password', 'p4ss & <w"o''rd>');
INSERT INTO address_map VALUES ('irc.example.org', '#chan', '#Chan',
  '#chan%irc.libera.chat@irc.example.org');
INSERT INTO correlations VALUES ('sms.example.org', 'sms-dlr', 'prov-1', 'msg-1',
  'bob@example.org', '+15551234567', 100);
)sql";

/// A second, plain SQLite connection to look at (or tamper with) a store file.
class RawDb {
public:
  explicit RawDb(const std::string& path) {
    const int rc = sqlite3_open(path.c_str(), &db_);
    if (rc != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
    BOOST_REQUIRE_EQUAL(rc, SQLITE_OK);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error == nullptr ? "" : error;
    sqlite3_free(error);
    BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, sql << ": " << message);
  }

  /// The first column of the first row as text ("" when there is no row).
  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    BOOST_REQUIRE_EQUAL(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK);
    std::string out;
    if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return out;
  }

  bool has_index(const std::string& name) {
    return text("SELECT name FROM sqlite_master WHERE type = 'index' AND name = '" + name + "'") ==
           name;
  }

private:
  sqlite3* db_ = nullptr;
};

/// The message of the runtime_error open_sqlite_store throws for `path` ("" if none).
std::string open_failure(const std::string& path) {
  try {
    open_sqlite_store(path);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Registration alice_irc() {
  return Registration{"alice@example.org",
                      "irc.example.org",
                      {{"nick", "alice"}, {"sasl_password", "p4ss & <w\"o'rd>"}},
                      1700000000};
}

Correlation dlr(const std::string& legacy_id, const std::string& xmpp_id, std::int64_t at) {
  return Correlation{"sms.example.org", "sms-dlr",      legacy_id, xmpp_id,
                     "bob@example.org", "+15551234567", at};
}

void require_same(const Registration& got, const Registration& want) {
  BOOST_TEST(got.user == want.user);
  BOOST_TEST(got.component == want.component);
  BOOST_TEST(got.updated_at == want.updated_at);
  BOOST_TEST((got.fields == want.fields));
}

void require_same(const Correlation& got, const Correlation& want) {
  BOOST_TEST(got.component == want.component);
  BOOST_TEST(got.kind == want.kind);
  BOOST_TEST(got.legacy_id == want.legacy_id);
  BOOST_TEST(got.xmpp_id == want.xmpp_id);
  BOOST_TEST(got.user == want.user);
  BOOST_TEST(got.peer == want.peer);
  BOOST_TEST(got.created_at == want.created_at);
  BOOST_TEST(got.note == want.note);
}

/// An inbound SMS to `recipient` that no user owns.
HeldMessage held(const std::string& recipient, const std::string& body, std::int64_t at) {
  HeldMessage message;
  message.component = "sms.example.org";
  message.peer = "+15557654321";
  message.recipient = recipient;
  message.body = body;
  message.received_at = at;
  return message;
}

/// A moment to count usage back from.
constexpr std::int64_t now = 1700000000;

/// Fills `store` with one row of every kind; checked by require_sample.
void put_sample(Store& store) {
  std::error_code ec;
  store.put_registration(alice_irc(), ec);
  BOOST_REQUIRE(!ec);
  store.put_address({"irc.example.org", "#chan", "#Chan", "#chan%irc.libera.chat@irc.example.org"},
                    ec);
  BOOST_REQUIRE(!ec);
  store.put_correlation(dlr("prov-1", "msg-1", 100), ec);
  BOOST_REQUIRE(!ec);
}

void require_sample(Store& store) {
  std::error_code ec;
  const auto registration = store.find_registration("alice@example.org", "irc.example.org", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE(registration.has_value());
  require_same(*registration, alice_irc());
  const auto mapping = store.find_address_by_legacy("irc.example.org", "#chan", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE(mapping.has_value());
  BOOST_TEST(mapping->legacy_spelling == "#Chan");
  const auto correlation =
      store.find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-1", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE(correlation.has_value());
  require_same(*correlation, dlr("prov-1", "msg-1", 100));
}

/// Skips a test whose premise (file permissions) does not hold for root.
boost::test_tools::assertion_result not_root(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(::geteuid() != 0);
  result.message() << "root ignores file permissions";
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sqlite_store)

BOOST_AUTO_TEST_CASE(registration_round_trip) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(!store->find_registration("alice@example.org", "irc.example.org", ec).has_value());
  BOOST_TEST(!ec);

  Registration with_odd_bytes = alice_irc();
  with_odd_bytes.fields["realname"] = std::string("Al\0ice \xc3\xa9t\xc3\xa9", 14);
  store->put_registration(with_odd_bytes, ec);
  BOOST_REQUIRE(!ec);
  const auto found = store->find_registration("alice@example.org", "irc.example.org", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, with_odd_bytes);
  BOOST_TEST(found->fields.at("realname").size() == 14u);

  BOOST_TEST(!store->find_registration("alice@example.org", "mail.example.org", ec).has_value());
  BOOST_TEST(!store->find_registration("bob@example.org", "irc.example.org", ec).has_value());
}

BOOST_AUTO_TEST_CASE(registration_without_fields_round_trips) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  const Registration bare{"carol@example.org", "sms.example.org", {}, 42};
  store->put_registration(bare, ec);
  BOOST_REQUIRE(!ec);
  const auto found = store->find_registration("carol@example.org", "sms.example.org", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, bare);
}

BOOST_AUTO_TEST_CASE(put_registration_replaces_all_fields) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  store->put_registration(alice_irc(), ec);
  BOOST_REQUIRE(!ec);
  const Registration changed{
      "alice@example.org", "irc.example.org", {{"nick", "alice2"}}, 1800000000};
  store->put_registration(changed, ec);
  BOOST_REQUIRE(!ec);
  const auto found = store->find_registration("alice@example.org", "irc.example.org", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, changed);
  BOOST_TEST(found->fields.count("sasl_password") == 0u);
  BOOST_TEST(store->registrations("irc.example.org", ec).size() == 1u);
}

BOOST_AUTO_TEST_CASE(remove_registration_removes_its_fields) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  store->put_registration(alice_irc(), ec);
  Registration other = alice_irc();
  other.component = "mail.example.org";
  store->put_registration(other, ec);
  BOOST_REQUIRE(!ec);

  BOOST_TEST(store->remove_registration("alice@example.org", "irc.example.org", ec));
  BOOST_TEST(!ec);
  BOOST_TEST(!store->find_registration("alice@example.org", "irc.example.org", ec).has_value());
  // The fields went too (ON DELETE CASCADE, i.e. foreign keys are on).
  BOOST_TEST(
      !store->find_registration_by_field("irc.example.org", "nick", "alice", ec).has_value());
  BOOST_TEST(!ec);
  BOOST_TEST(store->find_registration("alice@example.org", "mail.example.org", ec).has_value());

  ec = StoreErrc::failed;
  BOOST_TEST(!store->remove_registration("alice@example.org", "irc.example.org", ec));
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(remove_registration_leaves_no_orphan_fields) {
  TempDir dir;
  const std::string path = dir.path("orphans.db");
  auto store = open_sqlite_store(path);
  std::error_code ec;
  store->put_registration(alice_irc(), ec);
  BOOST_REQUIRE(!ec);
  RawDb raw(path);
  BOOST_REQUIRE(raw.text("SELECT count(*) FROM registration_fields") == "2");
  BOOST_TEST(store->remove_registration("alice@example.org", "irc.example.org", ec));
  BOOST_TEST(!ec);
  BOOST_TEST(raw.text("SELECT count(*) FROM registration_fields") == "0");
}

BOOST_AUTO_TEST_CASE(registrations_lists_one_component_by_user) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  for (const char* user : {"zed@example.org", "alice@example.org", "mike@example.org"}) {
    store->put_registration({user, "irc.example.org", {{"nick", user}, {"server", "libera"}}, 7},
                            ec);
    BOOST_REQUIRE(!ec);
  }
  store->put_registration({"bob@example.org", "sms.example.org", {}, 7}, ec);
  BOOST_REQUIRE(!ec);

  const auto all = store->registrations("irc.example.org", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE_EQUAL(all.size(), 3u);
  BOOST_TEST(all[0].user == "alice@example.org");
  BOOST_TEST(all[1].user == "mike@example.org");
  BOOST_TEST(all[2].user == "zed@example.org");
  for (const auto& registration : all) {
    BOOST_TEST(registration.component == "irc.example.org");
    BOOST_TEST(registration.fields.size() == 2u);
    BOOST_TEST(registration.fields.at("nick") == registration.user);
  }
  const auto sms = store->registrations("sms.example.org", ec);
  BOOST_REQUIRE_EQUAL(sms.size(), 1u);
  BOOST_TEST(sms[0].fields.empty());
  BOOST_TEST(store->registrations("nothing.example.org", ec).empty());
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(find_registration_by_field_matches_exactly) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  store->put_registration({"alice@example.org", "mail.example.org", {{"local", "alice"}}, 1}, ec);
  store->put_registration({"bob@example.org", "mail.example.org", {{"local", "bob"}}, 1}, ec);
  BOOST_REQUIRE(!ec);

  const auto bob = store->find_registration_by_field("mail.example.org", "local", "bob", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE(bob.has_value());
  BOOST_TEST(bob->user == "bob@example.org");
  BOOST_TEST(bob->fields.at("local") == "bob");

  BOOST_TEST(
      !store->find_registration_by_field("mail.example.org", "local", "Bob", ec).has_value());
  BOOST_TEST(!store->find_registration_by_field("mail.example.org", "nick", "bob", ec).has_value());
  BOOST_TEST(!store->find_registration_by_field("irc.example.org", "local", "bob", ec).has_value());
  BOOST_TEST(!ec);

  // A changed value is found under the new one only.
  store->put_registration({"bob@example.org", "mail.example.org", {{"local", "robert"}}, 2}, ec);
  BOOST_TEST(
      !store->find_registration_by_field("mail.example.org", "local", "bob", ec).has_value());
  BOOST_TEST(
      store->find_registration_by_field("mail.example.org", "local", "robert", ec).has_value());
}

BOOST_AUTO_TEST_CASE(find_registration_by_shared_value_picks_smallest_user) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  store->put_registration({"zed@example.org", "irc.example.org", {{"server", "libera"}}, 1}, ec);
  store->put_registration({"amy@example.org", "irc.example.org", {{"server", "libera"}}, 1}, ec);
  BOOST_REQUIRE(!ec);
  const auto found = store->find_registration_by_field("irc.example.org", "server", "libera", ec);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->user == "amy@example.org");
}

BOOST_AUTO_TEST_CASE(address_mapping_both_ways_and_upsert) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(!store->find_address_by_legacy("irc.example.org", "#chan", ec).has_value());
  BOOST_TEST(!ec);
  const AddressMapping chan{"irc.example.org", "#chan", "#Chan", "#chan%libera@irc.example.org"};
  store->put_address(chan, ec);
  BOOST_REQUIRE(!ec);

  auto by_jid = store->find_address_by_jid("irc.example.org", chan.jid, ec);
  BOOST_REQUIRE(by_jid.has_value());
  BOOST_TEST(by_jid->legacy_key == "#chan");
  BOOST_TEST(by_jid->legacy_spelling == "#Chan");
  BOOST_TEST(by_jid->component == "irc.example.org");
  BOOST_TEST(!store->find_address_by_jid("sms.example.org", chan.jid, ec).has_value());

  // Same key: the spelling and JID follow the newest write.
  store->put_address({"irc.example.org", "#chan", "#CHAN", "#chan%oftc@irc.example.org"}, ec);
  BOOST_REQUIRE(!ec);
  const auto by_key = store->find_address_by_legacy("irc.example.org", "#chan", ec);
  BOOST_REQUIRE(by_key.has_value());
  BOOST_TEST(by_key->legacy_spelling == "#CHAN");
  BOOST_TEST(by_key->jid == "#chan%oftc@irc.example.org");
  BOOST_TEST(!store->find_address_by_jid("irc.example.org", chan.jid, ec).has_value());
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(address_jid_taken_by_another_key_is_a_constraint_error) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  store->put_address({"mail.example.org", "bob@example.com", "Bob@example.com", "bob@mail"}, ec);
  BOOST_REQUIRE(!ec);
  store->put_address({"mail.example.org", "eve@example.com", "eve@example.com", "bob@mail"}, ec);
  BOOST_TEST(ec == StoreErrc::constraint);
  BOOST_TEST(ec.category().name() == std::string("trestle.store"));
  const auto kept = store->find_address_by_jid("mail.example.org", "bob@mail", ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE(kept.has_value());
  BOOST_TEST(kept->legacy_key == "bob@example.com");
  BOOST_TEST(!store->find_address_by_legacy("mail.example.org", "eve@example.com", ec).has_value());
  // The same JID in another component is another address.
  store->put_address({"sms.example.org", "eve@example.com", "eve@example.com", "bob@mail"}, ec);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(correlations_by_either_id_and_replacement) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(
      !store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec).has_value());
  BOOST_TEST(!ec);
  store->put_correlation(dlr("prov-1", "msg-1", 100), ec);
  BOOST_REQUIRE(!ec);

  auto found = store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, dlr("prov-1", "msg-1", 100));
  BOOST_TEST(!store->find_correlation_by_legacy("sms.example.org", "email-thread", "prov-1", ec)
                  .has_value());
  BOOST_TEST(
      !store->find_correlation_by_legacy("mail.example.org", "sms-dlr", "prov-1", ec).has_value());

  // Same legacy id again: replaced, not duplicated.
  store->put_correlation(dlr("prov-1", "msg-9", 150), ec);
  BOOST_REQUIRE(!ec);
  found = store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-1", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, dlr("prov-1", "msg-9", 150));
  BOOST_TEST(
      !store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec).has_value());
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(correlation_by_shared_xmpp_id_is_the_newest) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  // One long SMS sent as three parts, each with its provider id.
  store->put_correlation(dlr("part-b", "msg-1", 200), ec);
  store->put_correlation(dlr("part-c", "msg-1", 150), ec);
  store->put_correlation(dlr("part-a", "msg-1", 100), ec);
  BOOST_REQUIRE(!ec);
  const auto found = store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->legacy_id == "part-b");
}

BOOST_AUTO_TEST_CASE(prune_correlations_deletes_strictly_older) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(store->prune_correlations(1000, ec) == 0u);
  BOOST_TEST(!ec);
  store->put_correlation(dlr("p-100", "m-100", 100), ec);
  store->put_correlation(dlr("p-200", "m-200", 200), ec);
  store->put_correlation(dlr("p-300", "m-300", 300), ec);
  BOOST_REQUIRE(!ec);

  BOOST_TEST(store->prune_correlations(200, ec) == 1u);
  BOOST_TEST(!ec);
  BOOST_TEST(
      !store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "p-100", ec).has_value());
  BOOST_TEST(
      store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "p-200", ec).has_value());
  BOOST_TEST(store->prune_correlations(200, ec) == 0u);
  BOOST_TEST(store->prune_correlations(301, ec) == 2u);
  BOOST_TEST(
      !store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "m-300", ec).has_value());
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(correlations_are_stored_together) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  std::vector<Correlation> rows(2);
  rows[0] = {"mail.example.org", "email-msg", "a@x", "k1", "alice@example.org", "bob", 5};
  rows[1] = {"mail.example.org", "email-tip", "k1", "a@x", "alice@example.org", "bob", 5};
  store->put_correlations(rows, ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(store->find_correlation_by_legacy("mail.example.org", "email-msg", "a@x", ec)
                 .value()
                 .xmpp_id == "k1");
  BOOST_TEST(store->find_correlation_by_legacy("mail.example.org", "email-tip", "k1", ec)
                 .value()
                 .xmpp_id == "a@x");
  store->put_correlations({}, ec);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(address_mapping_is_removed_by_jid) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  store->put_address({"mail.example.org", "alice", "alice", "alice@example.org"}, ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(!store->remove_address_by_jid("sms.example.org", "alice@example.org", ec));
  BOOST_TEST(store->remove_address_by_jid("mail.example.org", "alice@example.org", ec));
  BOOST_TEST(!ec);
  BOOST_TEST(!store->find_address_by_legacy("mail.example.org", "alice", ec).has_value());
  store->put_address({"mail.example.org", "alice2", "alice2", "alice@example.org"}, ec);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(outbox_orders_due_messages_and_counts_per_user) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(!store->next_outbox_due("mail.example.org", ec).has_value());
  BOOST_TEST(!ec);
  const auto item = [](std::string user, std::int64_t due) {
    OutboxItem out;
    out.component = "mail.example.org";
    out.user = std::move(user);
    out.sender = out.user + "/phone";
    out.xmpp_id = "m" + std::to_string(due);
    out.peer = "bob@example.com";
    out.payload = std::string("From: a\r\n\r\nbody\0with NUL", 25);
    out.meta = "receipt=1";
    out.created_at = 10;
    out.next_attempt_at = due;
    return out;
  };
  const auto first = store->add_outbox(item("alice@example.org", 30), ec);
  const auto second = store->add_outbox(item("alice@example.org", 20), ec);
  const auto third = store->add_outbox(item("carol@example.org", 50), ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST((first > 0 && second > first && third > second));
  BOOST_TEST(store->count_outbox("mail.example.org", "", ec) == 3u);
  BOOST_TEST(store->count_outbox("mail.example.org", "alice@example.org", ec) == 2u);
  BOOST_TEST(store->count_outbox("sms.example.org", "", ec) == 0u);
  BOOST_TEST(store->next_outbox_due("mail.example.org", ec).value_or(0) == 20);

  auto due = store->due_outbox("mail.example.org", 40, 10, ec);
  BOOST_REQUIRE(due.size() == 2u);
  BOOST_TEST(due[0].id == second);
  BOOST_TEST(due[1].id == first);
  BOOST_TEST(due[0].payload == item("", 0).payload);
  BOOST_TEST(due[0].sender == "alice@example.org/phone");
  BOOST_TEST(due[0].meta == "receipt=1");
  BOOST_TEST(store->due_outbox("mail.example.org", 40, 1, ec).size() == 1u);

  store->reschedule_outbox(second, 100, 1, "451 try later", ec);
  BOOST_REQUIRE(!ec);
  due = store->due_outbox("mail.example.org", 40, 10, ec);
  BOOST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].id == first);
  due = store->due_outbox("mail.example.org", 100, 10, ec);
  BOOST_REQUIRE(due.size() == 3u);
  BOOST_TEST(due[2].id == second);
  BOOST_TEST(due[2].attempts == 1);
  BOOST_TEST(due[2].last_error == "451 try later");

  BOOST_TEST(store->remove_outbox(first, ec));
  BOOST_TEST(!store->remove_outbox(first, ec));
  BOOST_TEST(!ec);
  BOOST_TEST(store->count_outbox("mail.example.org", "", ec) == 2u);
}

BOOST_AUTO_TEST_CASE(correlation_note_round_trips_and_follows_replacement) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  Correlation with_note = dlr("prov-1", "msg-1", 100);
  with_note.note = std::string("parts=3;\0receipt=\xc3\xa9", 20);
  store->put_correlation(with_note, ec);
  BOOST_REQUIRE(!ec);
  auto found = store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-1", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, with_note);
  BOOST_TEST(found->note.size() == 20u);
  found = store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, with_note);

  // A replacement replaces the note too, an empty one included.
  store->put_correlation(dlr("prov-1", "msg-1", 150), ec);
  BOOST_REQUIRE(!ec);
  found = store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-1", ec);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->note.empty());

  std::vector<Correlation> rows{dlr("prov-2", "msg-2", 200), dlr("prov-3", "msg-2", 200)};
  rows[0].note = "part=1";
  rows[1].note = "part=2";
  store->put_correlations(rows, ec);
  BOOST_REQUIRE(!ec);
  found = store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-3", ec);
  BOOST_REQUIRE(found.has_value());
  require_same(*found, rows[1]);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(remove_correlation_deletes_exactly_one) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(!store->remove_correlation("sms.example.org", "sms-dlr", "prov-1", ec));
  BOOST_TEST(!ec);
  store->put_correlation(dlr("prov-1", "msg-1", 100), ec);
  store->put_correlation(dlr("prov-2", "msg-1", 100), ec);
  Correlation other_kind = dlr("prov-1", "msg-1", 100);
  other_kind.kind = "sms-reply";
  store->put_correlation(other_kind, ec);
  Correlation other_component = dlr("prov-1", "msg-1", 100);
  other_component.component = "sms2.example.org";
  store->put_correlation(other_component, ec);
  BOOST_REQUIRE(!ec);

  BOOST_TEST(store->remove_correlation("sms.example.org", "sms-dlr", "prov-1", ec));
  BOOST_TEST(!ec);
  BOOST_TEST(
      !store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-1", ec).has_value());
  BOOST_TEST(!store->remove_correlation("sms.example.org", "sms-dlr", "prov-1", ec));
  BOOST_TEST(!ec);
  // The other part of the same message, and the other kind and component, stay.
  const auto left = store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec);
  BOOST_REQUIRE(left.has_value());
  BOOST_TEST(left->legacy_id == "prov-2");
  BOOST_TEST(
      store->find_correlation_by_legacy("sms.example.org", "sms-reply", "prov-1", ec).has_value());
  BOOST_TEST(
      store->find_correlation_by_legacy("sms2.example.org", "sms-dlr", "prov-1", ec).has_value());
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(usage_counts_an_exact_sliding_window) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  const std::string sms = "sms.example.org";
  const std::string bob = "bob@example.org";
  BOOST_TEST(store->count_usage(sms, bob, now - 86400, ec) == 0u);
  BOOST_TEST(!ec);
  // Two events in the same second count twice.
  for (const std::int64_t ago : {90000, 86400, 7200, 3600, 3599, 1800, 10, 10}) {
    store->record_usage(sms, bob, now - ago, ec);
    BOOST_REQUIRE(!ec);
  }
  store->record_usage(sms, "carol@example.org", now - 10, ec);
  store->record_usage("sms2.example.org", bob, now - 10, ec);
  BOOST_REQUIRE(!ec);

  BOOST_TEST(store->count_usage(sms, bob, now - 3600, ec) == 5u);
  BOOST_TEST(store->count_usage(sms, bob, now - 3599, ec) == 4u);
  BOOST_TEST(store->count_usage(sms, bob, now - 7200, ec) == 6u);
  BOOST_TEST(store->count_usage(sms, bob, now - 86400, ec) == 7u);
  BOOST_TEST(store->count_usage(sms, bob, 0, ec) == 8u);
  BOOST_TEST(store->count_usage(sms, bob, now - 9, ec) == 0u);
  BOOST_TEST(store->count_usage(sms, "dave@example.org", 0, ec) == 0u);
  BOOST_TEST(store->count_usage("sms2.example.org", bob, 0, ec) == 1u);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(usage_summary_orders_by_day_then_user) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  const std::string sms = "sms.example.org";
  BOOST_TEST(store->usage_summary(sms, now, ec).empty());
  BOOST_TEST(!ec);
  const auto record = [&](const std::string& user, std::initializer_list<std::int64_t> agos) {
    for (const std::int64_t ago : agos) {
      store->record_usage(sms, user, now - ago, ec);
      BOOST_REQUIRE(!ec);
    }
  };
  record("carol@example.org", {10, 7200, 80000});
  record("alice@example.org", {10, 20, 3600});
  record("bob@example.org", {5000, 6000, 7000, 8000, 86400, 86401});
  record("dave@example.org", {86401, 100000});
  store->record_usage("sms2.example.org", "erin@example.org", now, ec);
  BOOST_REQUIRE(!ec);

  const auto summary = store->usage_summary(sms, now, ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE_EQUAL(summary.size(), 3u);
  BOOST_TEST(summary[0].user == "bob@example.org");
  BOOST_TEST(summary[0].last_hour == 0u);
  BOOST_TEST(summary[0].last_day == 5u);
  BOOST_TEST(summary[1].user == "alice@example.org");
  BOOST_TEST(summary[1].last_hour == 3u);
  BOOST_TEST(summary[1].last_day == 3u);
  BOOST_TEST(summary[2].user == "carol@example.org");
  BOOST_TEST(summary[2].last_hour == 1u);
  BOOST_TEST(summary[2].last_day == 3u);
  // The summary agrees with count_usage over the same windows.
  for (const UsageCount& row : summary) {
    BOOST_TEST(row.last_hour == store->count_usage(sms, row.user, now - 3600, ec));
    BOOST_TEST(row.last_day == store->count_usage(sms, row.user, now - 86400, ec));
  }
  BOOST_TEST(store->usage_summary(sms, now + 86401, ec).empty());
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(prune_usage_deletes_strictly_older_in_every_component) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(store->prune_usage(now, ec) == 0u);
  BOOST_TEST(!ec);
  store->record_usage("sms.example.org", "bob@example.org", 100, ec);
  store->record_usage("sms.example.org", "bob@example.org", 100, ec);
  store->record_usage("sms.example.org", "bob@example.org", 200, ec);
  store->record_usage("sms2.example.org", "bob@example.org", 150, ec);
  BOOST_REQUIRE(!ec);

  BOOST_TEST(store->prune_usage(100, ec) == 0u);
  BOOST_TEST(store->prune_usage(200, ec) == 3u);
  BOOST_TEST(!ec);
  BOOST_TEST(store->count_usage("sms.example.org", "bob@example.org", 0, ec) == 1u);
  BOOST_TEST(store->count_usage("sms2.example.org", "bob@example.org", 0, ec) == 0u);
  BOOST_TEST(store->prune_usage(201, ec) == 1u);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(held_messages_are_listed_oldest_first_counted_and_removed) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  const std::string sms = "sms.example.org";
  BOOST_TEST(store->held_messages(sms, false, 10, ec).empty());
  BOOST_TEST(store->count_held(sms, ec) == 0u);
  BOOST_TEST(!ec);

  const std::string body = "caf\xc3\xa9 & <ok> \"it's\"";
  const auto late = store->add_held(held("+15550000001", body, 300), ec);
  const auto early = store->add_held(held("+15550000002", "first", 100), ec);
  const auto tie = store->add_held(held("+15550000003", "second", 100), ec);
  HeldMessage elsewhere = held("+15550000004", "other", 50);
  elsewhere.component = "sms2.example.org";
  const auto other = store->add_held(elsewhere, ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST((late > 0 && early > late && tie > early && other > tie));

  auto list = store->held_messages(sms, false, 10, ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE_EQUAL(list.size(), 3u);
  BOOST_TEST(list[0].id == early);
  BOOST_TEST(list[1].id == tie);
  BOOST_TEST(list[2].id == late);
  BOOST_TEST(list[2].component == sms);
  BOOST_TEST(list[2].peer == "+15557654321");
  BOOST_TEST(list[2].recipient == "+15550000001");
  BOOST_TEST(list[2].body == body);
  BOOST_TEST(list[2].received_at == 300);
  BOOST_TEST(list[2].user.empty());
  BOOST_TEST(store->held_messages(sms, false, 2, ec).size() == 2u);
  BOOST_TEST(store->held_messages(sms, false, 0, ec).empty());
  BOOST_TEST(store->count_held(sms, ec) == 3u);
  BOOST_TEST(store->count_held("sms2.example.org", ec) == 1u);

  BOOST_TEST(store->remove_held(early, ec));
  BOOST_TEST(!store->remove_held(early, ec));
  BOOST_TEST(!ec);
  BOOST_TEST(store->count_held(sms, ec) == 2u);
  list = store->held_messages(sms, false, 1, ec);
  BOOST_REQUIRE_EQUAL(list.size(), 1u);
  BOOST_TEST(list[0].id == tie);
  // Ids are not reused: a stale id cannot remove a newer message.
  BOOST_TEST(store->remove_held(late, ec));
  BOOST_TEST(store->remove_held(tie, ec));
  BOOST_TEST(store->remove_held(other, ec));
  BOOST_TEST(store->add_held(held("+15550000005", "new", 400), ec) > other);
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(a_held_message_keeps_the_user_it_waits_for) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  auto waiting = held("+15550000001", "for alice", 100);
  waiting.user = "alice@example.org";
  const auto id = store->add_held(waiting, ec);
  BOOST_REQUIRE(!ec);
  const auto nobodys = store->add_held(held("+15550000002", "for nobody", 50), ec);
  const auto list = store->held_messages("sms.example.org", true, 10, ec);
  BOOST_REQUIRE_EQUAL(list.size(), 1u);
  BOOST_TEST(list[0].id == id);
  BOOST_TEST(list[0].user == "alice@example.org");
  const auto others = store->held_messages("sms.example.org", false, 10, ec);
  BOOST_REQUIRE_EQUAL(others.size(), 1u);
  BOOST_TEST(others[0].id == nobodys);
  BOOST_TEST(store->count_held("sms.example.org", ec) == 2u);
}

BOOST_AUTO_TEST_CASE(memory_store_flushes_without_error) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  store->flush(ec);
  BOOST_TEST(!ec);
  BOOST_TEST(store->schema_version() == latest_version);
}

BOOST_AUTO_TEST_CASE(file_store_keeps_data_across_reopen) {
  TempDir dir;
  const std::string path = dir.path("trestle.db");
  {
    auto store = open_sqlite_store(path);
    put_sample(*store);
    std::error_code ec = StoreErrc::failed;
    store->flush(ec);
    BOOST_TEST(!ec);
    // TRUNCATE: everything is in the main file and the WAL is empty.
    BOOST_TEST(std::filesystem::file_size(path + "-wal") == 0u);
  }
  auto store = open_sqlite_store(path);
  BOOST_TEST(store->schema_version() == latest_version);
  require_sample(*store);
}

BOOST_AUTO_TEST_CASE(fresh_database_is_at_latest_version_in_wal_mode) {
  TempDir dir;
  const std::string path = dir.path("fresh.db");
  auto store = open_sqlite_store(path);
  BOOST_TEST(store->schema_version() == latest_version);
  RawDb raw(path);
  BOOST_TEST(raw.text("PRAGMA user_version") == std::to_string(latest_version));
  BOOST_TEST(raw.text("PRAGMA journal_mode") == "wal");
  BOOST_TEST(raw.has_index("registration_fields_value"));
  BOOST_TEST(raw.has_index("correlations_created_at"));
  BOOST_TEST(raw.has_index("usage_events_user"));
  BOOST_TEST(raw.has_index("usage_events_at"));
  BOOST_TEST(raw.has_index("held_messages_oldest"));
}

BOOST_AUTO_TEST_CASE(version_1_database_migrates_keeping_rows) {
  TempDir dir;
  const std::string path = dir.path("v1.db");
  {
    RawDb raw(path);
    raw.exec(version_1_ddl);
    raw.exec(sample_rows);
    BOOST_REQUIRE(!raw.has_index("registration_fields_value"));
  }
  auto store = open_sqlite_store(path);
  BOOST_TEST(store->schema_version() == latest_version);
  require_sample(*store);
  std::error_code ec;
  BOOST_TEST(store->find_registration_by_field("irc.example.org", "nick", "alice", ec).has_value());
  RawDb raw(path);
  BOOST_TEST(raw.text("PRAGMA user_version") == std::to_string(latest_version));
  BOOST_TEST(raw.has_index("registration_fields_value"));
  BOOST_TEST(raw.has_index("correlations_created_at"));
}

BOOST_AUTO_TEST_CASE(version_3_database_migrates_keeping_rows) {
  TempDir dir;
  const std::string path = dir.path("v3.db");
  {
    RawDb raw(path);
    raw.exec(version_1_ddl);
    raw.exec(version_2_and_3_ddl);
    raw.exec(sample_rows);
    raw.exec("INSERT INTO outbox (component, user_jid, sender, xmpp_id, peer, payload, meta, "
             "created_at, next_attempt_at, attempts, last_error) VALUES ('sms.example.org', "
             "'bob@example.org', 'bob@example.org/phone', 'msg-2', '+15551234567', X'6869', "
             "'receipt=1', 10, 20, 1, 'busy')");
    BOOST_REQUIRE(raw.text("PRAGMA user_version") == "3");
  }
  auto store = open_sqlite_store(path);
  BOOST_TEST(store->schema_version() == latest_version);
  require_sample(*store);
  std::error_code ec;
  const auto queued = store->due_outbox("sms.example.org", 20, 10, ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE_EQUAL(queued.size(), 1u);
  BOOST_TEST(queued[0].payload == "hi");
  BOOST_TEST(queued[0].last_error == "busy");

  // The old correlation has an empty note and takes one now.
  auto old = store->find_correlation_by_xmpp("sms.example.org", "sms-dlr", "msg-1", ec);
  BOOST_REQUIRE(old.has_value());
  BOOST_TEST(old->note.empty());
  old->note = "parts=2";
  store->put_correlation(*old, ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(
      store->find_correlation_by_legacy("sms.example.org", "sms-dlr", "prov-1", ec).value().note ==
      "parts=2");
  BOOST_TEST(store->remove_correlation("sms.example.org", "sms-dlr", "prov-1", ec));

  store->record_usage("sms.example.org", "bob@example.org", now, ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(store->count_usage("sms.example.org", "bob@example.org", now, ec) == 1u);
  BOOST_TEST(store->usage_summary("sms.example.org", now, ec).size() == 1u);
  const auto id = store->add_held(held("+15550000001", "hello", now), ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(store->held_messages("sms.example.org", false, 10, ec).at(0).id == id);
  BOOST_TEST(!ec);

  RawDb raw(path);
  BOOST_TEST(raw.text("PRAGMA user_version") == std::to_string(latest_version));
  BOOST_TEST(raw.has_index("usage_events_user"));
  BOOST_TEST(raw.has_index("held_messages_oldest"));
}

BOOST_AUTO_TEST_CASE(failed_migration_is_rolled_back_and_reported) {
  TempDir dir;
  const std::string path = dir.path("broken.db");
  {
    // Claims version 1 but lacks registration_fields.value, which step 2 indexes.
    RawDb raw(path);
    raw.exec("CREATE TABLE registration_fields (component TEXT, user_jid TEXT, field TEXT);"
             "CREATE TABLE correlations (created_at INTEGER);"
             "PRAGMA user_version = 1;");
  }
  const std::string message = open_failure(path);
  BOOST_TEST(contains(message, path));
  BOOST_TEST(contains(message, "migration to schema version 2 failed"));
  BOOST_TEST(contains(message, "value"));
  RawDb raw(path);
  BOOST_TEST(raw.text("PRAGMA user_version") == "1");
  // Step 2 creates this index before failing on the other: gone, so the step was atomic.
  BOOST_TEST(!raw.has_index("correlations_created_at"));
}

BOOST_AUTO_TEST_CASE(newer_schema_is_refused) {
  TempDir dir;
  const std::string path = dir.path("future.db");
  {
    RawDb raw(path);
    raw.exec("CREATE TABLE t (x); PRAGMA user_version = 99;");
  }
  const std::string message = open_failure(path);
  BOOST_TEST(contains(message, path));
  BOOST_TEST(contains(message, "schema version 99 is newer"));
  BOOST_TEST(contains(message, "(" + std::to_string(latest_version) + ")"));
  RawDb raw(path);
  BOOST_TEST(raw.text("PRAGMA user_version") == "99");
}

BOOST_AUTO_TEST_CASE(garbage_file_is_refused) {
  TempDir dir;
  const std::string path = dir.path("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 200; ++i) {
      out << "this is a text file, not an SQLite database\n";
    }
  }
  const std::string message = open_failure(path);
  BOOST_TEST(contains(message, path));
  BOOST_TEST(contains(message, "not a database"));
}

BOOST_AUTO_TEST_CASE(missing_directory_is_refused) {
  TempDir dir;
  const std::string path = dir.path("no-such-dir/trestle.db");
  const std::string message = open_failure(path);
  BOOST_TEST(contains(message, path));
  BOOST_TEST(contains(message, "cannot open"));
  // The reason SQLite does not give: the folder is not there.
  BOOST_TEST(contains(message, dir.path("no-such-dir") + ": No such file or directory"));
  BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(read_only_file_is_refused, *boost::unit_test::precondition(not_root)) {
  TempDir dir;
  const std::string path = dir.path("ro.db");
  open_sqlite_store(path).reset();
  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  const std::string message = open_failure(path);
  BOOST_TEST(contains(message, path));
  BOOST_TEST(contains(message, "read-only"));
}

BOOST_AUTO_TEST_CASE(locked_database_reports_busy_and_still_reads) {
  TempDir dir;
  const std::string path = dir.path("locked.db");
  auto store = open_sqlite_store(path);
  put_sample(*store);

  // Another connection holds the write lock past the store's busy timeout.
  RawDb other(path);
  other.exec("BEGIN IMMEDIATE");
  std::error_code ec;
  Registration changed = alice_irc();
  changed.fields["nick"] = "alice2";
  store->put_registration(changed, ec);
  BOOST_TEST(ec == StoreErrc::busy);
  store->put_correlation(dlr("prov-2", "msg-2", 200), ec);
  BOOST_TEST(ec == StoreErrc::busy);
  store->record_usage("sms.example.org", "bob@example.org", now, ec);
  BOOST_TEST(ec == StoreErrc::busy);
  store->flush(ec);
  BOOST_TEST(ec == StoreErrc::busy);
  // WAL: readers are not blocked by the writer, and the failed write left nothing behind.
  require_sample(*store);
  other.exec("ROLLBACK");

  store->put_registration(changed, ec);
  BOOST_TEST(!ec);
  const auto found = store->find_registration("alice@example.org", "irc.example.org", ec);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->fields.at("nick") == "alice2");
}

BOOST_AUTO_TEST_CASE(corrupt_pages_report_corrupt_without_throwing) {
  TempDir dir;
  const std::string path = dir.path("corrupt.db");
  int page_size = 0;
  {
    auto store = open_sqlite_store(path);
    put_sample(*store);
    RawDb raw(path);
    page_size = std::stoi(raw.text("PRAGMA page_size"));
  }
  // Page 1 (header and schema) stays intact so the store opens; every table
  // and index page after it becomes noise.
  const auto size = std::filesystem::file_size(path);
  BOOST_REQUIRE(size > static_cast<std::uintmax_t>(page_size));
  {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(page_size);
    const std::string noise(size - static_cast<std::uintmax_t>(page_size), '\xa5');
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
    BOOST_REQUIRE(file.good());
  }

  auto store = open_sqlite_store(path);
  std::error_code ec;
  BOOST_TEST(!store->find_registration("alice@example.org", "irc.example.org", ec).has_value());
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(store->registrations("irc.example.org", ec).empty());
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(!store->find_address_by_legacy("irc.example.org", "#chan", ec).has_value());
  BOOST_TEST(ec == StoreErrc::corrupt);
  store->put_registration(alice_irc(), ec);
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(!store->remove_registration("alice@example.org", "irc.example.org", ec));
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(store->prune_correlations(1000, ec) == 0u);
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(store->count_usage("sms.example.org", "bob@example.org", 0, ec) == 0u);
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(store->usage_summary("sms.example.org", now, ec).empty());
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(store->held_messages("sms.example.org", false, 10, ec).empty());
  BOOST_TEST(ec == StoreErrc::corrupt);
  BOOST_TEST(store->count_held("sms.example.org", ec) == 0u);
  BOOST_TEST(ec == StoreErrc::corrupt);
}

BOOST_AUTO_TEST_CASE(failed_put_registration_rolls_back_and_releases_the_lock) {
  TempDir dir;
  const std::string path = dir.path("half.db");
  int page_size = 0;
  int fields_page = 0;
  {
    auto store = open_sqlite_store(path);
    put_sample(*store);
    RawDb raw(path);
    page_size = std::stoi(raw.text("PRAGMA page_size"));
    fields_page = std::stoi(
        raw.text("SELECT rootpage FROM sqlite_master WHERE name = 'registration_fields'"));
  }
  // Only the fields table is damaged: the registration row updates, then
  // replacing its fields fails inside the same transaction.
  {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(fields_page - 1) * page_size);
    const std::string noise(static_cast<std::size_t>(page_size), '\xa5');
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
    BOOST_REQUIRE(file.good());
  }
  auto store = open_sqlite_store(path);
  std::error_code ec;
  Registration changed = alice_irc();
  changed.updated_at = 1900000000;
  store->put_registration(changed, ec);
  BOOST_TEST(ec == StoreErrc::corrupt);

  RawDb raw(path);
  BOOST_TEST(raw.text("SELECT updated_at FROM registrations") == "1700000000");
  // No transaction was left open: a later write commits and others can see it.
  store->put_address({"irc.example.org", "#new", "#New", "#new%irc.libera.chat@irc.example.org"},
                     ec);
  BOOST_TEST(!ec);
  BOOST_TEST(raw.text("SELECT legacy_spelling FROM address_map WHERE legacy_key = '#new'") ==
             "#New");
}

BOOST_AUTO_TEST_CASE(claim_gives_a_free_address_and_refuses_a_taken_one) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST((store->claim_address("sms.example.org", "+15550001", "alice@example.org", ec) ==
              Claim::claimed));
  BOOST_TEST(!ec);
  // Claiming it again is no change; another user cannot have it.
  BOOST_TEST((store->claim_address("sms.example.org", "+15550001", "alice@example.org", ec) ==
              Claim::claimed));
  BOOST_TEST((store->claim_address("sms.example.org", "+15550001", "bob@example.org", ec) ==
              Claim::taken));
  BOOST_TEST(!ec);
  // A new claim releases the user's old address.
  BOOST_TEST((store->claim_address("sms.example.org", "+15550002", "alice@example.org", ec) ==
              Claim::claimed));
  BOOST_TEST(!store->find_address_by_legacy("sms.example.org", "+15550001", ec).has_value());
  BOOST_TEST(store->find_address_by_jid("sms.example.org", "alice@example.org", ec)->legacy_key ==
             "+15550002");
  BOOST_TEST((store->claim_address("sms.example.org", "+15550001", "bob@example.org", ec) ==
              Claim::claimed));
}

BOOST_AUTO_TEST_CASE(claim_under_another_writer_fails_whole) {
  TempDir dir;
  const std::string path = dir.path("claim.db");
  auto store = open_sqlite_store(path);
  std::error_code ec;
  BOOST_REQUIRE((store->claim_address("mail.example.org", "alice", "alice@example.org", ec) ==
                 Claim::claimed));
  RawDb other(path);
  other.exec("BEGIN IMMEDIATE");
  BOOST_TEST(
      (store->claim_address("mail.example.org", "al", "alice@example.org", ec) == Claim::failed));
  BOOST_TEST(ec == StoreErrc::busy);
  other.exec("ROLLBACK");
  // Nothing of the failed claim stayed: the old address is still hers.
  BOOST_TEST(store->find_address_by_jid("mail.example.org", "alice@example.org", ec)->legacy_key ==
             "alice");
}

BOOST_AUTO_TEST_CASE(two_connections_never_lease_the_same_outbox_item) {
  TempDir dir;
  const std::string path = dir.path("lease.db");
  auto first = open_sqlite_store(path);
  auto second = open_sqlite_store(path);
  std::error_code ec;
  for (int i = 0; i < 5; ++i) {
    OutboxItem item;
    item.component = "mail.example.org";
    item.user = "alice@example.org";
    item.xmpp_id = "m" + std::to_string(i);
    item.next_attempt_at = 10 + i;
    BOOST_REQUIRE(first->add_outbox(item, ec) > 0);
  }
  const auto a = first->lease_due_outbox("mail.example.org", 100, 160, 3, ec);
  BOOST_REQUIRE(!ec);
  const auto b = second->lease_due_outbox("mail.example.org", 100, 160, 3, ec);
  BOOST_REQUIRE(!ec);
  BOOST_REQUIRE_EQUAL(a.size(), 3u);
  BOOST_REQUIRE_EQUAL(b.size(), 2u);
  // Earliest first, each item once, and leased until 160.
  BOOST_TEST(a[0].xmpp_id == "m0");
  BOOST_TEST(a[2].xmpp_id == "m2");
  BOOST_TEST(b[0].xmpp_id == "m3");
  BOOST_TEST(b[1].xmpp_id == "m4");
  BOOST_TEST(a[0].next_attempt_at == 160);
  BOOST_TEST(second->lease_due_outbox("mail.example.org", 159, 200, 10, ec).empty());
  // A lease that ends (its sender died) makes the item due again.
  BOOST_TEST(second->lease_due_outbox("mail.example.org", 160, 220, 10, ec).size() == 5u);
}

BOOST_AUTO_TEST_CASE(concurrent_leases_from_two_threads_never_overlap) {
  TempDir dir;
  const std::string path = dir.path("race.db");
  {
    auto store = open_sqlite_store(path);
    std::error_code ec;
    for (int i = 0; i < 200; ++i) {
      OutboxItem item;
      item.component = "sms.example.org";
      item.xmpp_id = std::to_string(i);
      BOOST_REQUIRE(store->add_outbox(item, ec) > 0);
    }
  }
  // Two processes' pumps, each on its own connection, lease two at a time
  // as fast as they can until nothing is due.
  std::vector<std::string> taken[2];
  std::vector<std::thread> pumps;
  for (auto& mine : taken) {
    pumps.emplace_back([&path, &mine] {
      auto store = open_sqlite_store(path);
      for (int round = 0; round < 10000; ++round) {
        std::error_code ec;
        const auto leased = store->lease_due_outbox("sms.example.org", 0, 1000, 2, ec);
        if (!ec && leased.empty()) {
          break;
        }
        for (const auto& item : leased) {
          mine.push_back(item.xmpp_id);
        }
      }
    });
  }
  for (auto& pump : pumps) {
    pump.join();
  }
  std::set<std::string> all(taken[0].begin(), taken[0].end());
  all.insert(taken[1].begin(), taken[1].end());
  BOOST_TEST(taken[0].size() + taken[1].size() == 200u);
  BOOST_TEST(all.size() == 200u);
}

BOOST_AUTO_TEST_CASE(lease_under_another_writer_leases_nothing) {
  TempDir dir;
  const std::string path = dir.path("lease-busy.db");
  auto store = open_sqlite_store(path);
  std::error_code ec;
  OutboxItem item;
  item.component = "sms.example.org";
  item.next_attempt_at = 1;
  BOOST_REQUIRE(store->add_outbox(item, ec) > 0);
  RawDb other(path);
  other.exec("BEGIN IMMEDIATE");
  BOOST_TEST(store->lease_due_outbox("sms.example.org", 5, 65, 10, ec).empty());
  BOOST_TEST(ec == StoreErrc::busy);
  other.exec("ROLLBACK");
  BOOST_TEST(store->next_outbox_due("sms.example.org", ec).value_or(0) == 1);
}

BOOST_AUTO_TEST_CASE(server_settings_are_kept_per_server_and_go_with_the_registration) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(
      !store->find_server_settings("alice@example.org", "irc.example.org", "irc.example.net", ec));
  BOOST_TEST(!ec);
  store->put_registration(alice_irc(), ec);
  store->put_server_settings({"alice@example.org",
                              "irc.example.org",
                              "irc.example.net",
                              {{"nick", "al"}, {"tls", "true"}}},
                             ec);
  store->put_server_settings(
      {"alice@example.org", "irc.example.org", "irc.other.net", {{"nick", "alice_"}}}, ec);
  BOOST_REQUIRE(!ec);
  // A put replaces the settings as a whole.
  store->put_server_settings(
      {"alice@example.org", "irc.example.org", "irc.example.net", {{"nick", "al2"}}}, ec);
  const auto found =
      store->find_server_settings("alice@example.org", "irc.example.org", "irc.example.net", ec);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->fields.size() == 1u);
  BOOST_TEST(found->fields.at("nick") == "al2");
  BOOST_TEST(
      store->find_server_settings("alice@example.org", "irc.example.org", "irc.other.net", ec)
          ->fields.at("nick") == "alice_");
  // Unregistering forgets them too (saved SASL passwords included).
  BOOST_TEST(store->remove_registration("alice@example.org", "irc.example.org", ec));
  BOOST_TEST(
      !store->find_server_settings("alice@example.org", "irc.example.org", "irc.example.net", ec));
  BOOST_TEST(
      !store->find_server_settings("alice@example.org", "irc.example.org", "irc.other.net", ec));
  BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(undelivered_stanzas_come_back_in_order_until_removed) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec = StoreErrc::failed;
  BOOST_TEST(store->count_undelivered("mail.example.org", ec) == 0u);
  BOOST_TEST(!ec);
  std::vector<std::int64_t> ids;
  for (const char* text : {"<message id='1'/>", "<message id='2'/>", "<message id='3'/>"}) {
    ids.push_back(store->add_undelivered({0, "mail.example.org", text, 100, {}}, ec));
    BOOST_REQUIRE(!ec);
  }
  store->add_undelivered({0, "sms.example.org", "<message id='other'/>", 100, {}}, ec);
  BOOST_TEST(ids[0] < ids[1]);
  BOOST_TEST(ids[1] < ids[2]);
  BOOST_TEST(store->count_undelivered("mail.example.org", ec) == 3u);
  auto all = store->undelivered_after("mail.example.org", 0, 10, ec);
  BOOST_REQUIRE_EQUAL(all.size(), 3u);
  BOOST_TEST(all[0].stanza == "<message id='1'/>");
  BOOST_TEST(all[2].stanza == "<message id='3'/>");
  BOOST_TEST(all[1].created_at == 100);
  // Paged by id.
  const auto page = store->undelivered_after("mail.example.org", ids[0], 1, ec);
  BOOST_REQUIRE_EQUAL(page.size(), 1u);
  BOOST_TEST(page[0].id == ids[1]);
  // Removed per component; an id of another component or gone already is ignored.
  const auto other = store->undelivered_after("sms.example.org", 0, 10, ec);
  BOOST_REQUIRE_EQUAL(other.size(), 1u);
  BOOST_TEST(
      store->remove_undelivered("mail.example.org", {ids[0], ids[2], other[0].id, 999}, ec) == 2u);
  BOOST_TEST(!ec);
  all = store->undelivered_after("mail.example.org", 0, 10, ec);
  BOOST_REQUIRE_EQUAL(all.size(), 1u);
  BOOST_TEST(all[0].id == ids[1]);
  BOOST_TEST(store->count_undelivered("sms.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(an_undelivered_stanza_is_kept_with_what_it_remembers) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  Undelivered kept{0, "sms.example.org", "<message id='1'/>", 100, {}};
  kept.remember.push_back(
      {"sms.example.org", "sms-mo", "provider-1", "", "alice@example.org", "+15551234567", 100});
  BOOST_TEST(store->add_undelivered(kept, ec) != 0);
  BOOST_TEST(!ec);
  const auto found =
      store->find_correlation_by_legacy("sms.example.org", "sms-mo", "provider-1", ec);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->user == "alice@example.org");
  BOOST_TEST(store->count_undelivered("sms.example.org", ec) == 1u);
}

BOOST_AUTO_TEST_CASE(an_undelivered_stanza_taken_before_is_not_kept_again) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  Undelivered kept{0, "sms.example.org", "<message id='1'/>", 100, {}};
  kept.remember.push_back({"sms.example.org", "sms-mo", "provider-1", "", "alice@example.org",
                           "+15551234567", 100, "", IfPresent::refuse});
  BOOST_TEST(store->add_undelivered(kept, ec) != 0);
  BOOST_REQUIRE(!ec);
  // The repeat, with another row beside: nothing of it is written.
  kept.stanza = "<message id='2'/>";
  kept.remember.push_back(
      {"sms.example.org", "other", "x", "", "alice@example.org", "+15551234567", 100});
  BOOST_TEST(store->add_undelivered(kept, ec) == 0);
  BOOST_TEST(!ec);
  BOOST_TEST(store->count_undelivered("sms.example.org", ec) == 1u);
  BOOST_TEST(!store->find_correlation_by_legacy("sms.example.org", "other", "x", ec));
  // Another provider id is kept.
  kept.remember = {{"sms.example.org", "sms-mo", "provider-2", "", "alice@example.org",
                    "+15551234567", 100, "", IfPresent::refuse}};
  BOOST_TEST(store->add_undelivered(kept, ec) != 0);
  BOOST_TEST(store->count_undelivered("sms.example.org", ec) == 2u);
}

BOOST_AUTO_TEST_CASE(correlations_meet_existing_rows_as_they_say) {
  auto store = open_sqlite_store(":memory:");
  std::error_code ec;
  const std::string c = "mail.example.org";
  const auto row = [&](const std::string& kind, const std::string& xmpp, const std::string& user,
                       IfPresent if_present) {
    return Correlation{c, kind, "id", xmpp, user, "bob", 1, "", if_present};
  };
  BOOST_TEST(store->put_correlations({row("keep", "first", "alice", IfPresent::keep),
                                      row("own", "first", "alice", IfPresent::replace_own),
                                      row("refuse", "first", "alice", IfPresent::refuse)},
                                     ec));
  BOOST_REQUIRE(!ec);
  const auto xmpp_of = [&](const std::string& kind) {
    return store->find_correlation_by_legacy(c, kind, "id", ec).value().xmpp_id;
  };
  BOOST_TEST(store->put_correlations({row("keep", "second", "alice", IfPresent::keep)}, ec));
  BOOST_TEST(xmpp_of("keep") == "first");
  BOOST_TEST(store->put_correlations({row("own", "second", "alice", IfPresent::replace_own)}, ec));
  BOOST_TEST(xmpp_of("own") == "second");
  BOOST_TEST(store->put_correlations({row("own", "third", "mallory", IfPresent::replace_own)}, ec));
  BOOST_TEST(xmpp_of("own") == "second");
  BOOST_TEST(store->find_correlation_by_legacy(c, "own", "id", ec)->user == "alice");
  // A refused row stops the whole write, without an error.
  BOOST_TEST(!store->put_correlations({row("keep2", "x", "alice", IfPresent::replace),
                                       row("refuse", "second", "alice", IfPresent::refuse)},
                                      ec));
  BOOST_TEST(!ec);
  BOOST_TEST(xmpp_of("refuse") == "first");
  BOOST_TEST(!store->find_correlation_by_legacy(c, "keep2", "id", ec));
  BOOST_TEST(store->put_correlations({row("x", "y", "alice", IfPresent::replace)}, ec));
  BOOST_TEST(store->put_correlations({row("x", "z", "bob", IfPresent::replace)}, ec));
  BOOST_TEST(xmpp_of("x") == "z");
}

BOOST_AUTO_TEST_CASE(removing_undelivered_under_a_lock_fails_whole) {
  TempDir dir;
  const std::string path = dir.path("locked.db");
  auto store = open_sqlite_store(path);
  std::error_code ec;
  const auto first =
      store->add_undelivered({0, "mail.example.org", "<message id='1'/>", 1, {}}, ec);
  const auto second =
      store->add_undelivered({0, "mail.example.org", "<message id='2'/>", 1, {}}, ec);
  BOOST_REQUIRE(!ec);
  {
    RawDb holder(path);
    holder.exec("BEGIN EXCLUSIVE; INSERT INTO usage_events VALUES ('x', 'y', 1);");
    BOOST_TEST(store->remove_undelivered("mail.example.org", {first, second}, ec) == 0u);
    BOOST_TEST((ec == StoreErrc::busy));
    holder.exec("ROLLBACK");
  }
  BOOST_TEST(store->count_undelivered("mail.example.org", ec) == 2u);
}

BOOST_AUTO_TEST_CASE(version_5_server_settings_move_to_their_own_table) {
  TempDir dir;
  const std::string path = dir.path("v5.db");
  {
    auto store = open_sqlite_store(path);
    put_sample(*store);
  }
  {
    // Back to version 5, where the configure command kept a user's settings
    // as a registration of the component "DOMAIN/SERVER".
    RawDb raw(path);
    raw.exec("DROP TABLE server_settings; DROP TABLE undelivered; PRAGMA user_version = 5;"
             "INSERT INTO registrations VALUES ('irc.example.org/irc.example.net', "
             "'alice@example.org', 7);"
             "INSERT INTO registration_fields VALUES ('irc.example.org/irc.example.net', "
             "'alice@example.org', 'nick', 'al'), ('irc.example.org/irc.example.net', "
             "'alice@example.org', 'password', 's3cret');");
  }
  auto store = open_sqlite_store(path);
  BOOST_TEST(store->schema_version() == latest_version);
  require_sample(*store);
  std::error_code ec;
  const auto moved =
      store->find_server_settings("alice@example.org", "irc.example.org", "irc.example.net", ec);
  BOOST_REQUIRE(moved.has_value());
  BOOST_TEST(moved->fields.at("nick") == "al");
  BOOST_TEST(moved->fields.at("password") == "s3cret");
  BOOST_TEST(!store->find_registration("alice@example.org", "irc.example.org/irc.example.net", ec));
  RawDb raw(path);
  BOOST_TEST(raw.text("SELECT COUNT(*) FROM registrations WHERE component LIKE '%/%'") == "0");
}

BOOST_AUTO_TEST_CASE(error_category_names_every_kind) {
  const auto& category = trestle::gateway::store_category();
  BOOST_TEST(category.name() == std::string("trestle.store"));
  std::vector<std::string> messages;
  for (StoreErrc errc :
       {StoreErrc::busy, StoreErrc::read_only, StoreErrc::constraint, StoreErrc::corrupt,
        StoreErrc::full, StoreErrc::io_error, StoreErrc::failed, StoreErrc::timeout}) {
    const std::error_code ec = errc;
    BOOST_TEST(ec);
    BOOST_TEST(&ec.category() == &category);
    BOOST_TEST(ec.message() != category.message(0));
    for (const auto& seen : messages) {
      BOOST_TEST(seen != ec.message());
    }
    messages.push_back(ec.message());
  }
  BOOST_TEST(category.message(0) == "unknown store error");
}

BOOST_AUTO_TEST_SUITE_END()
