#pragma once

#include "adapter.hpp"
#include "sms_config.hpp"

namespace trestle::sms {

/// The answer to the admins' `sms-usage` command (XEP-0050): messages each
/// user sent in the last hour and day against the limits, and the held
/// messages to numbers nobody owns (the newest 20 of them).
[[nodiscard]] gateway::Awaitable<gateway::CommandAnswer>
usage_report(gateway::AdapterContext& context, const sms::SmsSettings& settings);

} // namespace trestle::sms
