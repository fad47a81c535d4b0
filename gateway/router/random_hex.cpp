#include "random_hex.hpp"

#include <cerrno>
#include <sys/random.h>
#include <system_error>

namespace trestle::gateway {

std::string random_hex(std::size_t bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  // getrandom(2): one system call, no descriptor to open (a std::random_device
  // per id cost more than the rest of an inbound message).
  std::string raw(bytes, '\0');
  std::size_t filled = 0;
  while (filled < bytes) {
    const auto got = ::getrandom(raw.data() + filled, bytes - filled, 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<std::size_t>(got);
  }
  std::string out;
  out.reserve(bytes * 2);
  for (const char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    out += hex[byte >> 4];
    out += hex[byte & 0xFU];
  }
  return out;
}

} // namespace trestle::gateway
