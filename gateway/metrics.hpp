#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::gateway {

/// Label pairs of one series, e.g. {{"component", "irc.example.org"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// Prometheus counters and gauges, rendered in the text exposition format
/// (version 0.0.4). Used from the io_context thread only.
class Metrics {
public:
  enum class Type { counter, gauge };

  /// Declares a metric family; series of undeclared names are rejected.
  /// Throws std::invalid_argument on a name the exposition format forbids.
  void describe(std::string name, std::string help, Type type);
  /// Adds `by` to a counter or gauge series. Undeclared names, and negative
  /// steps on a counter, are ignored; an invalid label name throws.
  void increment(std::string_view name, const Labels& labels = {}, double by = 1);
  /// Sets a gauge series (or mirrors a counter kept elsewhere). Undeclared
  /// names are ignored.
  void set(std::string_view name, const Labels& labels, double value);
  /// The current value of a series (0 when absent).
  double value(std::string_view name, const Labels& labels = {}) const;
  /// Registers a function called before each render, to refresh gauges.
  void add_collector(std::function<void(Metrics&)> collector);
  /// Runs the collectors and renders every family with HELP and TYPE lines.
  std::string render();

private:
  struct Family {
    std::string help;
    Type type = Type::counter;
    std::map<std::string, double> series; // rendered label set -> value
  };
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(Metrics&)>> collectors_;
};

} // namespace trestle::gateway
