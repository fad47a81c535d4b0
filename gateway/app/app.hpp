#pragma once

#include "adapter.hpp"
#include "config.hpp"

#include <memory>
#include <string>

namespace trestle::gateway {

/// The running gateway: one io_context, one component stream and adapter per
/// configured domain, the store, the HTTP server and signal handling.
class App {
public:
  /// `config` was loaded with the readers of `networks`.
  App(Config config, const Networks& networks);
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
int run_main(int argc, char** argv, const Networks& networks);

} // namespace trestle::gateway
