// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "flaky_store.hpp"
#include "gateway/log.hpp"
#include "gateway/router/confirmed_delivery.hpp"
#include "gateway/store/repositories.hpp"
#include "gateway/store/store_error.hpp"
#include "namespaces.hpp"
#include "run_until.hpp"
#include "stanza.hpp"
#include "temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace {

using trestle::gateway::ConfirmedDelivery;
using trestle::gateway::ConfirmedDeliveryOptions;
using trestle::gateway::DeliveryStream;
using trestle::gateway::Logger;
using trestle::gateway::LogLevel;
using trestle::gateway::Repositories;
using trestle::gateway::Store;
using trestle::gateway::StoreErrc;
using trestle::test::run_until;
using trestle::xmpp::Element;
using trestle::xmpp::Jid;
namespace ns = trestle::xmpp::ns;
using namespace std::chrono_literals;

const std::string component = "mail.example.org";

/// A component stream as the delivery sees it: up or down, and what went out.
struct FakeStream {
  bool up = true;
  bool accept = true;
  std::vector<Element> out;

  DeliveryStream view() {
    return {[this] { return up; },
            [this](const Element& stanza) {
              if (!accept) {
                return false;
              }
              out.push_back(stanza);
              return true;
            }};
  }
  /// The messages that went out, in order (pings left out).
  std::vector<Element> messages() const {
    std::vector<Element> found;
    for (const auto& stanza : out) {
      if (stanza.name() == "message") {
        found.push_back(stanza);
      }
    }
    return found;
  }
  /// The pings that went out.
  std::vector<Element> pings() const {
    std::vector<Element> found;
    for (const auto& stanza : out) {
      if (stanza.name() == "iq" && stanza.find("ping", ns::ping) != nullptr) {
        found.push_back(stanza);
      }
    }
    return found;
  }
};

/// An answer the server gives in place of routing a ping back.
Element answer_to(const Element& ping, const std::string& type = "result") {
  Element answer("iq");
  answer.set_attr("type", type);
  answer.set_attr("id", ping.attr_or("id"));
  answer.set_attr("from", ping.attr_or("to"));
  answer.set_attr("to", ping.attr_or("from"));
  return answer;
}

Element chat(const std::string& id, const std::string& body,
             const std::string& to = "alice@example.org") {
  auto message = trestle::xmpp::make_message(Jid::parse("bob\\40example.com@" + component).value(),
                                             Jid::parse(to).value(), "chat", body);
  message.set_attr("id", id);
  return message;
}

/// A delivery over an inline store, with a loop and a log of its own.
struct Fixture {
  explicit Fixture(Store& store, ConfirmedDeliveryOptions options = quick())
      : log_file(std::tmpfile()), log(LogLevel::debug, log_file),
        repositories(trestle::gateway::inline_repositories(store, nullptr)),
        delivery(std::make_unique<ConfirmedDelivery>(io, component, repositories->undelivered(),
                                                     stream.view(), log, options)) {
    delivery->start();
  }
  ~Fixture() {
    delivery.reset();
    std::fclose(log_file);
  }

  static ConfirmedDeliveryOptions quick() {
    ConfirmedDeliveryOptions options;
    options.confirm_delay = 5ms;
    return options;
  }

  /// Sends through the delivery and runs the loop until it answered.
  bool send(const Element& stanza, std::error_code& ec) {
    std::optional<bool> kept;
    boost::asio::co_spawn(io, delivery->send(stanza, ec),
                          [&kept](const std::exception_ptr& error, bool value) {
                            if (error) {
                              std::rethrow_exception(error);
                            }
                            kept = value;
                          });
    BOOST_REQUIRE(run_until(io, [&] { return kept.has_value(); }));
    return *kept;
  }
  /// Runs the loop until `count` pings are out.
  bool pinged(std::size_t count) {
    return run_until(io, [&] { return stream.pings().size() >= count; });
  }
  /// Routes every ping that is out back, as the server does, and lets the
  /// removals run.
  void answer_pings() {
    for (const auto& ping : stream.pings()) {
      BOOST_TEST(delivery->take_answer(ping));
    }
    run_until(
        io, [] { return false; }, 50ms);
  }

  boost::asio::io_context io;
  std::FILE* log_file;
  Logger log;
  FakeStream stream;
  std::unique_ptr<Repositories> repositories;
  std::unique_ptr<ConfirmedDelivery> delivery;
};

std::size_t kept_in(Store& store) {
  std::error_code ec;
  const auto count = store.count_undelivered(component, ec);
  BOOST_REQUIRE(!ec);
  return count;
}

} // namespace

BOOST_AUTO_TEST_SUITE(confirmed_delivery)

BOOST_AUTO_TEST_CASE(a_stanza_is_kept_until_a_ping_after_it_is_answered) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  Fixture f(*store);
  std::error_code ec;
  BOOST_TEST(f.send(chat("m1", "hello"), ec));
  BOOST_TEST(!ec);
  const auto messages = f.stream.messages();
  BOOST_REQUIRE_EQUAL(messages.size(), 1u);
  const auto& sent = messages[0];
  BOOST_TEST(sent.attr_or("id") == "m1");
  const auto* origin = sent.find("origin-id", ns::sid);
  BOOST_REQUIRE(origin != nullptr);
  BOOST_TEST(origin->attr_or("id") == "m1");
  BOOST_TEST(sent.find("delay", ns::delay) == nullptr); // sent at once: no delay
  BOOST_TEST(kept_in(*store) == 1u);
  BOOST_TEST(f.delivery->waiting() == 1u);

  // The ping goes after the stanza, on the same stream, to the component
  // itself: the server routes it back once it processed the stanza.
  BOOST_REQUIRE(f.pinged(1));
  const auto ping = f.stream.pings()[0];
  BOOST_TEST(ping.attr_or("to") == component);
  BOOST_TEST(ping.attr_or("from") == component);
  BOOST_TEST(ping.attr_or("type") == "get");
  // The same id from anyone else is not a confirmation.
  auto forged = ping;
  forged.set_attr("from", "mallory@example.org");
  BOOST_TEST(!f.delivery->take_answer(forged));
  run_until(
      f.io, [] { return false; }, 20ms);
  BOOST_TEST(kept_in(*store) == 1u);
  // An answer the server gives in its place (an error) confirms it too.
  BOOST_TEST(f.delivery->take_answer(answer_to(ping, "error")));
  BOOST_TEST(run_until(f.io, [&] { return f.delivery->waiting() == 0; }));
  BOOST_TEST(kept_in(*store) == 0u);
  // Other iqs are not its business.
  auto other = answer_to(ping);
  other.set_attr("id", "disco-1");
  BOOST_TEST(!f.delivery->take_answer(other));
}

BOOST_AUTO_TEST_CASE(one_ping_confirms_a_batch) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  auto options = Fixture::quick();
  options.confirm_delay = 10s; // only the batch size asks
  options.confirm_batch = 10;
  Fixture f(*store, options);
  std::error_code ec;
  for (int i = 0; i < 10; ++i) {
    BOOST_REQUIRE(f.send(chat("m" + std::to_string(i), "text"), ec));
  }
  BOOST_REQUIRE_EQUAL(f.stream.pings().size(), 1u);
  f.answer_pings();
  BOOST_TEST(kept_in(*store) == 0u);
}

BOOST_AUTO_TEST_CASE(what_comes_while_the_stream_is_down_goes_out_in_order_when_it_is_up) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  Fixture f(*store);
  f.stream.up = false;
  std::error_code ec;
  for (int i = 0; i < 300; ++i) {
    BOOST_REQUIRE(f.send(chat("m" + std::to_string(i), std::to_string(i)), ec));
  }
  BOOST_TEST(f.stream.out.empty());
  BOOST_TEST(kept_in(*store) == 300u);
  f.stream.up = true;
  f.delivery->stream_up();
  // A new one while the kept ones go out waits behind them.
  BOOST_REQUIRE(f.send(chat("new", "300"), ec));
  BOOST_REQUIRE(run_until(f.io, [&] { return f.stream.messages().size() == 301; }));
  const auto messages = f.stream.messages();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    BOOST_TEST(messages[i].child_text("body") == std::to_string(i));
  }
  // They waited: each says since when (XEP-0203).
  const auto* delay = messages[0].find("delay", ns::delay);
  BOOST_REQUIRE(delay != nullptr);
  BOOST_TEST(delay->attr_or("from") == component);
  // 301 stanzas: two full batches, and the rest after the delay.
  BOOST_REQUIRE(f.pinged(3));
  f.answer_pings();
  BOOST_TEST(kept_in(*store) == 0u);
}

BOOST_AUTO_TEST_CASE(what_was_unconfirmed_when_the_stream_dropped_goes_out_again) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  Fixture f(*store);
  std::error_code ec;
  BOOST_REQUIRE(f.send(chat("m1", "one"), ec));
  BOOST_REQUIRE(f.pinged(1));
  // The stream drops before the answer: the ping's answer never comes.
  f.stream.up = false;
  f.delivery->stream_down();
  BOOST_REQUIRE(f.send(chat("m2", "two"), ec));
  const auto stale = f.stream.pings()[0];
  f.stream.out.clear();
  f.stream.up = true;
  f.delivery->stream_up();
  BOOST_REQUIRE(run_until(f.io, [&] { return f.stream.messages().size() == 2; }));
  const auto messages = f.stream.messages();
  BOOST_TEST(messages[0].attr_or("id") == "m1"); // the same id and origin-id
  BOOST_TEST(messages[0].find("origin-id", ns::sid)->attr_or("id") == "m1");
  BOOST_TEST(messages[1].attr_or("id") == "m2");
  // A ping of the old stream is taken, and confirms nothing.
  BOOST_TEST(f.delivery->take_answer(stale));
  run_until(
      f.io, [] { return false; }, 20ms);
  BOOST_TEST(kept_in(*store) == 2u);
  BOOST_REQUIRE(f.pinged(1));
  f.answer_pings();
  BOOST_TEST(kept_in(*store) == 0u);
}

BOOST_AUTO_TEST_CASE(a_new_run_sends_what_the_last_one_left_unconfirmed) {
  trestle::test::TempDir dir;
  const auto path = dir.path("kept.db");
  {
    auto store = trestle::gateway::open_sqlite_store(path);
    Fixture f(*store);
    std::error_code ec;
    BOOST_REQUIRE(f.send(chat("m1", "before the crash"), ec));
    BOOST_REQUIRE_EQUAL(f.stream.messages().size(), 1u);
  } // no answer: the process died
  auto store = trestle::gateway::open_sqlite_store(path);
  Fixture f(*store);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.stream.messages().size() == 1; }));
  BOOST_TEST(f.stream.messages()[0].attr_or("id") == "m1");
  BOOST_TEST(f.stream.messages()[0].child_text("body") == "before the crash");
  BOOST_TEST(f.delivery->waiting() == 1u);
  BOOST_REQUIRE(f.pinged(1));
  f.answer_pings();
  BOOST_TEST(kept_in(*store) == 0u);
}

BOOST_AUTO_TEST_CASE(stopping_asks_at_once_for_what_is_unconfirmed) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  auto options = Fixture::quick();
  options.confirm_delay = 10s;
  Fixture f(*store, options);
  std::error_code ec;
  BOOST_REQUIRE(f.send(chat("m1", "last words"), ec));
  BOOST_TEST(f.stream.pings().empty());
  f.delivery->stop();
  BOOST_REQUIRE_EQUAL(f.stream.pings().size(), 1u);
  // The answer still counts while the stream closes.
  f.answer_pings();
  BOOST_TEST(kept_in(*store) == 0u);
  // Stopped: nothing more goes out.
  BOOST_TEST(!f.send(chat("m2", "too late"), ec));
}

BOOST_AUTO_TEST_CASE(an_unreadable_kept_stanza_is_dropped_with_an_error_and_the_rest_go_on) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  std::error_code ec;
  store->add_undelivered({0, component, "<message><body>cut", 1, {}}, ec);
  store->add_undelivered(
      {0, component, trestle::xmpp::serialize(chat("m2", "fine"), ns::component), 1, {}}, ec);
  BOOST_REQUIRE(!ec);
  Fixture f(*store);
  BOOST_REQUIRE(run_until(f.io, [&] { return f.stream.messages().size() == 1; }));
  BOOST_TEST(f.stream.messages()[0].attr_or("id") == "m2");
  BOOST_TEST(run_until(f.io, [&] { return kept_in(*store) == 1; })); // the unreadable one is gone
  std::fflush(f.log_file);
  std::rewind(f.log_file);
  std::string log;
  for (int c = std::fgetc(f.log_file); c != EOF; c = std::fgetc(f.log_file)) {
    log += static_cast<char>(c);
  }
  BOOST_TEST(log.find("cannot be read; dropped") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_full_send_queue_leaves_the_rest_for_later) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  Fixture f(*store);
  f.stream.accept = false;
  std::error_code ec;
  BOOST_TEST(f.send(chat("m1", "one"), ec)); // kept, though not sent
  BOOST_TEST(f.send(chat("m2", "two"), ec));
  BOOST_TEST(f.stream.out.empty());
  f.stream.accept = true;
  f.delivery->stream_uncongested();
  BOOST_REQUIRE(run_until(f.io, [&] { return f.stream.messages().size() == 2; }));
  BOOST_TEST(f.stream.messages()[0].attr_or("id") == "m1");
}

BOOST_AUTO_TEST_CASE(beyond_the_limit_it_refuses) {
  auto store = trestle::gateway::open_sqlite_store(":memory:");
  auto options = Fixture::quick();
  options.limit = 3;
  Fixture f(*store, options);
  f.stream.up = false;
  std::error_code ec;
  for (int i = 0; i < 3; ++i) {
    BOOST_REQUIRE(f.send(chat("m" + std::to_string(i), "text"), ec));
  }
  BOOST_TEST(!f.send(chat("m3", "text"), ec));
  BOOST_TEST((ec == StoreErrc::full));
  BOOST_TEST(kept_in(*store) == 3u);
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_write_refuses) {
  trestle::gateway_test::FlakyStore store;
  Fixture f(store);
  store.fail_writes = true;
  std::error_code ec;
  BOOST_TEST(!f.send(chat("m1", "text"), ec));
  BOOST_TEST(static_cast<bool>(ec));
  BOOST_TEST(f.stream.out.empty());
  store.fail_writes = false;
  BOOST_TEST(f.send(chat("m1", "text"), ec));
  BOOST_TEST(f.stream.messages().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
