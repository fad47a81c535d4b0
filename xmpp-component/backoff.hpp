#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace trestle::xmpp {

/// Capped exponential backoff with jitter: the n-th delay is drawn uniformly
/// from [base/2, base] where base = min(initial * 2^n, cap). Sans-io; the
/// caller sleeps. Jitter spreads reconnects of many components (and many
/// gateways) so they do not hit a restarted server in lockstep.
class Backoff {
public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, std::uint64_t seed);

  /// The delay before the next attempt; each call counts one failure.
  std::chrono::milliseconds next();
  /// Back to the initial delay (after a connection that worked).
  void reset() { failures_ = 0; }
  /// Continues after `failures` earlier failures (a count kept elsewhere,
  /// such as a persistent retry queue).
  void resume_after(unsigned failures) { failures_ = failures; }
  /// Failures counted since the last reset.
  unsigned failures() const { return failures_; }

private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  unsigned failures_ = 0;
  std::mt19937_64 rng_;
};

} // namespace trestle::xmpp
