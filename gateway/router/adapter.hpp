#pragma once

// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "config.hpp"
#include "data_form.hpp"
#include "element.hpp"
#include "http_server.hpp"
#include "jid.hpp"
#include "network_abilities.hpp"
#include "repositories.hpp"
#include "stanza.hpp"
#include "stanza_error.hpp"
#include "user_events.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace trestle::gateway {

class Logger;
class ReadGate;

/// One field of an adapter's registration form (XEP-0077 and XEP-0004).
struct RegistrationField {
  /// Form variable; also the legacy XEP-0077 element name when that is standard
  /// (`username`, `nick`, `password`, `email`, `phone`, ...).
  std::string var;
  std::string label;
  bool required = false;
  /// Rendered as `text-private` and never shown back or logged.
  bool secret = false;
  /// Help shown to the user.
  std::string description;
  /// When not empty, the values to choose from (a `list-single` field).
  std::vector<std::string> options;
};

/// Registration field values, keyed by RegistrationField::var.
using FieldValues = std::map<std::string, std::string>;

/// An ad-hoc command (XEP-0050) that an adapter offers on its component
/// domain, next to the gateway's own.
struct DomainCommand {
  std::string node;
  std::string name;
  /// Listed for, and run by, the gateway's admins only.
  bool admin_only = false;
};

/// One step of an adapter's ad-hoc command (XEP-0050), as the user asked it.
struct CommandRequest {
  xmpp::Jid from;
  std::string node;
  /// `execute`, `next`, `complete`, `prev` or `cancel`.
  std::string action = "execute";
  /// Empty on the first step.
  std::string session_id{};
  /// The form the user submitted, if any.
  std::optional<DataForm> form{};
};

/// An adapter's answer to one step of an ad-hoc command; the gateway
/// builds the `<command/>` reply from it.
struct CommandAnswer {
  enum class Status { executing, completed, canceled };
  // Each member has an initialiser, so that designated initialisers may name
  // any of them (-Wmissing-field-initializers).
  Status status = Status::completed;
  /// A note for the user (XEP-0050 `<note/>`), empty for none.
  std::string note{};
  /// The note is a warning rather than information.
  bool note_is_warning = false;
  /// A form to fill in (executing) or a result to show (completed).
  std::optional<DataForm> form{};
  /// An error instead of an answer.
  std::optional<xmpp::StanzaError> error{};
};

/// What an adapter may use from the gateway. Lives as long as the adapter;
/// used on the io_context thread only.
class AdapterContext {
public:
  virtual ~AdapterContext() = default;
  /// The component domain this adapter owns.
  virtual const xmpp::Jid& domain() const = 0;
  /// Sends a stanza to the XMPP server through this component's stream. Returns
  /// false when the bounded send queue is full and the stanza was dropped.
  virtual bool send(xmpp::Element stanza) = 0;
  /// Sends a stanza for a user that the legacy network was, or is about to
  /// be, told is safe (a mail answered 250, a text answered 200): it is
  /// written to the store first and kept until the XMPP server confirms
  /// it, through a stream outage or a restart (at least once, in order).
  /// True once it is kept; false with `ec` when it cannot be (the store
  /// failed, or too much waits already), and the legacy side must be
  /// refused for now.
  /// `remember` (the legacy message's correlations: its provider id, its
  /// email thread) is written in the same transaction, so that it exists
  /// exactly when the stanza is kept. When a row of it marked
  /// IfPresent::refuse exists already, the legacy message was taken before:
  /// nothing is kept or sent, and the answer is true.
  virtual Awaitable<bool> send_confirmed(const xmpp::Element& stanza,
                                         const std::vector<Correlation>& remember,
                                         std::error_code& ec) = 0;
  /// send_confirmed() with nothing to remember.
  Awaitable<bool> send_confirmed(const xmpp::Element& stanza, std::error_code& ec) {
    static const std::vector<Correlation> nothing;
    return send_confirmed(stanza, nothing, ec);
  }
  /// The shared store's repositories; every call is awaited, none blocks
  /// the loop.
  virtual Repositories& repositories() = 0;
  /// The shared logger.
  virtual Logger& log() = 0;
  /// The event loop, for the adapter's own connections and timers.
  virtual boost::asio::io_context& io() = 0;
  /// Closed while this component's stream to the XMPP server has too much
  /// waiting to be sent: the adapter's readers wait on it before taking more
  /// input from their network. Null where there is no such stream (tests).
  virtual std::shared_ptr<ReadGate> read_gate() { return nullptr; }
  /// Whether access control lets `user` (a bare JID) use the gateway now
  /// (a registration requirement included, which asks the store: when it
  /// cannot say, false with `ec`).
  [[nodiscard]] virtual Awaitable<bool> user_allowed(const xmpp::Jid& user,
                                                     std::error_code& ec) = 0;
  /// The gateway's admins (`access.admins`), as bare JIDs.
  virtual std::vector<xmpp::Jid> admins() const { return {}; }
  /// Serves requests whose path is exactly `path` on the gateway's HTTP
  /// listener with `handler` (an adapter's webhooks). Throws
  /// std::runtime_error when the listener is off or the path is taken.
  virtual void add_http_route(const std::string& path, HttpHandler handler) {
    (void)handler;
    throw std::runtime_error("no HTTP listener to serve " + path);
  }
};

/// A network adapter: owns one component domain and translates between XMPP
/// users' typed events and its legacy network. Shared services (disco, version, ping, register,
/// gateway prompt, ad-hoc) live in the gateway and ask the adapter only for
/// what is network-specific.
class Adapter {
public:
  virtual ~Adapter() = default;

  /// Short adapter name: `irc`, `smtp`, `sms`.
  virtual std::string_view name() const = 0;
  /// The disco identity type under category `gateway` (`irc`, `smtp`, `sms`).
  virtual std::string_view identity_type() const = 0;
  /// What the network can carry of XMPP's message features: the gateway
  /// translates each user message to it before handle() sees it.
  virtual NetworkAbilities abilities() const = 0;

  /// An event from an allowed user to an address on the adapter's domain,
  /// after the border (messages are translated to what the network
  /// carries). The adapter answers requests, with an error if nothing else,
  /// through a Bridge (bridge.hpp). A user's events come one after another,
  /// in order; different users' side by side.
  virtual Awaitable<void> handle(const UserEvent& event) = 0;

  /// The adapter's long-lived work (listeners, outboxes, its network's
  /// connections), run on the io_context once the component is built. It
  /// ends when the app cancels it at shutdown (Asio's terminal cancellation
  /// of the coroutine that awaits it), after closing what it opened; or by
  /// throwing, when the adapter cannot work, which stops the gateway with
  /// that error.
  virtual Awaitable<void> run() = 0;

  /// Available (`available` true) or unavailable presence from `from` (a
  /// full JID) to the component domain itself, which the gateway answered
  /// already: an unavailable one means that resource went offline.
  virtual void on_domain_presence(const xmpp::Jid& /*from*/, bool /*available*/) {}
  /// Whether messages to the component domain itself are events for the
  /// adapter (IRC's fixed-server mode); else the gateway refuses them.
  virtual bool takes_domain_messages() const { return false; }

  /// XEP-0100 `<desc/>`: what to type into the gateway prompt.
  virtual std::string gateway_description() const = 0;
  /// XEP-0100 `<prompt/>`: the label of the prompt field.
  virtual std::string gateway_prompt() const = 0;
  /// Turns a legacy address typed by a user into its JID on this domain; on
  /// failure returns the error (usually `jid-malformed`) with an explanation.
  virtual std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                                   xmpp::StanzaError& error) const = 0;

  /// The registration form's fields (which may ask the store: a pool's free
  /// numbers).
  virtual Awaitable<std::vector<RegistrationField>> registration_fields() = 0;
  /// The registration form's instructions.
  virtual std::string registration_instructions() const = 0;
  /// Checks (and may normalise) submitted values before they are stored,
  /// and takes what they claim (an address, a number); the error to answer
  /// with when they are refused.
  virtual Awaitable<std::optional<xmpp::StanzaError>>
  validate_registration(const xmpp::Jid& user, FieldValues& values) = 0;
  /// The user's registration was removed; drop their legacy sessions and
  /// release what they held.
  virtual Awaitable<void> on_unregistered(const xmpp::Jid& /*user*/) { co_return; }
  /// An admin disconnected the user; drop their legacy sessions.
  virtual void disconnect_user(const xmpp::Jid& /*user*/) {}

  /// Ad-hoc commands on the component domain itself (listed in disco next to
  /// the gateway's admin commands).
  virtual std::vector<DomainCommand> domain_commands() const { return {}; }
  /// Runs one step of one of domain_commands(); the gateway builds the
  /// `<command/>` reply from the answer.
  virtual Awaitable<CommandAnswer> run_command(const CommandRequest& /*request*/) {
    co_return CommandAnswer{.error = xmpp::make_stanza_error(xmpp::Condition::item_not_found)};
  }
};

/// A network as the app wiring registers it (one line in gateway/app/main.cpp):
/// how its section of the configuration is read, and how its adapter is made
/// for a component whose `adapter:` names it.
struct Network {
  NetworkConfigReader config;
  std::function<std::unique_ptr<Adapter>(const ComponentConfig&, AdapterContext&)> make_adapter;
};
using Networks = std::vector<Network>;

/// The configuration readers of `networks`.
inline NetworkConfigReaders config_readers(const Networks& networks) {
  NetworkConfigReaders readers;
  readers.reserve(networks.size());
  for (const auto& network : networks) {
    readers.push_back(network.config);
  }
  return readers;
}

} // namespace trestle::gateway
