// Prepares input batches on a background thread while the caller runs the previous ones: a
// bounded producer/consumer queue, at most `depth` finished batches ahead of the consumer (so
// memory stays at (depth + 2) batches whatever the input count). Inputs come out in input order.
// An input whose load fails (corrupt or unreadable image) is reported in its batch and skipped;
// the others go on.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace intvit {

struct PreparedBatch {
  size_t first = 0;                 // index of this batch's first input
  size_t count = 0;                 // inputs in this batch, loaded or failed
  std::vector<std::string> errors;  // [count]: empty when input first + i loaded
  size_t loaded = 0;                // inputs that loaded
  std::vector<uint8_t> pixels;      // the loaded inputs back to back, in input order
};

class BatchPrefetcher {
 public:
  // load(index, out) writes input `index` (input_bytes bytes) to out, or throws (any exception:
  // its what() becomes the input's error). It runs on the prefetch thread only.
  using LoadFn = std::function<void(size_t index, uint8_t* out)>;

  BatchPrefetcher(size_t inputs, size_t batch, size_t input_bytes, size_t depth, LoadFn load);
  ~BatchPrefetcher();  // stops the prefetch thread (it finishes the input it is on)
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // Waits for the next batch and swaps it into `batch` (whose old buffers are reused for a later
  // batch). False once every input has been handed out. Rethrows a failure of the prefetch
  // thread itself (out of memory), never an input's error.
  bool next(PreparedBatch& batch);

 private:
  void produce();

  const size_t inputs_, batch_, input_bytes_, depth_;
  const LoadFn load_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PreparedBatch> ready_;  // finished, in input order
  std::vector<PreparedBatch> spare_; // buffers handed back by next()
  size_t handed_out_ = 0;            // inputs handed to the consumer
  bool stop_ = false;
  std::exception_ptr failure_;       // the prefetch thread's own failure (not an input's)
  std::thread thread_;
};

}  // namespace intvit
