// intvit-bench preprocess: CPU time per image of the JPEG folder -> model input steps that run
// before the engine (issue 16): decoding (libjpeg-turbo for JPEG, stb_image for PNG/BMP/GIF) and the Pillow-exact resize + centre crop,
// the latter once per resize variant (models/resize-kernels.h).
//
//   intvit-bench preprocess --images DIR [--limit N] [--passes P] [--isa ref,avx2,avx512]
//                           [--input-size 224] [--crop-pct 0.9] [--filter bicubic|bilinear]
//
// The files are read into memory first. Each step runs over all images P times on this thread;
// the fastest pass (thread CPU time) divided by the image count is the µs/image reported, so
// other processes on a shared machine inflate it less. Every variant's pixels are compared with the
// reference's (a mismatch exits 1). The geometry is preprocess()'s (models/preprocess.h), with the
// rounding intvit's CLI uses (preprocess_config_for).
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/machine.h"
#include "engine/image_files.h"
#include "kernels/backend/cpu.h"
#include "kernels/error.h"
#include "models/image.h"
#include "models/preprocess.h"
#include "models/resize-kernels.h"

namespace {

namespace fs = std::filesystem;
using intvit::Error;
using intvit::ErrorCode;
using intvit::Image;

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorCode::kInvalidArgument, message); }

struct Options {
  fs::path images;
  int limit = 0;  // 0 = all
  int passes = 3;
  std::vector<intvit::ResizeIsa> isas;  // empty = every one this CPU runs
  intvit::PreprocessConfig config{224, 0.9, intvit::ResizeFilter::kBicubic,
                                  intvit::GeometryRounding::kNearestSizeFloorOffset};
};

void usage() {
  std::fprintf(stderr,
               "usage: intvit-bench preprocess --images DIR [--limit N] [--passes P] [--isa ref,avx2,avx512]\n"
               "                               [--input-size 224] [--crop-pct 0.9] [--filter bicubic|bilinear]\n"
               "  µs per image (thread CPU time, best of P passes) of decoding and of resize + centre crop per\n"
               "  resize variant; defaults: every image, 3 passes, every variant this CPU runs, ViT-Ti's geometry\n");
}

long parse_long(const std::string& flag, const std::string& text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    bad(flag + " needs an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + text + "'");
  }
  return v;
}

intvit::ResizeIsa parse_isa(const std::string& name) {
  for (intvit::ResizeIsa isa : intvit::kAllResizeIsas) {
    if (name == intvit::resize_isa_name(isa)) return isa;
  }
  bad("--isa: unknown resize variant '" + name + "' (ref, avx2, avx512)");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) bad(flag + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (flag == "--images") {
      o.images = value;
    } else if (flag == "--limit") {
      o.limit = static_cast<int>(parse_long(flag, value, 1, 1 << 20));
    } else if (flag == "--passes") {
      o.passes = static_cast<int>(parse_long(flag, value, 1, 1000));
    } else if (flag == "--input-size") {
      o.config.input_size = static_cast<int>(parse_long(flag, value, 1, 4096));
    } else if (flag == "--crop-pct") {
      char* end = nullptr;
      o.config.crop_pct = std::strtod(value.c_str(), &end);
      if (*end != '\0' || !std::isfinite(o.config.crop_pct) || o.config.crop_pct <= 0) bad("--crop-pct needs a number > 0");
    } else if (flag == "--filter") {
      if (value != "bicubic" && value != "bilinear") bad("--filter needs bicubic or bilinear");
      o.config.filter = value == "bicubic" ? intvit::ResizeFilter::kBicubic : intvit::ResizeFilter::kBilinear;
    } else if (flag == "--isa") {
      for (size_t start = 0; start <= value.size();) {
        const size_t comma = std::min(value.find(',', start), value.size());
        o.isas.push_back(parse_isa(value.substr(start, comma - start)));
        start = comma + 1;
      }
    } else {
      bad("unknown option " + flag);
    }
  }
  if (o.images.empty()) bad("--images DIR is required");
  if (o.isas.empty()) {
    for (intvit::ResizeIsa isa : intvit::kAllResizeIsas) {
      if (intvit::resize_isa_supported(isa)) o.isas.push_back(isa);
    }
  }
  return o;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Best (lowest) thread CPU seconds of `passes` runs of step().
template <typename Step>
double best_of(int passes, Step step) {
  double best = 1e300;
  for (int p = 0; p < passes; ++p) {
    const double t0 = thread_cpu_seconds();
    step();
    best = std::min(best, thread_cpu_seconds() - t0);
  }
  return best;
}

// preprocess() on a chosen resize variant: the same geometry, the crop inside the resized image.
Image preprocess_on(intvit::ResizeIsa isa, const Image& image, const intvit::PreprocessConfig& c) {
  const int side = c.input_size;
  const intvit::Size2D r =
      intvit::resized_size_keep_aspect(image.width, image.height, intvit::preprocess_scale_size(c), c.rounding);
  const int left = intvit::preprocess_crop_offset(r.width, side, c.rounding);
  const int top = intvit::preprocess_crop_offset(r.height, side, c.rounding);
  if (left < 0 || top < 0) bad("preprocess bench: the crop needs padding (crop_pct > 1); not measured");
  return intvit::resize_window_isa(isa, image, r.width, r.height, c.filter, left, top, side, side);
}

std::string features() {
  const intvit::CpuFeatures& f = intvit::cpu_features();
  std::string s;
  for (auto [on, name] : {std::pair{f.avx2, "avx2"}, {f.avxvnni, "avxvnni"}, {f.avx512, "avx512f/bw/vl/dq"},
                          {f.avx512vnni, "avx512vnni"}, {f.avx512vbmi, "avx512vbmi"}, {f.amx_int8, "amx-int8"}}) {
    if (on) s += std::string(s.empty() ? "" : " ") + name;
  }
  return s.empty() ? "none" : s;
}

}  // namespace

int run_preprocess_bench(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    for (intvit::ResizeIsa isa : o.isas) (void)intvit::resize_kernels(isa);  // unsupported: a clear error now
    std::vector<fs::path> files = intvit::list_image_files(o.images);
    if (o.limit > 0 && static_cast<int>(files.size()) > o.limit) files.resize(o.limit);
    if (files.empty()) bad("no image files under " + o.images.string());
    std::vector<std::vector<uint8_t>> encoded;
    for (const fs::path& f : files) {
      std::ifstream in(f, std::ios::binary);
      encoded.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) throw Error(ErrorCode::kIo, "cannot read " + f.string());
    }
    const double n = static_cast<double>(files.size());

    intvit::bench::OthersCpu others;
    others.start();
    std::vector<Image> decoded(files.size());
    const double decode = best_of(o.passes, [&] {
      for (size_t i = 0; i < files.size(); ++i) decoded[i] = intvit::decode_image_memory(encoded[i], files[i].string());
    });
    std::vector<Image> reference(files.size()), out(files.size());
    for (size_t i = 0; i < files.size(); ++i) reference[i] = preprocess_on(intvit::ResizeIsa::kRef, decoded[i], o.config);
    std::vector<double> resize;
    for (intvit::ResizeIsa isa : o.isas) {
      resize.push_back(best_of(o.passes, [&] {
        for (size_t i = 0; i < files.size(); ++i) out[i] = preprocess_on(isa, decoded[i], o.config);
      }));
      for (size_t i = 0; i < files.size(); ++i) {
        if (out[i].rgb != reference[i].rgb) {
          std::fprintf(stderr, "intvit-bench preprocess: resize %s differs from ref on %s\n", intvit::resize_isa_name(isa),
                       files[i].c_str());
          return 1;
        }
      }
    }
    const double others_cores = others.stop();

    std::printf("intvit-bench preprocess: %zu images from %s -> %dx%d (crop_pct %g, %s), best of %d passes, thread CPU time\n",
                files.size(), o.images.c_str(), o.config.input_size, o.config.input_size, o.config.crop_pct,
                o.config.filter == intvit::ResizeFilter::kBicubic ? "bicubic" : "bilinear", o.passes);
    std::printf("CPU: %s; ISA: %s; 1-min load %.2f, other processes used %.2f cores meanwhile\n",
                intvit::bench::cpu_model_name().c_str(), features().c_str(), intvit::bench::load_average_1min(),
                others_cores);
    std::printf("  %-22s %9.1f µs/image\n", "decode", 1e6 * decode / n);
    const double ref_time = o.isas.front() == intvit::ResizeIsa::kRef ? resize.front() : 0;
    for (size_t k = 0; k < o.isas.size(); ++k) {
      std::printf("  %-22s %9.1f µs/image", (std::string("resize+crop ") + intvit::resize_isa_name(o.isas[k])).c_str(),
                  1e6 * resize[k] / n);
      if (ref_time > 0 && o.isas[k] != intvit::ResizeIsa::kRef) std::printf("  %.2fx ref", ref_time / resize[k]);
      std::printf("%s\n", o.isas[k] == intvit::ResizeIsa::kRef ? "" : "  (pixels identical to ref)");
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "intvit-bench preprocess: %s\n", e.what());
    usage();
    return e.code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
}
