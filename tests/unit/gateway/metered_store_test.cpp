#include "metered_store.hpp"
#include "store.hpp"
#include "store_error.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

using trestle::gateway::AddressMapping;
using trestle::gateway::Correlation;
using trestle::gateway::HeldMessage;
using trestle::gateway::MeteredStore;
using trestle::gateway::Registration;
using trestle::gateway::StoreErrc;
using trestle::gateway_test::FlakyStore;

namespace {

/// A MeteredStore over a FlakyStore, recording every reported error.
struct MeteredFixture {
  MeteredFixture() {
    auto owned = std::make_unique<FlakyStore>();
    inner = owned.get();
    metered = std::make_unique<MeteredStore>(
        std::move(owned), [this](const std::error_code& ec) { reported.push_back(ec); });
  }

  /// Calls every Store function once; returns how many reported failure.
  int call_everything() {
    int failed = 0;
    std::error_code ec;
    const auto count = [&] {
      failed += ec ? 1 : 0;
    };
    metered->find_registration("alice@example.org", "c", ec);
    count();
    metered->put_registration(Registration{"alice@example.org", "c", {{"nick", "al"}}, 1}, ec);
    count();
    metered->remove_registration("bob@example.org", "c", ec);
    count();
    metered->registrations("c", ec);
    count();
    metered->find_registration_by_field("c", "nick", "al", ec);
    count();
    metered->put_address(AddressMapping{"c", "key", "Key", "key@c"}, ec);
    count();
    metered->find_address_by_legacy("c", "key", ec);
    count();
    metered->find_address_by_jid("c", "key@c", ec);
    count();
    metered->put_correlation(Correlation{"c", "sms-dlr", "l1", "x1", "alice@example.org", "+1", 5},
                             ec);
    count();
    metered->find_correlation_by_legacy("c", "sms-dlr", "l1", ec);
    count();
    metered->find_correlation_by_xmpp("c", "sms-dlr", "x1", ec);
    count();
    metered->prune_correlations(0, ec);
    count();
    metered->remove_correlation("c", "sms-dlr", "l0", ec);
    count();
    metered->record_usage("c", "alice@example.org", 10, ec);
    count();
    metered->count_usage("c", "alice@example.org", 0, ec);
    count();
    metered->usage_summary("c", 10, ec);
    count();
    metered->prune_usage(0, ec);
    count();
    metered->add_held(HeldMessage{0, "c", "+1", "+2", "hello", 10, ""}, ec);
    count();
    metered->held_messages("c", false, 10, ec);
    count();
    metered->count_held("c", ec);
    count();
    metered->remove_held(-1, ec);
    count();
    metered->flush(ec);
    count();
    return failed;
  }

  FlakyStore* inner = nullptr;
  std::unique_ptr<MeteredStore> metered;
  std::vector<std::error_code> reported;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(metered_store, MeteredFixture)

BOOST_AUTO_TEST_CASE(successful_calls_are_forwarded_and_not_counted) {
  BOOST_TEST(call_everything() == 0);
  BOOST_TEST(reported.empty());
  std::error_code ec;
  const auto found = metered->find_registration("alice@example.org", "c", ec);
  BOOST_TEST(!ec);
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(found->fields.at("nick") == "al");
  const auto mapping = metered->find_address_by_jid("c", "key@c", ec);
  BOOST_TEST_REQUIRE(mapping.has_value());
  BOOST_TEST(mapping->legacy_spelling == "Key");
  BOOST_TEST(metered->count_usage("c", "alice@example.org", 0, ec) == 1U);
  const auto summary = metered->usage_summary("c", 10, ec);
  BOOST_TEST_REQUIRE(summary.size() == 1U);
  BOOST_TEST(summary[0].last_hour == 1U);
  BOOST_TEST(metered->count_held("c", ec) == 1U);
  BOOST_TEST(metered->held_messages("c", false, 10, ec).at(0).body == "hello");
  BOOST_TEST(metered->schema_version() == inner->schema_version());
  BOOST_TEST(metered->schema_version() > 0);
  BOOST_TEST(reported.empty());
}

BOOST_AUTO_TEST_CASE(every_failed_call_is_counted_once) {
  inner->fail_reads = true;
  inner->fail_writes = true;
  BOOST_TEST(call_everything() == 22);
  BOOST_TEST(reported.size() == 22U);
  for (const auto& ec : reported) {
    BOOST_TEST((ec == StoreErrc::io_error || ec == StoreErrc::read_only));
  }
}

BOOST_AUTO_TEST_CASE(the_reported_error_is_the_one_the_caller_sees) {
  inner->fail_writes = true;
  std::error_code ec;
  metered->put_registration(Registration{"alice@example.org", "c", {}, 1}, ec);
  BOOST_TEST(ec == StoreErrc::read_only);
  BOOST_TEST_REQUIRE(reported.size() == 1U);
  BOOST_TEST(reported[0] == ec);

  // Reads still work and are not counted.
  const auto found = metered->find_registration("alice@example.org", "c", ec);
  BOOST_TEST(!ec);
  BOOST_TEST(!found.has_value());
  BOOST_TEST(reported.size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_failed_usage_write_is_counted_and_reads_go_on) {
  inner->fail_writes = true;
  std::error_code ec;
  metered->record_usage("c", "alice@example.org", 10, ec);
  BOOST_TEST(ec == StoreErrc::read_only);
  BOOST_TEST(metered->add_held(HeldMessage{0, "c", "+1", "+2", "hello", 10, ""}, ec) == 0);
  BOOST_TEST(ec == StoreErrc::read_only);
  BOOST_TEST_REQUIRE(reported.size() == 2U);
  BOOST_TEST(reported[0] == StoreErrc::read_only);

  BOOST_TEST(metered->count_usage("c", "alice@example.org", 0, ec) == 0U);
  BOOST_TEST(!ec);
  BOOST_TEST(metered->count_held("c", ec) == 0U);
  BOOST_TEST(!ec);
  BOOST_TEST(reported.size() == 2U);
}

BOOST_AUTO_TEST_CASE(a_stale_error_from_an_earlier_call_is_not_counted_again) {
  std::error_code ec = make_error_code(StoreErrc::busy);
  metered->registrations("c", ec);
  BOOST_TEST(!ec);
  BOOST_TEST(reported.empty());
}

BOOST_AUTO_TEST_CASE(no_callback_is_fine) {
  MeteredStore silent(std::make_unique<FlakyStore>(), nullptr);
  std::error_code ec;
  silent.flush(ec);
  BOOST_TEST(!ec);
  auto flaky = std::make_unique<FlakyStore>();
  flaky->fail_writes = true;
  MeteredStore failing(std::move(flaky), {});
  failing.flush(ec);
  BOOST_TEST(ec == StoreErrc::read_only);
}

BOOST_AUTO_TEST_SUITE_END()
