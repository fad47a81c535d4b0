#include "backoff.hpp"

#include <algorithm>

namespace trestle::xmpp {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap,
                 std::uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))), cap_(std::max(cap, initial_)),
      rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  // Shift at most 30 places: beyond that the cap has long been reached and a
  // bigger shift would overflow.
  const unsigned shift = std::min(failures_, 30u);
  const auto grown = initial_.count() * (std::int64_t{1} << shift);
  const auto base = std::min<std::int64_t>(grown, cap_.count());
  ++failures_;
  std::uniform_int_distribution<std::int64_t> jitter(base / 2, base);
  return std::chrono::milliseconds(jitter(rng_));
}

} // namespace trestle::xmpp
