#pragma once

#include <string>
#include <string_view>

namespace trestle::protocols {

/// RFC 4648 base64 with padding, no line breaks (SASL, SMTP AUTH).
std::string base64_encode(std::string_view bytes);

} // namespace trestle::protocols
