#pragma once

#include "adapter.hpp"
#include "bridge.hpp"
#include "channel_registry.hpp"
#include "irc_address.hpp"
#include "irc_config.hpp"
#include "server_policy.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::irc {

class UserConnection;

/// The IRC network adapter: channels as multi-user chats (XEP-0045), IRC
/// users as contacts and the server as a JID for raw commands, in biboumi's
/// address forms. Each XMPP user gets one IRC connection per server, shared
/// by the user's resources; channel state is kept once per channel.
class IrcAdapter final : public gateway::Adapter {
public:
  /// Throws std::invalid_argument when `settings.fixed_server` is set but is
  /// not a server name. `context` must outlive the adapter.
  IrcAdapter(const gateway::ComponentConfig& config, IrcSettings settings,
             gateway::AdapterContext& context);
  ~IrcAdapter() override;

  /// `irc`.
  std::string_view name() const override { return "irc"; }
  /// `irc` (disco `gateway/irc`).
  std::string_view identity_type() const override { return "irc"; }
  gateway::NetworkAbilities abilities() const override;

  /// In fixed-server mode the domain is the server JID: messages to it are
  /// raw commands.
  bool takes_domain_messages() const override { return !rules_.fixed_server.empty(); }
  /// Presence and messages to rooms, IRC users and servers; requests to them.
  gateway::Awaitable<void> handle(const gateway::UserEvent& event) override;
  /// An unavailable presence to the domain: that resource left every room.
  void on_domain_presence(const xmpp::Jid& from, bool available) override;
  /// Waits for the shutdown (users' connections start with their traffic),
  /// then QUITs every IRC connection.
  gateway::Awaitable<void> run() override;
  /// The user's registration was removed: their connections QUIT.
  gateway::Awaitable<void> on_unregistered(const xmpp::Jid& user) override;
  /// An admin disconnected the user: their connections QUIT.
  void disconnect_user(const xmpp::Jid& user) override;

  /// What to type: a channel, nickname or server (or, with a fixed server, a channel or nickname).
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed IRC address, or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// `nick` (required), `username`, `realname` and the SASL `password`.
  gateway::Awaitable<std::vector<gateway::RegistrationField>> registration_fields() override;
  /// Explains the fields.
  std::string registration_instructions() const override;
  /// Checks the nickname with the address rules and keeps CR, LF and NUL out of every field.
  gateway::Awaitable<std::optional<xmpp::StanzaError>>
  validate_registration(const xmpp::Jid& user, gateway::FieldValues& values) override;

  /// In fixed-server mode the domain is the server JID, so `configure` is
  /// offered there; otherwise each server JID offers its own.
  std::vector<gateway::DomainCommand> domain_commands() const override;
  /// Runs `configure` for the fixed server.
  gateway::Awaitable<gateway::CommandAnswer>
  run_command(const gateway::CommandRequest& request) override;
  /// The address rules of this component (channel prefixes, fixed server).
  const AddressRules& address_rules() const { return rules_; }
  /// Open IRC connections (users times servers).
  std::size_t connection_count() const { return connections_.size(); }

private:
  gateway::Awaitable<void> on_presence(const gateway::UserPresence& presence,
                                       const IrcAddress& address);
  gateway::Awaitable<void> on_message(const gateway::UserMessage& message,
                                      const IrcAddress& address);
  gateway::Awaitable<void> on_request(const gateway::ContactRequest& request,
                                      const IrcAddress& address);
  gateway::Awaitable<void> on_room_request(const gateway::ContactRequest& request,
                                           const IrcAddress& address);
  gateway::Awaitable<void> on_server_request(const gateway::ContactRequest& request,
                                             const IrcAddress& address);
  /// The user's connection to `server`, opened when `open` and allowed
  /// (the user's settings are read from the store first); otherwise null,
  /// with the refusal sent when `event` expects one.
  gateway::Awaitable<UserConnection*> connection(const gateway::UserEvent& event,
                                                 const std::string& server,
                                                 std::string_view requested_nick, bool open);
  /// The open connection under `key`, or null (one that is quitting is set
  /// aside to finish).
  UserConnection* find_connection(const std::string& key);
  /// The answer to a `configure` command step for `server` (XEP-0050 with a data form).
  gateway::Awaitable<gateway::CommandAnswer> configure(const gateway::CommandRequest& request,
                                                       const std::string& server);
  void close_all(const xmpp::Jid& user, std::string_view reason);

  gateway::AdapterContext& context_;
  gateway::Bridge bridge_;
  AddressRules rules_;
  ServerPolicy policy_;
  ChannelRegistry channels_;
  /// Keyed by "bare JID" + '\n' + server.
  std::map<std::string, std::unique_ptr<UserConnection>, std::less<>> connections_;
  /// Connections that are quitting, kept until their link is over.
  std::vector<std::unique_ptr<UserConnection>> closing_;
  /// While run() waits for the last connections to finish: wakes it.
  std::function<void()> last_quit_;
};

/// The network for the app wiring: the `irc:` section and this adapter.
gateway::Network irc_network();

} // namespace trestle::irc
