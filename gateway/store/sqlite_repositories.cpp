#include "repositories.hpp"
#include "store_thread.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace trestle::gateway {
namespace {

using store_detail::Done;
using store_detail::Side;
using store_detail::StoreThread;

// Each repository forwards to the Store of its thread. Its job copies the
// arguments, as the call may outlive the caller's wait (see StoreThread).

class SqliteRegistrations final : public Registrations {
public:
  explicit SqliteRegistrations(StoreThread& thread) : thread_(thread) {}

  Awaitable<std::optional<Registration>> find(const std::string& user, const std::string& component,
                                              std::error_code& ec) override {
    auto job = [user, component](Store& store, std::error_code& error) {
      return store.find_registration(user, component, error);
    };
    return thread_.call<std::optional<Registration>>(Side::read, std::move(job), ec);
  }

  Awaitable<void> put(const Registration& registration, std::error_code& ec) override {
    auto job = [registration](Store& store, std::error_code& error) {
      store.put_registration(registration, error);
      return Done{};
    };
    return thread_.call<void>(Side::write, std::move(job), ec);
  }

  Awaitable<bool> remove(const std::string& user, const std::string& component,
                         std::error_code& ec) override {
    auto job = [user, component](Store& store, std::error_code& error) {
      return store.remove_registration(user, component, error);
    };
    return thread_.call<bool>(Side::write, std::move(job), ec);
  }

  Awaitable<std::vector<Registration>> all(const std::string& component,
                                           std::error_code& ec) override {
    auto job = [component](Store& store, std::error_code& error) {
      return store.registrations(component, error);
    };
    return thread_.call<std::vector<Registration>>(Side::read, std::move(job), ec);
  }

  Awaitable<std::optional<Registration>> find_by_field(const std::string& component,
                                                       const std::string& field,
                                                       const std::string& value,
                                                       std::error_code& ec) override {
    auto job = [component, field, value](Store& store, std::error_code& error) {
      return store.find_registration_by_field(component, field, value, error);
    };
    return thread_.call<std::optional<Registration>>(Side::read, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteAddresses final : public Addresses {
public:
  explicit SqliteAddresses(StoreThread& thread) : thread_(thread) {}

  Awaitable<std::optional<AddressMapping>> find_by_legacy(const std::string& component,
                                                          const std::string& legacy_key,
                                                          std::error_code& ec) override {
    auto job = [component, legacy_key](Store& store, std::error_code& error) {
      return store.find_address_by_legacy(component, legacy_key, error);
    };
    return thread_.call<std::optional<AddressMapping>>(Side::read, std::move(job), ec);
  }

  Awaitable<std::optional<AddressMapping>>
  find_by_jid(const std::string& component, const std::string& jid, std::error_code& ec) override {
    auto job = [component, jid](Store& store, std::error_code& error) {
      return store.find_address_by_jid(component, jid, error);
    };
    return thread_.call<std::optional<AddressMapping>>(Side::read, std::move(job), ec);
  }

  Awaitable<void> put(const AddressMapping& mapping, std::error_code& ec) override {
    auto job = [mapping](Store& store, std::error_code& error) {
      store.put_address(mapping, error);
      return Done{};
    };
    return thread_.call<void>(Side::write, std::move(job), ec);
  }

  Awaitable<Claim> claim(const std::string& component, const std::string& key,
                         const std::string& user, std::error_code& ec) override {
    auto job = [component, key, user](Store& store, std::error_code& error) {
      return store.claim_address(component, key, user, error);
    };
    return thread_.call<Claim>(Side::write, std::move(job), ec, Claim::failed);
  }

  Awaitable<bool> remove_by_jid(const std::string& component, const std::string& jid,
                                std::error_code& ec) override {
    auto job = [component, jid](Store& store, std::error_code& error) {
      return store.remove_address_by_jid(component, jid, error);
    };
    return thread_.call<bool>(Side::write, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteCorrelations final : public Correlations {
public:
  explicit SqliteCorrelations(StoreThread& thread) : thread_(thread) {}

  Awaitable<void> put(const Correlation& correlation, std::error_code& ec) override {
    auto job = [correlation](Store& store, std::error_code& error) {
      store.put_correlation(correlation, error);
      return Done{};
    };
    return thread_.call<void>(Side::write, std::move(job), ec);
  }

  Awaitable<bool> put_all(const std::vector<Correlation>& correlations,
                          std::error_code& ec) override {
    auto job = [correlations](Store& store, std::error_code& error) {
      return store.put_correlations(correlations, error);
    };
    return thread_.call<bool>(Side::write, std::move(job), ec);
  }

  Awaitable<std::optional<Correlation>> find_by_legacy(const std::string& component,
                                                       const std::string& kind,
                                                       const std::string& legacy_id,
                                                       std::error_code& ec) override {
    auto job = [component, kind, legacy_id](Store& store, std::error_code& error) {
      return store.find_correlation_by_legacy(component, kind, legacy_id, error);
    };
    return thread_.call<std::optional<Correlation>>(Side::read, std::move(job), ec);
  }

  Awaitable<std::vector<std::optional<Correlation>>>
  find_each_by_legacy(const std::string& component,
                      const std::vector<std::pair<std::string, std::string>>& keys,
                      std::error_code& ec) override {
    auto job = [component, keys](Store& store, std::error_code& error) {
      std::vector<std::optional<Correlation>> found;
      found.reserve(keys.size());
      for (const auto& [kind, legacy_id] : keys) {
        found.push_back(store.find_correlation_by_legacy(component, kind, legacy_id, error));
        if (error) {
          break;
        }
      }
      return found;
    };
    return thread_.call<std::vector<std::optional<Correlation>>>(Side::read, std::move(job), ec);
  }

  Awaitable<std::optional<Correlation>> find_by_xmpp(const std::string& component,
                                                     const std::string& kind,
                                                     const std::string& xmpp_id,
                                                     std::error_code& ec) override {
    auto job = [component, kind, xmpp_id](Store& store, std::error_code& error) {
      return store.find_correlation_by_xmpp(component, kind, xmpp_id, error);
    };
    return thread_.call<std::optional<Correlation>>(Side::read, std::move(job), ec);
  }

  Awaitable<bool> remove(const std::string& component, const std::string& kind,
                         const std::string& legacy_id, std::error_code& ec) override {
    auto job = [component, kind, legacy_id](Store& store, std::error_code& error) {
      return store.remove_correlation(component, kind, legacy_id, error);
    };
    return thread_.call<bool>(Side::write, std::move(job), ec);
  }

  Awaitable<std::size_t> prune(std::int64_t before, std::error_code& ec) override {
    auto job = [before](Store& store, std::error_code& error) {
      return store.prune_correlations(before, error);
    };
    return thread_.call<std::size_t>(Side::write, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteUsageLog final : public UsageLog {
public:
  explicit SqliteUsageLog(StoreThread& thread) : thread_(thread) {}

  Awaitable<void> record(const std::string& component, const std::string& user, std::int64_t at,
                         std::error_code& ec) override {
    auto job = [component, user, at](Store& store, std::error_code& error) {
      store.record_usage(component, user, at, error);
      return Done{};
    };
    return thread_.call<void>(Side::write, std::move(job), ec);
  }

  Awaitable<std::size_t> count(const std::string& component, const std::string& user,
                               std::int64_t since, std::error_code& ec) override {
    auto job = [component, user, since](Store& store, std::error_code& error) {
      return store.count_usage(component, user, since, error);
    };
    return thread_.call<std::size_t>(Side::read, std::move(job), ec);
  }

  Awaitable<std::vector<UsageCount>> summary(const std::string& component, std::int64_t now,
                                             std::error_code& ec) override {
    auto job = [component, now](Store& store, std::error_code& error) {
      return store.usage_summary(component, now, error);
    };
    return thread_.call<std::vector<UsageCount>>(Side::read, std::move(job), ec);
  }

  Awaitable<std::size_t> prune(std::int64_t before, std::error_code& ec) override {
    auto job = [before](Store& store, std::error_code& error) {
      return store.prune_usage(before, error);
    };
    return thread_.call<std::size_t>(Side::write, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteHeldMessages final : public HeldMessages {
public:
  explicit SqliteHeldMessages(StoreThread& thread) : thread_(thread) {}

  Awaitable<std::int64_t> add(const HeldMessage& message, std::error_code& ec) override {
    auto job = [message](Store& store, std::error_code& error) {
      return store.add_held(message, error);
    };
    return thread_.call<std::int64_t>(Side::write, std::move(job), ec);
  }

  Awaitable<std::vector<HeldMessage>> list(const std::string& component, bool for_users,
                                           std::size_t limit, std::error_code& ec) override {
    auto job = [component, for_users, limit](Store& store, std::error_code& error) {
      return store.held_messages(component, for_users, limit, error);
    };
    return thread_.call<std::vector<HeldMessage>>(Side::read, std::move(job), ec);
  }

  Awaitable<std::size_t> count(const std::string& component, std::error_code& ec) override {
    auto job = [component](Store& store, std::error_code& error) {
      return store.count_held(component, error);
    };
    return thread_.call<std::size_t>(Side::read, std::move(job), ec);
  }

  Awaitable<bool> remove(std::int64_t id, std::error_code& ec) override {
    auto job = [id](Store& store, std::error_code& error) {
      return store.remove_held(id, error);
    };
    return thread_.call<bool>(Side::write, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteOutbox final : public Outbox {
public:
  explicit SqliteOutbox(StoreThread& thread) : thread_(thread) {}

  Awaitable<std::int64_t> add(const OutboxItem& item, std::error_code& ec) override {
    auto job = [item](Store& store, std::error_code& error) {
      return store.add_outbox(item, error);
    };
    return thread_.call<std::int64_t>(Side::write, std::move(job), ec);
  }

  Awaitable<std::vector<OutboxItem>> lease_due(const std::string& component, std::int64_t now,
                                               std::int64_t lease_until, std::size_t limit,
                                               std::error_code& ec) override {
    auto job = [component, now, lease_until, limit](Store& store, std::error_code& error) {
      return store.lease_due_outbox(component, now, lease_until, limit, error);
    };
    return thread_.call<std::vector<OutboxItem>>(Side::write, std::move(job), ec);
  }

  Awaitable<std::optional<std::int64_t>> next_due(const std::string& component,
                                                  std::error_code& ec) override {
    auto job = [component](Store& store, std::error_code& error) {
      return store.next_outbox_due(component, error);
    };
    return thread_.call<std::optional<std::int64_t>>(Side::read, std::move(job), ec);
  }

  Awaitable<void> reschedule(std::int64_t id, std::int64_t next_attempt_at, int attempts,
                             const std::string& last_error, std::error_code& ec) override {
    auto job = [id, next_attempt_at, attempts, last_error](Store& store, std::error_code& error) {
      store.reschedule_outbox(id, next_attempt_at, attempts, last_error, error);
      return Done{};
    };
    return thread_.call<void>(Side::write, std::move(job), ec);
  }

  Awaitable<bool> remove(std::int64_t id, std::error_code& ec) override {
    auto job = [id](Store& store, std::error_code& error) {
      return store.remove_outbox(id, error);
    };
    return thread_.call<bool>(Side::write, std::move(job), ec);
  }

  Awaitable<std::size_t> count(const std::string& component, const std::string& user,
                               std::error_code& ec) override {
    auto job = [component, user](Store& store, std::error_code& error) {
      return store.count_outbox(component, user, error);
    };
    return thread_.call<std::size_t>(Side::read, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteServerSettings final : public ServerSettingsRepository {
public:
  explicit SqliteServerSettings(StoreThread& thread) : thread_(thread) {}

  Awaitable<std::optional<ServerSettings>> find(const std::string& user,
                                                const std::string& component,
                                                const std::string& server,
                                                std::error_code& ec) override {
    auto job = [user, component, server](Store& store, std::error_code& error) {
      return store.find_server_settings(user, component, server, error);
    };
    return thread_.call<std::optional<ServerSettings>>(Side::read, std::move(job), ec);
  }

  Awaitable<void> put(const ServerSettings& settings, std::error_code& ec) override {
    auto job = [settings](Store& store, std::error_code& error) {
      store.put_server_settings(settings, error);
      return Done{};
    };
    return thread_.call<void>(Side::write, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

class SqliteUndelivered final : public UndeliveredStanzas {
public:
  explicit SqliteUndelivered(StoreThread& thread) : thread_(thread) {}

  Awaitable<std::int64_t> add(const Undelivered& stanza, std::error_code& ec) override {
    auto job = [stanza](Store& store, std::error_code& error) {
      return store.add_undelivered(stanza, error);
    };
    return thread_.call<std::int64_t>(Side::write, std::move(job), ec);
  }

  // On the writer's side: it sees every add() asked for before it.
  Awaitable<std::vector<Undelivered>> after(const std::string& component, std::int64_t after,
                                            std::size_t limit, std::error_code& ec) override {
    auto job = [component, after, limit](Store& store, std::error_code& error) {
      return store.undelivered_after(component, after, limit, error);
    };
    return thread_.call<std::vector<Undelivered>>(Side::write, std::move(job), ec);
  }

  Awaitable<std::size_t> remove(const std::string& component, const std::vector<std::int64_t>& ids,
                                std::error_code& ec) override {
    auto job = [component, ids](Store& store, std::error_code& error) {
      return store.remove_undelivered(component, ids, error);
    };
    return thread_.call<std::size_t>(Side::write, std::move(job), ec);
  }

  Awaitable<std::size_t> count(const std::string& component, std::error_code& ec) override {
    auto job = [component](Store& store, std::error_code& error) {
      return store.count_undelivered(component, error);
    };
    return thread_.call<std::size_t>(Side::read, std::move(job), ec);
  }

private:
  StoreThread& thread_;
};

/// Every repository over one StoreThread.
class SqliteRepositories final : public Repositories {
public:
  template <typename... Args>
  explicit SqliteRepositories(Args&&... args) : thread_(std::forward<Args>(args)...) {}

  Registrations& registrations() override { return registrations_; }
  Addresses& addresses() override { return addresses_; }
  Correlations& correlations() override { return correlations_; }
  UsageLog& usage() override { return usage_; }
  HeldMessages& held() override { return held_; }
  Outbox& outbox() override { return outbox_; }
  ServerSettingsRepository& server_settings() override { return server_settings_; }
  UndeliveredStanzas& undelivered() override { return undelivered_; }
  Awaitable<void> flush(std::error_code& ec) override {
    auto job = [](Store& store, std::error_code& error) {
      store.flush(error);
      return Done{};
    };
    // A checkpoint cannot run inside a transaction.
    return thread_.call<void>(Side::write_alone, std::move(job), ec);
  }

private:
  StoreThread thread_;
  SqliteRegistrations registrations_{thread_};
  SqliteAddresses addresses_{thread_};
  SqliteCorrelations correlations_{thread_};
  SqliteUsageLog usage_{thread_};
  SqliteHeldMessages held_{thread_};
  SqliteOutbox outbox_{thread_};
  SqliteServerSettings server_settings_{thread_};
  SqliteUndelivered undelivered_{thread_};
};

} // namespace

std::unique_ptr<Repositories> threaded_repositories(std::unique_ptr<Store> writer,
                                                    std::unique_ptr<Store> reader,
                                                    StoreThreadOptions options,
                                                    StoreErrorReport on_error) {
  return std::make_unique<SqliteRepositories>(std::move(writer), std::move(reader), options,
                                              std::move(on_error));
}

std::unique_ptr<Repositories> inline_repositories(Store& store, StoreErrorReport on_error) {
  return std::make_unique<SqliteRepositories>(store, std::move(on_error));
}

} // namespace trestle::gateway
