#pragma once

#include "store.hpp"

#include <string>

namespace trestle::gateway {

/// How claim_address() went.
enum class Claim {
  /// The user holds the address now (or held it already).
  claimed,
  /// Another user holds it.
  taken,
  /// The store failed.
  failed,
};

/// Gives `user` (a bare JID) the legacy address `key` of `component` in the
/// mapping table, releasing the one they held, unless another user holds
/// it: a user's own address on a legacy network (an email local part, a
/// phone number) is unique.
Claim claim_address(Store& store, const std::string& component, const std::string& key,
                    const std::string& user);

} // namespace trestle::gateway
