// Runs many inputs in batches on W threads, each thread loading (decoding) a batch of its own and
// then processing (inferring) it alone: throughput by data parallelism, as a multi-stream engine
// does. No step is shared between threads, so nothing waits at a barrier for a thread the OS
// descheduled, and the W threads are all there is: no extra decode thread competes with W
// inference threads for W cores (which left the pool's workers spinning at every barrier).
// Finished batches are handed to `emit` one at a time and in input order. An input whose load
// fails is reported in its batch and skipped; the others go on. At most 2·W batches are held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace intvit {

struct PreparedBatch {
  size_t first = 0;                 // index of this batch's first input
  size_t count = 0;                 // inputs in this batch, loaded or failed
  std::vector<std::string> errors;  // [count]: empty when input first + i loaded
  size_t loaded = 0;                // inputs that loaded
  std::vector<uint8_t> pixels;      // the loaded inputs back to back, in input order
  std::vector<double> outputs;      // what `process` wrote for the loaded inputs (e.g. their logits)
};

struct BatchWork {
  size_t inputs = 0;       // inputs 0 .. inputs - 1
  size_t batch = 1;        // inputs per batch; the last ones shrink to ceil(left / workers) so
                           // that every thread has work until the end
  size_t input_bytes = 0;  // bytes of one loaded input
  int workers = 1;         // threads, the caller included (workers - 1 are started)
  // Writes input `index` (input_bytes bytes) to out, or throws a std::exception whose what() becomes
  // the input's error. Called on any worker, concurrently: it must be thread-safe.
  std::function<void(size_t index, uint8_t* out)> load;
  // Fills batch.outputs from batch.pixels (batch.loaded >= 1) on worker `worker` in [0, workers);
  // one call at a time per worker, so per-worker state (a session) needs no lock.
  std::function<void(int worker, PreparedBatch& batch)> process;
  // Called once per batch in input order, one call at a time, on any worker.
  std::function<void(const PreparedBatch& batch)> emit;
};

// Returns once every batch has been emitted. When `process` or `emit` throws, a thread cannot start
// or a load throws something other than a std::exception, the other threads stop after the input
// they are on and the first such exception is rethrown here. Error(kInvalidArgument) for
// batch, input_bytes or workers < 1 or a missing callback.
void run_batches_in_order(const BatchWork& work);

}  // namespace intvit
