#include "address_claim.hpp"

#include <system_error>

namespace trestle::gateway {

Claim claim_address(Store& store, const std::string& component, const std::string& key,
                    const std::string& user) {
  std::error_code ec;
  const auto holder = store.find_address_by_legacy(component, key, ec);
  if (!ec && holder) {
    return holder->jid == user ? Claim::claimed : Claim::taken;
  }
  if (!ec) {
    store.remove_address_by_jid(component, user, ec);
  }
  if (!ec) {
    store.put_address({component, key, key, user}, ec);
  }
  return ec ? Claim::failed : Claim::claimed;
}

} // namespace trestle::gateway
