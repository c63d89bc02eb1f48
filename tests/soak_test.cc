// Soak: one C API session on the tiny random integer model (tests/c_api_fixture.h) runs 10,000
// times. Memory must not grow after a 100-run warm-up, and every output must keep the bits of
// the first run. Each run is a cropped run (the hot path, which allocates nothing by contract);
// every 10th run is also an image run (resize + crop: allocates and frees), so that a leak on
// that path shows too.
//
// Memory is read two ways: resident memory (VmRSS of /proc/self/status), and the live heap bytes
// (glibc's mallinfo2, or the sanitizer allocator's count under ASan, where VmRSS also holds the
// quarantine of freed blocks and so grows with every allocation that is freed correctly).
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "sanitizer_build.h"
#if INTVIT_TEST_SANITIZER
// From <sanitizer/allocator_interface.h>, which GCC does not install; every sanitizer runtime
// with its own allocator (ASan, TSan) defines it.
extern "C" size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#include "c_api_fixture.h"

using namespace intvit;
using namespace intvit::test::c_api;

namespace {

// Resident set size in KiB (VmRSS of /proc/self/status); -1 if unreadable.
long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Bytes currently allocated and not freed, as the allocator in use counts them.
long live_heap_bytes() {
#if INTVIT_TEST_SANITIZER
  return static_cast<long>(__sanitizer_get_current_allocated_bytes());
#else
  return static_cast<long>(mallinfo2().uordblks);
#endif
}

// Allowed growth after the warm-up. Resident memory moves by whole pages when the allocator
// reuses blocks in a different order, so it gets a margin; the live heap must not grow at all
// beyond a few blocks (a leak of one 36x36 resized image per image run would be >1 MiB).
[[maybe_unused]] constexpr long kResidentGrowthKib = 1024;  // not checked under the sanitizers
constexpr long kLiveHeapGrowthBytes = 16 * 1024;

}  // namespace

TEST_CASE("soak: one session, 10,000 runs, flat memory and the first run's bits", "[soak]") {
  constexpr int kWarmup = 100, kRuns = 10000, kImageEvery = 10;
  const ViTConfig c = tiny_config();
  ModelPtr model{load_tiny()};
  // Two threads: the session's pool hands out work on every run, so the pool soaks too.
  SessionPtr session{new_session(model.p, 2)};
  const auto inputs = random_inputs(c, 4, 4242);
  std::mt19937 rng(77);
  const std::vector<uint8_t> photo = random_image(rng, 50, 40, 3);
  const size_t classes = c.num_classes, k = 3;

  // First run: the bits every later run must reproduce.
  std::vector<int32_t> want(inputs.size() * classes);
  for (size_t i = 0; i < inputs.size(); ++i) {
    REQUIRE(intvit_session_run_cropped_into(session.p, inputs[i].data(), &want[i * classes], classes) == INTVIT_OK);
  }
  intvit_prediction want_top[k];
  REQUIRE(intvit_session_run_image(session.p, photo.data(), 50, 40, 3, 150, want_top, k) == INTVIT_OK);

  // No Catch2 assertion inside the loop (they would allocate and time the framework).
  std::vector<int32_t> logits(classes);
  long failures = 0, mismatches = 0;
  const auto run = [&](int i) {
    const size_t which = static_cast<size_t>(i) % inputs.size();
    if (intvit_session_run_cropped_into(session.p, inputs[which].data(), logits.data(), classes) != INTVIT_OK) {
      ++failures;
    } else if (std::memcmp(logits.data(), &want[which * classes], classes * sizeof(int32_t)) != 0) {
      ++mismatches;
    }
    if (i % kImageEvery != 0) return;
    intvit_prediction top[k];
    if (intvit_session_run_image(session.p, photo.data(), 50, 40, 3, 150, top, k) != INTVIT_OK) {
      ++failures;
      return;
    }
    for (size_t j = 0; j < k; ++j) {
      mismatches += top[j].class_index != want_top[j].class_index ||
                    std::memcmp(&top[j].probability, &want_top[j].probability, sizeof(double)) != 0 ||
                    top[j].label != want_top[j].label;
    }
  };

  for (int i = 0; i < kWarmup; ++i) run(i);
  const long rss_before = resident_kib(), heap_before = live_heap_bytes();
  for (int i = 0; i < kRuns; ++i) run(i);
  const long rss_after = resident_kib(), heap_after = live_heap_bytes();

  std::printf("soak: %d runs (+%d image runs): VmRSS %ld -> %ld KiB, live heap %ld -> %ld bytes\n", kRuns,
              kRuns / kImageEvery, rss_before, rss_after, heap_before, heap_after);
  INFO("last error: " << intvit_session_last_error(session.p));
  CHECK(failures == 0);
  CHECK(mismatches == 0);
  REQUIRE(rss_before > 0);
  INFO("VmRSS " << rss_before << " -> " << rss_after << " KiB; live heap " << heap_before << " -> " << heap_after
                << " bytes");
  CHECK(heap_after - heap_before <= kLiveHeapGrowthBytes);
#if INTVIT_TEST_SANITIZER
  // Under ASan freed blocks sit in the quarantine (resident, not live): VmRSS is reported only.
#else
  CHECK(rss_after - rss_before <= kResidentGrowthKib);
#endif
}
