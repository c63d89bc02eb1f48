// Concurrency: the thread pool alone under many rounds (every task once, results visible to the
// caller, exceptions rethrown), a pool whose k-th worker cannot start, and many threads each
// with their own C API sessions (1 and 2 threads, several backends, cropped and batch runs) on
// one shared model, every output equal to a single-threaded reference run.
//
// Written to be run under ThreadSanitizer (tests/tsan/run_tsan.sh runs the tag [concurrency]);
// in a normal build they are ordinary tests of the same properties, and take about a second.
// Backends follow $INTVIT_ISA where a session asks for the default: under TSan the script sets
// INTVIT_ISA=avx2 so that no session runs oneDNN (uninstrumented, OpenMP), see the script.
#include <sys/resource.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "c_api_fixture.h"
#include "engine/thread_pool.h"

using namespace intvit;
using namespace intvit::test::c_api;

TEST_CASE("concurrency: thread pool rounds run every task once and rethrow", "[concurrency][thread_pool]") {
  constexpr int kRounds = 3000;
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    REQUIRE(pool.threads() == threads);
    // Plain (non-atomic) per-task slots: each is written by whichever worker takes the task and
    // read by the caller after parallel_for returns, so TSan checks that the return orders them.
    std::vector<int> hits(16), worker(16);
    long total = 0, want_total = 0, bad = 0, rethrown = 0;
    for (int round = 0; round < kRounds; ++round) {
      const size_t tasks = static_cast<size_t>(round % 17);  // 0, 1 (inline) and up to 16
      want_total += static_cast<long>(tasks);
      std::fill(hits.begin(), hits.end(), 0);
      const bool throws = round % 50 == 7 && tasks > 2;
      try {
        pool.parallel_for(tasks, [&](size_t task, int thread) {
          ++hits[task];
          worker[task] = thread;
          if (throws && task == tasks / 2) throw std::runtime_error("task failed");
        });
      } catch (const std::runtime_error&) {
        ++rethrown;
      }
      if (round % 10 == 3) {
        // Rendezvous: one task per thread, each waits until all have started, so every worker
        // must wake and take part (a pool that left a worker asleep would hang here).
        std::atomic<int> arrived{0};
        std::vector<int> seen(static_cast<size_t>(threads), 0);
        pool.parallel_for(static_cast<size_t>(threads), [&](size_t, int thread) {
          ++seen[static_cast<size_t>(thread)];
          ++arrived;
          while (arrived.load() < threads) std::this_thread::yield();
        });
        for (int n : seen) bad += n != 1;
      }
      for (size_t t = 0; t < tasks; ++t) {
        bad += hits[t] != 1 || worker[t] < 0 || worker[t] >= threads;
        total += hits[t];
      }
    }
    INFO("threads " << threads);
    CHECK(bad == 0);
    CHECK(total == want_total);  // a task that throws still ran, and so did all the others
    CHECK(rethrown > 0);
  }
}

TEST_CASE("concurrency: run_on_each_thread runs each task once, between parallel_for rounds",
          "[concurrency][thread_pool]") {
  constexpr int kRounds = 3000;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    // Plain slots, read after the call returns (TSan checks the ordering). Pinned steps follow
    // dynamic ones directly: a worker still leaving the previous step's drain must not run a
    // pinned task twice (it once could reach the pinned step from both drain calls). A task runs
    // on its own thread or, taken from a late one, on another.
    std::vector<int> runs(static_cast<size_t>(threads)), on_thread(static_cast<size_t>(threads));
    long bad = 0, rethrown = 0, dynamic_total = 0, taken = 0;
    for (int round = 0; round < kRounds; ++round) {
      std::atomic<long> done{0};
      pool.parallel_for(static_cast<size_t>(round % 5), [&](size_t, int) { ++done; });
      dynamic_total += done.load() - round % 5;
      std::fill(runs.begin(), runs.end(), 0);
      std::fill(on_thread.begin(), on_thread.end(), -1);
      const bool throws = round % 100 == 9;
      try {
        pool.run_on_each_thread([&](size_t task, int thread) {
          ++runs[task];
          on_thread[task] = thread;
          if (throws && task + 1 == static_cast<size_t>(threads)) throw std::runtime_error("task failed");
        });
      } catch (const std::runtime_error&) {
        ++rethrown;
      }
      for (int t = 0; t < threads; ++t) {
        const int ran_on = on_thread[static_cast<size_t>(t)];
        bad += runs[static_cast<size_t>(t)] != 1 || ran_on < 0 || ran_on >= threads;
        taken += ran_on != t;
      }
    }
    INFO("threads " << threads << ", tasks taken from another thread " << taken);
    CHECK(bad == 0);
    CHECK(dynamic_total == 0);
    CHECK(rethrown == kRounds / 100);
  }
}

// A worker asleep when a pinned step starts (idle longer than ThreadPool::kSpinMicros) takes tens
// of microseconds to wake; the caller, done with its own tiny task, takes the sleeper's task
// instead of waiting for it. Over many such steps that must happen (it is what keeps a step from
// waiting on a thread another process holds off its core); every task still runs exactly once.
TEST_CASE("concurrency: run_on_each_thread does not wait for a late thread's task", "[concurrency][thread_pool]") {
  ThreadPool pool(2);
  int taken = 0, bad = 0;
  for (int round = 0; round < 40; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(2 * ThreadPool::kSpinMicros + 300));  // the worker sleeps
    int runs[2] = {0, 0}, on_thread[2] = {-1, -1};
    pool.run_on_each_thread([&](size_t task, int thread) {
      ++runs[task];
      on_thread[task] = thread;
    });
    bad += runs[0] != 1 || runs[1] != 1;
    taken += on_thread[1] == 0 || on_thread[0] == 1;
  }
  CHECK(bad == 0);
  CHECK(taken > 0);
}

TEST_CASE("concurrency: several pools driven from several threads at once", "[concurrency][thread_pool]") {
  constexpr int kCallers = 4, kRounds = 1500;
  std::vector<long> sums(kCallers, 0);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      ThreadPool pool(1 + c % 3);
      std::vector<long> partial(8);
      for (int round = 0; round < kRounds; ++round) {
        std::fill(partial.begin(), partial.end(), 0);
        pool.parallel_for(partial.size(), [&](size_t task, int) { partial[task] = static_cast<long>(task) + round; });
        for (long p : partial) sums[c] += p;
      }
    });
  }
  for (auto& t : callers) t.join();
  // sum over rounds of (0 + ... + 7) + 8 * round
  const long want = kRounds * 28L + 8L * (static_cast<long>(kRounds) * (kRounds - 1) / 2);
  for (int c = 0; c < kCallers; ++c) CHECK(sums[c] == want);
}

namespace {

long vm_size_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stol(line.substr(7));
  }
  return -1;
}

// While alive: new threads get `stack` bytes of stack (pthread_setattr_default_np, which
// std::thread's pthread_create(NULL attributes) uses) and the address space may grow by only
// `headroom` bytes, so that exactly the first headroom / stack threads can start.
class ThreadStartLimit {
 public:
  ThreadStartLimit(size_t stack, size_t headroom) {
    ok_ = pthread_getattr_default_np(&saved_attr_) == 0 && getrlimit(RLIMIT_AS, &saved_limit_) == 0;
    if (!ok_) return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    ok_ = pthread_setattr_default_np(&attr) == 0;
    pthread_attr_destroy(&attr);
    const long vm = vm_size_kib();
    if (!ok_ || vm <= 0) return;
    rlimit limit = saved_limit_;
    limit.rlim_cur = static_cast<rlim_t>(vm) * 1024 + headroom;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_cur > limit.rlim_max) limit.rlim_cur = limit.rlim_max;
    limited_ = setrlimit(RLIMIT_AS, &limit) == 0;
  }
  ~ThreadStartLimit() {
    if (limited_) setrlimit(RLIMIT_AS, &saved_limit_);
    if (ok_) pthread_setattr_default_np(&saved_attr_);
    pthread_attr_destroy(&saved_attr_);
  }
  bool active() const { return ok_ && limited_; }

 private:
  pthread_attr_t saved_attr_;
  rlimit saved_limit_{};
  bool ok_ = false, limited_ = false;
};

}  // namespace

// ThreadPool's constructor when pthread_create fails for a later worker (std::system_error,
// EAGAIN): the workers already started must be stopped and joined before the exception leaves,
// else the half-built pool's joinable std::thread calls std::terminate. (The std::bad_alloc side
// is tests/c_api_alloc/c_api_alloc_test.cc "[c_api_pool_oom]", which injects failing allocations.)
TEST_CASE("concurrency: a pool whose third worker cannot start stops the others", "[concurrency][thread_pool]") {
  constexpr size_t kStack = 256u << 20, kHeadroom = kStack * 5 / 2;  // room for 2 stacks, not 3
  ModelPtr model{load_tiny()};
  std::string what;
  int started_ok = 0;
  intvit_status st = INTVIT_OK;
  intvit_session* s = sentinel<intvit_session>();
  {
    ThreadStartLimit limit(kStack, kHeadroom);
    if (!limit.active()) {
      WARN("SKIPPED: cannot limit the address space or the default thread stack here");
      return;
    }
    try {
      ThreadPool pool(4);  // three workers: the third cannot start
      started_ok = 1;
    } catch (const std::system_error& e) {
      what = e.what();
    } catch (const std::bad_alloc&) {
      what = "bad_alloc";
    }
    // The same through the C API: a failure status, no session, no crash.
    st = intvit_session_create(model.p, 4, nullptr, &s);
  }
  std::printf("pool with an unstartable worker: %s; session: %s (%s)\n", what.c_str(), intvit_status_string(st),
              intvit_last_error());
  CHECK(started_ok == 0);
  CHECK(!what.empty());
  CHECK(st != INTVIT_OK);
  CHECK(s == nullptr);
  // Limits restored: pools and sessions start again.
  ThreadPool pool(4);
  CHECK(pool.threads() == 4);
  SessionPtr session{new_session(model.p, 4)};
  const auto input = random_inputs(tiny_config(), 1, 3)[0];
  std::vector<int32_t> logits(tiny_config().num_classes);
  CHECK(intvit_session_run_cropped_into(session.p, input.data(), logits.data(), logits.size()) == INTVIT_OK);
}

TEST_CASE("concurrency: threads with own sessions on one shared model give single-thread bits",
          "[concurrency][c_api]") {
  const ViTConfig c = tiny_config();
  const size_t classes = c.num_classes;
  const auto inputs = random_inputs(c, 12, 2024);
  std::vector<uint8_t> batch;
  for (const auto& in : inputs) batch.insert(batch.end(), in.begin(), in.end());
  // Reference: one session, one thread, the reference backend, on its own model handle.
  std::vector<int32_t> want(inputs.size() * classes);
  {
    ModelPtr m{load_tiny()};
    SessionPtr s{new_session(m.p, 1, "ref")};
    for (size_t i = 0; i < inputs.size(); ++i) {
      REQUIRE(intvit_session_run_cropped_into(s.p, inputs[i].data(), &want[i * classes], classes) == INTVIT_OK);
    }
  }
  // A fresh model: sessions asking for a backend other than the load-time default pack it on
  // first use, concurrently. Each thread owns two sessions, one with 1 worker thread (backend
  // below; "ref" is slow under TSan, so only this one uses it) and one with 2 (the default
  // backend), and alternates between them; every 25th step is a batch run over all inputs on the
  // 2-thread session (its pool spreads the images).
  // 4 threads x 500 steps = 2000 runs, 80 of them batches of 12 images: 2880 images.
  ModelPtr shared{load_tiny()};
  const char* backends[] = {nullptr, "ref", "avx2", nullptr};
  constexpr int kThreads = 4, kSteps = 500, kBatchEvery = 25;
  std::vector<long> mismatches(kThreads, 0), failures(kThreads, 0), runs(kThreads, 0);
  std::vector<std::string> errors(kThreads), used(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      intvit_session* s[2] = {nullptr, nullptr};
      for (int j = 0; j < 2; ++j) {
        // Backend missing on this CPU: fall back to the default (still a concurrent session).
        if (intvit_session_create(shared.p, 1 + j, j == 0 ? backends[t] : nullptr, &s[j]) != INTVIT_OK &&
            intvit_session_create(shared.p, 1 + j, nullptr, &s[j]) != INTVIT_OK) {
          errors[t] = intvit_last_error();
        }
      }
      const char* name = "";
      if (s[0] && intvit_session_backend(s[0], &name) == INTVIT_OK) used[t] = name;
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();  // start running together
      std::vector<int32_t> logits(classes), batch_logits(inputs.size() * classes);
      for (int i = 0; i < kSteps && errors[t].empty(); ++i) {
        intvit_session* session = s[i % 2];
        if (i % kBatchEvery == kBatchEvery - 1) {
          if (intvit_session_run_batch_into(s[1], batch.data(), inputs.size(), batch_logits.data(),
                                            batch_logits.size()) != INTVIT_OK) {
            ++failures[t];
            errors[t] = intvit_session_last_error(s[1]);
            continue;
          }
          ++runs[t];
          mismatches[t] += batch_logits != want;
          continue;
        }
        const size_t which = static_cast<size_t>(i * 5 + t) % inputs.size();
        if (intvit_session_run_cropped_into(session, inputs[which].data(), logits.data(), classes) != INTVIT_OK) {
          ++failures[t];
          errors[t] = intvit_session_last_error(session);
          continue;
        }
        ++runs[t];
        mismatches[t] += !std::equal(logits.begin(), logits.end(), want.begin() + which * classes);
      }
      intvit_session_destroy(s[0]);
      intvit_session_destroy(s[1]);
    });
  }
  for (auto& th : threads) th.join();
  long total = 0;
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t << " (backend " << used[t] << "): " << errors[t]);
    CHECK(errors[t].empty());
    CHECK(failures[t] == 0);
    CHECK(mismatches[t] == 0);
    total += runs[t];
  }
  CHECK(total == kThreads * kSteps);
}

// A planted data race, hidden: tests/tsan/run_tsan.sh runs it first and requires a TSan report,
// which proves that the binary it tests is instrumented (a build without -fsanitize=thread would
// otherwise pass every test above vacuously).
TEST_CASE("concurrency: planted data race for the TSan script", "[.][tsan_planted_race]") {
  long counter = 0;  // deliberately unsynchronized
  std::thread a([&] {
    for (int i = 0; i < 1000; ++i) counter = counter + 1;
  });
  std::thread b([&] {
    for (int i = 0; i < 1000; ++i) counter = counter + 1;
  });
  a.join();
  b.join();
  CHECK(counter > 0);
}
