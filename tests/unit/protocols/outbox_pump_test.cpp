#include "fake_adapter_context.hpp"
#include "outbox_pump.hpp"
#include "run_until.hpp"
#include "store.hpp"
#include "temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

using trestle::gateway::open_sqlite_store;
using trestle::gateway::OutboxAttempt;
using trestle::gateway::OutboxItem;
using trestle::gateway::OutboxPolicy;
using trestle::gateway::OutboxPump;
using trestle::gateway::OutboxResult;
using trestle::gateway::Store;
using trestle::protocols_test::FakeAdapterContext;

namespace {

/// One gateway instance's outbox on a shared database file: a connection of
/// its own and a transport that takes every message and reports it sent on
/// the next turn of the loop.
struct Instance {
  Instance(const std::string& path, std::map<std::string, int>& sends)
      : store(open_sqlite_store(path)), context("mail.example.org", store.get()),
        pump(
            context, policy(),
            [this, &sends](const OutboxItem& item, OutboxPump::Report report) {
              ++sends[item.xmpp_id];
              boost::asio::post(context.io(), [report] {
                report(OutboxAttempt{OutboxAttempt::Kind::sent, "250", "ok", {}});
              });
              return true;
            },
            [this](const OutboxItem&, const OutboxResult&) { ++done; }) {}

  static OutboxPolicy policy() {
    OutboxPolicy policy;
    policy.max_in_flight = 3;
    return policy;
  }

  std::unique_ptr<Store> store;
  FakeAdapterContext context;
  OutboxPump pump;
  int done = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(outbox_pump)

BOOST_AUTO_TEST_CASE(two_instances_sharing_a_database_send_each_message_once) {
  trestle::test::TempDir dir;
  const auto path = dir.path("shared.db");
  std::map<std::string, int> sends;
  Instance first(path, sends);
  Instance second(path, sends);
  std::error_code ec;
  for (int i = 0; i < 20; ++i) {
    OutboxItem item;
    item.component = "mail.example.org";
    item.user = "alice@example.org";
    item.xmpp_id = "m" + std::to_string(i);
    item.peer = "bob@example.com";
    BOOST_REQUIRE(first.store->add_outbox(item, ec) > 0);
  }
  first.context.start_run(first.pump.run());
  second.context.start_run(second.pump.run());
  // The two loops take turns, one handler each, as two processes would
  // interleave.
  for (int round = 0; round < 2000 && first.done + second.done < 20; ++round) {
    first.context.io().restart();
    first.context.io().poll_one();
    second.context.io().restart();
    second.context.io().poll_one();
  }
  first.context.run_ready(); // the last removals
  second.context.run_ready();
  BOOST_TEST(first.done + second.done == 20);
  BOOST_TEST(first.done > 0);
  BOOST_TEST(second.done > 0);
  BOOST_TEST(sends.size() == 20u);
  for (const auto& [id, count] : sends) {
    BOOST_TEST(count == 1, id << " was sent " << count << " times");
  }
  BOOST_TEST(first.store->count_outbox("mail.example.org", "", ec) == 0u);
  BOOST_TEST(first.context.stop_run());
  BOOST_TEST(second.context.stop_run());
}

BOOST_AUTO_TEST_CASE(a_cancelled_run_gives_back_what_is_in_flight) {
  trestle::test::TempDir dir;
  std::error_code ec;
  auto store = open_sqlite_store(dir.path("outbox.db"));
  FakeAdapterContext context("mail.example.org", store.get());
  std::vector<OutboxPump::Report> pending;
  OutboxPump pump(
      context, Instance::policy(),
      [&pending](const OutboxItem&, OutboxPump::Report report) {
        pending.push_back(std::move(report)); // never answered before the stop
        return true;
      },
      [](const OutboxItem&, const OutboxResult&) { BOOST_FAIL("nothing ends"); });
  for (int i = 0; i < 2; ++i) {
    OutboxItem item;
    item.component = "mail.example.org";
    item.user = "alice@example.org";
    item.xmpp_id = "m" + std::to_string(i);
    BOOST_REQUIRE(store->add_outbox(item, ec) > 0);
  }
  context.start_run(pump.run());
  BOOST_TEST(context.poll_until([&] { return pump.in_flight() == 2; }));
  // Leased: not due while the attempts run.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  BOOST_TEST(store->due_outbox("mail.example.org", now + 1, 10, ec).empty());
  BOOST_TEST(!context.run_ended()); // sleeping until something is due
  BOOST_TEST(context.stop_run());
  BOOST_TEST(pump.in_flight() == 0u);
  BOOST_TEST(store->due_outbox("mail.example.org", now + 1, 10, ec).size() == 2u);
  // A report after the end changes nothing.
  pending.at(0)(OutboxAttempt{OutboxAttempt::Kind::sent, "250", "ok", {}});
  BOOST_TEST(store->due_outbox("mail.example.org", now + 1, 10, ec).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
