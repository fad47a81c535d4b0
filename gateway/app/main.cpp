// The app wiring: the only place that names the networks, one line each.
#include "app.hpp"
#include "email_adapter.hpp"
#include "irc_adapter.hpp"
#include "sms_adapter.hpp"

int main(int argc, char** argv) {
  const trestle::gateway::Networks networks = {
      trestle::irc::irc_network(),
      trestle::smtp::email_network(),
      trestle::sms::sms_network(),
  };
  return trestle::gateway::run_main(argc, argv, networks);
}
