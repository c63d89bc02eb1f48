// What the C API's implementation files share: the handle structs behind the opaque C types, and
// `guarded`, which runs a C++ body, turns every exception into an intvit_status and records the
// message (thread-local, and on the handle the call took). Not installed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "intvit/intvit.h"
#include "models/image.h"
#include "models/preprocess.h"

namespace intvit::capi {

// A failure detected by the C API itself (argument checks), with the status to return.
class Failure : public std::runtime_error {
 public:
  Failure(intvit_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  intvit_status status() const noexcept { return status_; }

 private:
  intvit_status status_;
};

[[noreturn]] inline void fail(intvit_status status, const std::string& message) { throw Failure(status, message); }
inline void require(bool ok, const char* what) {
  if (!ok) fail(INTVIT_ERROR_INVALID_ARGUMENT, what);
}

// Last error of a handle used by one thread at a time (sessions).
class SingleThreadErrors {
 public:
  void record(const std::string& message) noexcept;
  const char* get() const noexcept { return message_.c_str(); }

 private:
  std::string message_;
};

// Last error of a handle shared between threads (models): one message per calling thread, so a
// thread never reads a message another thread is writing. Nodes of an unordered_map do not move,
// so a returned pointer stays valid until this thread's next failure on the handle. Threads are
// told apart by a serial number given once per thread, never reused: std::thread::id is reused
// for a new thread once one has ended, which then read the ended thread's message.
class PerThreadErrors {
 public:
  void record(const std::string& message) noexcept;
  const char* get() const noexcept;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::string> by_thread_;
};

// How an engine kCorruptFile reads for the function that saw it.
enum class InputKind { kModel, kImage };

// Records `message` as the thread's last error (and nothing else); never throws.
void record_thread_error(const std::string& message) noexcept;

// The status and message for the exception being handled (call only inside a catch block).
intvit_status status_of_current_exception(const char* function, InputKind kind, std::string& message) noexcept;

// Runs body(); on any exception returns its status and records "function: message" as the
// thread's last error and in `errors` (when not null). Never lets an exception escape.
template <class Errors, class Body>
intvit_status guarded(const char* function, Errors* errors, InputKind kind, Body&& body) noexcept {
  try {
    body();
    return INTVIT_OK;
  } catch (...) {
    std::string message;
    const intvit_status status = status_of_current_exception(function, kind, message);
    record_thread_error(message);
    if (errors) errors->record(message);
    return status;
  }
}
template <class Body>
intvit_status guarded(const char* function, Body&& body) noexcept {
  return guarded(function, static_cast<SingleThreadErrors*>(nullptr), InputKind::kModel, std::forward<Body>(body));
}

// Top-k of real logits (ties: lower class first) with softmax probabilities; `order` is scratch
// of logits.size() entries. Allocates nothing.
void top_k_into(const std::vector<double>& logits, std::vector<int32_t>& order,
                const std::vector<std::string>& labels, intvit_prediction* top, size_t k);
// intvit_session_top_k's body: s.logit_scale · logits (the session's class count of them) into
// s.real_logits, then top_k_into. The only float of running a session through the C API.
void top_k_of_int_logits(intvit_session& s, const int32_t* logits, intvit_prediction* top, size_t k);

}  // namespace intvit::capi

struct intvit_model {
  std::shared_ptr<const intvit::Model> model;
  std::string precision;
  bool integer = false;
  mutable intvit::capi::PerThreadErrors errors;
};

struct intvit_session {
  std::unique_ptr<intvit::Session> session;  // holds its own reference to the model
  std::string backend;
  bool integer = false;
  int32_t num_classes = 0;
  size_t input_bytes = 0;
  double logit_scale = 1;
  intvit::PreprocessConfig preprocess;
  // Run scratch, sized at creation so that runs on integer models allocate nothing.
  std::vector<double> real_logits;
  std::vector<int32_t> order;
  mutable intvit::capi::SingleThreadErrors errors;
};

struct intvit_image {
  intvit::Image image;
};
