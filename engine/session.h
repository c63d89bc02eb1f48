// A Session runs one Model on one thread of the caller's (its own pool may use more). Everything
// a run needs is allocated when the session is created; run() allocates nothing for integer models.
// Models are immutable and shared; create one session per calling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/model.h"
#include "engine/op_profile.h"

namespace intvit {

struct SessionOptions {
  int threads = 1;          // worker threads of this session (>= 1)
  std::string backend;      // "" = $INTVIT_ISA or the best this CPU has; else ref|avx2|avxvnni|avx512vnni|onednn|amx|amx-emu
  OpProfile* profile = nullptr;  // not owned: integer runs add their per-op times to it (intvit-bench)
};

class Session {
 public:
  virtual ~Session() = default;
  virtual const Model& model() const = 0;
  virtual int threads() const = 0;
  virtual std::string backend() const = 0;      // the GEMM backend in use, "fp32" for FP32 models
  virtual size_t workspace_bytes() const = 0;   // scratch held by this session

  // Real-valued logits [num_classes] of one preprocessed input (image_size² RGB HWC uint8).
  virtual void run(const uint8_t* pixels, double* logits) = 0;
  // Integer models only: raw int32 logits; real = logit_scale() · value. Throws kUnsupported for FP32.
  virtual void run_int(const uint8_t* pixels, int32_t* logits) = 0;
  virtual double logit_scale() const = 0;
  // n inputs stored back to back; logits [n][num_classes], each image's the bits of run_int. Runs as
  // batched passes (one GEMM per linear over all images' tokens); the first bigger batch grows the
  // workspace once (workspace_bytes), later runs allocate nothing.
  virtual void run_batch_int(size_t n, const uint8_t* pixels, int32_t* logits) = 0;
};

std::unique_ptr<Session> create_session(std::shared_ptr<const Model> model, const SessionOptions& options = {});

}  // namespace intvit
