// Fuzzes the configuration loader with every network's section reader: any
// bytes must end in a Config or a ConfigError; any other exception escaping
// is a bug.
#include "config.hpp"
#include "email_config.hpp"
#include "irc_config.hpp"
#include "sms_config.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const trestle::gateway::NetworkConfigReaders networks{trestle::irc::irc_config_reader(),
                                                               trestle::smtp::email_config_reader(),
                                                               trestle::sms::sms_config_reader()};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)trestle::gateway::load_config_text(text, "fuzz.yaml", networks);
  } catch (const trestle::gateway::ConfigError&) {
    // The expected outcome for most inputs.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "escaped exception: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "escaped a non-standard exception\n");
    std::abort();
  }
  return 0;
}
