#include "engine/parallel_batches.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "kernels/error.h"

namespace intvit {
namespace {

// The shared state of one run. Batches are claimed in input order, so the claimed but not yet
// emitted ones are always the inputs [next_emit_, next_claim_): the one at next_emit_ is held by a
// thread that will finish it, which is why waiting for a free slot cannot deadlock.
class BatchScheduler {
 public:
  explicit BatchScheduler(const BatchWork& w) : w_(w), slots_(2 * static_cast<size_t>(w.workers)) {
    for (PreparedBatch& s : slots_) free_.push_back(&s);
  }

  // The body of every thread: never throws, records the first failure and stops the others.
  void work(int worker) noexcept {
    try {
      while (PreparedBatch* b = claim()) {
        if (!load(*b)) return;
        if (b->loaded) w_.process(worker, *b);
        finish(b);
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  void fail(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_) failure_ = e;
      stop_ = true;
    }
    stopping_.store(true, std::memory_order_relaxed);
    changed_.notify_all();
  }

  void rethrow_failure() const {
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  // A free slot holding the next inputs, or null once every input is claimed or on failure.
  PreparedBatch* claim() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return stop_ || next_claim_ >= w_.inputs || !free_.empty(); });
    if (stop_ || next_claim_ >= w_.inputs) return nullptr;
    PreparedBatch* b = free_.back();
    free_.pop_back();
    const size_t left = w_.inputs - next_claim_, workers = static_cast<size_t>(w_.workers);
    b->first = next_claim_;
    b->count = std::min(w_.batch, (left + workers - 1) / workers);
    next_claim_ += b->count;
    return b;
  }

  // Loads the batch's inputs; false when the run is stopping (another thread failed).
  bool load(PreparedBatch& b) {
    b.errors.assign(b.count, std::string());
    b.loaded = 0;
    b.pixels.resize(b.count * w_.input_bytes);  // no reallocation once the slot held a full batch
    for (size_t i = 0; i < b.count; ++i) {
      if (stopping_.load(std::memory_order_relaxed)) return false;
      try {
        w_.load(b.first + i, b.pixels.data() + b.loaded * w_.input_bytes);
        ++b.loaded;
      } catch (const std::exception& e) {
        b.errors[i] = e.what();
        if (b.errors[i].empty()) b.errors[i] = "unknown error";
      }
    }
    b.pixels.resize(b.loaded * w_.input_bytes);
    b.outputs.clear();
    return true;
  }

  // Queues the finished batch; the thread that finds the next batch in order ready emits it and
  // every one after it that is ready too (one emitter at a time).
  void finish(PreparedBatch* b) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.push_back(b);
    if (emitting_) return;  // the emitter looks at done_ again before it stops
    emitting_ = true;
    while (!stop_) {
      const auto next = std::find_if(done_.begin(), done_.end(), [&](const PreparedBatch* d) { return d->first == next_emit_; });
      if (next == done_.end()) break;
      PreparedBatch* e = *next;
      done_.erase(next);
      lock.unlock();
      w_.emit(*e);  // may throw: work() records it, and emitting_ no longer matters
      lock.lock();
      next_emit_ += e->count;
      free_.push_back(e);
      changed_.notify_all();
    }
    emitting_ = false;
  }

  const BatchWork& w_;
  std::vector<PreparedBatch> slots_;  // 2 per worker: one being loaded or run, one done early
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<PreparedBatch*> free_, done_;  // done_: finished, not emitted yet
  size_t next_claim_ = 0, next_emit_ = 0;
  bool emitting_ = false, stop_ = false;
  std::atomic<bool> stopping_{false};  // stop_, read without the lock between two loads
  std::exception_ptr failure_;
};

}  // namespace

void run_batches_in_order(const BatchWork& w) {
  if (w.batch == 0 || w.input_bytes == 0 || w.workers < 1 || !w.load || !w.process || !w.emit) {
    throw Error(ErrorCode::kInvalidArgument, "run_batches_in_order: batch, input_bytes and workers must be positive, callbacks set");
  }
  if (w.inputs == 0) return;
  BatchScheduler scheduler(w);
  const size_t threads = std::min(static_cast<size_t>(w.workers), w.inputs);
  std::vector<std::thread> started;
  try {
    started.reserve(threads - 1);
    for (size_t i = 1; i < threads; ++i) started.emplace_back([&scheduler, i] { scheduler.work(static_cast<int>(i)); });
  } catch (...) {  // a thread could not start: the ones running stop, then the failure is rethrown
    scheduler.fail(std::current_exception());
  }
  scheduler.work(0);
  for (std::thread& t : started) t.join();
  scheduler.rethrow_failure();
}

}  // namespace intvit
