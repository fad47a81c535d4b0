#pragma once

#include "access_control.hpp"
#include "activity.hpp"
#include "adapter.hpp"
#include "config.hpp"
#include "element.hpp"
#include "flaky_store.hpp"
#include "jid.hpp"
#include "log.hpp"
#include "router.hpp"
#include "services.hpp"
#include "stanza.hpp"
#include "stanza_error.hpp"
#include "store.hpp"
#include "store_error.hpp"
#include "user_lanes.hpp"
#include "xml_stream_parser.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::gateway_test {

/// An Adapter for the gateway's own tests: records everything it is given and
/// has a small registration form (a required `username`, a required secret
/// `password` and an optional non-XEP-0077 `server`). Never shipped.
class TestAdapter final : public gateway::Adapter {
public:
  /// `domain` is the component domain addresses are translated onto.
  explicit TestAdapter(std::string domain) : domain_(std::move(domain)) {}

  std::string_view name() const override { return "test"; }
  std::string_view identity_type() const override { return "test"; }
  /// What the test network carries: `carries`, which a test may change.
  gateway::NetworkAbilities abilities() const override { return carries; }
  gateway::NetworkAbilities carries{.network = "the test network"};

  /// Records the event.
  /// Nothing long-lived.
  gateway::Awaitable<void> run() override { co_return; }
  gateway::Awaitable<void> handle(const gateway::UserEvent& event) override {
    received.push_back(event);
    co_return;
  }

  /// Takes messages to the domain itself (as IRC's fixed-server mode does)
  /// when `domain_messages` is set.
  bool takes_domain_messages() const override { return domain_messages; }
  bool domain_messages = false;

  std::string gateway_description() const override { return "Enter a test network address"; }
  std::string gateway_prompt() const override { return "Test address"; }

  /// `x` → `x@domain`; anything with a space (or not a valid localpart) is
  /// refused with jid-malformed.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override {
    if (typed.find(' ') != std::string_view::npos) {
      error =
          xmpp::make_stanza_error(xmpp::Condition::jid_malformed, "a test address has no spaces");
      return std::nullopt;
    }
    std::string reason;
    auto jid = xmpp::Jid::from_parts(typed, domain_, {}, &reason);
    if (!jid) {
      error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed, reason);
    }
    return jid;
  }

  gateway::Awaitable<std::vector<gateway::RegistrationField>> registration_fields() override {
    co_return std::vector<gateway::RegistrationField>{
        {"username", "User name", true, false, "", {}},
        {"password", "Password", true, true, "", {}},
        {"server", "Server", false, false, "The test server to use", {}},
    };
  }
  std::string registration_instructions() const override { return "Choose a test user name."; }

  /// Refuses the user name `taken` with conflict and lower-cases the others,
  /// so tests can see that what is stored is what validation returned.
  gateway::Awaitable<std::optional<xmpp::StanzaError>>
  validate_registration(const xmpp::Jid& user, gateway::FieldValues& values) override {
    validated_for.push_back(user.to_string());
    const auto username = values.find("username");
    if (username == values.end()) {
      co_return std::nullopt;
    }
    if (username->second == "taken") {
      co_return xmpp::make_stanza_error(xmpp::Condition::conflict, "that user name is taken");
    }
    std::transform(username->second.begin(), username->second.end(), username->second.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    co_return std::nullopt;
  }
  gateway::Awaitable<void> on_unregistered(const xmpp::Jid& user) override {
    unregistered.push_back(user.to_string());
    co_return;
  }
  void disconnect_user(const xmpp::Jid& user) override { disconnected.push_back(user.to_string()); }

  /// The commands in `commands` (none unless a test sets some).
  std::vector<gateway::DomainCommand> domain_commands() const override { return commands; }
  /// Records the step and completes with a note.
  gateway::Awaitable<gateway::CommandAnswer>
  run_command(const gateway::CommandRequest& request) override {
    commands_run.push_back(request.from.to_string());
    co_return gateway::CommandAnswer{.note = "ran " + request.node};
  }

  /// Events handled, in order.
  std::vector<gateway::UserEvent> received;
  /// Users (as given) whose registration was validated, unregistered or disconnected.
  std::vector<std::string> validated_for;
  std::vector<std::string> unregistered;
  std::vector<std::string> disconnected;
  /// Domain commands offered, and the senders of the ones run.
  std::vector<gateway::DomainCommand> commands;
  std::vector<std::string> commands_run;

private:
  std::string domain_;
};

/// A GatewayStatus with values set by the test; records disconnect requests.
class TestStatus final : public gateway::GatewayStatus {
public:
  std::chrono::steady_clock::duration uptime() const override { return uptime_value; }
  std::vector<std::pair<std::string, std::string>> statistics() const override { return stats; }
  std::vector<std::string> active_users() const override { return users; }
  /// Records `user` and reports whether it is in `users`.
  bool disconnect_user(const xmpp::Jid& user) override {
    disconnected.push_back(user.to_string());
    return std::find(users.begin(), users.end(), user.bare_string()) != users.end();
  }

  std::chrono::steady_clock::duration uptime_value{};
  std::vector<std::pair<std::string, std::string>> stats;
  std::vector<std::string> users;
  std::vector<std::string> disconnected;
};

/// A debug-level Logger writing to a temporary file the test can read back.
class LogFile {
public:
  LogFile() : file_(std::tmpfile()), logger_(gateway::LogLevel::debug, file_) {
    if (file_ == nullptr) {
      throw std::runtime_error("cannot create a temporary log file");
    }
  }
  ~LogFile() { std::fclose(file_); }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  /// The logger.
  gateway::Logger& logger() { return logger_; }
  /// Everything logged so far.
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_)) {
      out += static_cast<char>(c);
    }
    return out;
  }

private:
  std::FILE* file_;
  gateway::Logger logger_;
};

/// The component domain every gateway test uses.
inline constexpr std::string_view test_domain = "test.example.org";

/// Users of example.org are allowed, mallory@example.org is denied and
/// admin@example.org is the admin.
inline gateway::AccessConfig test_access() {
  gateway::AccessConfig access;
  access.allow = {"example.org"};
  access.deny = {"mallory@example.org"};
  access.admins = {"admin@example.org"};
  return access;
}

/// Parses `text` (which must be valid) as a JID.
inline xmpp::Jid jid(std::string_view text) {
  auto parsed = xmpp::Jid::parse(text);
  if (!parsed) {
    throw std::invalid_argument("not a JID: " + std::string(text));
  }
  return *parsed;
}

/// Parses exactly one stanza written as XML on a component stream (default
/// namespace `jabber:component:accept`), as the router receives it.
inline xmpp::Element stanza(std::string_view xml) {
  struct Collector final : xmpp::XmlStreamParser::Handler {
    void on_stream_open(const xmpp::Element&) override {}
    void on_stanza(xmpp::Element element) override { stanzas.push_back(std::move(element)); }
    void on_stream_close() override {}
    std::vector<xmpp::Element> stanzas;
  } collector;
  xmpp::XmlStreamParser parser(collector);
  const bool ok = parser.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                              "xmlns='jabber:component:accept' from='test.example.org'>") &&
                  parser.feed(xml);
  if (!ok || collector.stanzas.size() != 1) {
    throw std::invalid_argument("not exactly one stanza: " + std::string(xml));
  }
  return std::move(collector.stanzas.front());
}

/// The error condition of `reply` (`service-unavailable`, ...), or "" when it
/// is not an error; a string so that failures print readably.
inline std::string condition_of(const xmpp::Element& reply) {
  const auto error = xmpp::stanza_error_from(reply);
  return error ? std::string(xmpp::to_string(error->condition)) : std::string();
}

/// The error text of `reply`, or "".
inline std::string error_text_of(const xmpp::Element& reply) {
  const auto error = xmpp::stanza_error_from(reply);
  return error ? error->text : std::string();
}

/// Everything a ServiceContext refers to, owned in one place: the test
/// adapter, a FlakyStore, test_access() and a TestStatus.
struct ServiceFixture {
  ServiceFixture()
      : domain(jid(test_domain)), adapter(std::string(test_domain)), access(test_access()) {
    component.domain = std::string(test_domain);
    component.adapter = "test";
    component.name = "Test gateway";
  }

  /// A context over this fixture's members (valid as long as the fixture).
  gateway::ServiceContext context() {
    return {component, domain, adapter, *repositories, access, log.logger(), status};
  }

  /// Runs `work` on io to its end (the repositories are inline, so the loop
  /// has only ready work) and gives its result.
  template <typename T> T run(gateway::Awaitable<T> work) {
    std::optional<T> result;
    boost::asio::co_spawn(io, std::move(work), [&result](const std::exception_ptr& error, T value) {
      if (error) {
        std::rethrow_exception(error);
      }
      result = std::move(value);
    });
    io.restart();
    io.run();
    if (!result) {
      throw std::runtime_error("the coroutine did not finish");
    }
    return std::move(*result);
  }

  /// Stores a registration for `user` (bare) directly, bypassing the service.
  void register_user(std::string_view user, gateway::FieldValues fields) {
    std::error_code ec;
    store.put_registration(
        gateway::Registration{std::string(user), component.domain, std::move(fields), 1}, ec);
    if (ec) {
      throw std::runtime_error("cannot store a test registration: " + ec.message());
    }
  }

  /// The stored registration of `user` (bare), or nullopt.
  std::optional<gateway::Registration> registration_of(std::string_view user) {
    std::error_code ec;
    auto found = store.find_registration(std::string(user), component.domain, ec);
    if (ec) {
      throw std::runtime_error("cannot read a test registration: " + ec.message());
    }
    return found;
  }

  gateway::ComponentConfig component;
  xmpp::Jid domain;
  TestAdapter adapter;
  FlakyStore store;
  std::unique_ptr<gateway::Repositories> repositories =
      gateway::inline_repositories(store, nullptr);
  boost::asio::io_context io;
  gateway::AccessControl access;
  LogFile log;
  TestStatus status;
};

/// A ServiceFixture with a Router over it that records what it sends.
struct RouterFixture : ServiceFixture {
  RouterFixture()
      : lanes(
            io, [this](const gateway::UserEvent& event) { return router.deliver(event); },
            log.logger(), "test", 4),
        router(
            context(), activity,
            [this](const xmpp::Element& out) {
              sent.push_back(out);
              return true;
            },
            [this](const std::string& user, gateway::UserEvent event) {
              return lanes.post(user, std::move(event));
            },
            [this](gateway::Awaitable<void> work) {
              boost::asio::co_spawn(io, std::move(work), boost::asio::detached);
            }) {}

  /// Routes `xml` (parsed with stanza()), runs what it started to its end,
  /// and returns what the router sent for it.
  std::vector<xmpp::Element> route(std::string_view xml) {
    const auto before = sent.size();
    router.route(stanza(xml));
    io.restart();
    io.run();
    return {sent.begin() + static_cast<std::ptrdiff_t>(before), sent.end()};
  }

  gateway::ActivityTracker activity;
  /// Four events per user at most, so that a test can fill a lane.
  gateway::UserLanes lanes;
  /// Every stanza the router sent, in order.
  std::vector<xmpp::Element> sent;
  gateway::Router router;
};

} // namespace trestle::gateway_test
