#include "app.hpp"
#include "config.hpp"
#include "trestle_version.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace trestle::gateway {
namespace {

constexpr std::string_view usage = R"(usage: trestle --config FILE        run the gateway
       trestle --check-config FILE  validate a config file and exit
       trestle --version            print the version
       trestle --help               print this help
)";

/// Exit codes: 0 success, 1 configuration or start-up error, 2 usage error.
constexpr int exit_ok = 0;
constexpr int exit_config = 1;
constexpr int exit_usage = 2;

int fail_usage(const std::string& message) {
  std::fprintf(stderr, "trestle: %s\n%.*s", message.c_str(), static_cast<int>(usage.size()),
               usage.data());
  return exit_usage;
}

} // namespace

int run_main(int argc, char** argv, const Networks& networks) {
  if (argc < 2) {
    return fail_usage("missing arguments");
  }
  const std::string_view command = argv[1];
  if (command == "--version") {
    std::printf("trestle %s\n", TRESTLE_VERSION);
    return exit_ok;
  }
  if (command == "--help" || command == "-h") {
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return exit_ok;
  }
  if (command != "--config" && command != "--check-config") {
    return fail_usage("unknown option '" + std::string(command) + "'");
  }
  if (argc != 3) {
    return fail_usage(std::string(command) + " takes exactly one FILE");
  }
  try {
    auto config = load_config_file(argv[2], config_readers(networks));
    if (command == "--check-config") {
      const auto count = config.components.size();
      std::printf("%s: OK (%zu component%s)\n", argv[2], count, count == 1 ? "" : "s");
      return exit_ok;
    }
    App app(std::move(config), networks);
    return app.run();
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "trestle: configuration error: %s\n", error.what());
    return exit_config;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "trestle: cannot start: %s\n", error.what());
    return exit_config;
  }
}

} // namespace trestle::gateway
