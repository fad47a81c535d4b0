#pragma once

#include "adapter.hpp"
#include "data_form.hpp"
#include "irc_config.hpp"
#include "irc_link.hpp"
#include "jid.hpp"
#include "repositories.hpp"
#include "stanza_error.hpp"
#include "store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::irc {

/// Why a field value cannot go into an IRC line, or nullopt when it can.
/// Checks `nick`, `username`, `realname`, `password`, `account`, `port`,
/// `tls`, `flood_lines_per_second` (at most `max_flood`, when not 0) and
/// `after_connect` (one raw command per line); unknown fields pass.
std::optional<std::string> check_setting(std::string_view field, std::string_view value,
                                         std::string_view chantypes, unsigned max_flood);

/// Everything needed to connect `user` (bare) to `server`: the operator's
/// settings for that server, then the user's XEP-0077 registration, then
/// the user's settings for that server (the configure command), which win.
/// `fallback_nick` is used when neither gives a nick.
IrcLinkOptions link_options(const irc::IrcServerSettings& server,
                            const gateway::FieldValues& registration,
                            const gateway::FieldValues& server_settings,
                            std::string_view fallback_nick);

/// The XEP-0050 `configure` command on a server JID: shows the user's
/// settings for that server as a form, and stores the submitted one.
/// `component` is the IRC component's domain; `server` names the server and
/// gives the operator's limits.
[[nodiscard]] gateway::Awaitable<gateway::CommandAnswer>
answer_configure(const gateway::CommandRequest& request, gateway::ServerSettingsRepository& store,
                 const std::string& component, const irc::IrcServerSettings& server,
                 std::string_view chantypes);

} // namespace trestle::irc
