// C API: loading models (path or caller buffer) and querying them.
#include <filesystem>

#include "engine/c_api/c_api_internal.h"

using intvit::capi::InputKind;
using intvit::capi::guarded;
using intvit::capi::require;

namespace {

intvit_model* wrap(std::unique_ptr<intvit::Model> loaded) {
  auto handle = std::make_unique<intvit_model>();
  handle->precision = loaded->precision();
  handle->integer = handle->precision != "fp32";
  handle->model = std::move(loaded);
  return handle.release();
}

template <class Body>
intvit_status model_call(const char* function, const intvit_model* model, Body&& body) noexcept {
  return guarded(function, model ? &model->errors : nullptr, InputKind::kModel, [&] {
    require(model != nullptr, "model is NULL");
    body(*model->model);
  });
}

constexpr uint32_t kKnownLoadFlags = INTVIT_LOAD_PREFER_FP32;

}  // namespace

extern "C" {

intvit_status intvit_model_load(const char* path, uint32_t flags, intvit_model** out) {
  if (out) *out = nullptr;
  return guarded("intvit_model_load", [&] {
    require(out != nullptr, "out is NULL");
    require(path != nullptr, "path is NULL");
    require(*path != '\0', "path is empty");
    require((flags & ~kKnownLoadFlags) == 0, "unknown flags");
    *out = wrap(intvit::load_model(std::filesystem::path(path), (flags & INTVIT_LOAD_PREFER_FP32) != 0));
  });
}

intvit_status intvit_model_load_buffer(const void* data, size_t size, uint32_t flags, intvit_model** out) {
  if (out) *out = nullptr;
  return guarded("intvit_model_load_buffer", [&] {
    require(out != nullptr, "out is NULL");
    require(data != nullptr, "data is NULL");
    require(size != 0, "size is 0");
    require(flags == 0, "flags must be 0 (buffers hold integer models only)");
    *out = wrap(intvit::load_int_model_buffer(data, size));
  });
}

void intvit_model_destroy(intvit_model* model) { delete model; }

intvit_status intvit_model_input_size(const intvit_model* model, int32_t* out) {
  return model_call("intvit_model_input_size", model, [&](const intvit::Model& m) {
    require(out != nullptr, "out is NULL");
    *out = m.config().image_size;
  });
}

intvit_status intvit_model_input_bytes(const intvit_model* model, size_t* out) {
  return model_call("intvit_model_input_bytes", model, [&](const intvit::Model& m) {
    require(out != nullptr, "out is NULL");
    *out = static_cast<size_t>(m.config().image_size) * m.config().image_size * 3;
  });
}

intvit_status intvit_model_num_classes(const intvit_model* model, int32_t* out) {
  return model_call("intvit_model_num_classes", model, [&](const intvit::Model& m) {
    require(out != nullptr, "out is NULL");
    *out = m.config().num_classes;
  });
}

intvit_status intvit_model_label(const intvit_model* model, int32_t index, const char** out) {
  if (out) *out = nullptr;
  return model_call("intvit_model_label", model, [&](const intvit::Model& m) {
    require(out != nullptr, "out is NULL");
    const int32_t n = m.config().num_classes;
    if (index < 0 || index >= n) {
      intvit::capi::fail(INTVIT_ERROR_INVALID_ARGUMENT,
                         "class index " + std::to_string(index) + " is outside [0, " + std::to_string(n) + ")");
    }
    const auto& labels = m.labels();
    *out = static_cast<size_t>(index) < labels.size() ? labels[index].c_str() : "";
  });
}

intvit_status intvit_model_precision(const intvit_model* model, const char** out) {
  if (out) *out = nullptr;
  return model_call("intvit_model_precision", model, [&](const intvit::Model&) {
    require(out != nullptr, "out is NULL");
    *out = model->precision.c_str();
  });
}

intvit_status intvit_model_is_integer(const intvit_model* model, int* out) {
  return model_call("intvit_model_is_integer", model, [&](const intvit::Model&) {
    require(out != nullptr, "out is NULL");
    *out = model->integer ? 1 : 0;
  });
}

const char* intvit_model_last_error(const intvit_model* model) {
  return model ? model->errors.get() : intvit_last_error();
}

}  // extern "C"
