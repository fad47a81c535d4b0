#include "app.hpp"

#include "access_control.hpp"
#include "activity.hpp"
#include "component_connection.hpp"
#include "confirmed_delivery.hpp"
#include "http_server.hpp"
#include "log.hpp"
#include "metered_store.hpp"
#include "metrics.hpp"
#include "read_gate.hpp"
#include "repositories.hpp"
#include "router.hpp"
#include "services.hpp"
#include "stanza.hpp"
#include "trestle_version.hpp"
#include "user_lanes.hpp"

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace trestle::gateway {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

/// Users with a stanza in this window count as active without presence.
constexpr auto activity_window = std::chrono::minutes(15);
/// Graceful shutdown gives up and stops the loop after this.
constexpr auto shutdown_deadline = std::chrono::seconds(5);
/// How often the store is pruned (see App::Impl::housekeeping).
constexpr auto housekeeping_interval = std::chrono::hours(1);

LogLevel to_level(xmpp::LogSeverity severity) {
  switch (severity) {
  case xmpp::LogSeverity::debug:
    return LogLevel::debug;
  case xmpp::LogSeverity::info:
    return LogLevel::info;
  case xmpp::LogSeverity::warning:
    return LogLevel::warning;
  case xmpp::LogSeverity::error:
    return LogLevel::error;
  }
  return LogLevel::info;
}

xmpp::ConnectionOptions connection_options(const XmppServerConfig& server,
                                           const ComponentConfig& component) {
  using std::chrono::seconds;
  xmpp::ConnectionOptions options;
  options.host = server.host;
  options.port = server.port;
  options.tls = server.tls;
  options.verify_certificate = server.verify_certificate;
  options.ca_file = server.ca_file;
  options.server_name = server.server_name;
  options.domain = component.domain;
  options.secret = component.secret;
  options.limits.max_stanza_bytes = server.limits.max_stanza_bytes;
  options.limits.max_depth = server.limits.max_depth;
  options.limits.max_attributes = server.limits.max_attributes;
  options.connect_timeout = seconds(server.connect_timeout_seconds);
  options.keepalive_interval = seconds(server.keepalive_interval_seconds);
  options.keepalive_timeout = seconds(server.keepalive_timeout_seconds);
  options.reconnect_min = seconds(server.reconnect_min_delay_seconds);
  options.reconnect_max = seconds(server.reconnect_max_delay_seconds);
  options.queue_limit = server.send_queue_limit;
  options.queue_max_bytes = server.send_queue_max_bytes;
  options.queue_high_water_bytes = server.send_queue_high_water_bytes;
  return options;
}

} // namespace

/// One component domain: its stream, its adapter and its router.
struct Component final : AdapterContext {
  Component(App::Impl& owner, const ComponentConfig& component_config, xmpp::Jid jid)
      : app(owner), config(component_config), domain_jid(std::move(jid)) {}

  const xmpp::Jid& domain() const override { return domain_jid; }
  bool send(xmpp::Element stanza) override;
  using AdapterContext::send_confirmed;
  Awaitable<bool> send_confirmed(const xmpp::Element& stanza,
                                 const std::vector<Correlation>& remember,
                                 std::error_code& ec) override {
    return confirmed->send(stanza, remember, ec);
  }
  Repositories& repositories() override;
  Logger& log() override;
  asio::io_context& io() override;
  std::shared_ptr<ReadGate> read_gate() override { return gate; }
  /// Up and not congested: a stanza sent now is on its way, not held.
  bool stream_ready() const { return connection->ready() && !connection->congested(); }
  Awaitable<bool> user_allowed(const xmpp::Jid& user, std::error_code& ec) override;
  std::vector<xmpp::Jid> admins() const override;
  void add_http_route(const std::string& path, HttpHandler handler) override;

  App::Impl& app;
  const ComponentConfig& config;
  xmpp::Jid domain_jid;
  std::string area;
  // Counted here and copied into the metrics at scrape time: a per-stanza
  // metrics update would build a label key for every stanza.
  std::uint64_t stanzas_in = 0;
  std::uint64_t stanzas_out = 0;
  /// Closed while the stream's send queue is congested (see ReadGate).
  std::shared_ptr<ReadGate> gate;
  std::unique_ptr<xmpp::ComponentConnection> connection;
  /// What the adapter sends with send_confirmed(), until the server has it.
  std::unique_ptr<ConfirmedDelivery> confirmed;
  std::unique_ptr<Adapter> adapter;
  /// The users' events on their way to the adapter, in each user's order.
  std::unique_ptr<UserLanes> lanes;
  std::unique_ptr<Router> router;
};

struct App::Impl final : GatewayStatus {
  explicit Impl(Config cfg)
      : config(std::move(cfg)), log(config.logging.level), access(config.access),
        signals(io, SIGTERM, SIGINT, SIGHUP), shutdown_timer(io), housekeeping_timer(io) {}

  Config config;
  /// The networks' configuration readers, for a reload.
  NetworkConfigReaders readers;
  asio::io_context io;
  Logger log;
  Metrics metrics;
  AccessControl access;
  ActivityTracker activity;
  std::unique_ptr<Store> store;
  /// After `io` and `store`, so that it goes first: its threads are joined
  /// while the loop they answer to, and an inline store, still exist.
  std::unique_ptr<Repositories> repositories;
  std::unique_ptr<HttpServer> http;
  std::vector<std::unique_ptr<Component>> components;
  asio::signal_set signals;
  asio::steady_timer shutdown_timer;
  /// Prunes what the store keeps for a limited time, hourly.
  asio::steady_timer housekeeping_timer;
  Clock::time_point started = Clock::now();
  bool shutting_down = false;
  /// Cancels the adapters' run() at the shutdown.
  asio::cancellation_signal adapters_stop;
  bool adapters_running = false;

  void build(const Networks& networks);
  /// The component whose domain a stanza is addressed to, else the stream's own.
  Component* owner_of(const xmpp::Element& stanza, Component& stream_owner);
  void describe_metrics();
  /// /healthz and /metrics, routed before the adapters add their webhooks.
  void add_own_routes();
  void start_http();
  void wait_for_signal();
  void housekeeping();
  asio::awaitable<void> prune_store();
  asio::awaitable<void> flush_store();
  void reload();
  /// Runs every adapter's run() side by side until the shutdown cancels
  /// them; the first to fail cancels the others and its error is thrown.
  asio::awaitable<void> run_adapters();
  /// The adapters' run() ended: at the shutdown, the streams close next.
  void adapters_ended(const std::exception_ptr& error);
  void shutdown();
  /// After the adapters: confirmed delivery asks for its last confirmation,
  /// each stream closes with `</stream:stream>`, then the store is flushed.
  asio::awaitable<void> close_streams();

  std::chrono::steady_clock::duration uptime() const override { return Clock::now() - started; }
  std::vector<std::pair<std::string, std::string>> statistics() const override;
  std::vector<std::string> active_users() const override {
    return activity.active(activity_window, Clock::now());
  }
  bool disconnect_user(const xmpp::Jid& user) override;
};

bool Component::send(xmpp::Element stanza) {
  router->remember_sent(stanza);
  const bool queued = connection->send(stanza);
  if (queued) {
    ++stanzas_out;
  }
  return queued;
}

Awaitable<bool> Component::user_allowed(const xmpp::Jid& user, std::error_code& ec) {
  if (!app.access.allowed(user)) {
    co_return false;
  }
  if (!app.access.registration_required() || app.access.admin(user)) {
    co_return true;
  }
  const std::string bare = user.bare_string();
  const auto found = co_await app.repositories->registrations().find(bare, domain_jid.domain(), ec);
  co_return found.has_value();
}

std::vector<xmpp::Jid> Component::admins() const {
  std::vector<xmpp::Jid> out;
  for (const auto& text : app.config.access.admins) {
    if (auto jid = xmpp::Jid::parse(text)) {
      out.push_back(std::move(*jid));
    }
  }
  return out;
}

void Component::add_http_route(const std::string& path, HttpHandler handler) {
  if (!app.http) {
    throw std::runtime_error("component " + config.domain +
                             ": its webhooks need the HTTP listener (http.enabled)");
  }
  if (app.http->has_route(path)) {
    throw std::runtime_error("component " + config.domain + ": the HTTP path " + path +
                             " is taken already");
  }
  app.http->route(path, std::move(handler));
}

Repositories& Component::repositories() {
  return *app.repositories;
}
Logger& Component::log() {
  return app.log;
}
asio::io_context& Component::io() {
  return app.io;
}

Component* App::Impl::owner_of(const xmpp::Element& stanza, Component& stream_owner) {
  const auto to = xmpp::StanzaView(stanza).to();
  if (to) {
    for (const auto& component : components) {
      if (component->domain_jid.domain() == to->domain()) {
        return component.get();
      }
    }
  }
  return &stream_owner;
}

void App::Impl::build(const Networks& networks) {
  readers = config_readers(networks);
  auto report = [this](const std::error_code& ec) {
    metrics.increment("trestle_store_errors_total");
    log.warning("store", ec.message());
  };
  store = std::make_unique<MeteredStore>(open_sqlite_store(config.storage.sqlite_path), report);
  log.info("store", "opened " + config.storage.sqlite_path + " (schema version " +
                        std::to_string(store->schema_version()) + ")");
  const auto& path = config.storage.sqlite_path;
  if (!is_database_file(path)) {
    // A second connection would open another database: calls run inline,
    // on the metered store, which reports their failures already.
    repositories = inline_repositories(*store, nullptr);
  } else {
    StoreThreadOptions options;
    options.deadline = std::chrono::milliseconds(config.storage.timeout_ms);
    repositories = threaded_repositories(open_sqlite_store(path), open_sqlite_store(path), options,
                                         std::move(report));
  }
  if (config.http.enabled) {
    // Created before the adapters, which add their webhooks to it.
    http = std::make_unique<HttpServer>(io, config.http, log);
    add_own_routes();
  }
  for (const auto& component_config : config.components) {
    auto jid = xmpp::Jid::parse(component_config.domain);
    if (!jid || !jid->local().empty() || !jid->resource().empty()) {
      throw std::runtime_error("component domain '" + component_config.domain +
                               "' is not a valid domain");
    }
    auto component = std::make_unique<Component>(*this, component_config, *jid);
    component->gate = std::make_shared<ReadGate>(io);
    component->area = "component " + component_config.domain;
    const auto network =
        std::find_if(networks.begin(), networks.end(), [&](const Network& candidate) {
          return candidate.config.adapter == component_config.adapter;
        });
    if (network == networks.end()) {
      throw std::runtime_error("no adapter called '" + component_config.adapter + "'");
    }
    auto* raw = component.get();
    ConfirmedDeliveryOptions delivery_options;
    delivery_options.limit = config.storage.undelivered_limit;
    component->confirmed = std::make_unique<ConfirmedDelivery>(
        io, component_config.domain, repositories->undelivered(),
        DeliveryStream{[raw] { return raw->stream_ready(); },
                       [raw](const xmpp::Element& stanza) {
                         return raw->send(stanza);
                       }},
        log, delivery_options);
    component->adapter = network->make_adapter(component_config, *component);
    component->lanes = std::make_unique<UserLanes>(
        io, [raw](const UserEvent& event) { return raw->router->deliver(event); }, log,
        component->area);
    component->router = std::make_unique<Router>(
        ServiceContext{component_config, raw->domain_jid, *raw->adapter, *repositories, access, log,
                       *this},
        activity, [raw](const xmpp::Element& stanza) { return raw->send(stanza); },
        [raw](const std::string& user, UserEvent event) {
          return raw->lanes->post(user, std::move(event));
        },
        [this](Awaitable<void> work) { asio::co_spawn(io, std::move(work), asio::detached); });
    component->connection = std::make_unique<xmpp::ComponentConnection>(
        io, connection_options(config.xmpp, component_config),
        [this, raw](xmpp::Element stanza) {
          // A server may route any of our domains over any of our streams
          // (ejabberd does when one listener serves several components), so
          // the 'to' domain, not the stream, picks the component.
          auto* owner = owner_of(stanza, *raw);
          ++owner->stanzas_in;
          if (!owner->confirmed->take_answer(stanza)) {
            owner->router->route(stanza);
          }
        },
        [this, raw](xmpp::LogSeverity severity, std::string_view text) {
          log.write(to_level(severity), raw->area, text);
        });
    raw->connection->on_congestion([raw](bool congested) {
      if (congested) {
        raw->gate->close();
      } else {
        raw->gate->open();
        raw->confirmed->stream_uncongested();
      }
    });
    raw->connection->on_link([raw](bool up) {
      if (up) {
        raw->confirmed->stream_up();
      } else {
        raw->confirmed->stream_down();
      }
    });
    components.push_back(std::move(component));
  }
}

void App::Impl::describe_metrics() {
  using Type = Metrics::Type;
  metrics.describe("trestle_stanzas_in_total", "Stanzas received per component.", Type::counter);
  metrics.describe("trestle_stanzas_out_total", "Stanzas queued for sending per component.",
                   Type::counter);
  metrics.describe("trestle_stanzas_dropped_total",
                   "Stanzas refused because a component's send queue was full.", Type::counter);
  metrics.describe("trestle_reconnects_total", "Component streams re-established.", Type::counter);
  metrics.describe("trestle_auth_failures_total", "Component handshakes refused by the server.",
                   Type::counter);
  metrics.describe("trestle_component_up", "1 when the component stream is authenticated.",
                   Type::gauge);
  metrics.describe("trestle_send_queue_depth", "Stanzas waiting in a component's send queue.",
                   Type::gauge);
  metrics.describe("trestle_read_pauses_total",
                   "Times a component's adapter stopped reading its network because the "
                   "stream's send queue passed send_queue_high_water_bytes.",
                   Type::counter);
  metrics.describe("trestle_store_errors_total", "Failed store operations.", Type::counter);
  metrics.describe("trestle_undelivered",
                   "Stanzas per component taken from a legacy network and kept until the XMPP "
                   "server confirms them.",
                   Type::gauge);
  metrics.describe("trestle_encrypted_refused_total",
                   "End-to-end encrypted messages refused per component (they cannot be "
                   "bridged).",
                   Type::counter);
  metrics.describe("trestle_border_notices_total",
                   "Notices sent per component to users about what did not cross to the "
                   "network as it was (formatting, corrections, reactions, retractions).",
                   Type::counter);
  metrics.describe("trestle_active_users", "Users active in the last 15 minutes.", Type::gauge);
  metrics.describe("trestle_uptime_seconds", "Seconds since start-up.", Type::gauge);
  // The driver and the components keep their own counters; copy them in at scrape time.
  metrics.add_collector([this](Metrics& m) {
    for (const auto& component : components) {
      const Labels labels{{"component", component->config.domain}};
      const auto& stats = component->connection->stats();
      m.set("trestle_stanzas_in_total", labels, static_cast<double>(component->stanzas_in));
      m.set("trestle_stanzas_out_total", labels, static_cast<double>(component->stanzas_out));
      m.set("trestle_reconnects_total", labels, static_cast<double>(stats.reconnects));
      m.set("trestle_auth_failures_total", labels, static_cast<double>(stats.auth_failures));
      m.set("trestle_stanzas_dropped_total", labels, static_cast<double>(stats.dropped));
      m.set("trestle_read_pauses_total", labels, static_cast<double>(component->gate->closings()));
      m.set("trestle_encrypted_refused_total", labels,
            static_cast<double>(component->router->encrypted_refused()));
      m.set("trestle_border_notices_total", labels,
            static_cast<double>(component->router->border_notices()));
      m.set("trestle_component_up", labels, component->connection->ready() ? 1 : 0);
      m.set("trestle_send_queue_depth", labels,
            static_cast<double>(component->connection->queue_depth()));
      m.set("trestle_undelivered", labels, static_cast<double>(component->confirmed->waiting()));
    }
    m.set("trestle_active_users", {}, static_cast<double>(active_users().size()));
    m.set("trestle_uptime_seconds", {},
          static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(uptime()).count()));
  });
}

void App::Impl::add_own_routes() {
  http->route("/healthz", [this](const HttpRequest&, std::function<void(HttpResponse)> reply) {
    HttpResponse response;
    bool healthy = true;
    for (const auto& component : components) {
      const auto& connection = *component->connection;
      healthy = healthy && connection.ready();
      response.body += component->config.domain + ": " +
                       std::string(xmpp::to_string(connection.state())) +
                       (connection.ready() ? "" : " (" + connection.status() + ")") + "\n";
    }
    response.status = healthy ? 200 : 503;
    reply(std::move(response));
  });
  http->route("/metrics", [this](const HttpRequest&, std::function<void(HttpResponse)> reply) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics.render();
    reply(std::move(response));
  });
}

void App::Impl::start_http() {
  if (!http) {
    return;
  }
  // The server logs its own `listening on` line with the bound port.
  http->start();
}

void App::Impl::housekeeping() {
  asio::co_spawn(io, prune_store(), asio::detached);
  housekeeping_timer.expires_after(housekeeping_interval);
  housekeeping_timer.async_wait([this](const boost::system::error_code& error) {
    if (!error && !shutting_down) {
      housekeeping();
    }
  });
}

asio::awaitable<void> App::Impl::prune_store() {
  const auto now = unix_time_now();
  std::error_code ec;
  // Usage counts look back one day at most.
  const auto events = co_await repositories->usage().prune(now - 2 * 86400, ec);
  const auto days = config.storage.correlation_retention_days;
  std::size_t correlations = 0;
  if (days != 0 && !ec) {
    correlations =
        co_await repositories->correlations().prune(now - std::int64_t{days} * 86400, ec);
  }
  if (events + correlations > 0) {
    log.debug("store", "pruned " + std::to_string(events) + " usage events and " +
                           std::to_string(correlations) + " correlations");
  }
}

asio::awaitable<void> App::Impl::flush_store() {
  // Through the writer's thread, after every write queued before it.
  std::error_code ec;
  co_await repositories->flush(ec);
  if (ec) {
    log.error("store", "flush at shutdown failed: " + ec.message());
  }
  shutdown_timer.cancel();
  log.info("app", "stopped");
}

void App::Impl::wait_for_signal() {
  signals.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) {
      return;
    }
    if (signal == SIGHUP) {
      reload();
      wait_for_signal();
      return;
    }
    log.info("app", std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                        "; shutting down");
    shutdown();
  });
}

void App::Impl::reload() {
  // Logs go to stderr, which has nothing to reopen; SIGHUP reloads the parts
  // of the config that can change without reconnecting: access and log level.
  try {
    const auto fresh = load_config_file(config.source_path, readers);
    config.access = fresh.access;
    config.logging = fresh.logging;
    access.reload(config.access);
    log.set_level(config.logging.level);
    log.info("app", "reloaded access control and log level from " + config.source_path);
  } catch (const ConfigError& error) {
    log.error("app", std::string("reload failed, keeping the running config: ") + error.what());
  }
}

asio::awaitable<void> App::Impl::run_adapters() {
  using Run = decltype(asio::co_spawn(io, std::declval<asio::awaitable<void>>(), asio::deferred));
  std::vector<Run> runs;
  runs.reserve(components.size());
  for (auto& component : components) {
    runs.push_back(asio::co_spawn(io, component->adapter->run(), asio::deferred));
  }
  // Cancelling this coroutine cancels each of them (the group forwards it).
  auto [order, errors] =
      co_await asio::experimental::make_parallel_group(std::move(runs))
          .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }
}

void App::Impl::adapters_ended(const std::exception_ptr& error) {
  adapters_running = false;
  if (error && !shutting_down) {
    std::rethrow_exception(error); // out of io.run(): the gateway stops with it
  }
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log.error("app", std::string("an adapter failed while stopping: ") + e.what());
    }
  }
  if (shutting_down) {
    asio::co_spawn(io, close_streams(), asio::detached);
  }
}

void App::Impl::shutdown() {
  if (shutting_down) {
    return;
  }
  shutting_down = true;
  signals.cancel();
  housekeeping_timer.cancel();
  if (http) {
    http->stop();
  }
  shutdown_timer.expires_after(shutdown_deadline);
  shutdown_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      log.warning("app", "graceful shutdown took too long; stopping now");
      io.stop();
    }
  });
  if (adapters_running) {
    adapters_stop.emit(asio::cancellation_type::terminal); // adapters_ended() goes on
  } else {
    asio::co_spawn(io, close_streams(), asio::detached);
  }
}

namespace {

/// Closes `connection`'s stream (ComponentConnection::stop) as an awaitable
/// operation.
auto close_stream(xmpp::ComponentConnection& connection) {
  return asio::async_initiate<decltype(asio::deferred), void()>(
      [&connection](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        connection.stop([shared] {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, std::move(*shared));
        });
      },
      asio::deferred);
}

} // namespace

asio::awaitable<void> App::Impl::close_streams() {
  using Close = decltype(close_stream(std::declval<xmpp::ComponentConnection&>()));
  std::vector<Close> closes;
  closes.reserve(components.size());
  for (auto& component : components) {
    component->confirmed->stop();
    closes.push_back(close_stream(*component->connection));
  }
  if (!closes.empty()) {
    co_await asio::experimental::make_parallel_group(std::move(closes))
        .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  }
  co_await flush_store();
}

std::vector<std::pair<std::string, std::string>> App::Impl::statistics() const {
  std::vector<std::pair<std::string, std::string>> lines;
  lines.emplace_back("version", TRESTLE_VERSION);
  lines.emplace_back("active-users", std::to_string(active_users().size()));
  for (const auto& component : components) {
    const auto& connection = *component->connection;
    const auto& stats = connection.stats();
    const auto& domain = component->config.domain;
    lines.emplace_back(domain + " state", std::string(xmpp::to_string(connection.state())));
    lines.emplace_back(domain + " stanzas-in", std::to_string(stats.stanzas_in));
    lines.emplace_back(domain + " stanzas-out", std::to_string(stats.stanzas_out));
    lines.emplace_back(domain + " reconnects", std::to_string(stats.reconnects));
    lines.emplace_back(domain + " queue-depth", std::to_string(connection.queue_depth()));
  }
  return lines;
}

bool App::Impl::disconnect_user(const xmpp::Jid& user) {
  for (auto& component : components) {
    component->adapter->disconnect_user(user);
  }
  return activity.forget(user);
}

App::App(Config config, const Networks& networks)
    : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->describe_metrics();
  impl_->build(networks);
}

App::~App() = default;

int App::run() {
  auto& impl = *impl_;
  impl.start_http();
  if (plain_text_off_host(impl.config.xmpp)) {
    // The configuration allowed it with `insecure: true`; say so at every start.
    impl.log.warning("app", "the component link to " + impl.config.xmpp.host + ":" +
                                std::to_string(impl.config.xmpp.port) +
                                " is plain text (insecure: true): component secrets and messages "
                                "cross the network unencrypted");
  }
  for (auto& component : impl.components) {
    component->confirmed->start();
    component->connection->start();
  }
  impl.adapters_running = true;
  asio::co_spawn(impl.io, impl.run_adapters(),
                 asio::bind_cancellation_slot(
                     impl.adapters_stop.slot(),
                     [&impl](const std::exception_ptr& error) { impl.adapters_ended(error); }));
  impl.wait_for_signal();
  impl.housekeeping();
  impl.log.info("app", std::string("trestle ") + TRESTLE_VERSION + " started with " +
                           std::to_string(impl.components.size()) + " components");
  impl.io.run();
  return 0;
}

} // namespace trestle::gateway
