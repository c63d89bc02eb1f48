// How classify and eval run a model over many images: --threads threads, each decoding and
// resizing a batch (--batch) of its own and running it through its own single-thread session
// (run_batches_in_order), so decoding never competes with inference for the cores. Results come
// back in input order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/parallel_batches.h"
#include "engine/cli/args.h"
#include "engine/model.h"

namespace intvit::cli {

struct RunOptions {
  int threads = 1;  // threads in all, each decoding and running batches
  int batch = 8;    // images per session call
};

// --threads N (default: every core this process may run on) and --batch N (default 8).
RunOptions run_options(const Args& args);
constexpr const char* kRunOptionsHelp =
    "  --threads N       threads (default: all cores), each decoding and classifying batches of its own\n"
    "  --batch N         images per inference call (default 8)\n";

struct RunStats {
  size_t images = 0;  // classified
  size_t failed = 0;  // could not be loaded (reported through on_image)
  double seconds = 0; // wall time from the first decode to the last result
  double cpu_seconds = 0;  // this process's CPU time meanwhile (every thread: decode and inference)
  int threads = 0;         // threads used (fewer than --threads when there are fewer inputs)
  std::string backend;
};

// Writes input `index` (preprocessed, image_size² RGB) to out or throws (the image's error);
// called on several threads at once.
using LoadFn = std::function<void(size_t index, uint8_t* out)>;
// Called once per input, in input order, one call at a time (from any of the threads). On success
// `error` is empty, `pixels` is the preprocessed input and `logits` its real-valued logits; on
// failure only `error` is set.
using OnImage = std::function<void(size_t index, const uint8_t* pixels, const std::vector<double>& logits,
                                   const std::string& error)>;

RunStats run_images(const std::shared_ptr<const Model>& model, size_t inputs, const LoadFn& load,
                    const RunOptions& options, const OnImage& on_image);

// "N images in S s: R images/s (backend, T threads, batch B)[, F failed]; C per CPU-second" on
// stderr, after `command`. Images per CPU-second does not depend on other processes' load.
void print_speed(const char* command, const RunStats& stats, const RunOptions& options);

}  // namespace intvit::cli
