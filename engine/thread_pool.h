// A fixed pool of worker threads for the executor. One parallel_for at a time per pool; the
// calling thread takes part, so a pool of N threads starts N - 1 workers. Work is handed out as
// task indices; the callback is called once per task (never per element), and nothing allocates
// per call. A forward issues dozens of short parallel steps (~0.1 ms each at batch 1), so a
// worker that finished one spins for kSpinMicros before sleeping: waking a sleeping thread costs
// tens of microseconds under a hypervisor, long enough for the caller to do all the tasks alone.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace intvit {

// A non-owning reference to a callable (no allocation, unlike std::function): valid while the
// referenced callable is alive, which parallel_for guarantees by blocking.
class TaskRef {
 public:
  template <typename Fn>
  TaskRef(Fn& fn) : object_(&fn), call_([](void* o, size_t task, int thread) { (*static_cast<Fn*>(o))(task, thread); }) {}
  void operator()(size_t task, int thread) const { call_(object_, task, thread); }

 private:
  void* object_;
  void (*call_)(void*, size_t, int);
};

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  static constexpr int kSpinMicros = 200;

  int threads() const { return threads_; }
  // Runs fn(task, thread) for task in [0, tasks); thread in [0, threads()) identifies the
  // calling worker (for per-thread scratch). Returns when all tasks are done; rethrows the first
  // exception a task threw.
  void parallel_for(size_t tasks, TaskRef fn);
  template <typename Fn>
  void parallel_for(size_t tasks, Fn&& fn) {
    parallel_for(tasks, TaskRef(fn));
  }
  // Runs fn(task, thread) once for each task in [0, threads()), task t on thread t, so data a
  // thread wrote in one step is in its own core's caches for the next step that takes the same t
  // (use for equal shares of work). A thread that has run its own task takes any task whose thread
  // has not started it yet: a thread that another process keeps off its core then costs locality,
  // not the step (measured on 2 cores with one busy process: batch 1 at 2 threads 65-80 images/s
  // with strict pinning, 101-123 with none).
  void run_on_each_thread(TaskRef fn);
  template <typename Fn>
  void run_on_each_thread(Fn&& fn) {
    run_on_each_thread(TaskRef(fn));
  }

 private:
  void worker(int index);
  void drain(int thread);
  void run(size_t tasks, const TaskRef& fn, bool pinned);
  // Sets stop_, wakes every worker and joins it; used by the destructor and by a constructor
  // that failed to start a worker.
  void stop_and_join() noexcept;

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const TaskRef* fn_ = nullptr;
  size_t tasks_ = 0, next_ = 0;
  bool pinned_ = false;  // run_on_each_thread: each thread takes its own task first
  std::vector<char> claimed_;  // run_on_each_thread: task t has been taken (under mutex_)
  std::atomic<size_t> finished_{0};       // written under mutex_, read lock-free while spinning
  std::atomic<unsigned> generation_{0};  // written under mutex_, read lock-free while spinning
  bool stop_ = false;
  std::exception_ptr error_;
};

// Splits [0, n) into `parts` contiguous ranges of near-equal size; returns range `i`.
inline std::pair<size_t, size_t> split_range(size_t n, size_t parts, size_t i) {
  const size_t base = n / parts, extra = n % parts;
  const size_t begin = i * base + (i < extra ? i : extra);
  return {begin, begin + base + (i < extra ? 1 : 0)};
}

}  // namespace intvit
