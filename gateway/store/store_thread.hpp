#pragma once

// Runs blocking store calls off the event loop: on a thread of the store's
// own, with a deadline and a bounded queue. Internal to the gateway_store
// library; the loop sees repositories.hpp.

#include "repositories.hpp"
#include "store_error.hpp"

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace trestle::gateway::store_detail {

/// What a call that answers nothing returns on the store's thread.
struct Done {};

/// What a call of result T keeps: T, or Done for void.
template <typename T> using Stored = std::conditional_t<std::is_void_v<T>, Done, T>;

/// Which connection a call needs: a read (the reader's, in parallel), a
/// write (the writer's, in order, grouped with the writes queued behind it
/// into one transaction), or a write that must run outside any transaction
/// (a WAL checkpoint).
enum class Side { read, write, write_alone };

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
    ++queued_;
    if (side == Side::read && reader_) {
      state->worker = reader_.get();
      boost::asio::post(state->worker->thread, [this, state] { run(state); });
    } else {
      state->worker = writer_.get();
      ++writes_waiting_;
      boost::asio::post(state->worker->thread,
                        [this, state, alone = side == Side::write_alone] { write(state, alone); });
    }
    // Not cancellable: a call runs to its answer or its deadline, so that
    // a caller cancelled meanwhile (a shutdown) knows what was written.
    boost::system::error_code waited;
    co_await state->timer.async_wait(boost::asio::bind_cancellation_slot(
        boost::asio::cancellation_slot(),
        boost::asio::redirect_error(boost::asio::use_awaitable, waited)));
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

  /// On the reader's thread: runs the job unless its caller gave up
  /// already, then wakes the caller.
  template <typename T, typename Job> void run(std::shared_ptr<Pending<T, Job>> state) {
    if (std::chrono::steady_clock::now() < state->give_up_at) {
      state->value = (*state->job)(*state->worker->store, state->error);
    } else {
      state->error = StoreErrc::timeout;
    }
    state->job.reset();
    --queued_;
    answer(std::move(state));
  }

  /// On the writer's thread: like run(), but while more writes wait behind
  /// it, the job joins a group that is committed as one transaction (group
  /// commit), and its caller is woken only once the group is committed.
  template <typename T, typename Job>
  void write(std::shared_ptr<Pending<T, Job>> state, bool alone) {
    --writes_waiting_;
    auto& store = *state->worker->store;
    if (alone && group_open_) {
      close_group(store);
    }
    if (std::chrono::steady_clock::now() >= state->give_up_at) {
      state->error = StoreErrc::timeout;
      state->job.reset();
      --queued_;
      answer(std::move(state));
      return;
    }
    if (!alone && !group_open_ && writes_waiting_.load() > 0) {
      std::error_code ec;
      store.begin_batch(ec);
      group_open_ = !ec;
    }
    state->value = (*state->job)(store, state->error);
    state->job.reset();
    --queued_;
    if (!group_open_) {
      answer(std::move(state));
      return;
    }
    group_answers_.push_back([state = std::move(state)](const std::error_code& failed) mutable {
      if (failed && !state->error) {
        state->error = failed; // rolled back with the group
      }
      answer(std::move(state));
    });
    if (writes_waiting_.load() == 0 || group_answers_.size() >= max_group) {
      close_group(store);
    }
  }

  /// On the writer's thread: commits the open group and wakes its callers.
  void close_group(Store& store);

  /// Wakes the caller of `state` on its own executor.
  template <typename T, typename Job> static void answer(std::shared_ptr<Pending<T, Job>> state) {
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
  /// Writes queued and not started, for group commit.
  std::atomic<std::size_t> writes_waiting_{0};
  /// Writes in one group at most.
  static constexpr std::size_t max_group = 64;
  // The writer's thread only: the group being written, and how to wake the
  // callers of its writes once it is committed.
  bool group_open_ = false;
  std::vector<std::function<void(const std::error_code&)>> group_answers_;
  // Destroyed (joined) before the fields above, which queued calls use.
  std::unique_ptr<Worker> writer_;
  std::unique_ptr<Worker> reader_;
};

} // namespace trestle::gateway::store_detail
