// A sample the layout check must refuse: an adapter that builds a stanza.
#include "stanza.hpp"

void answer(const trestle::xmpp::Jid& from, const trestle::xmpp::Jid& to) {
  const trestle::xmpp::Element message = trestle::xmpp::make_message(from, to, "chat", "hi");
}
