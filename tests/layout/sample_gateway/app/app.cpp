// A sample of what the layout check refuses: the gateway's core naming a
// network instead of taking it from the app wiring.
#include "irc_adapter.hpp"

std::unique_ptr<trestle::gateway::Adapter> make(const trestle::gateway::ComponentConfig& config,
                                                trestle::gateway::AdapterContext& context) {
  return std::make_unique<trestle::irc::IrcAdapter>(config, trestle::irc::IrcSettings{}, context);
}
