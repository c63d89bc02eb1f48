// Shared by the C API tests (tests/c_api_test.cc and tests/c_api_alloc/c_api_alloc_test.cc): a
// tiny random integer model written once per process, RAII owners for the C handles, and
// CHECK_FAILS for the status + message of a failed call.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/model.h"
#include "engine/session.h"
#include "intvit/intvit.h"
#include "random_vit.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/quantizer.h"

namespace intvit::test::c_api {

namespace fs = std::filesystem;

// ---- A tiny random integer model (tiny_config() from tests/random_vit.h). ------------------

using intvit::test::random_vit;
using intvit::test::tiny_config;

// Images of any size: a random gradient plus noise, so that crops differ visibly.
inline std::vector<uint8_t> random_image(std::mt19937& rng, int width, int height, int channels) {
  std::vector<uint8_t> im(static_cast<size_t>(width) * height * channels);
  const int gx = static_cast<int>(rng() % 8), gy = static_cast<int>(rng() % 8);
  for (size_t i = 0; i < im.size(); ++i) {
    const int x = static_cast<int>((i / channels) % width), y = static_cast<int>((i / channels) / width);
    im[i] = static_cast<uint8_t>(std::clamp(gx * x + gy * y + static_cast<int>(rng() % 64), 0, 255));
  }
  return im;
}

inline std::vector<std::vector<uint8_t>> random_inputs(const ViTConfig& c, size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < n; ++i) out.push_back(random_image(rng, c.image_size, c.image_size, 3));
  return out;
}

// Writes the tiny integer model into `dir` (model.intvit, labels.txt, config.json).
inline void write_tiny_model(const fs::path& dir) {
  const ViTConfig c = tiny_config();
  const ViTWeightsF32 fp32 = random_vit(c, 1234);
  IntViT m = quantize_vit(fp32, calibrate(fp32, random_inputs(c, 16, 99), ObserverKind::kMinMax), {});
  m.labels.clear();
  for (int i = 0; i < c.num_classes; ++i) m.labels.push_back("tiny class " + std::to_string(i));
  save_int_model(m, dir);
}

// One model folder per test process (ctest runs test cases as parallel processes), removed at exit.
struct TinyModel {
  fs::path dir;
  TinyModel() : dir(fs::temp_directory_path() / ("intvit_c_api_test_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    write_tiny_model(dir);
  }
  ~TinyModel() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string model_file() const { return (dir / kIntModelFileName).string(); }
};
inline const TinyModel& tiny_model() {
  static const TinyModel model;
  return model;
}

inline std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// RAII owners, so a failing REQUIRE leaks nothing.
struct ModelPtr {
  intvit_model* p = nullptr;
  ~ModelPtr() { intvit_model_destroy(p); }
};
struct SessionPtr {
  intvit_session* p = nullptr;
  ~SessionPtr() { intvit_session_destroy(p); }
};
struct ImagePtr {
  intvit_image* p = nullptr;
  ~ImagePtr() { intvit_image_destroy(p); }
};

inline intvit_model* load_tiny() {
  intvit_model* m = nullptr;
  REQUIRE(intvit_model_load(tiny_model().dir.c_str(), 0, &m) == INTVIT_OK);
  REQUIRE(m != nullptr);
  return m;
}

inline intvit_session* new_session(const intvit_model* m, int threads = 1, const char* backend = nullptr) {
  intvit_session* s = nullptr;
  const intvit_status st = intvit_session_create(m, threads, backend, &s);
  INFO(intvit_last_error());
  REQUIRE(st == INTVIT_OK);
  return s;
}

// A failed call: the expected status, and a thread last-error message that starts with the
// function's name. (Handle messages are compared with it where the handle is at hand.)
#define CHECK_FAILS(call, status, function)                                     \
  do {                                                                          \
    const intvit_status st_ = (call);                                           \
    INFO(#call << " -> " << intvit_status_string(st_) << ": " << intvit_last_error()); \
    CHECK(st_ == (status));                                                     \
    CHECK(std::string(intvit_last_error()).rfind(function ": ", 0) == 0);       \
  } while (0)

// Sentinel for "out was set to NULL on failure".
template <class T>
inline T* sentinel() {
  return reinterpret_cast<T*>(uintptr_t{0x1});
}

inline std::vector<int32_t> cpp_int_logits(const fs::path& model_dir, const uint8_t* pixels) {
  std::shared_ptr<const Model> model = load_model(model_dir);
  auto session = create_session(model, {1, "ref"});
  std::vector<int32_t> logits(model->config().num_classes);
  session->run_int(pixels, logits.data());
  return logits;
}


}  // namespace intvit::test::c_api
