#include "store_thread.hpp"

namespace trestle::gateway::store_detail {

StoreThread::StoreThread(std::unique_ptr<Store> writer, std::unique_ptr<Store> reader,
                         StoreThreadOptions options, StoreErrorReport on_error)
    : options_(options), on_error_(std::move(on_error)),
      writer_(std::make_unique<Worker>(std::move(writer))),
      reader_(reader ? std::make_unique<Worker>(std::move(reader)) : nullptr) {}

StoreThread::~StoreThread() {
  // join() lets the queued calls finish; the pools' own destructors would
  // drop them.
  if (reader_) {
    reader_->thread.join();
  }
  if (writer_) {
    writer_->thread.join();
  }
}

void StoreThread::watch(const std::shared_ptr<Waiting>& waiting) {
  if (!watchdog_) {
    watchdog_.emplace(waiting->timer.get_executor());
  }
  // Answers mostly come in order: dropping the answered ones in front keeps
  // the list (and the calls' memory, which a weak reference holds) small.
  while (!watched_.empty()) {
    const auto front = watched_.front().lock();
    if (front && !front->answered) {
      break;
    }
    watched_.pop_front();
  }
  watched_.push_back(waiting);
  if (!watchdog_armed_) {
    arm_watchdog();
  }
}

void StoreThread::arm_watchdog() {
  // The answered calls in front need no watching; the first one that waits
  // sets the time.
  while (!watched_.empty()) {
    const auto front = watched_.front().lock();
    if (front && !front->answered) {
      break;
    }
    watched_.pop_front();
  }
  if (watched_.empty()) {
    watchdog_armed_ = false;
    return;
  }
  watchdog_armed_ = true;
  watchdog_->expires_at(watched_.front().lock()->give_up_at);
  watchdog_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      on_watchdog();
    }
  });
}

void StoreThread::on_watchdog() {
  const auto now = std::chrono::steady_clock::now();
  while (!watched_.empty()) {
    const auto front = watched_.front().lock();
    if (front && !front->answered) {
      if (front->give_up_at > now) {
        break;
      }
      front->expired = true;
      front->timer.cancel();
    }
    watched_.pop_front();
  }
  arm_watchdog();
}

void StoreThread::close_group(Store& store) {
  std::error_code ec;
  store.end_batch(true, ec);
  group_open_ = false;
  auto answers = std::move(group_answers_);
  group_answers_.clear();
  for (auto& wake : answers) {
    wake(ec);
  }
}

} // namespace trestle::gateway::store_detail
