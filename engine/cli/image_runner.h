// How classify and eval run a model over many images: one session (--threads), batches
// (--batch), and the next batches decoded and resized on a background thread meanwhile
// (BatchPrefetcher, 2 batches ahead). Results come back in input order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch_prefetcher.h"
#include "engine/cli/args.h"
#include "engine/model.h"

namespace intvit::cli {

struct RunOptions {
  int threads = 1;  // the session's threads (the decode thread comes on top)
  int batch = 8;    // images per session call
};

// --threads N (default: every core this process may run on) and --batch N (default 8).
RunOptions run_options(const Args& args);
constexpr const char* kRunOptionsHelp =
    "  --threads N       inference threads (default: all cores); images decode on one more thread\n"
    "  --batch N         images per inference call (default 8)\n";

struct RunStats {
  size_t images = 0;  // classified
  size_t failed = 0;  // could not be loaded (reported through on_image)
  double seconds = 0; // wall time from the first decode to the last result
  double cpu_seconds = 0;  // this process's CPU time meanwhile (every thread: decode and inference)
  int threads = 0;
  std::string backend;
};

// Called once per input, in input order. On success `error` is empty, `pixels` is the
// preprocessed input and `logits` its real-valued logits; on failure only `error` is set.
using OnImage = std::function<void(size_t index, const uint8_t* pixels, const std::vector<double>& logits,
                                   const std::string& error)>;

RunStats run_images(const std::shared_ptr<const Model>& model, size_t inputs, const BatchPrefetcher::LoadFn& load,
                    const RunOptions& options, const OnImage& on_image);

// "N images in S s: R images/s (backend, T threads, batch B)[, F failed]; C per CPU-second" on
// stderr, after `command`. Images per CPU-second does not depend on other processes' load.
void print_speed(const char* command, const RunStats& stats, const RunOptions& options);

}  // namespace intvit::cli
