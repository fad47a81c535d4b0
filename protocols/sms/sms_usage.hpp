#pragma once

#include "config.hpp"
#include "element.hpp"

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::sms {

/// The answer to the admins' `sms-usage` command (XEP-0050): messages each
/// user sent in the last hour and day against the limits, and the held
/// messages to numbers nobody owns (the newest 20 of them).
xmpp::Element usage_report(const xmpp::Element& request, gateway::AdapterContext& context,
                           const gateway::SmsSettings& settings);

} // namespace trestle::sms
