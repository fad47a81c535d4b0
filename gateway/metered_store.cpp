#include "metered_store.hpp"

namespace trestle::gateway {

std::optional<Registration> MeteredStore::find_registration(const std::string& user,
                                                            const std::string& component,
                                                            std::error_code& ec) {
  return metered(ec, [&] { return inner_->find_registration(user, component, ec); });
}

void MeteredStore::put_registration(const Registration& registration, std::error_code& ec) {
  metered(ec, [&] { inner_->put_registration(registration, ec); });
}

bool MeteredStore::remove_registration(const std::string& user, const std::string& component,
                                       std::error_code& ec) {
  return metered(ec, [&] { return inner_->remove_registration(user, component, ec); });
}

std::vector<Registration> MeteredStore::registrations(const std::string& component,
                                                      std::error_code& ec) {
  return metered(ec, [&] { return inner_->registrations(component, ec); });
}

std::optional<Registration> MeteredStore::find_registration_by_field(const std::string& component,
                                                                     const std::string& field,
                                                                     const std::string& value,
                                                                     std::error_code& ec) {
  return metered(ec,
                 [&] { return inner_->find_registration_by_field(component, field, value, ec); });
}

void MeteredStore::put_address(const AddressMapping& mapping, std::error_code& ec) {
  metered(ec, [&] { inner_->put_address(mapping, ec); });
}

std::optional<AddressMapping> MeteredStore::find_address_by_legacy(const std::string& component,
                                                                   const std::string& legacy_key,
                                                                   std::error_code& ec) {
  return metered(ec, [&] { return inner_->find_address_by_legacy(component, legacy_key, ec); });
}

std::optional<AddressMapping> MeteredStore::find_address_by_jid(const std::string& component,
                                                                const std::string& jid,
                                                                std::error_code& ec) {
  return metered(ec, [&] { return inner_->find_address_by_jid(component, jid, ec); });
}

void MeteredStore::put_correlation(const Correlation& correlation, std::error_code& ec) {
  metered(ec, [&] { inner_->put_correlation(correlation, ec); });
}

std::optional<Correlation> MeteredStore::find_correlation_by_legacy(const std::string& component,
                                                                    const std::string& kind,
                                                                    const std::string& legacy_id,
                                                                    std::error_code& ec) {
  return metered(
      ec, [&] { return inner_->find_correlation_by_legacy(component, kind, legacy_id, ec); });
}

std::optional<Correlation> MeteredStore::find_correlation_by_xmpp(const std::string& component,
                                                                  const std::string& kind,
                                                                  const std::string& xmpp_id,
                                                                  std::error_code& ec) {
  return metered(ec,
                 [&] { return inner_->find_correlation_by_xmpp(component, kind, xmpp_id, ec); });
}

std::size_t MeteredStore::prune_correlations(std::int64_t before, std::error_code& ec) {
  return metered(ec, [&] { return inner_->prune_correlations(before, ec); });
}

void MeteredStore::flush(std::error_code& ec) {
  metered(ec, [&] { inner_->flush(ec); });
}

} // namespace trestle::gateway
