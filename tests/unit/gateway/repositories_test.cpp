// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "gateway/store/repositories.hpp"
#include "gateway/store/store_error.hpp"
#include "run_until.hpp"
#include "temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <sqlite3.h>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using trestle::gateway::Awaitable;
using trestle::gateway::Claim;
using trestle::gateway::inline_repositories;
using trestle::gateway::open_sqlite_store;
using trestle::gateway::OutboxItem;
using trestle::gateway::Registration;
using trestle::gateway::Repositories;
using trestle::gateway::StoreErrc;
using trestle::gateway::StoreThreadOptions;
using trestle::gateway::threaded_repositories;
using trestle::test::run_until;
using trestle::test::TempDir;
using namespace std::chrono_literals;

/// Repositories on two connections to one file, as the gateway opens them.
std::unique_ptr<Repositories> open_threaded(const std::string& path, StoreThreadOptions options,
                                            std::vector<std::error_code>* errors = nullptr) {
  return threaded_repositories(open_sqlite_store(path), open_sqlite_store(path), options,
                               [errors](const std::error_code& ec) {
                                 if (errors != nullptr) {
                                   errors->push_back(ec);
                                 }
                               });
}

/// Runs `body` as a coroutine on `io` to its end (bounded by run_until).
void run(boost::asio::io_context& io, std::function<Awaitable<void>()> body) {
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        co_await body();
        done = true;
      },
      boost::asio::detached);
  BOOST_REQUIRE(run_until(
      io, [&] { return done; }, 20s));
}

/// A second connection to the database, as a backup tool would hold one.
class LockHolder {
public:
  explicit LockHolder(const std::string& path) {
    BOOST_REQUIRE_EQUAL(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~LockHolder() { sqlite3_close(db_); }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  void exec(const char* sql) {
    BOOST_REQUIRE_EQUAL(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  }
  /// Column `column` of the first row `sql` answers, as text.
  std::string text(const char* sql, int column = 0) {
    std::pair<int, std::string> into{column, {}};
    BOOST_REQUIRE_EQUAL(sqlite3_exec(
                            db_, sql,
                            [](void* out, int count, char** values, char**) {
                              auto& [wanted, found] =
                                  *static_cast<std::pair<int, std::string>*>(out);
                              if (wanted < count && values[wanted] != nullptr && found.empty()) {
                                found = values[wanted];
                              }
                              return 0;
                            },
                            &into, nullptr),
                        SQLITE_OK);
    return into.second;
  }

private:
  sqlite3* db_ = nullptr;
};

// Records are made outside the coroutines: GCC 12 destroys a braced
// temporary of a coroutine twice.
Registration alice() {
  return Registration{"alice@example.org", "irc.example.org", {{"nick", "alice"}}, 1};
}

Registration registration_of(const std::string& user) {
  return Registration{user, "irc.example.org", {}, 1};
}

trestle::gateway::AddressMapping bob_mail() {
  return {"mail.example.org", "bob", "bob", "bob@example.org"};
}

std::vector<trestle::gateway::Correlation> two_correlations() {
  return {{"c", "k", "1", "x", "u", "p", 1}, {"c", "k", "2", "x", "u", "p", 1}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(repositories)

BOOST_AUTO_TEST_CASE(calls_run_off_the_loop_and_answer_on_it) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  TempDir dir;
  auto store = open_threaded(dir.path("t.db"), {});
  const auto loop_thread = std::this_thread::get_id();
  run(io, [&]() -> Awaitable<void> {
    std::error_code ec = StoreErrc::failed;
    co_await store->registrations().put(alice(), ec);
    BOOST_TEST(!ec);
    BOOST_TEST((std::this_thread::get_id() == loop_thread));
    // The reader's connection sees what the writer committed before.
    const auto found =
        co_await store->registrations().find("alice@example.org", "irc.example.org", ec);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->fields.at("nick") == "alice");
    BOOST_TEST((co_await store->addresses().claim("mail.example.org", "alice", "alice@example.org",
                                                  ec) == Claim::claimed));
    BOOST_TEST((co_await store->addresses().claim("mail.example.org", "alice", "bob@example.org",
                                                  ec) == Claim::taken));
    BOOST_TEST(!ec);
  });
}

BOOST_AUTO_TEST_CASE(several_correlations_are_looked_up_in_one_round_trip_in_order) {
  boost::asio::io_context io;
  TempDir dir;
  auto store = open_threaded(dir.path("t.db"), {});
  run(io, [&]() -> Awaitable<void> {
    std::error_code ec;
    const trestle::gateway::Correlation kept{"mail.example.org",  "email-msg",       "<a@x>", "t1",
                                             "alice@example.org", "bob@example.com", 1};
    co_await store->correlations().put(kept, ec);
    BOOST_TEST(!ec);
    const std::vector<std::pair<std::string, std::string>> keys{
        {"email-msg", "<none@x>"}, {"email-msg", "<a@x>"}, {"email-root", "<a@x>"}};
    const auto found =
        co_await store->correlations().find_each_by_legacy("mail.example.org", keys, ec);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(found.size() == 3u);
    BOOST_TEST(!found[0].has_value());
    BOOST_REQUIRE(found[1].has_value());
    BOOST_TEST(found[1]->xmpp_id == "t1");
    BOOST_TEST(!found[2].has_value()); // the same id under another kind
  });
}

BOOST_AUTO_TEST_CASE(writes_keep_the_order_they_were_asked_in) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  TempDir dir;
  auto store = open_threaded(dir.path("t.db"), {});
  // Ten writers start at once; the outbox ids say in which order they ran.
  std::vector<std::int64_t> ids(10);
  int finished = 0;
  for (int i = 0; i < 10; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> Awaitable<void> {
          OutboxItem item;
          item.component = "sms.example.org";
          item.xmpp_id = std::to_string(i);
          std::error_code ec;
          ids[static_cast<std::size_t>(i)] = co_await store->outbox().add(item, ec);
          BOOST_TEST(!ec);
          ++finished;
        },
        boost::asio::detached);
  }
  BOOST_REQUIRE(run_until(
      io, [&] { return finished == 10; }, 20s));
  for (std::size_t i = 1; i < ids.size(); ++i) {
    BOOST_TEST(ids[i] == ids[i - 1] + 1);
  }
}

BOOST_AUTO_TEST_CASE(queued_writes_commit_together_and_fail_alone) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  TempDir dir;
  const auto path = dir.path("t.db");
  auto store = open_threaded(path, {5s, 4096});
  std::error_code ec;
  run(io, [&]() -> Awaitable<void> {
    co_await store->addresses().put(bob_mail(), ec);
    BOOST_REQUIRE(!ec);
    co_await store->flush(ec); // an empty WAL: what follows is all in it
    BOOST_REQUIRE(!ec);
  });
  // A lock held elsewhere makes the writes queue up behind the first one.
  LockHolder backup(path);
  backup.exec("BEGIN EXCLUSIVE");
  constexpr int writes = 49;
  int finished = 0;
  std::vector<std::error_code> results(writes);
  Claim claim = Claim::failed;
  std::error_code taken_jid;
  const auto clash =
      trestle::gateway::AddressMapping{"mail.example.org", "robert", "robert", "bob@example.org"};
  for (int i = 0; i < writes; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> Awaitable<void> {
          OutboxItem item;
          item.component = "sms.example.org";
          item.xmpp_id = std::to_string(i);
          co_await store->outbox().add(item, results[static_cast<std::size_t>(i)]);
          ++finished;
        },
        boost::asio::detached);
    if (i == 10) {
      // A write that breaks a rule fails alone, inside the group.
      boost::asio::co_spawn(
          io,
          [&]() -> Awaitable<void> {
            co_await store->addresses().put(clash, taken_jid);
            ++finished;
          },
          boost::asio::detached);
    }
    if (i == 20) {
      // A write with a transaction of its own nests in the group.
      boost::asio::co_spawn(
          io,
          [&]() -> Awaitable<void> {
            std::error_code claim_error;
            claim = co_await store->addresses().claim("mail.example.org", "al", "alice@example.org",
                                                      claim_error);
            ++finished;
          },
          boost::asio::detached);
    }
  }
  boost::asio::steady_timer release(io);
  release.expires_after(300ms);
  release.async_wait([&](const boost::system::error_code&) { backup.exec("ROLLBACK"); });
  BOOST_REQUIRE(run_until(
      io, [&] { return finished == writes + 2; }, 20s));
  for (const auto& result : results) {
    BOOST_TEST(!result);
  }
  BOOST_TEST(taken_jid == StoreErrc::constraint);
  BOOST_TEST((claim == Claim::claimed));
  // All there, seen from another connection.
  BOOST_TEST(backup.text("SELECT COUNT(*) FROM outbox") == std::to_string(writes));
  BOOST_TEST(backup.text("SELECT jid FROM address_map WHERE legacy_key = 'al'") ==
             "alice@example.org");
  // Grouped: far fewer commits, so far fewer WAL frames, than 50 writes one
  // by one (each of which writes at least one frame).
  const auto frames = std::stoi(backup.text("PRAGMA wal_checkpoint(PASSIVE)", 1));
  BOOST_TEST(frames < 25);
}

BOOST_AUTO_TEST_CASE(a_held_lock_answers_timeout_while_the_loop_runs_on) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  TempDir dir;
  const auto path = dir.path("t.db");
  std::vector<std::error_code> errors;
  auto store = open_threaded(path, {200ms, 4096}, &errors);
  LockHolder backup(path);
  backup.exec("BEGIN EXCLUSIVE");
  // A timer on the same loop keeps ticking while the store waits for the lock.
  int ticks = 0;
  std::error_code write_error;
  bool answered = false;
  boost::asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        boost::asio::steady_timer timer(io);
        while (!answered) {
          timer.expires_after(10ms);
          co_await timer.async_wait(boost::asio::use_awaitable);
          ++ticks;
        }
      },
      boost::asio::detached);
  boost::asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        co_await store->registrations().put(alice(), write_error);
        answered = true;
      },
      boost::asio::detached);
  BOOST_REQUIRE(run_until(
      io, [&] { return answered; }, 20s));
  BOOST_TEST(write_error == StoreErrc::timeout);
  BOOST_TEST(ticks > 0);
  BOOST_TEST(errors.size() == 1u);
  backup.exec("ROLLBACK");
}

BOOST_AUTO_TEST_CASE(a_call_that_waited_past_its_deadline_in_the_queue_never_runs) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  TempDir dir;
  const auto path = dir.path("t.db");
  auto store = open_threaded(path, {100ms, 4096});
  {
    LockHolder backup(path);
    backup.exec("BEGIN EXCLUSIVE");
    // The first write holds the writer's thread in SQLite's busy wait; the
    // second queues behind it and is past its deadline when its turn comes.
    int answered = 0;
    std::error_code first;
    std::error_code second;
    boost::asio::co_spawn(
        io,
        [&]() -> Awaitable<void> {
          co_await store->registrations().put(alice(), first);
          ++answered;
        },
        boost::asio::detached);
    boost::asio::co_spawn(
        io,
        [&]() -> Awaitable<void> {
          const auto bob = bob_mail();
          co_await store->addresses().put(bob, second);
          ++answered;
        },
        boost::asio::detached);
    BOOST_REQUIRE(run_until(
        io, [&] { return answered == 2; }, 20s));
    BOOST_TEST(first == StoreErrc::timeout);
    BOOST_TEST(second == StoreErrc::timeout);
    backup.exec("ROLLBACK");
  }
  run(io, [&]() -> Awaitable<void> {
    // A read waits for the writer's queue to drain first: through the same
    // thread, so it comes after the two writes above.
    std::error_code ec;
    const auto carol = registration_of("carol@example.org");
    co_await store->registrations().put(carol, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(
        !(co_await store->addresses().find_by_jid("mail.example.org", "bob@example.org", ec)));
    BOOST_TEST(!ec);
  });
}

BOOST_AUTO_TEST_CASE(a_full_queue_refuses_at_once) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  TempDir dir;
  const auto path = dir.path("t.db");
  auto store = open_threaded(path, {300ms, 1});
  LockHolder backup(path);
  backup.exec("BEGIN EXCLUSIVE");
  int answered = 0;
  std::error_code first;
  std::error_code second;
  for (auto* ec : {&first, &second}) {
    boost::asio::co_spawn(
        io,
        [&, ec]() -> Awaitable<void> {
          co_await store->usage().record("sms.example.org", "alice@example.org", 1, *ec);
          ++answered;
        },
        boost::asio::detached);
  }
  BOOST_REQUIRE(run_until(
      io, [&] { return answered == 2; }, 20s));
  // One call waits in the queue (and times out); the other found it full.
  BOOST_TEST(((first == StoreErrc::busy) != (second == StoreErrc::busy)));
  BOOST_TEST(((first == StoreErrc::timeout) != (second == StoreErrc::timeout)));
  backup.exec("ROLLBACK");
}

BOOST_AUTO_TEST_CASE(inline_repositories_answer_without_a_thread) {
  // Before the store: its threads post answers to the loop until they are joined.
  boost::asio::io_context io;
  auto memory = open_sqlite_store(":memory:");
  std::vector<std::error_code> errors;
  auto store =
      inline_repositories(*memory, [&](const std::error_code& ec) { errors.push_back(ec); });
  run(io, [&]() -> Awaitable<void> {
    std::error_code ec;
    co_await store->registrations().put(alice(), ec);
    BOOST_TEST(!ec);
    BOOST_TEST(memory->find_registration("alice@example.org", "irc.example.org", ec).has_value());
    const auto both = two_correlations();
    co_await store->correlations().put_all(both, ec);
    BOOST_TEST(!ec);
    co_await store->flush(ec);
    BOOST_TEST(!ec);
  });
  BOOST_TEST(errors.empty());
}

BOOST_AUTO_TEST_SUITE_END()
