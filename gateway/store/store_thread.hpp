#pragma once

// Runs blocking store calls off the event loop: on a thread of the store's
// own, with a deadline and a bounded queue. Internal to the gateway_store
// library; the loop sees repositories.hpp.

#include "repositories.hpp"
#include "store_error.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace trestle::gateway::store_detail {

/// What a call that answers nothing returns on the store's thread.
struct Done {};

/// What a call of result T keeps: T, or Done for void.
template <typename T> using Stored = std::conditional_t<std::is_void_v<T>, Done, T>;

/// Which connection a call needs.
enum class Side { read, write };

/// One connection and the single thread that uses it.
struct Worker {
  explicit Worker(std::unique_ptr<Store> connection) : store(std::move(connection)) {}
  std::unique_ptr<Store> store;
  boost::asio::thread_pool thread{1};
};

/// Runs each call either at once on the caller's thread (inline) or on the
/// writer's or the reader's thread, and gives the answer back on the
/// caller's executor. A call not answered within the deadline fails with
/// StoreErrc::timeout: if it had not started by then, it never runs; if it
/// had, it may still finish, so a timed-out write may have been done (the
/// callers' refusals are temporary, and what they retry is idempotent or
/// delivered at least once).
class StoreThread {
public:
  /// Inline: calls run on `store` at once.
  StoreThread(Store& store, StoreErrorReport on_error)
      : inline_store_(&store), on_error_(std::move(on_error)) {}
  /// Threaded. `reader` may be null: reads then go to the writer.
  StoreThread(std::unique_ptr<Store> writer, std::unique_ptr<Store> reader,
              StoreThreadOptions options, StoreErrorReport on_error);
  /// Waits for the calls already queued, so that every accepted write is done.
  ~StoreThread();
  StoreThread(const StoreThread&) = delete;
  StoreThread& operator=(const StoreThread&) = delete;

  /// Runs `job(Store&, std::error_code&) -> T` and returns its answer; on
  /// failure `ec` says why and the answer is `failed`. T may be void (the
  /// job then returns Done).
  template <typename T, typename Job>
  Awaitable<T> call(Side side, Job job, std::error_code& ec, Stored<T> failed = {}) {
    ec.clear();
    // The job moves into shared state before anything captures it: GCC 12
    // destroys a coroutine parameter twice when a lambda init-captures it.
    auto state = std::make_shared<Pending<T, Job>>(co_await boost::asio::this_coro::executor,
                                                   std::move(job));
    if (inline_store_ != nullptr) {
      state->value = (*state->job)(*inline_store_, ec);
      report(ec);
      co_return finish<T>(ec ? std::move(failed) : std::move(*state->value));
    }
    if (queued_.load() >= options_.max_queued) {
      ec = StoreErrc::busy;
      report(ec);
      co_return finish<T>(std::move(failed));
    }
    state->timer.expires_after(options_.deadline);
    state->give_up_at = std::chrono::steady_clock::now() + options_.deadline;
    state->worker = side == Side::read && reader_ ? reader_.get() : writer_.get();
    ++queued_;
    boost::asio::post(state->worker->thread, [this, state] { run(state); });
    boost::system::error_code waited;
    co_await state->timer.async_wait(
        boost::asio::redirect_error(boost::asio::use_awaitable, waited));
    ec = state->answered ? state->error : make_error_code(StoreErrc::timeout);
    report(ec);
    co_return finish<T>(ec ? std::move(failed) : std::move(*state->value));
  }

private:
  /// A call between its queueing and its answer; shared with the store's
  /// thread, which may finish it after the caller gave up.
  template <typename T, typename Job> struct Pending {
    Pending(const boost::asio::any_io_executor& executor, Job&& call)
        : timer(executor), job(std::move(call)) {}
    boost::asio::steady_timer timer;
    std::optional<Job> job;
    Worker* worker = nullptr;
    std::chrono::steady_clock::time_point give_up_at;
    std::optional<Stored<T>> value;
    std::error_code error;
    bool answered = false;
  };

  /// On the store's thread: runs the job unless its caller gave up already,
  /// then wakes the caller.
  template <typename T, typename Job> void run(std::shared_ptr<Pending<T, Job>> state) {
    if (std::chrono::steady_clock::now() < state->give_up_at) {
      state->value = (*state->job)(*state->worker->store, state->error);
    } else {
      state->error = StoreErrc::timeout;
    }
    state->job.reset();
    --queued_;
    auto executor = state->timer.get_executor();
    boost::asio::post(executor, [state = std::move(state)] {
      state->answered = true;
      state->timer.cancel();
    });
  }

  template <typename T> static T finish(Stored<T>&& value) {
    if constexpr (!std::is_void_v<T>) {
      return std::move(value);
    }
  }

  void report(const std::error_code& ec) const {
    if (ec && on_error_) {
      on_error_(ec);
    }
  }

  Store* inline_store_ = nullptr;
  StoreThreadOptions options_;
  StoreErrorReport on_error_;
  /// Calls queued or running, against options_.max_queued.
  std::atomic<std::size_t> queued_{0};
  // Destroyed (joined) before the fields above, which queued calls use.
  std::unique_ptr<Worker> writer_;
  std::unique_ptr<Worker> reader_;
};

} // namespace trestle::gateway::store_detail
