#pragma once

#include "border_notices.hpp"
#include "command_service.hpp"
#include "element.hpp"
#include "recent_messages.hpp"
#include "services.hpp"

#include <cstdint>
#include <functional>

namespace trestle::gateway {

class ActivityTracker;

/// Routes stanzas that arrive on one component stream: drops what cannot be
/// answered, refuses users that access control refuses (never silently),
/// answers the shared services on the component domain itself, and hands
/// everything else to the adapter. Runs on the io_context thread.
class Router {
public:
  /// Sends a stanza out through the component stream.
  using Send = std::function<bool(const xmpp::Element&)>;

  Router(ServiceContext context, ActivityTracker& activity, Send send);

  /// Handles one inbound stanza.
  void route(const xmpp::Element& stanza);
  /// End-to-end encrypted messages refused so far (they cannot be bridged).
  std::uint64_t encrypted_refused() const { return encrypted_refused_; }
  /// Notices sent so far about what did not cross the border as it was.
  std::uint64_t border_notices() const { return border_notices_; }
  /// Takes note of a stanza this component sends: the bodies of messages to
  /// users are remembered so that their reactions and replies can quote them.
  void remember_sent(const xmpp::Element& stanza);

private:
  void route_iq_to_domain(const xmpp::Element& stanza, const xmpp::Jid& from);
  void route_presence_to_domain(const xmpp::Element& stanza, const xmpp::Jid& from);
  /// Refuses `stanza` unless `user` is registered; true when it was refused.
  bool refused_unregistered(const xmpp::Element& stanza, const xmpp::Jid& user, std::string text);
  void refuse(const xmpp::Element& stanza, xmpp::Condition condition, std::string text);
  /// Refuses an end-to-end encrypted message (it cannot be bridged) and
  /// counts it; true when it was refused.
  bool refused_encrypted(const xmpp::Element& stanza, const xmpp::Jid& from);
  /// Hands a message from `from` to the adapter the way its network takes it
  /// (border_crossing.hpp), with any notices for the sender.
  void route_message(const xmpp::Element& stanza, const xmpp::Jid& from);

  ServiceContext context_;
  ActivityTracker& activity_;
  Send send_;
  CommandService commands_;
  std::uint64_t encrypted_refused_ = 0;
  RecentMessages recent_;
  BorderNotices notices_;
  std::uint64_t border_notices_ = 0;
};

} // namespace trestle::gateway
