#pragma once

// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "element.hpp"
#include "jid.hpp"
#include "repositories.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::gateway {

class Adapter;
struct CommandAnswer;
struct ServiceContext;

/// XEP-0050 ad-hoc commands on a component domain: the admin commands
/// `uptime` (uptime and statistics), `users` (active users) and
/// `disconnect-user`. Multi-step sessions are kept briefly and bounded.
class CommandService {
public:
  /// One command as listed in disco#items.
  struct Command {
    std::string node;
    std::string name;
    bool admin_only = true;
  };

  /// Commands visible to a user: the adapter's domain commands, and the admin
  /// commands for admins.
  static std::vector<Command> commands(const Adapter& adapter, bool admin);
  /// True when `node` names a command visible to the user.
  static bool has_command(const Adapter& adapter, std::string_view node, bool admin);
  /// The human name of command `node` ("" if unknown).
  static std::string command_name(const Adapter& adapter, std::string_view node);

  /// Whether `request` (an iq set carrying `<command/>`) is for one of the
  /// adapter's own commands: then run_adapter_command() answers it, else
  /// execute().
  static bool is_adapter_command(const Adapter& adapter, const xmpp::Element& request);
  /// Runs an adapter's own command step (see is_adapter_command()) and
  /// sends the reply built from its answer through `send`.
  static Awaitable<void> run_adapter_command(Adapter& adapter, xmpp::Element request,
                                             xmpp::Jid from, bool admin,
                                             std::function<bool(const xmpp::Element&)> send);
  /// The `<command/>` reply to `request` for an adapter's answer.
  static xmpp::Element reply_of(const xmpp::Element& request, const CommandAnswer& answer);

  /// Answers an iq set carrying `<command/>` for one of the gateway's own
  /// commands.
  xmpp::Element execute(const ServiceContext& context, const xmpp::Element& request,
                        const xmpp::Jid& from, bool admin);

private:
  using Clock = std::chrono::steady_clock;
  struct Session {
    std::string node;
    std::string owner;
    Clock::time_point started;
  };

  xmpp::Element disconnect_user(const ServiceContext& context, const xmpp::Element& request,
                                const xmpp::Element& command, const xmpp::Jid& from);
  void expire(Clock::time_point now);

  std::map<std::string, Session> sessions_;
  std::uint64_t next_session_ = 0;
};

} // namespace trestle::gateway
