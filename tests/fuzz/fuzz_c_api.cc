// libFuzzer target: the public C API (engine/include/intvit/intvit.h), called only as an embedder
// would call it. Every status must be one the header documents for that call (INTVIT_ERROR_INTERNAL
// is always a finding), a failure must leave a message and set `*out` to NULL, and every handle is
// destroyed, so leaks are findings too. Buffers are always exactly as large as the header says the
// call reads (allocated to the byte, so ASan sees a read one past them), so a report is an intvit bug.
//
// Input: a 24-byte control block, then a payload. Control block (little-endian):
//   [0]      operation, mod 3: 0 = payload is a model.intvit file (intvit_model_load_buffer, every
//            query, a session, every run function, cross-checked); 1 = raw pixels (payload, repeated
//            to fill the buffer) run through intvit_session_run_image on the fixed model; 2 = payload
//            is an encoded image (intvit_image_decode_memory, then run_image on the fixed model)
//   [1]      threads selector   [2] backend selector   [3] k selector
//   [4]      flags: bit 0 destroy the model before the session; bit 1 pass nonzero load flags first
//   [5..8]   width (int32)      [9..12] height (int32)  [13] channels
//   [14..21] row stride extra (uint64)
//   [22]     shape mode, mod 2: 0 = always a valid image (width <= 8192, area <= 2^18, channels
//            1/3/4, stride = width * channels + extra % 4096); 1 = the raw fields, valid or not
//            (invalid ones must give INVALID_ARGUMENT without reading the 1-byte buffer passed)
//   [23]     reserved
// The fixed model is the committed seed tests/fuzz/corpus/fuzz_model_loader/iexp_lut.intvit (16x16
// input, 4 classes), loaded once through intvit_model_load. Model payloads are mutated mostly by the
// structure-aware mutator of fuzz_model_loader (model_mutator.h), so that they keep loading.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <vector>

#include "intvit/intvit.h"
#include "model_mutator.h"

#ifndef INTVIT_FUZZ_FIXED_MODEL
#error "INTVIT_FUZZ_FIXED_MODEL (path of a model.intvit) must be defined by the build"
#endif

namespace {

constexpr size_t kControlBytes = 24;
constexpr int64_t kMaxRunPixels = int64_t{1} << 20;  // larger valid images are not run (speed)
constexpr size_t kMaxBufferBytes = size_t{16} << 20;  // nor are larger pixel buffers allocated

[[noreturn]] void finding(const char* what, const char* detail = "") {
  std::fprintf(stderr, "FINDING: %s %s (last error: \"%s\")\n", what, detail, intvit_last_error());
  std::abort();
}

#define INTVIT_FUZZ_STR2(x) #x
#define INTVIT_FUZZ_STR(x) INTVIT_FUZZ_STR2(x)
#define CAPI_ASSERT(cond)                                                                     \
  do {                                                                                        \
    if (!(cond)) finding("invariant failed:", #cond " (fuzz_c_api.cc:" INTVIT_FUZZ_STR(__LINE__) ")"); \
  } while (0)

// A non-NULL value for `T** out` arguments, which a failing call must overwrite with NULL.
template <class T>
T* poison() {
  static char byte;
  return reinterpret_cast<T*>(&byte);
}

// `status` must be OK or one of `allowed`; a failure must have left a message.
intvit_status expect(intvit_status status, std::initializer_list<intvit_status> allowed, const char* call) {
  if (status == INTVIT_OK) return status;
  bool ok = false;
  for (intvit_status a : allowed) ok |= status == a;
  if (!ok) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "%s returned status %d (%s)", call, static_cast<int>(status),
                  intvit_status_string(status));
    finding("undocumented status:", detail);
  }
  if (std::strcmp(intvit_status_string(status), "unknown status") == 0) finding("status without a name:", call);
  // The message this call recorded names it ("intvit_x: ..."), unless even that ran out of memory.
  if (status != INTVIT_ERROR_OUT_OF_MEMORY && !std::strstr(intvit_last_error(), call)) {
    finding("failure without its message:", call);
  }
  return status;
}

struct Control {
  uint8_t op = 0, threads = 0, backend = 0, k = 0, flags = 0, channels = 0, shape = 0;
  int32_t width = 0, height = 0;
  uint64_t stride_extra = 0;
};

Control parse_control(const uint8_t* d) {
  Control c;
  c.op = d[0] % 3;
  c.threads = d[1];
  c.backend = d[2];
  c.k = d[3];
  c.flags = d[4];
  uint32_t w, h;
  std::memcpy(&w, d + 5, 4);
  std::memcpy(&h, d + 9, 4);
  c.width = static_cast<int32_t>(w);
  c.height = static_cast<int32_t>(h);
  c.channels = d[13];
  std::memcpy(&c.stride_extra, d + 14, 8);
  c.shape = d[22] % 2;
  return c;
}

int32_t threads_for(uint8_t sel) {
  static constexpr int32_t kThreads[] = {1, 2, 1, 1, 0, 257, -1, 2};
  return kThreads[sel % 8];
}

const char* backend_for(uint8_t sel) {
  static const char* const kBackends[] = {nullptr, "", "ref", "avx2", "avxvnni", "avx512vnni", "onednn", "fp32", "sse9"};
  return kBackends[sel % 9];
}

// Creates a session with the control block's threads and backend; NULL when the (documented)
// answer is a refusal.
intvit_session* create_session(const intvit_model* model, const Control& c) {
  const int32_t threads = threads_for(c.threads);
  intvit_session* session = poison<intvit_session>();
  const intvit_status st = expect(intvit_session_create(model, threads, backend_for(c.backend), &session),
                                  {INTVIT_ERROR_INVALID_ARGUMENT, INTVIT_ERROR_UNSUPPORTED, INTVIT_ERROR_OUT_OF_MEMORY,
                                   INTVIT_ERROR_CORRUPT_MODEL},
                                  "intvit_session_create");
  if (st != INTVIT_OK) {
    CAPI_ASSERT(session == nullptr);
    if (threads < 1 || threads > 256) CAPI_ASSERT(st == INTVIT_ERROR_INVALID_ARGUMENT);
    return nullptr;
  }
  CAPI_ASSERT(session != nullptr);
  CAPI_ASSERT(threads >= 1 && threads <= 256);
  int32_t got_threads = 0;
  const char* backend = nullptr;
  size_t workspace = 0;
  double scale = 0;
  CAPI_ASSERT(intvit_session_threads(session, &got_threads) == INTVIT_OK && got_threads == threads);
  CAPI_ASSERT(intvit_session_backend(session, &backend) == INTVIT_OK && backend && backend[0] != '\0');
  CAPI_ASSERT(intvit_session_workspace_bytes(session, &workspace) == INTVIT_OK);
  CAPI_ASSERT(intvit_session_logit_scale(session, &scale) == INTVIT_OK && std::isfinite(scale) && scale > 0);
  CAPI_ASSERT(intvit_session_threads(session, nullptr) == INTVIT_ERROR_INVALID_ARGUMENT);
  CAPI_ASSERT(intvit_session_last_error(session)[0] != '\0');
  return session;
}

struct ModelInfo {
  int32_t num_classes = 0, input_size = 0;
  size_t input_bytes = 0;
  bool integer = false;
};

ModelInfo query_model(const intvit_model* model) {
  ModelInfo m;
  int is_integer = -1;
  const char* precision = nullptr;
  CAPI_ASSERT(intvit_model_num_classes(model, &m.num_classes) == INTVIT_OK && m.num_classes >= 1);
  CAPI_ASSERT(intvit_model_input_size(model, &m.input_size) == INTVIT_OK && m.input_size >= 1);
  CAPI_ASSERT(intvit_model_input_bytes(model, &m.input_bytes) == INTVIT_OK);
  CAPI_ASSERT(m.input_bytes == static_cast<size_t>(m.input_size) * m.input_size * 3);
  CAPI_ASSERT(intvit_model_is_integer(model, &is_integer) == INTVIT_OK && (is_integer == 0 || is_integer == 1));
  CAPI_ASSERT(intvit_model_precision(model, &precision) == INTVIT_OK && precision != nullptr);
  CAPI_ASSERT((std::strcmp(precision, "fp32") == 0) == (is_integer == 0));
  m.integer = is_integer == 1;
  for (int32_t i = 0; i < m.num_classes; ++i) {
    const char* label = nullptr;
    CAPI_ASSERT(intvit_model_label(model, i, &label) == INTVIT_OK && label != nullptr);
  }
  const char* label = poison<const char>();
  CAPI_ASSERT(intvit_model_label(model, m.num_classes, &label) == INTVIT_ERROR_INVALID_ARGUMENT && label == nullptr);
  CAPI_ASSERT(intvit_model_label(model, -1, &label) == INTVIT_ERROR_INVALID_ARGUMENT);
  CAPI_ASSERT(intvit_model_last_error(model)[0] != '\0');
  return m;
}

size_t k_for(uint8_t sel, int32_t num_classes) { return sel % (static_cast<size_t>(num_classes) + 2); }

// A top-k the call reported OK: distinct valid classes, probabilities in [0, 1], non-increasing,
// labels the model's.
void check_top(const intvit_model* model, const ModelInfo& m, const std::vector<intvit_prediction>& top) {
  double sum = 0;
  for (size_t i = 0; i < top.size(); ++i) {
    const intvit_prediction& p = top[i];
    CAPI_ASSERT(p.class_index >= 0 && p.class_index < m.num_classes);
    CAPI_ASSERT(std::isfinite(p.probability) && p.probability >= 0 && p.probability <= 1);
    if (i > 0) CAPI_ASSERT(p.probability <= top[i - 1].probability);
    for (size_t j = 0; j < i; ++j) CAPI_ASSERT(top[j].class_index != p.class_index);
    const char* label = nullptr;
    CAPI_ASSERT(intvit_model_label(model, p.class_index, &label) == INTVIT_OK);
    CAPI_ASSERT(p.label != nullptr && std::strcmp(p.label, label) == 0);
    sum += p.probability;
  }
  CAPI_ASSERT(sum <= 1 + 1e-9);
}

bool same_top(const std::vector<intvit_prediction>& a, const std::vector<intvit_prediction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].class_index != b[i].class_index || a[i].probability != b[i].probability) return false;
  }
  return true;
}

// run_image on a description that the header calls valid or not; returns the status.
intvit_status run_image(intvit_session* session, const intvit_model* model, const ModelInfo& m, const uint8_t* pixels,
                        int32_t width, int32_t height, int32_t channels, size_t stride, size_t k,
                        std::vector<intvit_prediction>* top) {
  top->assign(k == 0 ? 1 : k, intvit_prediction{-7, -1.0, nullptr});
  const intvit_status st = expect(intvit_session_run_image(session, pixels, width, height, channels, stride,
                                                           top->data(), k),
                                  {INTVIT_ERROR_INVALID_ARGUMENT, INTVIT_ERROR_OUT_OF_MEMORY}, "intvit_session_run_image");
  if (st != INTVIT_OK) {
    CAPI_ASSERT(intvit_session_last_error(session)[0] != '\0');
    return st;
  }
  check_top(model, m, *top);
  return st;
}

// The fixed model and what it reports, loaded once.
struct Fixed {
  intvit_model* model = nullptr;
  ModelInfo info;
};

const Fixed& fixed() {
  static const Fixed f = [] {
    Fixed f;
    if (intvit_model_load(INTVIT_FUZZ_FIXED_MODEL, 0, &f.model) != INTVIT_OK) {
      std::fprintf(stderr, "fuzz_c_api: cannot load %s: %s\n", INTVIT_FUZZ_FIXED_MODEL, intvit_last_error());
      std::exit(2);
    }
    f.info = query_model(f.model);
    return f;
  }();
  return f;
}

// ---- operation 1: raw pixels ----

struct Shape {
  int32_t width, height, channels;
  size_t stride;
};

// The documented size of the pixel buffer (height - 1 rows of stride bytes plus one of width *
// channels), or 0 if the description is invalid (then INVALID_ARGUMENT is the only answer).
size_t documented_bytes(const Shape& s) {
  if (s.width <= 0 || s.height <= 0) return 0;
  if (s.channels != 1 && s.channels != 3 && s.channels != 4) return 0;
  if (static_cast<int64_t>(s.width) * s.height > INTVIT_MAX_IMAGE_PIXELS) return 0;
  const size_t row = static_cast<size_t>(s.width) * s.channels;
  if (s.stride < row) return 0;
  const size_t before_last = static_cast<size_t>(s.height) - 1;
  if (before_last != 0 && s.stride > (std::numeric_limits<size_t>::max() - row) / before_last) return 0;
  return before_last * s.stride + row;
}

Shape shape_for(const Control& c) {
  if (c.shape == 1) {
    return {c.width, c.height, static_cast<int32_t>(static_cast<int8_t>(c.channels)), static_cast<size_t>(c.stride_extra)};
  }
  static constexpr int32_t kChannels[] = {1, 3, 4};
  Shape s;
  s.channels = kChannels[c.channels % 3];
  s.width = 1 + static_cast<int32_t>(static_cast<uint32_t>(c.width) % 8192);
  s.height = 1 + static_cast<int32_t>(static_cast<uint32_t>(c.height) % static_cast<uint32_t>((1 << 18) / s.width));
  s.stride = static_cast<size_t>(s.width) * s.channels + c.stride_extra % 4096;
  return s;
}

void fill(std::vector<uint8_t>& buf, const uint8_t* payload, size_t n) {
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = n ? payload[i % n] : static_cast<uint8_t>(i * 131 + (i >> 9));
}

void run_pixels(const Control& c, const uint8_t* payload, size_t n) {
  const Fixed& f = fixed();
  intvit_session* session = create_session(f.model, c);
  if (!session) return;
  const Shape s = shape_for(c);
  const size_t k = k_for(c.k, f.info.num_classes);
  const bool k_valid = k >= 1 && k <= static_cast<size_t>(f.info.num_classes);
  std::vector<intvit_prediction> top;
  const size_t bytes = documented_bytes(s);
  if (bytes == 0) {
    const uint8_t one = 0;  // must not be read: the description is invalid
    CAPI_ASSERT(run_image(session, f.model, f.info, &one, s.width, s.height, s.channels, s.stride, k, &top) ==
                INTVIT_ERROR_INVALID_ARGUMENT);
  } else if (bytes <= kMaxBufferBytes && static_cast<int64_t>(s.width) * s.height <= kMaxRunPixels) {
    std::vector<uint8_t> pixels(bytes);  // exactly the documented size
    fill(pixels, payload, n);
    const intvit_status st = run_image(session, f.model, f.info, pixels.data(), s.width, s.height, s.channels,
                                       s.stride, k, &top);
    CAPI_ASSERT((st == INTVIT_OK) == k_valid || st == INTVIT_ERROR_OUT_OF_MEMORY);
    if (st == INTVIT_OK && (s.channels != 3 || s.stride != static_cast<size_t>(s.width) * 3)) {
      // The same picture as packed RGB must classify identically: stride padding is never read,
      // gray is R = G = B, alpha is ignored.
      std::vector<uint8_t> rgb(static_cast<size_t>(s.width) * s.height * 3);
      for (int32_t y = 0; y < s.height; ++y) {
        for (int32_t x = 0; x < s.width; ++x) {
          const uint8_t* p = pixels.data() + y * s.stride + static_cast<size_t>(x) * s.channels;
          uint8_t* q = rgb.data() + (static_cast<size_t>(y) * s.width + x) * 3;
          q[0] = p[0];
          q[1] = s.channels == 1 ? p[0] : p[1];
          q[2] = s.channels == 1 ? p[0] : p[2];
        }
      }
      std::vector<intvit_prediction> packed;
      CAPI_ASSERT(run_image(session, f.model, f.info, rgb.data(), s.width, s.height, 3,
                            static_cast<size_t>(s.width) * 3, k, &packed) == INTVIT_OK);
      if (!same_top(top, packed)) finding("run_image depends on stride padding or channel layout", "");
    }
  }
  intvit_session_destroy(session);
}

// ---- operation 2: encoded image ----

void run_encoded(const Control& c, const uint8_t* payload, size_t n) {
  const Fixed& f = fixed();
  intvit_image* image = poison<intvit_image>();
  // A copy of exactly n bytes, so a decoder read past the end is seen (n = 0: a valid pointer, size 0).
  std::vector<uint8_t> encoded(payload, payload + n);
  const intvit_status st = expect(intvit_image_decode_memory(n ? encoded.data() : payload, n, &image),
                                  {INTVIT_ERROR_INVALID_ARGUMENT, INTVIT_ERROR_CORRUPT_IMAGE, INTVIT_ERROR_OUT_OF_MEMORY},
                                  "intvit_image_decode_memory");
  if (n == 0) CAPI_ASSERT(st == INTVIT_ERROR_INVALID_ARGUMENT);
  if (st != INTVIT_OK) {
    CAPI_ASSERT(image == nullptr);
    return;
  }
  const uint8_t* pixels = nullptr;
  int32_t width = 0, height = 0, channels = 0;
  size_t stride = 0;
  CAPI_ASSERT(intvit_image_pixels(image, &pixels, &width, &height, &channels, &stride) == INTVIT_OK);
  CAPI_ASSERT(pixels != nullptr && width > 0 && height > 0 && channels == 3);
  CAPI_ASSERT(static_cast<int64_t>(width) * height <= INTVIT_MAX_IMAGE_PIXELS);
  CAPI_ASSERT(stride == static_cast<size_t>(width) * 3);
  CAPI_ASSERT(intvit_image_pixels(image, nullptr, nullptr, &height, nullptr, nullptr) == INTVIT_OK);
  CAPI_ASSERT(intvit_image_pixels(nullptr, &pixels, &width, nullptr, nullptr, nullptr) == INTVIT_ERROR_INVALID_ARGUMENT);
  CAPI_ASSERT(pixels == nullptr && width == 0);
  CAPI_ASSERT(intvit_image_pixels(image, &pixels, &width, &height, &channels, &stride) == INTVIT_OK);
  if (static_cast<int64_t>(width) * height <= kMaxRunPixels) {
    intvit_session* session = create_session(f.model, c);
    if (session) {
      const size_t k = k_for(c.k, f.info.num_classes);
      std::vector<intvit_prediction> top;
      const intvit_status run = run_image(session, f.model, f.info, pixels, width, height, channels, stride, k, &top);
      CAPI_ASSERT((run == INTVIT_OK) == (k >= 1 && k <= static_cast<size_t>(f.info.num_classes)) ||
                  run == INTVIT_ERROR_OUT_OF_MEMORY);
      intvit_session_destroy(session);
    }
  }
  intvit_image_destroy(image);
}

// ---- operation 0: a model file ----

void run_model_file(const Control& c, const uint8_t* payload, size_t n) {
  // A copy of exactly n bytes, so a loader read past the end is seen.
  std::vector<uint8_t> file(payload, payload + n);
  const void* data = n ? static_cast<const void*>(file.data()) : static_cast<const void*>(payload);
  intvit_model* model = poison<intvit_model>();
  if (c.flags & 2) {
    CAPI_ASSERT(intvit_model_load_buffer(data, n, INTVIT_LOAD_PREFER_FP32, &model) == INTVIT_ERROR_INVALID_ARGUMENT);
    CAPI_ASSERT(model == nullptr);
  }
  const intvit_status st = expect(intvit_model_load_buffer(data, n, 0, &model),
                                  {INTVIT_ERROR_INVALID_ARGUMENT, INTVIT_ERROR_CORRUPT_MODEL, INTVIT_ERROR_UNSUPPORTED,
                                   INTVIT_ERROR_OUT_OF_MEMORY},
                                  "intvit_model_load_buffer");
  if (n == 0) CAPI_ASSERT(st == INTVIT_ERROR_INVALID_ARGUMENT);
  if (st != INTVIT_OK) {
    CAPI_ASSERT(model == nullptr);
    return;
  }
  CAPI_ASSERT(model != nullptr);
  file.assign(file.size(), 0xA5);  // the buffer is borrowed: the model must not depend on it now
  const ModelInfo m = query_model(model);
  CAPI_ASSERT(m.integer);  // buffers hold integer models only
  intvit_session* session = create_session(model, c);
  if (c.flags & 1) {  // sessions keep the model alive
    intvit_model_destroy(model);
    model = nullptr;
  }
  if (session) {
    const size_t k = k_for(c.k, m.num_classes);
    const bool k_valid = k >= 1 && k <= static_cast<size_t>(m.num_classes);
    // Two cropped inputs back to back: a pattern from the control block and the payload, and zeros.
    std::vector<uint8_t> inputs(2 * m.input_bytes, 0);
    for (size_t i = 0; i < m.input_bytes; ++i) {
      inputs[i] = static_cast<uint8_t>(i * (c.width | 1) + (n ? payload[i % n] : 0));
    }
    const std::vector<uint8_t> first(inputs.begin(), inputs.begin() + static_cast<ptrdiff_t>(m.input_bytes));
    const size_t classes = static_cast<size_t>(m.num_classes);
    std::vector<int32_t> logits(classes), batch(2 * classes);
    std::vector<intvit_prediction> cropped(k ? k : 1), from_logits(k ? k : 1);

    const intvit_status run = expect(intvit_session_run_cropped(session, first.data(), cropped.data(), k),
                                     {INTVIT_ERROR_INVALID_ARGUMENT}, "intvit_session_run_cropped");
    CAPI_ASSERT((run == INTVIT_OK) == k_valid);
    CAPI_ASSERT(expect(intvit_session_run_cropped_into(session, first.data(), logits.data(), classes), {},
                       "intvit_session_run_cropped_into") == INTVIT_OK);
    if (classes > 1) {
      CAPI_ASSERT(intvit_session_run_cropped_into(session, first.data(), logits.data(), classes - 1) ==
                  INTVIT_ERROR_BUFFER_TOO_SMALL);
    }
    CAPI_ASSERT(expect(intvit_session_run_batch_into(session, inputs.data(), 2, batch.data(), batch.size()), {},
                       "intvit_session_run_batch_into") == INTVIT_OK);
    if (!std::equal(logits.begin(), logits.end(), batch.begin())) {
      finding("run_batch_into image 0 differs from run_cropped_into", "");
    }
    const intvit_status topk = expect(intvit_session_top_k(session, logits.data(), classes, from_logits.data(), k),
                                      {INTVIT_ERROR_INVALID_ARGUMENT}, "intvit_session_top_k");
    CAPI_ASSERT(topk == run);
    if (run == INTVIT_OK) {
      if (model) {
        check_top(model, m, cropped);
      } else {  // labels stay valid while a session of the model lives (ASan: no use after free)
        for (const intvit_prediction& p : cropped) CAPI_ASSERT(p.label && std::strlen(p.label) < (size_t{1} << 20));
      }
      if (!same_top(cropped, from_logits)) finding("top_k of run_cropped_into logits differs from run_cropped", "");
      // The documented order: real logits (logit_scale * int32 logit) descending, ties to the
      // lower class index.
      double scale = 0;
      CAPI_ASSERT(intvit_session_logit_scale(session, &scale) == INTVIT_OK);
      std::vector<double> real(classes);
      for (size_t j = 0; j < classes; ++j) real[j] = scale * logits[j];
      for (size_t i = 0; i < k; ++i) {
        const int32_t a = cropped[i].class_index;
        for (int32_t j = 0; j < m.num_classes; ++j) {
          const bool ranks_before = real[j] > real[a] || (real[j] == real[a] && j < a);
          bool listed = false;
          for (size_t t = 0; t < i; ++t) listed |= cropped[t].class_index == j;
          if (ranks_before && !listed) finding("top-k order is not (logit descending, lower class first)", "");
        }
      }
    }
    // And a small image of any size through the preprocessing (a 5x3 RGBA of the pattern).
    std::vector<uint8_t> small(5 * 3 * 4);
    fill(small, payload, n);
    std::vector<intvit_prediction> top(k ? k : 1);
    const intvit_status image_run = expect(intvit_session_run_image(session, small.data(), 5, 3, 4, 20, top.data(), k),
                                           {INTVIT_ERROR_INVALID_ARGUMENT, INTVIT_ERROR_OUT_OF_MEMORY},
                                           "intvit_session_run_image");
    CAPI_ASSERT((image_run == INTVIT_OK) == k_valid || image_run == INTVIT_ERROR_OUT_OF_MEMORY);
    intvit_session_destroy(session);
  }
  intvit_model_destroy(model);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixed();
  return 0;
}

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// Model payloads (operation 0): four in five mutations are structure-aware, on the payload only.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::mt19937 rng(seed);
  if (size > kControlBytes && data[0] % 3 == 0 && rng() % 5 != 0) {
    if (const auto out = intvit::fuzz::mutate_model_file(data + kControlBytes, size - kControlBytes, rng);
        out && kControlBytes + out->size() <= max_size) {
      std::memcpy(data + kControlBytes, out->data(), out->size());
      return kControlBytes + out->size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kControlBytes) return 0;
  const Control c = parse_control(data);
  const uint8_t* payload = data + kControlBytes;
  const size_t n = size - kControlBytes;
  switch (c.op) {
    case 0: run_model_file(c, payload, n); break;
    case 1: run_pixels(c, payload, n); break;
    default: run_encoded(c, payload, n); break;
  }
  return 0;
}
