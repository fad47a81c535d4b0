#pragma once

#include <string>
#include <string_view>

namespace trestle::xmpp {

/// The XEP-0114 handshake value: lowercase hex SHA-1 of the stream id
/// (unescaped, as received in the stream header) followed by the secret.
std::string handshake_digest(std::string_view stream_id, std::string_view secret);

} // namespace trestle::xmpp
