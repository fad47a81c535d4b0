#include "backoff.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <vector>

using std::chrono::milliseconds;
using trestle::xmpp::Backoff;

namespace {

/// The uncapped-then-capped base of the n-th delay (n counts from 0).
std::int64_t base_of(std::int64_t initial, std::int64_t cap, unsigned n) {
  std::int64_t base = initial;
  for (unsigned i = 0; i < n && base < cap; ++i) {
    base *= 2;
  }
  return base < cap ? base : cap;
}

} // namespace

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(grows_exponentially_within_jitter_bounds) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Backoff backoff(milliseconds(100), milliseconds(60000), seed);
    for (unsigned n = 0; n < 12; ++n) {
      const auto base = base_of(100, 60000, n);
      const auto delay = backoff.next().count();
      BOOST_TEST_CONTEXT("seed " << seed << ", failure " << n) {
        BOOST_TEST(delay >= base / 2);
        BOOST_TEST(delay <= base);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(doubles_each_failure_until_the_cap) {
  // The lower jitter bound of one step equals the upper bound of the step
  // before: each delay is at least as long as the previous one could be.
  Backoff backoff(milliseconds(10), milliseconds(1000), 7);
  const std::vector<std::int64_t> bases = {10, 20, 40, 80, 160, 320, 640, 1000, 1000};
  for (const auto base : bases) {
    const auto delay = backoff.next().count();
    BOOST_TEST(delay >= base / 2);
    BOOST_TEST(delay <= base);
  }
}

BOOST_AUTO_TEST_CASE(cap_is_respected_after_many_failures) {
  Backoff backoff(milliseconds(250), milliseconds(30000), 42);
  // Far beyond the 30 doublings where the shift stops growing.
  for (int i = 0; i < 200; ++i) {
    const auto delay = backoff.next();
    BOOST_TEST(delay <= milliseconds(30000));
    if (i >= 7) {
      // 250 * 2^7 = 32000 > cap: every later delay is drawn from [cap/2, cap].
      BOOST_TEST(delay >= milliseconds(15000));
    }
  }
  BOOST_TEST(backoff.failures() == 200u);
}

BOOST_AUTO_TEST_CASE(large_initial_delay_does_not_overflow) {
  // One day, doubled at most 30 times, still fits; the cap bounds it.
  const milliseconds day(24LL * 3600 * 1000);
  Backoff backoff(day, 2 * day, 3);
  for (int i = 0; i < 64; ++i) {
    const auto delay = backoff.next();
    BOOST_TEST(delay >= day / 2);
    BOOST_TEST(delay <= 2 * day);
  }
}

BOOST_AUTO_TEST_CASE(jitter_spreads_over_the_whole_range) {
  Backoff backoff(milliseconds(1000), milliseconds(1000), 11);
  std::set<std::int64_t> seen;
  std::int64_t low = 1000;
  std::int64_t high = 0;
  for (int i = 0; i < 500; ++i) {
    const auto delay = backoff.next().count();
    seen.insert(delay);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  BOOST_TEST(low >= 500);
  BOOST_TEST(high <= 1000);
  // Uniform over 501 values: 500 draws land in both quarters at the ends and
  // on many distinct values (fixed seed, so this is deterministic).
  BOOST_TEST(low < 625);
  BOOST_TEST(high > 875);
  BOOST_TEST(seen.size() > 100u);
}

BOOST_AUTO_TEST_CASE(same_seed_same_sequence_other_seed_other_sequence) {
  Backoff a(milliseconds(1000), milliseconds(60000), 5);
  Backoff b(milliseconds(1000), milliseconds(60000), 5);
  Backoff c(milliseconds(1000), milliseconds(60000), 6);
  std::vector<milliseconds> seq_a;
  std::vector<milliseconds> seq_b;
  std::vector<milliseconds> seq_c;
  for (int i = 0; i < 20; ++i) {
    seq_a.push_back(a.next());
    seq_b.push_back(b.next());
    seq_c.push_back(c.next());
  }
  BOOST_TEST((seq_a == seq_b));
  BOOST_TEST((seq_a != seq_c));
}

BOOST_AUTO_TEST_CASE(reset_starts_over) {
  Backoff backoff(milliseconds(100), milliseconds(10000), 1);
  for (int i = 0; i < 8; ++i) {
    backoff.next();
  }
  BOOST_TEST(backoff.failures() == 8u);
  BOOST_TEST(backoff.next() >= milliseconds(5000));
  backoff.reset();
  BOOST_TEST(backoff.failures() == 0u);
  const auto first = backoff.next();
  BOOST_TEST(first >= milliseconds(50));
  BOOST_TEST(first <= milliseconds(100));
  BOOST_TEST(backoff.failures() == 1u);
  const auto second = backoff.next();
  BOOST_TEST(second >= milliseconds(100));
  BOOST_TEST(second <= milliseconds(200));
}

BOOST_AUTO_TEST_CASE(failures_counts_calls) {
  Backoff backoff(milliseconds(1), milliseconds(2), 0);
  BOOST_TEST(backoff.failures() == 0u);
  backoff.next();
  backoff.next();
  backoff.next();
  BOOST_TEST(backoff.failures() == 3u);
}

BOOST_AUTO_TEST_CASE(cap_below_initial_means_initial) {
  Backoff backoff(milliseconds(100), milliseconds(10), 9);
  for (int i = 0; i < 10; ++i) {
    const auto delay = backoff.next();
    BOOST_TEST(delay >= milliseconds(50));
    BOOST_TEST(delay <= milliseconds(100));
  }
}

BOOST_AUTO_TEST_CASE(zero_initial_is_raised_to_one_millisecond) {
  // A zero delay would make a reconnect loop spin; the floor is 1 ms, whose
  // jittered range is [0, 1] but doubles from there.
  Backoff backoff(milliseconds(0), milliseconds(8), 2);
  const std::vector<std::int64_t> bases = {1, 2, 4, 8, 8};
  for (const auto base : bases) {
    const auto delay = backoff.next().count();
    BOOST_TEST(delay >= base / 2);
    BOOST_TEST(delay <= base);
  }
}

BOOST_AUTO_TEST_SUITE_END()
