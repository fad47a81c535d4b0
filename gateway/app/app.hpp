#pragma once

#include "adapter.hpp"
#include "config.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace trestle::gateway {

/// Builds the adapter for one component.
using AdapterFactory =
    std::function<std::unique_ptr<Adapter>(const ComponentConfig&, AdapterContext&)>;
/// Adapter factories by adapter name (`irc`, `smtp`, `sms`); only the app
/// wiring in main names the adapters.
using AdapterRegistry = std::map<std::string, AdapterFactory, std::less<>>;

/// The running gateway: one io_context, one component stream and adapter per
/// configured domain, the store, the HTTP server and signal handling.
class App {
public:
  App(Config config, const AdapterRegistry& adapters);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  /// Runs until SIGTERM/SIGINT and a graceful shutdown; returns the exit code.
  /// Throws std::runtime_error on start-up failures (store, HTTP bind).
  int run();

  /// Opaque state (public only so that app.cpp's helpers can name it).
  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

/// The command line: `--config FILE`, `--check-config FILE`, `--version`,
/// `--help`. Returns the process exit code.
int run_main(int argc, char** argv, const AdapterRegistry& adapters);

} // namespace trestle::gateway
