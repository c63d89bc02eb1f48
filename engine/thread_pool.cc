#include "engine/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <immintrin.h>

namespace intvit {
namespace {

// Busy-waits (pause loop) until done() or ThreadPool::kSpinMicros have passed.
template <typename Done>
void spin_briefly(Done&& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicros);
  while (!done() && std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 16; ++i) _mm_pause();
  }
}

}  // namespace

// If starting the k-th worker throws (std::system_error from pthread_create, std::bad_alloc for
// the thread state), the workers already running are stopped and joined before the exception
// leaves: no destructor runs for a half-built object, and destroying a joinable std::thread (or a
// condition_variable a worker still waits on) would terminate or hang.
ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  try {
    claimed_.assign(static_cast<size_t>(threads_), 0);
    workers_.reserve(static_cast<size_t>(threads_ - 1));
    for (int i = 1; i < threads_; ++i) workers_.emplace_back(&ThreadPool::worker, this, i);
  } catch (...) {
    stop_and_join();
    throw;
  }
}

ThreadPool::~ThreadPool() { stop_and_join(); }

void ThreadPool::stop_and_join() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

// Takes tasks until none are left. Called with the mutex NOT held.
void ThreadPool::drain(int thread) {
  while (true) {
    size_t task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pinned_) {
        // Its own task first, then any task not taken yet. Each task is taken once per step, also
        // by a worker that leaves the previous step's drain late and reaches this step twice (from
        // that drain and again from worker()).
        task = static_cast<size_t>(thread);
        if (claimed_[task]) {
          task = 0;
          while (task < claimed_.size() && claimed_[task]) ++task;
          if (task == claimed_.size()) return;
        }
        claimed_[task] = 1;
      } else {
        if (next_ >= tasks_) return;
        task = next_++;
      }
    }
    try {
      (*fn_)(task, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (++finished_ == tasks_) done_.notify_all();
  }
}

void ThreadPool::worker(int index) {
  unsigned seen = 0;
  while (true) {
    // Spin briefly: the next parallel step of a forward usually follows within microseconds.
    spin_briefly([&] { return generation_.load(std::memory_order_acquire) != seen; });
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(index);
  }
}

void ThreadPool::parallel_for(size_t tasks, TaskRef fn) {
  if (tasks == 0) return;
  if (threads_ == 1 || tasks == 1) {
    for (size_t t = 0; t < tasks; ++t) fn(t, 0);
    return;
  }
  run(tasks, fn, false);
}

void ThreadPool::run_on_each_thread(TaskRef fn) {
  if (threads_ == 1) {
    fn(0, 0);
    return;
  }
  run(static_cast<size_t>(threads_), fn, true);
}

void ThreadPool::run(size_t tasks, const TaskRef& fn, bool pinned) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    pinned_ = pinned;
    std::fill(claimed_.begin(), claimed_.end(), 0);
    tasks_ = tasks;
    next_ = 0;
    finished_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  drain(0);
  // The other threads' last tasks usually end within microseconds: spin before sleeping.
  spin_briefly([&] { return finished_.load(std::memory_order_acquire) == tasks; });
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return finished_ == tasks_; });
  fn_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace intvit
