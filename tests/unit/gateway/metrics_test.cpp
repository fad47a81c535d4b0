#include "metrics.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

using trestle::gateway::Labels;
using trestle::gateway::Metrics;

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(renders_help_type_and_series) {
  Metrics m;
  m.describe("trestle_stanzas_total", "Stanzas routed.", Metrics::Type::counter);
  m.increment("trestle_stanzas_total", {{"component", "irc.example.org"}});
  m.increment("trestle_stanzas_total", {{"component", "irc.example.org"}}, 2);
  BOOST_TEST(m.render() == "# HELP trestle_stanzas_total Stanzas routed.\n"
                           "# TYPE trestle_stanzas_total counter\n"
                           "trestle_stanzas_total{component=\"irc.example.org\"} 3\n");
}

BOOST_AUTO_TEST_CASE(series_without_labels_has_no_braces) {
  Metrics m;
  m.describe("up", "Whether the gateway runs.", Metrics::Type::gauge);
  m.set("up", {}, 1);
  BOOST_TEST(m.render() == "# HELP up Whether the gateway runs.\n# TYPE up gauge\nup 1\n");
}

BOOST_AUTO_TEST_CASE(families_sorted_by_name) {
  Metrics m;
  m.describe("zeta", "z", Metrics::Type::gauge);
  m.describe("alpha", "a", Metrics::Type::counter);
  m.describe("mid", "m", Metrics::Type::gauge);
  const auto text = m.render();
  const auto alpha = text.find("# HELP alpha");
  const auto mid = text.find("# HELP mid");
  const auto zeta = text.find("# HELP zeta");
  BOOST_REQUIRE(alpha != std::string::npos);
  BOOST_REQUIRE(mid != std::string::npos);
  BOOST_REQUIRE(zeta != std::string::npos);
  BOOST_TEST(alpha < mid);
  BOOST_TEST(mid < zeta);
}

BOOST_AUTO_TEST_CASE(label_order_does_not_split_a_series) {
  Metrics m;
  m.describe("hits", "h", Metrics::Type::counter);
  m.increment("hits", {{"b", "2"}, {"a", "1"}});
  m.increment("hits", {{"a", "1"}, {"b", "2"}});
  BOOST_TEST(m.value("hits", {{"b", "2"}, {"a", "1"}}) == 2);
  BOOST_TEST(m.render().find("hits{a=\"1\",b=\"2\"} 2\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(label_values_escaped) {
  Metrics m;
  m.describe("odd", "o", Metrics::Type::gauge);
  m.set("odd", {{"v", "a\\b\"c\nd"}}, 5);
  BOOST_TEST(m.render().find("odd{v=\"a\\\\b\\\"c\\nd\"} 5\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_text_escaped) {
  Metrics m;
  m.describe("h", "line one\nback\\slash \"quoted\"", Metrics::Type::gauge);
  BOOST_TEST(m.render().find("# HELP h line one\\nback\\\\slash \"quoted\"\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(values_formatted) {
  Metrics m;
  m.describe("g", "g", Metrics::Type::gauge);
  m.set("g", {{"k", "big"}}, 1e15);
  m.set("g", {{"k", "frac"}}, 0.25);
  m.set("g", {{"k", "neg"}}, -3);
  m.set("g", {{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  m.set("g", {{"k", "inf"}}, std::numeric_limits<double>::infinity());
  m.set("g", {{"k", "ninf"}}, -std::numeric_limits<double>::infinity());
  const auto text = m.render();
  BOOST_TEST(text.find("g{k=\"big\"} 1000000000000000\n") != std::string::npos);
  BOOST_TEST(text.find("g{k=\"frac\"} 0.25\n") != std::string::npos);
  BOOST_TEST(text.find("g{k=\"neg\"} -3\n") != std::string::npos);
  BOOST_TEST(text.find("g{k=\"nan\"} NaN\n") != std::string::npos);
  BOOST_TEST(text.find("g{k=\"inf\"} +Inf\n") != std::string::npos);
  BOOST_TEST(text.find("g{k=\"ninf\"} -Inf\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_names_ignored) {
  Metrics m;
  m.increment("nobody", {{"a", "b"}});
  m.set("nobody", {}, 3);
  BOOST_TEST(m.value("nobody") == 0);
  BOOST_TEST(m.render().empty());
}

BOOST_AUTO_TEST_CASE(counter_ignores_negative_step_gauge_takes_it) {
  Metrics m;
  m.describe("c", "c", Metrics::Type::counter);
  m.describe("g", "g", Metrics::Type::gauge);
  m.increment("c", {}, 5);
  m.increment("c", {}, -2);
  m.increment("g", {}, 5);
  m.increment("g", {}, -2);
  BOOST_TEST(m.value("c") == 5);
  BOOST_TEST(m.value("g") == 3);
}

BOOST_AUTO_TEST_CASE(value_of_absent_series_is_zero) {
  Metrics m;
  m.describe("c", "c", Metrics::Type::counter);
  m.increment("c", {{"x", "1"}});
  BOOST_TEST(m.value("c", {{"x", "2"}}) == 0);
  BOOST_TEST(m.value("c", {{"x", "1"}}) == 1);
}

BOOST_AUTO_TEST_CASE(collectors_run_before_render) {
  Metrics m;
  m.describe("queue", "q", Metrics::Type::gauge);
  int depth = 4;
  int runs = 0;
  m.add_collector([&](Metrics& self) {
    ++runs;
    self.set("queue", {}, depth);
  });
  BOOST_TEST(m.render().find("queue 4\n") != std::string::npos);
  depth = 7;
  BOOST_TEST(m.render().find("queue 7\n") != std::string::npos);
  BOOST_TEST(runs == 2);
}

BOOST_AUTO_TEST_CASE(describe_again_keeps_series) {
  Metrics m;
  m.describe("c", "old", Metrics::Type::counter);
  m.increment("c");
  m.describe("c", "new", Metrics::Type::counter);
  BOOST_TEST(m.value("c") == 1);
  BOOST_TEST(m.render().find("# HELP c new\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_names_throw) {
  Metrics m;
  BOOST_CHECK_THROW(m.describe("1abc", "x", Metrics::Type::gauge), std::invalid_argument);
  BOOST_CHECK_THROW(m.describe("has space", "x", Metrics::Type::gauge), std::invalid_argument);
  BOOST_CHECK_THROW(m.describe("", "x", Metrics::Type::gauge), std::invalid_argument);
  m.describe("ok:name_1", "x", Metrics::Type::gauge);
  BOOST_CHECK_THROW(m.set("ok:name_1", {{"bad:label", "v"}}, 1), std::invalid_argument);
  BOOST_CHECK_THROW(m.set("ok:name_1", {{"a", "1"}, {"a", "2"}}, 1), std::invalid_argument);
  BOOST_TEST(m.render() == "# HELP ok:name_1 x\n# TYPE ok:name_1 gauge\n");
}

BOOST_AUTO_TEST_SUITE_END()
