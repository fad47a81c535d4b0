#pragma once

// Test support: a store whose reads or writes fail on demand, and that counts
// its reads and writes, for the gateway's and the adapters' unit tests.

#include "store.hpp"
#include "store_error.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace trestle::gateway_test {

/// An in-memory SQLite store whose reads or writes can be made to fail, as a
/// broken or read-only database would.
class FlakyStore : public gateway::Store {
public:
  FlakyStore() : inner_(gateway::open_sqlite_store(":memory:")) {}

  /// Reads fail with StoreErrc::io_error while set.
  bool fail_reads = false;
  /// Writes fail with StoreErrc::read_only while set.
  bool fail_writes = false;
  /// Reads asked for so far, failed or not.
  mutable std::size_t reads = 0;
  /// Writes asked for so far, failed or not (a transaction of several rows
  /// is one).
  mutable std::size_t writes = 0;

  std::optional<gateway::Registration> find_registration(const std::string& user,
                                                         const std::string& component,
                                                         std::error_code& ec) override {
    return read(ec) ? inner_->find_registration(user, component, ec) : std::nullopt;
  }
  void put_registration(const gateway::Registration& registration, std::error_code& ec) override {
    if (write(ec)) {
      inner_->put_registration(registration, ec);
    }
  }
  bool remove_registration(const std::string& user, const std::string& component,
                           std::error_code& ec) override {
    return write(ec) && inner_->remove_registration(user, component, ec);
  }
  std::vector<gateway::Registration> registrations(const std::string& component,
                                                   std::error_code& ec) override {
    return read(ec) ? inner_->registrations(component, ec) : std::vector<gateway::Registration>{};
  }
  std::optional<gateway::Registration> find_registration_by_field(const std::string& component,
                                                                  const std::string& field,
                                                                  const std::string& value,
                                                                  std::error_code& ec) override {
    return read(ec) ? inner_->find_registration_by_field(component, field, value, ec)
                    : std::nullopt;
  }
  void put_address(const gateway::AddressMapping& mapping, std::error_code& ec) override {
    if (write(ec)) {
      inner_->put_address(mapping, ec);
    }
  }
  std::optional<gateway::AddressMapping> find_address_by_legacy(const std::string& component,
                                                                const std::string& legacy_key,
                                                                std::error_code& ec) override {
    return read(ec) ? inner_->find_address_by_legacy(component, legacy_key, ec) : std::nullopt;
  }
  std::optional<gateway::AddressMapping> find_address_by_jid(const std::string& component,
                                                             const std::string& jid,
                                                             std::error_code& ec) override {
    return read(ec) ? inner_->find_address_by_jid(component, jid, ec) : std::nullopt;
  }
  bool remove_address_by_jid(const std::string& component, const std::string& jid,
                             std::error_code& ec) override {
    return write(ec) && inner_->remove_address_by_jid(component, jid, ec);
  }
  gateway::Claim claim_address(const std::string& component, const std::string& key,
                               const std::string& user, std::error_code& ec) override {
    return write(ec) ? inner_->claim_address(component, key, user, ec) : gateway::Claim::failed;
  }
  std::optional<gateway::ServerSettings> find_server_settings(const std::string& user,
                                                              const std::string& component,
                                                              const std::string& server,
                                                              std::error_code& ec) override {
    return read(ec) ? inner_->find_server_settings(user, component, server, ec) : std::nullopt;
  }
  void put_server_settings(const gateway::ServerSettings& settings, std::error_code& ec) override {
    if (write(ec)) {
      inner_->put_server_settings(settings, ec);
    }
  }
  void put_correlation(const gateway::Correlation& correlation, std::error_code& ec) override {
    if (write(ec)) {
      inner_->put_correlation(correlation, ec);
    }
  }
  bool put_correlations(const std::vector<gateway::Correlation>& correlations,
                        std::error_code& ec) override {
    return write(ec) && inner_->put_correlations(correlations, ec);
  }
  std::optional<gateway::Correlation> find_correlation_by_legacy(const std::string& component,
                                                                 const std::string& kind,
                                                                 const std::string& legacy_id,
                                                                 std::error_code& ec) override {
    return read(ec) ? inner_->find_correlation_by_legacy(component, kind, legacy_id, ec)
                    : std::nullopt;
  }
  std::optional<gateway::Correlation> find_correlation_by_xmpp(const std::string& component,
                                                               const std::string& kind,
                                                               const std::string& xmpp_id,
                                                               std::error_code& ec) override {
    return read(ec) ? inner_->find_correlation_by_xmpp(component, kind, xmpp_id, ec) : std::nullopt;
  }
  std::size_t prune_correlations(std::int64_t before, std::error_code& ec) override {
    return write(ec) ? inner_->prune_correlations(before, ec) : 0;
  }
  bool remove_correlation(const std::string& component, const std::string& kind,
                          const std::string& legacy_id, std::error_code& ec) override {
    return write(ec) && inner_->remove_correlation(component, kind, legacy_id, ec);
  }
  void record_usage(const std::string& component, const std::string& user, std::int64_t at,
                    std::error_code& ec) override {
    if (write(ec)) {
      inner_->record_usage(component, user, at, ec);
    }
  }
  std::size_t count_usage(const std::string& component, const std::string& user, std::int64_t since,
                          std::error_code& ec) override {
    return read(ec) ? inner_->count_usage(component, user, since, ec) : 0;
  }
  std::vector<gateway::UsageCount> usage_summary(const std::string& component, std::int64_t now,
                                                 std::error_code& ec) override {
    return read(ec) ? inner_->usage_summary(component, now, ec)
                    : std::vector<gateway::UsageCount>{};
  }
  std::size_t prune_usage(std::int64_t before, std::error_code& ec) override {
    return write(ec) ? inner_->prune_usage(before, ec) : 0;
  }
  std::int64_t add_held(const gateway::HeldMessage& message, std::error_code& ec) override {
    return write(ec) ? inner_->add_held(message, ec) : 0;
  }
  std::vector<gateway::HeldMessage> held_messages(const std::string& component, bool for_users,
                                                  std::size_t limit, std::error_code& ec) override {
    return read(ec) ? inner_->held_messages(component, for_users, limit, ec)
                    : std::vector<gateway::HeldMessage>{};
  }
  std::size_t count_held(const std::string& component, std::error_code& ec) override {
    return read(ec) ? inner_->count_held(component, ec) : 0;
  }
  bool remove_held(std::int64_t id, std::error_code& ec) override {
    return write(ec) && inner_->remove_held(id, ec);
  }
  std::int64_t add_undelivered(const gateway::Undelivered& stanza, std::error_code& ec) override {
    return write(ec) ? inner_->add_undelivered(stanza, ec) : 0;
  }
  std::vector<gateway::Undelivered> undelivered_after(const std::string& component,
                                                      std::int64_t after, std::size_t limit,
                                                      std::error_code& ec) override {
    return read(ec) ? inner_->undelivered_after(component, after, limit, ec)
                    : std::vector<gateway::Undelivered>{};
  }
  std::size_t remove_undelivered(const std::string& component, const std::vector<std::int64_t>& ids,
                                 std::error_code& ec) override {
    return write(ec) ? inner_->remove_undelivered(component, ids, ec) : 0;
  }
  std::size_t count_undelivered(const std::string& component, std::error_code& ec) override {
    return read(ec) ? inner_->count_undelivered(component, ec) : 0;
  }
  std::int64_t add_outbox(const gateway::OutboxItem& item, std::error_code& ec) override {
    return write(ec) ? inner_->add_outbox(item, ec) : 0;
  }
  std::vector<gateway::OutboxItem> due_outbox(const std::string& component, std::int64_t now,
                                              std::size_t limit, std::error_code& ec) override {
    return read(ec) ? inner_->due_outbox(component, now, limit, ec)
                    : std::vector<gateway::OutboxItem>{};
  }
  std::vector<gateway::OutboxItem> lease_due_outbox(const std::string& component, std::int64_t now,
                                                    std::int64_t lease_until, std::size_t limit,
                                                    std::error_code& ec) override {
    return write(ec) ? inner_->lease_due_outbox(component, now, lease_until, limit, ec)
                     : std::vector<gateway::OutboxItem>{};
  }
  std::optional<std::int64_t> next_outbox_due(const std::string& component,
                                              std::error_code& ec) override {
    return read(ec) ? inner_->next_outbox_due(component, ec) : std::nullopt;
  }
  void reschedule_outbox(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                         const std::string& last_error, std::error_code& ec) override {
    if (write(ec)) {
      inner_->reschedule_outbox(id, next_attempt_at, attempts, last_error, ec);
    }
  }
  bool remove_outbox(std::int64_t id, std::error_code& ec) override {
    return write(ec) && inner_->remove_outbox(id, ec);
  }
  std::size_t count_outbox(const std::string& component, const std::string& user,
                           std::error_code& ec) override {
    return read(ec) ? inner_->count_outbox(component, user, ec) : 0;
  }
  void flush(std::error_code& ec) override {
    if (write(ec)) {
      inner_->flush(ec);
    }
  }
  int schema_version() const override { return inner_->schema_version(); }

private:
  /// Whether a read may go ahead; sets `ec` when it may not.
  bool read(std::error_code& ec) const {
    ++reads;
    ec = fail_reads ? make_error_code(gateway::StoreErrc::io_error) : std::error_code();
    return !fail_reads;
  }
  /// Whether a write may go ahead; sets `ec` when it may not.
  bool write(std::error_code& ec) const {
    ++writes;
    ec = fail_writes ? make_error_code(gateway::StoreErrc::read_only) : std::error_code();
    return !fail_writes;
  }

  std::unique_ptr<gateway::Store> inner_;
};

/// A FlakyStore that fails every call from the start, as a broken database
/// would.
class FailingStore final : public FlakyStore {
public:
  FailingStore() {
    fail_reads = true;
    fail_writes = true;
  }
};

} // namespace trestle::gateway_test
