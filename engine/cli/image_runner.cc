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

}  // namespace

RunOptions run_options(const Args& args) {
  RunOptions o;
  o.threads = static_cast<int>(args.get_int("threads", std::min(available_cores(), 256), 1, 256));
  o.batch = static_cast<int>(args.get_int("batch", 8, 1, 1024));
  return o;
}

RunStats run_images(const std::shared_ptr<const Model>& model, size_t inputs, const LoadFn& load,
                    const RunOptions& options, const OnImage& on_image) {
  // One single-thread session per thread, each running whole batches (parallel_batches.h); only
  // when there are fewer inputs than threads do the sessions split the threads between them.
  const int streams = static_cast<int>(std::clamp<size_t>(inputs, 1, static_cast<size_t>(options.threads)));
  SessionOptions so;
  so.threads = options.threads / streams;
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < streams; ++i) sessions.push_back(create_session(model, so));
  const ViTConfig& c = model->config();
  const size_t input_bytes = static_cast<size_t>(c.image_size) * c.image_size * 3;
  const size_t classes = static_cast<size_t>(c.num_classes);
  const bool integer = model->precision() != "fp32";
  const size_t batch = static_cast<size_t>(options.batch);
  std::vector<std::vector<int32_t>> raw(static_cast<size_t>(streams), std::vector<int32_t>(integer ? batch * classes : 0));
  std::vector<double> logits(classes);
  const std::string no_error;

  RunStats stats;
  stats.threads = streams * so.threads;
  stats.backend = sessions[0]->backend();
  BatchWork work;
  work.inputs = inputs;
  work.batch = batch;
  work.input_bytes = input_bytes;
  work.workers = streams;
  work.load = load;
  work.process = [&](int worker, PreparedBatch& b) {
    Session& session = *sessions[static_cast<size_t>(worker)];
    b.outputs.resize(b.loaded * classes);
    if (integer) {
      int32_t* r = raw[static_cast<size_t>(worker)].data();
      session.run_batch_int(b.loaded, b.pixels.data(), r);
      const double scale = session.logit_scale();
      for (size_t i = 0; i < b.loaded * classes; ++i) b.outputs[i] = scale * r[i];
    } else {
      for (size_t i = 0; i < b.loaded; ++i) session.run(b.pixels.data() + i * input_bytes, b.outputs.data() + i * classes);
    }
  };
  work.emit = [&](const PreparedBatch& b) {
    size_t done = 0;
    for (size_t i = 0; i < b.count; ++i) {
      if (!b.errors[i].empty()) {
        ++stats.failed;
        on_image(b.first + i, nullptr, {}, b.errors[i]);
        continue;
      }
      logits.assign(b.outputs.begin() + done * classes, b.outputs.begin() + (done + 1) * classes);
      on_image(b.first + i, b.pixels.data() + done * input_bytes, logits, no_error);
      ++done;
      ++stats.images;
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = process_cpu_seconds();
  run_batches_in_order(work);
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
