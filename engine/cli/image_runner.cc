#include "engine/cli/image_runner.h"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "engine/session.h"

namespace intvit::cli {
namespace {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Batches ahead of the one running: one to hide a slow image's decode, a second to absorb jitter.
constexpr size_t kPrefetchDepth = 2;

}  // namespace

RunOptions run_options(const Args& args) {
  RunOptions o;
  o.threads = static_cast<int>(args.get_int("threads", std::min(available_cores(), 256), 1, 256));
  o.batch = static_cast<int>(args.get_int("batch", 8, 1, 1024));
  return o;
}

RunStats run_images(const std::shared_ptr<const Model>& model, size_t inputs, const BatchPrefetcher::LoadFn& load,
                    const RunOptions& options, const OnImage& on_image) {
  SessionOptions so;
  so.threads = options.threads;
  const std::unique_ptr<Session> session = create_session(model, so);
  const ViTConfig& c = model->config();
  const size_t input_bytes = static_cast<size_t>(c.image_size) * c.image_size * 3;
  const size_t classes = static_cast<size_t>(c.num_classes);
  const bool integer = model->precision() != "fp32";
  const size_t batch = static_cast<size_t>(options.batch);
  std::vector<int32_t> raw(integer ? batch * classes : 0);
  std::vector<double> all_logits(batch * classes);
  std::vector<double> logits(classes);
  const std::string no_error;

  RunStats stats;
  stats.threads = session->threads();
  stats.backend = session->backend();
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = process_cpu_seconds();
  BatchPrefetcher prefetch(inputs, batch, input_bytes, kPrefetchDepth, load);
  PreparedBatch b;
  while (prefetch.next(b)) {
    if (integer) {
      session->run_batch_int(b.loaded, b.pixels.data(), raw.data());
      const double scale = session->logit_scale();
      for (size_t i = 0; i < b.loaded * classes; ++i) all_logits[i] = scale * raw[i];
    } else {
      for (size_t i = 0; i < b.loaded; ++i) session->run(b.pixels.data() + i * input_bytes, all_logits.data() + i * classes);
    }
    size_t done = 0;
    for (size_t i = 0; i < b.count; ++i) {
      if (!b.errors[i].empty()) {
        ++stats.failed;
        on_image(b.first + i, nullptr, {}, b.errors[i]);
        continue;
      }
      logits.assign(all_logits.begin() + done * classes, all_logits.begin() + (done + 1) * classes);
      on_image(b.first + i, b.pixels.data() + done * input_bytes, logits, no_error);
      ++done;
      ++stats.images;
    }
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats.cpu_seconds = process_cpu_seconds() - cpu0;
  return stats;
}

void print_speed(const char* command, const RunStats& s, const RunOptions& options) {
  const std::string failed = s.failed ? ", " + std::to_string(s.failed) + " failed" : "";
  std::fprintf(stderr, "intvit %s: %zu images in %.2f s: %.1f images/s (%s, %d threads, batch %d)%s; %.1f per CPU-second\n",
               command, s.images, s.seconds, s.seconds > 0 ? s.images / s.seconds : 0.0, s.backend.c_str(), s.threads,
               options.batch, failed.c_str(), s.cpu_seconds > 0 ? s.images / s.cpu_seconds : 0.0);
}

}  // namespace intvit::cli
