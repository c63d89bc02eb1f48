// Shared by the libFuzzer targets: the one expected failure is intvit::Error; anything else that
// escapes (another exception type) is a finding, reported with its message before aborting so the
// crash log says what was thrown. Sanitizer reports, leaks, timeouts and allocations over
// -malloc_limit_mb are findings too; libFuzzer detects those itself.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "kernels/error.h"

namespace intvit::fuzz {

// Runs body(); swallows intvit::Error, aborts on any other exception.
template <typename Body>
void expect_clean(Body&& body) {
  try {
    body();
  } catch (const intvit::Error&) {
    // The documented outcome for bad input.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: non-intvit exception escaped: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "FINDING: unknown exception escaped\n");
    std::abort();
  }
}

// An invariant the API promises; violating it is a finding even without a sanitizer report.
#define INTVIT_FUZZ_ASSERT(cond)                                                           \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FINDING: %s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

}  // namespace intvit::fuzz
