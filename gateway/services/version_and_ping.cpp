#include "namespaces.hpp"
#include "services.hpp"
#include "stanza.hpp"
#include "trestle_version.hpp"

namespace trestle::gateway {

xmpp::Element answer_version(const xmpp::Element& request) {
  auto reply = xmpp::make_iq_result(request);
  auto& query = reply.append("query", std::string(xmpp::ns::version));
  query.append("name").append_text("trestle");
  query.append("version").append_text(TRESTLE_VERSION);
  return reply;
}

xmpp::Element answer_ping(const xmpp::Element& request) {
  return xmpp::make_iq_result(request);
}

} // namespace trestle::gateway
