// C API: creating sessions and querying them. Runs are in c_api_run.cc.
#include <cstring>

#include "engine/c_api/c_api_internal.h"
#include "engine/dataset.h"
#include "kernels/gemm/gemm.h"

using intvit::capi::InputKind;
using intvit::capi::guarded;
using intvit::capi::require;

namespace {

constexpr int32_t kMaxThreads = 256;

template <class Body>
intvit_status session_query(const char* function, const intvit_session* session, Body&& body) noexcept {
  return guarded(function, session ? &session->errors : nullptr, InputKind::kModel, [&] {
    require(session != nullptr, "session is NULL");
    body(*session);
  });
}

}  // namespace

extern "C" {

intvit_status intvit_session_create(const intvit_model* model, int32_t threads, const char* backend,
                                    intvit_session** out) {
  if (out) *out = nullptr;
  return guarded("intvit_session_create", model ? &model->errors : nullptr, InputKind::kModel, [&] {
    require(out != nullptr, "out is NULL");
    require(model != nullptr, "model is NULL");
    if (threads < 1 || threads > kMaxThreads) {
      intvit::capi::fail(INTVIT_ERROR_INVALID_ARGUMENT,
                         "threads must be in [1, " + std::to_string(kMaxThreads) + "], got " + std::to_string(threads));
    }
    // An unknown name is an invalid argument whatever the model; a known one the model cannot run
    // on is unsupported (the header's rule).
    const std::string name = backend ? backend : "";
    const bool fp32 = name == "fp32";
    if (!name.empty() && !fp32) (void)intvit::parse_gemm_isa(name);  // kInvalidArgument naming the known ones
    if (!model->integer && !name.empty() && !fp32) {
      intvit::capi::fail(INTVIT_ERROR_UNSUPPORTED, "an FP32 model runs on the \"fp32\" backend only, not \"" + name + "\"");
    }
    if (model->integer && fp32) {
      intvit::capi::fail(INTVIT_ERROR_UNSUPPORTED, "an integer model runs on an integer backend, not \"fp32\"");
    }
    intvit::SessionOptions options;
    options.threads = threads;
    options.backend = model->integer ? name : "";
    auto handle = std::make_unique<intvit_session>();
    handle->session = intvit::create_session(model->model, options);
    const intvit::ViTConfig& c = model->model->config();
    handle->backend = handle->session->backend();
    handle->integer = model->integer;
    handle->num_classes = c.num_classes;
    handle->input_bytes = static_cast<size_t>(c.image_size) * c.image_size * 3;
    handle->logit_scale = handle->session->logit_scale();
    handle->preprocess = intvit::preprocess_config_for(c);
    handle->real_logits.resize(c.num_classes);
    handle->order.resize(c.num_classes);
    *out = handle.release();
  });
}

void intvit_session_destroy(intvit_session* session) { delete session; }

intvit_status intvit_session_backend(const intvit_session* session, const char** out) {
  if (out) *out = nullptr;
  return session_query("intvit_session_backend", session, [&](const intvit_session& s) {
    require(out != nullptr, "out is NULL");
    *out = s.backend.c_str();
  });
}

intvit_status intvit_session_threads(const intvit_session* session, int32_t* out) {
  return session_query("intvit_session_threads", session, [&](const intvit_session& s) {
    require(out != nullptr, "out is NULL");
    *out = s.session->threads();
  });
}

intvit_status intvit_session_workspace_bytes(const intvit_session* session, size_t* out) {
  return session_query("intvit_session_workspace_bytes", session, [&](const intvit_session& s) {
    require(out != nullptr, "out is NULL");
    *out = s.session->workspace_bytes();
  });
}

intvit_status intvit_session_logit_scale(const intvit_session* session, double* out) {
  return session_query("intvit_session_logit_scale", session, [&](const intvit_session& s) {
    require(out != nullptr, "out is NULL");
    *out = s.logit_scale;
  });
}

const char* intvit_session_last_error(const intvit_session* session) {
  return session ? session->errors.get() : intvit_last_error();
}

}  // extern "C"
