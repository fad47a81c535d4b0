// The app wiring: the only place that names the network adapters.
#include "app.hpp"
#include "email_adapter.hpp"
#include "irc_adapter.hpp"
#include "sms_adapter.hpp"

int main(int argc, char** argv) {
  using trestle::gateway::AdapterContext;
  using trestle::gateway::ComponentConfig;
  const trestle::gateway::AdapterRegistry adapters = {
      {"irc",
       [](const ComponentConfig& config, AdapterContext& context) {
         return std::make_unique<trestle::irc::IrcAdapter>(config, context);
       }},
      {"smtp",
       [](const ComponentConfig& config, AdapterContext& context) {
         return std::make_unique<trestle::smtp::EmailAdapter>(config, context);
       }},
      {"sms",
       [](const ComponentConfig& config, AdapterContext& context) {
         return std::make_unique<trestle::sms::SmsAdapter>(config, context);
       }},
  };
  return trestle::gateway::run_main(argc, argv, adapters);
}
