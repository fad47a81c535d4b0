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

bool MeteredStore::put_correlations(const std::vector<Correlation>& correlations,
                                    std::error_code& ec) {
  bool written = false;
  metered(ec, [&] { written = inner_->put_correlations(correlations, ec); });
  return written;
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

bool MeteredStore::remove_correlation(const std::string& component, const std::string& kind,
                                      const std::string& legacy_id, std::error_code& ec) {
  return metered(ec, [&] { return inner_->remove_correlation(component, kind, legacy_id, ec); });
}

void MeteredStore::record_usage(const std::string& component, const std::string& user,
                                std::int64_t at, std::error_code& ec) {
  metered(ec, [&] { inner_->record_usage(component, user, at, ec); });
}

std::size_t MeteredStore::count_usage(const std::string& component, const std::string& user,
                                      std::int64_t since, std::error_code& ec) {
  return metered(ec, [&] { return inner_->count_usage(component, user, since, ec); });
}

std::vector<UsageCount> MeteredStore::usage_summary(const std::string& component, std::int64_t now,
                                                    std::error_code& ec) {
  return metered(ec, [&] { return inner_->usage_summary(component, now, ec); });
}

std::size_t MeteredStore::prune_usage(std::int64_t before, std::error_code& ec) {
  return metered(ec, [&] { return inner_->prune_usage(before, ec); });
}

std::int64_t MeteredStore::add_held(const HeldMessage& message, std::error_code& ec) {
  return metered(ec, [&] { return inner_->add_held(message, ec); });
}

std::vector<HeldMessage> MeteredStore::held_messages(const std::string& component, bool for_users,
                                                     std::size_t limit, std::error_code& ec) {
  return metered(ec, [&] { return inner_->held_messages(component, for_users, limit, ec); });
}

std::size_t MeteredStore::count_held(const std::string& component, std::error_code& ec) {
  return metered(ec, [&] { return inner_->count_held(component, ec); });
}

bool MeteredStore::remove_held(std::int64_t id, std::error_code& ec) {
  return metered(ec, [&] { return inner_->remove_held(id, ec); });
}

std::int64_t MeteredStore::add_undelivered(const Undelivered& stanza, std::error_code& ec) {
  return metered(ec, [&] { return inner_->add_undelivered(stanza, ec); });
}

std::vector<Undelivered> MeteredStore::undelivered_after(const std::string& component,
                                                         std::int64_t after, std::size_t limit,
                                                         std::error_code& ec) {
  return metered(ec, [&] { return inner_->undelivered_after(component, after, limit, ec); });
}

std::size_t MeteredStore::remove_undelivered(const std::string& component,
                                             const std::vector<std::int64_t>& ids,
                                             std::error_code& ec) {
  return metered(ec, [&] { return inner_->remove_undelivered(component, ids, ec); });
}

std::size_t MeteredStore::count_undelivered(const std::string& component, std::error_code& ec) {
  return metered(ec, [&] { return inner_->count_undelivered(component, ec); });
}

bool MeteredStore::remove_address_by_jid(const std::string& component, const std::string& jid,
                                         std::error_code& ec) {
  return metered(ec, [&] { return inner_->remove_address_by_jid(component, jid, ec); });
}

std::int64_t MeteredStore::add_outbox(const OutboxItem& item, std::error_code& ec) {
  return metered(ec, [&] { return inner_->add_outbox(item, ec); });
}

std::vector<OutboxItem> MeteredStore::due_outbox(const std::string& component, std::int64_t now,
                                                 std::size_t limit, std::error_code& ec) {
  return metered(ec, [&] { return inner_->due_outbox(component, now, limit, ec); });
}

std::optional<std::int64_t> MeteredStore::next_outbox_due(const std::string& component,
                                                          std::error_code& ec) {
  return metered(ec, [&] { return inner_->next_outbox_due(component, ec); });
}

void MeteredStore::reschedule_outbox(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                                     const std::string& last_error, std::error_code& ec) {
  metered(ec, [&] { inner_->reschedule_outbox(id, next_attempt_at, attempts, last_error, ec); });
}

bool MeteredStore::remove_outbox(std::int64_t id, std::error_code& ec) {
  return metered(ec, [&] { return inner_->remove_outbox(id, ec); });
}

std::size_t MeteredStore::count_outbox(const std::string& component, const std::string& user,
                                       std::error_code& ec) {
  return metered(ec, [&] { return inner_->count_outbox(component, user, ec); });
}

std::vector<OutboxItem> MeteredStore::lease_due_outbox(const std::string& component,
                                                       std::int64_t now, std::int64_t lease_until,
                                                       std::size_t limit, std::error_code& ec) {
  return metered(ec,
                 [&] { return inner_->lease_due_outbox(component, now, lease_until, limit, ec); });
}

Claim MeteredStore::claim_address(const std::string& component, const std::string& key,
                                  const std::string& user, std::error_code& ec) {
  return metered(ec, [&] { return inner_->claim_address(component, key, user, ec); });
}

std::optional<ServerSettings> MeteredStore::find_server_settings(const std::string& user,
                                                                 const std::string& component,
                                                                 const std::string& server,
                                                                 std::error_code& ec) {
  return metered(ec, [&] { return inner_->find_server_settings(user, component, server, ec); });
}

void MeteredStore::put_server_settings(const ServerSettings& settings, std::error_code& ec) {
  metered(ec, [&] { inner_->put_server_settings(settings, ec); });
}

void MeteredStore::flush(std::error_code& ec) {
  metered(ec, [&] { inner_->flush(ec); });
}

} // namespace trestle::gateway
