// C API: versions, status names, and the exception -> status + message translation.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <new>
#include <system_error>

#include "engine/c_api/c_api_internal.h"
#include "kernels/error.h"

namespace intvit::capi {
namespace {

// Stable values: the C header's numbers are the ABI.
static_assert(INTVIT_OK == 0 && INTVIT_ERROR_INVALID_ARGUMENT == 1 && INTVIT_ERROR_IO == 2 &&
              INTVIT_ERROR_CORRUPT_MODEL == 3 && INTVIT_ERROR_UNSUPPORTED == 4 && INTVIT_ERROR_OUT_OF_MEMORY == 5 &&
              INTVIT_ERROR_BUFFER_TOO_SMALL == 6 && INTVIT_ERROR_INTERNAL == 7 && INTVIT_ERROR_CORRUPT_IMAGE == 8);
static_assert(INTVIT_MAX_IMAGE_PIXELS == kMaxImagePixels, "header limit must match models/image.h");

thread_local std::string t_last_error;
// Set instead of t_last_error when even recording the message failed (out of memory).
thread_local const char* t_static_error = nullptr;

intvit_status status_of(ErrorCode code, InputKind kind) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return INTVIT_ERROR_INVALID_ARGUMENT;
    case ErrorCode::kIo: return INTVIT_ERROR_IO;
    case ErrorCode::kCorruptFile: return kind == InputKind::kImage ? INTVIT_ERROR_CORRUPT_IMAGE : INTVIT_ERROR_CORRUPT_MODEL;
    case ErrorCode::kUnsupported: return INTVIT_ERROR_UNSUPPORTED;
    case ErrorCode::kOutOfMemory: return INTVIT_ERROR_OUT_OF_MEMORY;
    case ErrorCode::kInternal: return INTVIT_ERROR_INTERNAL;
  }
  return INTVIT_ERROR_INTERNAL;
}

}  // namespace

void record_thread_error(const std::string& message) noexcept {
  try {
    t_last_error = message.empty() ? "out of memory" : message;
    t_static_error = nullptr;
  } catch (...) {
    t_static_error = "out of memory (while recording an error message)";
  }
}

void SingleThreadErrors::record(const std::string& message) noexcept {
  try {
    message_ = message;
  } catch (...) {
    message_.clear();  // never allocates
  }
}

static uint64_t thread_serial() noexcept {
  static std::atomic<uint64_t> next{0};
  thread_local const uint64_t serial = next.fetch_add(1, std::memory_order_relaxed);
  return serial;
}

void PerThreadErrors::record(const std::string& message) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    by_thread_[thread_serial()] = message;
  } catch (...) {
  }
}

const char* PerThreadErrors::get() const noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = by_thread_.find(thread_serial());
    return it == by_thread_.end() ? "" : it->second.c_str();
  } catch (...) {
    return "";
  }
}

intvit_status status_of_current_exception(const char* function, InputKind kind, std::string& message) noexcept {
  intvit_status status = INTVIT_ERROR_INTERNAL;
  const char* what = "unknown exception";
  try {
    throw;
  } catch (const Failure& e) {
    status = e.status();
    what = e.what();
  } catch (const Error& e) {
    status = status_of(e.code(), kind);
    what = e.what();
  } catch (const std::bad_alloc&) {
    status = INTVIT_ERROR_OUT_OF_MEMORY;
    what = "out of memory";
  } catch (const std::filesystem::filesystem_error& e) {
    status = INTVIT_ERROR_IO;
    what = e.what();
  } catch (const std::system_error& e) {
    // std::thread reports a process out of threads or memory as resource_unavailable_try_again.
    const bool exhausted = e.code() == std::errc::resource_unavailable_try_again || e.code() == std::errc::not_enough_memory;
    status = exhausted ? INTVIT_ERROR_OUT_OF_MEMORY : INTVIT_ERROR_INTERNAL;
    what = e.what();
  } catch (const std::exception& e) {
    status = INTVIT_ERROR_INTERNAL;
    what = e.what();
  } catch (...) {
  }
  try {
    message = std::string(function) + ": " + (status == INTVIT_ERROR_INTERNAL ? "internal error: " : "") + what;
  } catch (...) {
    message.clear();  // record_thread_error reports "out of memory"
  }
  return status;
}

}  // namespace intvit::capi

#define INTVIT_STRINGIFY_(x) #x
#define INTVIT_STRINGIFY(x) INTVIT_STRINGIFY_(x)

extern "C" {

int intvit_version(void) { return INTVIT_VERSION_NUMBER; }

const char* intvit_version_string(void) {
  return INTVIT_STRINGIFY(INTVIT_VERSION_MAJOR) "." INTVIT_STRINGIFY(INTVIT_VERSION_MINOR) "." INTVIT_STRINGIFY(
      INTVIT_VERSION_PATCH);
}

const char* intvit_status_string(intvit_status status) {
  // A C caller may pass any int. Loading an enum outside its enumerators' range is undefined in C++
  // (clang's -fsanitize=enum stops there), so the switch reads the argument's bytes as an int.
  int code = 0;
  static_assert(sizeof code == sizeof status);
  std::memcpy(&code, &status, sizeof code);
  switch (code) {
    case INTVIT_OK: return "ok";
    case INTVIT_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case INTVIT_ERROR_IO: return "i/o error";
    case INTVIT_ERROR_CORRUPT_MODEL: return "corrupt model";
    case INTVIT_ERROR_UNSUPPORTED: return "unsupported";
    case INTVIT_ERROR_OUT_OF_MEMORY: return "out of memory";
    case INTVIT_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
    case INTVIT_ERROR_INTERNAL: return "internal error";
    case INTVIT_ERROR_CORRUPT_IMAGE: return "corrupt image";
  }
  return "unknown status";
}

const char* intvit_last_error(void) {
  using namespace intvit::capi;
  return t_static_error ? t_static_error : t_last_error.c_str();
}

}  // extern "C"
