#pragma once

#include "store.hpp"

#include <functional>
#include <memory>

namespace trestle::gateway {

/// A Store that forwards to another and reports every failed call, so that
/// /metrics counts store errors whichever caller saw them.
class MeteredStore final : public Store {
public:
  /// Called once per failed call.
  using OnError = std::function<void(const std::error_code&)>;

  MeteredStore(std::unique_ptr<Store> inner, OnError on_error)
      : inner_(std::move(inner)), on_error_(std::move(on_error)) {}

  std::optional<Registration> find_registration(const std::string& user,
                                                const std::string& component,
                                                std::error_code& ec) override;
  void put_registration(const Registration& registration, std::error_code& ec) override;
  bool remove_registration(const std::string& user, const std::string& component,
                           std::error_code& ec) override;
  std::vector<Registration> registrations(const std::string& component,
                                          std::error_code& ec) override;
  std::optional<Registration> find_registration_by_field(const std::string& component,
                                                         const std::string& field,
                                                         const std::string& value,
                                                         std::error_code& ec) override;
  void put_address(const AddressMapping& mapping, std::error_code& ec) override;
  std::optional<AddressMapping> find_address_by_legacy(const std::string& component,
                                                       const std::string& legacy_key,
                                                       std::error_code& ec) override;
  std::optional<AddressMapping> find_address_by_jid(const std::string& component,
                                                    const std::string& jid,
                                                    std::error_code& ec) override;
  bool remove_address_by_jid(const std::string& component, const std::string& jid,
                             std::error_code& ec) override;
  void put_correlation(const Correlation& correlation, std::error_code& ec) override;
  bool put_correlations(const std::vector<Correlation>& correlations, std::error_code& ec) override;
  std::optional<Correlation> find_correlation_by_legacy(const std::string& component,
                                                        const std::string& kind,
                                                        const std::string& legacy_id,
                                                        std::error_code& ec) override;
  std::optional<Correlation> find_correlation_by_xmpp(const std::string& component,
                                                      const std::string& kind,
                                                      const std::string& xmpp_id,
                                                      std::error_code& ec) override;
  std::size_t prune_correlations(std::int64_t before, std::error_code& ec) override;
  bool remove_correlation(const std::string& component, const std::string& kind,
                          const std::string& legacy_id, std::error_code& ec) override;
  void record_usage(const std::string& component, const std::string& user, std::int64_t at,
                    std::error_code& ec) override;
  std::size_t count_usage(const std::string& component, const std::string& user, std::int64_t since,
                          std::error_code& ec) override;
  std::vector<UsageCount> usage_summary(const std::string& component, std::int64_t now,
                                        std::error_code& ec) override;
  std::size_t prune_usage(std::int64_t before, std::error_code& ec) override;
  std::int64_t add_held(const HeldMessage& message, std::error_code& ec) override;
  std::vector<HeldMessage> held_messages(const std::string& component, bool for_users,
                                         std::size_t limit, std::error_code& ec) override;
  std::size_t count_held(const std::string& component, std::error_code& ec) override;
  bool remove_held(std::int64_t id, std::error_code& ec) override;
  std::int64_t add_undelivered(const Undelivered& stanza, std::error_code& ec) override;
  std::vector<Undelivered> undelivered_after(const std::string& component, std::int64_t after,
                                             std::size_t limit, std::error_code& ec) override;
  std::size_t remove_undelivered(const std::string& component, const std::vector<std::int64_t>& ids,
                                 std::error_code& ec) override;
  std::size_t count_undelivered(const std::string& component, std::error_code& ec) override;
  std::int64_t add_outbox(const OutboxItem& item, std::error_code& ec) override;
  std::vector<OutboxItem> due_outbox(const std::string& component, std::int64_t now,
                                     std::size_t limit, std::error_code& ec) override;
  std::vector<OutboxItem> lease_due_outbox(const std::string& component, std::int64_t now,
                                           std::int64_t lease_until, std::size_t limit,
                                           std::error_code& ec) override;
  std::optional<std::int64_t> next_outbox_due(const std::string& component,
                                              std::error_code& ec) override;
  void reschedule_outbox(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                         const std::string& last_error, std::error_code& ec) override;
  bool remove_outbox(std::int64_t id, std::error_code& ec) override;
  std::size_t count_outbox(const std::string& component, const std::string& user,
                           std::error_code& ec) override;
  Claim claim_address(const std::string& component, const std::string& key, const std::string& user,
                      std::error_code& ec) override;
  std::optional<ServerSettings> find_server_settings(const std::string& user,
                                                     const std::string& component,
                                                     const std::string& server,
                                                     std::error_code& ec) override;
  void put_server_settings(const ServerSettings& settings, std::error_code& ec) override;
  void flush(std::error_code& ec) override;
  int schema_version() const override { return inner_->schema_version(); }

private:
  /// Forwards `call` and reports a failure.
  template <typename Call> auto metered(std::error_code& ec, Call&& call) {
    struct Report {
      std::error_code& ec;
      const OnError& on_error;
      ~Report() {
        if (ec && on_error) {
          on_error(ec);
        }
      }
    } report{ec, on_error_};
    return call();
  }

  std::unique_ptr<Store> inner_;
  OnError on_error_;
};

} // namespace trestle::gateway
