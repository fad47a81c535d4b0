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
