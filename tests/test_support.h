// Shared helpers for the Catch2 tests: where ../shared/ lives and how to skip visibly without it.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "sanitizer_build.h"

namespace intvit::test {

// ../shared/ beside the source tree, or $INTVIT_SHARED_DIR. Empty when absent.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("INTVIT_SHARED_DIR"); env && *env) return env;
  std::filesystem::path p = std::filesystem::path(INTVIT_SOURCE_DIR) / ".." / "shared";
  if (std::filesystem::exists(p / "README.md")) return std::filesystem::weakly_canonical(p);
  return {};
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

inline std::filesystem::path source_dir() { return INTVIT_SOURCE_DIR; }

// True in ASan/TSan builds (sanitizer_build.h). Tests that run the same code over many inputs (the
// oracle's 100 images) check a few there: the Release run checks them all, and the sanitizers look at
// the code paths, which the first inputs already cover.
inline constexpr bool kSanitizerBuild = INTVIT_TEST_SANITIZER != 0;

// Restores (or unsets) an environment variable when leaving scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace intvit::test

// Skips the current test with a visible message when ../shared/ is missing; fails under CI=true.
#define INTVIT_REQUIRE_SHARED()                                                            \
  do {                                                                                     \
    if (intvit::test::shared_dir().empty()) {                                              \
      if (intvit::test::running_in_ci()) FAIL("../shared/ is missing and CI=true");        \
      WARN("SKIPPED: ../shared/ not found (set INTVIT_SHARED_DIR); test needs shared data"); \
      return;                                                                              \
    }                                                                                      \
  } while (0)
