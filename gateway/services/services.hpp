#pragma once

#include "adapter.hpp"
#include "config.hpp"
#include "element.hpp"
#include "jid.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace trestle::gateway {

class AccessControl;
class Logger;
class Store;

/// Gateway-wide facts and actions the admin commands need, implemented by
/// the app (which sees every component).
class GatewayStatus {
public:
  virtual ~GatewayStatus() = default;
  /// Time since start-up.
  virtual std::chrono::steady_clock::duration uptime() const = 0;
  /// (label, value) pairs for the admin `uptime` command.
  virtual std::vector<std::pair<std::string, std::string>> statistics() const = 0;
  /// Bare JIDs of active users, sorted.
  virtual std::vector<std::string> active_users() const = 0;
  /// Drops the user's sessions on every component; returns whether any existed.
  virtual bool disconnect_user(const xmpp::Jid& user) = 0;
};

/// Everything a shared service needs to answer for one component.
struct ServiceContext {
  const ComponentConfig& component;
  const xmpp::Jid& domain;
  Adapter& adapter;
  Repositories& repositories;
  AccessControl& access;
  Logger& log;
  GatewayStatus& status;
};

/// The XEP-0128 extension of the component's disco#info that states the
/// border plainly: a `http://jabber.org/network/serverinfo` form whose
/// `x-gateway-border` field says that messages leave XMPP's security here,
/// and `x-gateway-network` names the network.
xmpp::Element border_form(const NetworkAbilities& abilities);
/// XEP-0030 disco#info on the component domain.
xmpp::Element answer_disco_info(const ServiceContext& context, const xmpp::Element& request,
                                bool admin);
/// XEP-0030 disco#items on the component domain (and the commands node).
xmpp::Element answer_disco_items(const ServiceContext& context, const xmpp::Element& request,
                                 bool admin);
/// XEP-0092 software version.
xmpp::Element answer_version(const xmpp::Element& request);
/// XEP-0199 ping.
xmpp::Element answer_ping(const xmpp::Element& request);
/// XEP-0077 in-band registration (get, set, remove).
[[nodiscard]] Awaitable<xmpp::Element>
answer_register(const ServiceContext& context, const xmpp::Element& request, const xmpp::Jid& from);
/// XEP-0100 gateway prompt: legacy address → JID.
xmpp::Element answer_gateway(const ServiceContext& context, const xmpp::Element& request);

/// The features every component domain advertises.
std::vector<std::string> component_features();

} // namespace trestle::gateway
