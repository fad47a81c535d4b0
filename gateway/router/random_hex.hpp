#pragma once

#include <cstddef>
#include <string>

namespace trestle::gateway {

/// `bytes` random bytes from the system's random source, in hex: ids that
/// must not be guessed (callback tokens, stanza ids).
std::string random_hex(std::size_t bytes);

} // namespace trestle::gateway
