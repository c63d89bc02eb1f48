#include "engine/batch_prefetcher.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "kernels/error.h"

namespace intvit {

BatchPrefetcher::BatchPrefetcher(size_t inputs, size_t batch, size_t input_bytes, size_t depth, LoadFn load)
    : inputs_(inputs), batch_(batch), input_bytes_(input_bytes), depth_(depth), load_(std::move(load)) {
  if (batch_ == 0 || depth_ == 0 || input_bytes_ == 0 || !load_) {
    throw Error(ErrorCode::kInvalidArgument, "BatchPrefetcher: batch, depth and input_bytes must be positive, load set");
  }
  thread_ = std::thread([this] {
    try {
      produce();
    } catch (...) {  // out of memory for a batch buffer: next() rethrows it on the consumer's thread
      std::lock_guard<std::mutex> lock(mutex_);
      failure_ = std::current_exception();
    }
    changed_.notify_all();
  });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BatchPrefetcher::produce() {
  for (size_t first = 0; first < inputs_; first += batch_) {
    PreparedBatch b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_) return;
      if (!spare_.empty()) {
        b = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    b.first = first;
    b.count = std::min(batch_, inputs_ - first);
    b.errors.assign(b.count, std::string());
    b.loaded = 0;
    b.pixels.resize(b.count * input_bytes_);  // no reallocation once a spare has held a full batch
    for (size_t i = 0; i < b.count; ++i) {
      try {
        load_(first + i, b.pixels.data() + b.loaded * input_bytes_);
        ++b.loaded;
      } catch (const std::exception& e) {
        b.errors[i] = e.what();
        if (b.errors[i].empty()) b.errors[i] = "unknown error";
      }
      if (i % 4 == 3) {  // a consumer destroying us early should not wait for a whole batch
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
      }
    }
    b.pixels.resize(b.loaded * input_bytes_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(b));
    }
    changed_.notify_all();
  }
}

bool BatchPrefetcher::next(PreparedBatch& batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (handed_out_ >= inputs_) return false;
  changed_.wait(lock, [&] { return !ready_.empty() || failure_; });
  if (ready_.empty()) std::rethrow_exception(failure_);
  if (batch.pixels.capacity() != 0) spare_.push_back(std::move(batch));
  batch = std::move(ready_.front());
  ready_.pop_front();
  handed_out_ += batch.count;
  lock.unlock();
  changed_.notify_all();
  return true;
}

}  // namespace intvit
