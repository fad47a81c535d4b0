#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace trestle::gateway {
namespace {

// Metric and label names as the exposition format allows them; a bad name is a
// bug in the caller, so it throws instead of producing output a scraper refuses.
bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

// Label values escape backslash, double quote and line feed; HELP text escapes
// only backslash and line feed (text format 0.0.4).
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// The series key is the rendered label set, sorted by label name so that the
// same labels given in another order address the same series.
std::string series_key(const Labels& labels) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(labels.size());
  for (const auto& label : labels) {
    if (!valid_name(label.first, false)) {
      throw std::invalid_argument("metrics: invalid label name '" + label.first + "'");
    }
    sorted.push_back(&label);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string key;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i]->first == sorted[i - 1]->first) {
      throw std::invalid_argument("metrics: duplicate label name '" + sorted[i]->first + "'");
    }
    if (i > 0) {
      key += ',';
    }
    key += sorted[i]->first;
    key += "=\"";
    append_escaped(key, sorted[i]->second, true);
    key += '"';
  }
  return key;
}

// Integral values print as integers (no exponent, no ".0"); others use the
// shortest text that reads back as the same double.
void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  constexpr double exact_integer_limit = 9007199254740992.0; // 2^53
  std::to_chars_result result{};
  if (value == std::trunc(value) && std::fabs(value) <= exact_integer_limit) {
    result = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
  } else {
    result = std::to_chars(buf, buf + sizeof buf, value);
  }
  out.append(buf, result.ptr);
}

std::string_view type_name(Metrics::Type type) {
  return type == Metrics::Type::counter ? "counter" : "gauge";
}

} // namespace

void Metrics::describe(std::string name, std::string help, Type type) {
  if (!valid_name(name, true)) {
    throw std::invalid_argument("metrics: invalid metric name '" + name + "'");
  }
  // Describing again updates HELP and TYPE but keeps the series counted so far.
  auto& family = families_[std::move(name)];
  family.help = std::move(help);
  family.type = type;
}

// Unknown names are ignored: a metric is declared once at start-up, and a
// missing declaration must not take the gateway down. A negative step on a
// counter is ignored too, since a counter never goes down.
void Metrics::increment(std::string_view name, const Labels& labels, double by) {
  const auto family = families_.find(name);
  if (family == families_.end()) {
    return;
  }
  if (family->second.type == Type::counter && by < 0) {
    return;
  }
  family->second.series[series_key(labels)] += by;
}

// Unknown names are ignored (see increment). Counters may be set as well, so a
// collector can mirror a total that another component keeps.
void Metrics::set(std::string_view name, const Labels& labels, double value) {
  const auto family = families_.find(name);
  if (family == families_.end()) {
    return;
  }
  family->second.series[series_key(labels)] = value;
}

double Metrics::value(std::string_view name, const Labels& labels) const {
  const auto family = families_.find(name);
  if (family == families_.end()) {
    return 0;
  }
  const auto series = family->second.series.find(series_key(labels));
  return series == family->second.series.end() ? 0 : series->second;
}

void Metrics::add_collector(std::function<void(Metrics&)> collector) {
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() {
  // By index: a collector may register another collector while running.
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    auto collector = collectors_[i];
    collector(*this);
  }
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, family.help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    for (const auto& [labels, value] : family.series) {
      out += name;
      if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
      }
      out += ' ';
      append_value(out, value);
      out += '\n';
    }
  }
  return out;
}

} // namespace trestle::gateway
