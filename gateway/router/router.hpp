#pragma once

#include "border_notices.hpp"
#include "command_service.hpp"
#include "element.hpp"
#include "recent_messages.hpp"
#include "services.hpp"
#include "user_events.hpp"

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
  /// Queues a typed event from `user` (a bare JID) for the adapter, in that
  /// user's order (UserLanes); false when too many of theirs wait already.
  using Post = std::function<bool(const std::string& user, UserEvent event)>;
  /// Runs work that waits (registration, an adapter's command) on the loop.
  using Spawn = std::function<void(Awaitable<void>)>;

  Router(ServiceContext context, ActivityTracker& activity, Send send, Post post, Spawn spawn);

  /// Handles one inbound stanza.
  void route(const xmpp::Element& stanza);
  /// Hands one user's event to the adapter (the lanes' handler), once the
  /// user is known to be registered where that is required.
  Awaitable<void> deliver(const UserEvent& event);
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
  /// XEP-0077, which waits for the store and the adapter.
  Awaitable<void> register_and_answer(xmpp::Element request, xmpp::Jid from);
  void refuse(const xmpp::Element& stanza, xmpp::Condition condition, std::string text);
  void refuse(const UserEvent& event, xmpp::Condition condition, std::string text);
  /// deliver() once the user is found registered.
  Awaitable<void> deliver_registered(const UserEvent& event);
  /// Hands a stanza that no shared service took to the adapter, as a typed
  /// event in its sender's lane.
  void hand_over(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  /// Refuses an end-to-end encrypted message (it cannot be bridged) and
  /// counts it; true when it was refused.
  bool refused_encrypted(const xmpp::Element& stanza, const xmpp::Jid& from);
  /// Hands a message from `from` to the adapter the way its network takes it
  /// (border_crossing.hpp), with any notices for the sender.
  void route_message(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);

  ServiceContext context_;
  ActivityTracker& activity_;
  Send send_;
  Post post_;
  Spawn spawn_;
  CommandService commands_;
  std::uint64_t encrypted_refused_ = 0;
  RecentMessages recent_;
  BorderNotices notices_;
  std::uint64_t border_notices_ = 0;
};

} // namespace trestle::gateway
