// The C API's allocation contract, in its own binary because it replaces the global operator
// new (every form, so that sanitizer runtimes never pair their allocator with ours):
//  - cropped runs of integer models allocate nothing (counted over all threads of the process);
//  - every failing allocation inside a call becomes INTVIT_ERROR_OUT_OF_MEMORY, never an
//    escaping exception or a crash, and the API works normally afterwards.
#include <atomic>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <new>

#include "c_api_fixture.h"

// ---- Counting (and optionally failing) operator new. ---------------------------------------
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};
std::atomic<long> g_fail_countdown{-1};  // >= 0: the allocation that brings it to -1 fails

// nullptr when an injected failure fires or malloc fails.
void* counted_alloc(std::size_t size, std::size_t align) noexcept {
  if (g_count_allocations.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (g_fail_countdown.load(std::memory_order_relaxed) >= 0 && g_fail_countdown.fetch_sub(1) == 0) return nullptr;
  }
  if (size == 0) size = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(size);
  void* p = nullptr;
  return posix_memalign(&p, align, size) == 0 ? p : nullptr;
}
void* throwing_alloc(std::size_t size, std::size_t align) {
  if (void* p = counted_alloc(size, align)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return throwing_alloc(n, 0); }
void* operator new[](std::size_t n) { return throwing_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return throwing_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return throwing_alloc(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace intvit;
using namespace intvit::test::c_api;

TEST_CASE("c_api: cropped runs of integer models allocate nothing", "[c_api][alloc]") {
  const ViTConfig c = tiny_config();
  ModelPtr m{load_tiny()};
  const auto inputs = random_inputs(c, 3, 23);
  for (int threads : {1, 2}) {
    SessionPtr s{new_session(m.p, threads)};
    std::vector<int32_t> logits(c.num_classes);
    intvit_prediction top[5];
    // Warm-up (first-touch work inside the engine, if any), then count.
    REQUIRE(intvit_session_run_cropped_into(s.p, inputs[0].data(), logits.data(), logits.size()) == INTVIT_OK);
    REQUIRE(intvit_session_run_cropped(s.p, inputs[0].data(), top, 5) == INTVIT_OK);
    g_allocations = 0;
    g_count_allocations = true;
    int failures = 0;
    for (int i = 0; i < 30; ++i) {
      const auto& input = inputs[i % inputs.size()];
      failures += intvit_session_run_cropped_into(s.p, input.data(), logits.data(), logits.size()) != INTVIT_OK;
      failures += intvit_session_run_cropped(s.p, input.data(), top, 5) != INTVIT_OK;
      failures += intvit_session_top_k(s.p, logits.data(), logits.size(), top, 5) != INTVIT_OK;
    }
    g_count_allocations = false;
    INFO("threads " << threads);
    CHECK(failures == 0);
    CHECK(g_allocations.load() == 0);
    // The counter does see allocations: a run on an arbitrary image must allocate (resize).
    g_allocations = 0;
    g_count_allocations = true;
    std::vector<uint8_t> photo(40 * 30 * 3, 77);
    const intvit_status st = intvit_session_run_image(s.p, photo.data(), 40, 30, 3, 120, top, 5);
    g_count_allocations = false;
    CHECK(st == INTVIT_OK);
    CHECK(g_allocations.load() > 0);
  }
}

namespace {

// Fails the n-th allocation of `call` for n = 0, 1, ... until the call completes without a failed
// allocation: each attempt must return a failure status (never crash, never let an exception
// escape), then the API must work normally. Returns the number of failed allocations survived.
int survive_each_failing_allocation(const char* name, const std::function<intvit_status()>& call,
                                    std::initializer_list<intvit_status> allowed) {
  int injected = 0;
  for (long n = 0;; ++n) {
    g_fail_countdown = n;
    g_count_allocations = true;
    const intvit_status st = call();
    g_count_allocations = false;
    const bool fired = g_fail_countdown.load() < 0;
    g_fail_countdown = -1;
    INFO(name << ", failing allocation #" << n << ": " << intvit_status_string(st) << " " << intvit_last_error());
    if (!fired) {
      REQUIRE(st == INTVIT_OK);
      break;
    }
    ++injected;
    CHECK(std::find(allowed.begin(), allowed.end(), st) != allowed.end());
    REQUIRE(n < 100000);
  }
  std::printf("c_api OOM injection: %s survived %d failing allocations\n", name, injected);
  return injected;
}

}  // namespace

// Model loading is not in this list: nlohmann::json's destructor allocates (its iterative
// destroy() keeps a std::vector stack), so a failed allocation inside it calls std::terminate
// from a noexcept destructor. That needs a fix (or a different JSON reader) in weights/.
TEST_CASE("c_api: out of memory becomes a status and no exception escapes", "[c_api][alloc]") {
  const auto png = read_bytes(test::source_dir() / "tests/data/images/resize/photo.png");
  ModelPtr model{load_tiny()};
  SessionPtr session{new_session(model.p)};
  std::vector<uint8_t> photo(50 * 40 * 3, 99);
  const int decode = survive_each_failing_allocation(
      "intvit_image_decode_memory",
      [&] {
        intvit_image* out = sentinel<intvit_image>();
        const intvit_status st = intvit_image_decode_memory(png.data(), png.size(), &out);
        if (st != INTVIT_OK && out != nullptr) return INTVIT_ERROR_INTERNAL;
        intvit_image_destroy(out);
        return st;
      },
      {INTVIT_ERROR_OUT_OF_MEMORY});
  const int run = survive_each_failing_allocation(
      "intvit_session_run_image",
      [&] {
        intvit_prediction top[3];
        return intvit_session_run_image(session.p, photo.data(), 50, 40, 3, 150, top, 3);
      },
      {INTVIT_ERROR_OUT_OF_MEMORY});
  const int create = survive_each_failing_allocation(
      "intvit_session_create (1 thread)",
      [&] {
        intvit_session* out = sentinel<intvit_session>();
        const intvit_status st = intvit_session_create(model.p, 1, nullptr, &out);
        if (st != INTVIT_OK && out != nullptr) return INTVIT_ERROR_INTERNAL;
        intvit_session_destroy(out);
        return st;
      },
      {INTVIT_ERROR_OUT_OF_MEMORY});
  CHECK(decode > 0);
  CHECK(run > 0);
  CHECK(create > 0);
  // Afterwards everything works and the messages are back to normal.
  intvit_prediction top[3];
  CHECK(intvit_session_run_image(session.p, photo.data(), 50, 40, 3, 150, top, 3) == INTVIT_OK);
  CHECK_FAILS(intvit_session_run_image(session.p, photo.data(), 50, 40, 3, 150, top, 0), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_session_run_image");
}

// A session whose pool starts several workers: a failure after the first worker started must
// stop and join it (ThreadPool's constructor), not destroy a running pool.
TEST_CASE("c_api: session creation with worker threads survives out of memory", "[c_api_pool_oom]") {
  ModelPtr model{load_tiny()};
  const int create = survive_each_failing_allocation(
      "intvit_session_create (3 threads)",
      [&] {
        intvit_session* out = sentinel<intvit_session>();
        const intvit_status st = intvit_session_create(model.p, 3, nullptr, &out);
        if (st != INTVIT_OK && out != nullptr) return INTVIT_ERROR_INTERNAL;
        intvit_session_destroy(out);
        return st;
      },
      {INTVIT_ERROR_OUT_OF_MEMORY});
  CHECK(create > 0);
}


// A batch bigger than any before grows the session's workspace once (the C API documents it):
// that growth fails cleanly under out of memory, leaving a session that still works; later
// batches of that size or smaller allocate nothing, and every image keeps its single-run bits.
// Three threads: a batch of 3 runs one image per thread, a later batch of 2 all on the pool (it
// grew the workspace then, before plan_batches sized it for every smaller batch).
TEST_CASE("c_api: a bigger batch grows the workspace once, then batches allocate nothing", "[c_api][alloc]") {
  const ViTConfig c = tiny_config();
  ModelPtr m{load_tiny()};
  const auto inputs = random_inputs(c, 3, 29);
  std::vector<uint8_t> pixels;
  for (const auto& in : inputs) pixels.insert(pixels.end(), in.begin(), in.end());
  for (int threads : {1, 2, 3}) {
    INFO("threads " << threads);
    SessionPtr s{new_session(m.p, threads)};
    std::vector<int32_t> single(inputs.size() * c.num_classes);
    for (size_t i = 0; i < inputs.size(); ++i) {
      REQUIRE(intvit_session_run_cropped_into(s.p, inputs[i].data(), &single[i * c.num_classes], c.num_classes) == INTVIT_OK);
    }
    size_t before = 0, after = 0;
    REQUIRE(intvit_session_workspace_bytes(s.p, &before) == INTVIT_OK);
    std::vector<int32_t> batch(single.size());
    const int injected = survive_each_failing_allocation(
        "intvit_session_run_batch_into (first batch of 3)",
        [&] { return intvit_session_run_batch_into(s.p, pixels.data(), inputs.size(), batch.data(), batch.size()); },
        {INTVIT_ERROR_OUT_OF_MEMORY});
    CHECK(injected > 0);
    REQUIRE(intvit_session_workspace_bytes(s.p, &after) == INTVIT_OK);
    CHECK(after > before);
    CHECK(batch == single);
    g_allocations = 0;
    g_count_allocations = true;
    int failures = 0;
    for (int i = 0; i < 10; ++i) {
      failures += intvit_session_run_batch_into(s.p, pixels.data(), 3 - i % 3, batch.data(), batch.size()) != INTVIT_OK;
    }
    g_count_allocations = false;
    CHECK(failures == 0);
    CHECK(g_allocations.load() == 0);
    REQUIRE(intvit_session_run_batch_into(s.p, pixels.data(), inputs.size(), batch.data(), batch.size()) == INTVIT_OK);
    CHECK(batch == single);
  }
}
