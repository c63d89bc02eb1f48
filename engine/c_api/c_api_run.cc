// C API: running a session — on an image of any size (preprocessing included), on a cropped
// input (top-k or raw int32 logits into caller memory), and on a batch of cropped inputs.
// Every argument is checked before the engine sees it; nothing here allocates on the
// cropped-input paths of integer models. Integer only (tests/no_float scans this object): the
// real-valued presentation of logits lives in c_api_top_k.cc.
#include <cstdint>
#include <limits>

#include "engine/c_api/c_api_internal.h"
#include "models/preprocess.h"

using intvit::capi::InputKind;
using intvit::capi::fail;
using intvit::capi::guarded;
using intvit::capi::require;

namespace {

template <class Body>
intvit_status session_call(const char* function, intvit_session* session, Body&& body) noexcept {
  return guarded(function, session ? &session->errors : nullptr, InputKind::kModel, [&] {
    require(session != nullptr, "session is NULL");
    body(*session);
  });
}

void check_top(const intvit_session& s, const intvit_prediction* top, size_t k) {
  require(top != nullptr, "top is NULL");
  if (k == 0 || k > static_cast<size_t>(s.num_classes)) {
    fail(INTVIT_ERROR_INVALID_ARGUMENT,
         "k must be in [1, " + std::to_string(s.num_classes) + "] (the class count), got " + std::to_string(k));
  }
}

void check_logits_buffer(const intvit_session& s, const int32_t* logits, size_t logits_len, size_t needed) {
  require(logits != nullptr, "logits is NULL");
  if (logits_len < needed) {
    fail(INTVIT_ERROR_BUFFER_TOO_SMALL,
         "logits holds " + std::to_string(logits_len) + " values, " + std::to_string(needed) + " needed");
  }
  (void)s;
}

void require_integer(const intvit_session& s) {
  if (!s.integer) fail(INTVIT_ERROR_UNSUPPORTED, "an FP32 model has no int32 logits (use intvit_session_run_cropped)");
}

// Checks an image description before anything reads or allocates; returns nothing, throws Failure.
void check_image(const uint8_t* pixels, int32_t width, int32_t height, int32_t channels, size_t row_stride) {
  require(pixels != nullptr, "pixels is NULL");
  if (width <= 0 || height <= 0) {
    fail(INTVIT_ERROR_INVALID_ARGUMENT,
         "width and height must be positive, got " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (channels != 1 && channels != 3 && channels != 4) {
    fail(INTVIT_ERROR_INVALID_ARGUMENT, "channels must be 1, 3 or 4, got " + std::to_string(channels));
  }
  if (static_cast<int64_t>(width) * height > INTVIT_MAX_IMAGE_PIXELS) {
    fail(INTVIT_ERROR_INVALID_ARGUMENT, "image " + std::to_string(width) + "x" + std::to_string(height) +
                                            " exceeds INTVIT_MAX_IMAGE_PIXELS (" +
                                            std::to_string(INTVIT_MAX_IMAGE_PIXELS) + ")");
  }
  const size_t row_bytes = static_cast<size_t>(width) * static_cast<size_t>(channels);
  if (row_stride < row_bytes) {
    fail(INTVIT_ERROR_INVALID_ARGUMENT, "row_stride " + std::to_string(row_stride) + " < width * channels = " +
                                            std::to_string(row_bytes));
  }
  // The last byte read is at (height - 1) * row_stride + row_bytes - 1: it must be addressable.
  constexpr size_t kMax = std::numeric_limits<size_t>::max();
  const size_t rows_before_last = static_cast<size_t>(height) - 1;
  if (rows_before_last != 0 && row_stride > (kMax - row_bytes) / rows_before_last) {
    fail(INTVIT_ERROR_INVALID_ARGUMENT, "row_stride " + std::to_string(row_stride) + " x height " +
                                            std::to_string(height) + " overflows size_t");
  }
}

// Real logits of one cropped input into s.real_logits, then top-k.
void classify_cropped(intvit_session& s, const uint8_t* pixels, intvit_prediction* top, size_t k) {
  s.session->run(pixels, s.real_logits.data());
  intvit::capi::top_k_into(s.real_logits, s.order, s.session->model().labels(), top, k);
}

}  // namespace

extern "C" {

intvit_status intvit_session_run_image(intvit_session* session, const uint8_t* pixels, int32_t width, int32_t height,
                                       int32_t channels, size_t row_stride, intvit_prediction* top, size_t k) {
  return session_call("intvit_session_run_image", session, [&](intvit_session& s) {
    check_image(pixels, width, height, channels, row_stride);
    check_top(s, top, k);
    const intvit::Image input =
        intvit::preprocess(intvit::image_from_pixels(pixels, width, height, channels, row_stride), s.preprocess);
    if (input.rgb.size() != s.input_bytes) fail(INTVIT_ERROR_INTERNAL, "preprocessing gave the wrong input size");
    classify_cropped(s, input.rgb.data(), top, k);
  });
}

intvit_status intvit_session_run_cropped(intvit_session* session, const uint8_t* pixels, intvit_prediction* top,
                                         size_t k) {
  return session_call("intvit_session_run_cropped", session, [&](intvit_session& s) {
    require(pixels != nullptr, "pixels is NULL");
    check_top(s, top, k);
    classify_cropped(s, pixels, top, k);
  });
}

intvit_status intvit_session_run_cropped_into(intvit_session* session, const uint8_t* pixels, int32_t* logits,
                                              size_t logits_len) {
  return session_call("intvit_session_run_cropped_into", session, [&](intvit_session& s) {
    require(pixels != nullptr, "pixels is NULL");
    check_logits_buffer(s, logits, logits_len, static_cast<size_t>(s.num_classes));
    require_integer(s);
    s.session->run_int(pixels, logits);
  });
}

intvit_status intvit_session_run_batch_into(intvit_session* session, const uint8_t* pixels, size_t n, int32_t* logits,
                                            size_t logits_len) {
  return session_call("intvit_session_run_batch_into", session, [&](intvit_session& s) {
    require(pixels != nullptr, "pixels is NULL");
    require(n != 0, "n is 0 (no images)");
    constexpr size_t kMax = std::numeric_limits<size_t>::max();
    if (n > kMax / s.input_bytes || n > kMax / static_cast<size_t>(s.num_classes)) {
      fail(INTVIT_ERROR_INVALID_ARGUMENT, "n = " + std::to_string(n) + " images overflow size_t");
    }
    check_logits_buffer(s, logits, logits_len, n * static_cast<size_t>(s.num_classes));
    require_integer(s);
    s.session->run_batch_int(n, pixels, logits);
  });
}

intvit_status intvit_session_top_k(intvit_session* session, const int32_t* logits, size_t logits_len,
                                   intvit_prediction* top, size_t k) {
  return session_call("intvit_session_top_k", session, [&](intvit_session& s) {
    require(logits != nullptr, "logits is NULL");
    if (logits_len != static_cast<size_t>(s.num_classes)) {
      fail(INTVIT_ERROR_INVALID_ARGUMENT, "logits_len must equal the class count " + std::to_string(s.num_classes) +
                                              ", got " + std::to_string(logits_len));
    }
    check_top(s, top, k);
    require_integer(s);
    intvit::capi::top_k_of_int_logits(s, logits, top, k);
  });
}

}  // extern "C"
