#pragma once

#include "adapter.hpp"
#include "log.hpp"
#include "repositories.hpp"
#include "store.hpp"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace trestle::protocols_test {

/// An AdapterContext that records what an adapter sends and logs.
class FakeAdapterContext final : public gateway::AdapterContext {
public:
  /// `store` may be null for adapters that never use it.
  explicit FakeAdapterContext(std::string_view domain, gateway::Store* store = nullptr)
      : domain_(xmpp::Jid::parse(domain).value()), store_(store), log_file_(std::tmpfile()),
        logger_(gateway::LogLevel::debug, log_file_) {
    if (log_file_ == nullptr) {
      throw std::runtime_error("cannot create a temporary log file");
    }
  }
  ~FakeAdapterContext() override { std::fclose(log_file_); }
  FakeAdapterContext(const FakeAdapterContext&) = delete;
  FakeAdapterContext& operator=(const FakeAdapterContext&) = delete;

  /// The domain given at construction.
  const xmpp::Jid& domain() const override { return domain_; }
  /// Records `stanza` in `sent`, or refuses it when `accept_sends` is false.
  bool send(xmpp::Element stanza) override {
    if (!accept_sends) {
      return false;
    }
    sent.push_back(std::move(stanza));
    return true;
  }
  /// Keeps the stanza in the store, then sends it when `ready`; else it
  /// waits in `unsent`.
  using gateway::AdapterContext::send_confirmed;
  gateway::Awaitable<bool> send_confirmed(const xmpp::Element& stanza,
                                          const std::vector<gateway::Correlation>& remember,
                                          std::error_code& ec) override {
    const gateway::Undelivered record{0, domain_.domain(), xmpp::serialize(stanza), 0, remember};
    const auto id = co_await repositories().undelivered().add(record, ec);
    if (ec) {
      co_return false;
    }
    if (id == 0) {
      co_return true; // taken before (IfPresent::refuse): not again
    }
    if (!ready || !send(stanza)) {
      unsent.push_back(stanza);
    }
    co_return true;
  }
  /// The store given at construction, for tests to look into; a test that
  /// gave none fails loudly.
  gateway::Store& store() {
    if (store_ == nullptr) {
      throw std::logic_error("this test gave the adapter no store");
    }
    return *store_;
  }
  /// Repositories running inline on the store given at construction.
  gateway::Repositories& repositories() override {
    if (!repositories_) {
      repositories_ = gateway::inline_repositories(store(), nullptr);
    }
    return *repositories_;
  }
  /// A debug-level logger writing to a temporary file (see log_text()).
  gateway::Logger& log() override { return logger_; }
  /// An event loop of its own, run by the tests that need one.
  boost::asio::io_context& io() override { return io_; }
  /// True unless the user's bare JID is in `refused_users`; fails with
  /// `user_check_error` when that is set.
  gateway::Awaitable<bool> user_allowed(const xmpp::Jid& user, std::error_code& ec) override {
    if (user_check_error) {
      ec = user_check_error;
      co_return false;
    }
    co_return std::find(refused_users.begin(), refused_users.end(), user.bare_string()) ==
        refused_users.end();
  }

  /// `admin_jids`.
  std::vector<xmpp::Jid> admins() const override { return admin_jids; }
  /// Records the handler in `routes`; a path taken twice throws, as the gateway does.
  void add_http_route(const std::string& path, gateway::HttpHandler handler) override {
    if (!routes.emplace(path, std::move(handler)).second) {
      throw std::runtime_error("the HTTP path " + path + " is taken already");
    }
  }
  /// Calls the handler of `path` with `request` and returns its answer (a
  /// 599 when it did not answer at once).
  gateway::HttpResponse call_route(const std::string& path, gateway::HttpRequest request) {
    gateway::HttpResponse answer;
    answer.status = 599;
    request.path = path;
    routes.at(path)(request, [&answer](gateway::HttpResponse response) { answer = response; });
    // A handler that awaits the (inline) store answers once the loop runs.
    poll_until([&] { return answer.status != 599; });
    return answer;
  }

  /// Runs `work` on io() to its end and gives its result (the store is
  /// inline, so the loop has only ready work to do).
  template <typename T> T run(gateway::Awaitable<T> work) {
    std::optional<T> result;
    boost::asio::co_spawn(io_, std::move(work),
                          [&result](const std::exception_ptr& error, T value) {
                            if (error) {
                              std::rethrow_exception(error);
                            }
                            result = std::move(value);
                          });
    if (!poll_until([&] { return result.has_value(); })) {
      throw std::runtime_error("the coroutine did not finish");
    }
    return std::move(*result);
  }

  /// Runs `work` on io() to its end.
  void run(gateway::Awaitable<void> work) { run(ended(std::move(work))); }

  /// Hands `stanza` (from a user) to `adapter` as the router does: read
  /// into a typed event and handled to its end (a stanza that is no event,
  /// an error, is not handed over).
  void deliver(gateway::Adapter& adapter, const xmpp::Element& stanza) {
    if (const auto event = gateway::read_user_event(stanza)) {
      run(adapter.handle(*event));
    }
  }

  /// Starts `work` (an adapter's or an outbox's run()) on io() as the app
  /// does; stop_run() cancels it. An error it throws comes out of the loop.
  void start_run(gateway::Awaitable<void> work) {
    run_ended_ = false;
    boost::asio::co_spawn(
        io_, std::move(work),
        boost::asio::bind_cancellation_slot(stop_.slot(), [this](const std::exception_ptr& error) {
          run_ended_ = true;
          if (error) {
            std::rethrow_exception(error);
          }
        }));
  }
  /// Cancels what start_run() started and runs the loop until it ended;
  /// returns whether it did.
  bool stop_run() {
    stop_.emit(boost::asio::cancellation_type::terminal);
    return poll_until([this] { return run_ended_; });
  }
  /// Whether what start_run() started has ended.
  bool run_ended() const { return run_ended_; }

  /// Runs what is ready on io() (what start_run() started, for one).
  void run_ready() {
    poll_until([] { return false; });
  }

  /// Runs the ready work of io() until `done()` holds (the store is inline,
  /// so nothing waits on time); returns whether it does.
  template <typename Done> bool poll_until(Done&& done) {
    for (int round = 0; round < 100 && !done(); ++round) {
      io_.restart();
      io_.poll();
    }
    return done();
  }

  /// Everything logged so far.
  std::string log_text() {
    std::fflush(log_file_);
    std::rewind(log_file_);
    std::string text;
    for (int c = std::fgetc(log_file_); c != EOF; c = std::fgetc(log_file_)) {
      text += static_cast<char>(c);
    }
    return text;
  }

  /// Stanzas the adapter sent, in order.
  std::vector<xmpp::Element> sent;
  /// Stanzas send_confirmed() kept but could not send.
  std::vector<xmpp::Element> unsent;
  /// When false, send() refuses like a full send queue.
  bool accept_sends = true;
  /// Whether send_confirmed() finds the stream up (else what it keeps waits
  /// in `unsent`).
  bool ready = true;
  /// Bare JIDs that user_allowed() refuses.
  std::vector<std::string> refused_users;
  /// When set, user_allowed() fails with it (the store could not say).
  std::error_code user_check_error;
  /// What admins() answers.
  std::vector<xmpp::Jid> admin_jids;
  /// The adapter's webhooks, by path.
  std::map<std::string, gateway::HttpHandler> routes;

private:
  boost::asio::cancellation_signal stop_;
  bool run_ended_ = true;
  /// `work`, answering true once it ended, for run().
  static gateway::Awaitable<bool> ended(gateway::Awaitable<void> work) {
    co_await std::move(work);
    co_return true;
  }

  boost::asio::io_context io_;
  xmpp::Jid domain_;
  gateway::Store* store_;
  std::unique_ptr<gateway::Repositories> repositories_;
  std::FILE* log_file_;
  gateway::Logger logger_;
};

} // namespace trestle::protocols_test
