// intvit._intvit.Model: one loaded model plus one session, bound through the C API (the handle
// structs of engine/c_api/c_api_internal.h only for preprocessing, which the C API runs inside
// intvit_session_run_image but does not expose on its own). Every engine call releases the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "engine/c_api/c_api_internal.h"
#include "engine/python/src/status_error.h"
#include "intvit/intvit.h"
#include "models/image.h"
#include "models/preprocess.h"

namespace nb = nanobind;

namespace intvit::python {
namespace {

using Pixels = nb::ndarray<nb::ro, nb::device::cpu>;
using Logits = nb::ndarray<nb::numpy, int32_t, nb::ndim<2>>;
using Cropped = nb::ndarray<nb::numpy, uint8_t, nb::ndim<3>>;
using Prediction = std::tuple<int32_t, std::string, double>;

// Images per engine batch inside classify(): bounds the cropped-input memory of a long list.
constexpr size_t kClassifyChunk = 32;

// One image of classify()/preprocess(), described while the GIL is held; the Python objects it
// points into are kept alive by the caller's list (bytes are immutable).
struct ImageInput {
  enum Kind { kPath, kEncoded, kPixels } kind = kPath;
  std::string path;
  const uint8_t* data = nullptr;
  size_t size = 0;
  int32_t width = 0, height = 0, channels = 0;
  size_t row_stride = 0;
};

// "dtype uint16" of a numpy array, else the type's name ("list").
std::string dtype_name(nb::handle array) {
  if (!nb::hasattr(array, "dtype")) return nb::type_name(array.type()).c_str();
  const nb::object dtype = array.attr("dtype");
  const nb::handle h = dtype;
  const nb::str text(h);  // calls str(); nb::str(array.attr("dtype")) does not (it crashed here)
  return std::string("dtype ") + text.c_str();
}

std::string shape_string(const Pixels& a) {
  std::string s = "(";
  for (size_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// A uint8 array H x W or H x W x C (C = 1, 3, 4) whose pixels are dense within a row (rows may be
// padded, as numpy slices of a wider image are). Anything else is a ValueError, never a copy.
ImageInput pixels_input(const Pixels& a) {
  if (a.dtype() != nb::dtype<uint8_t>()) invalid_argument("image arrays must have dtype uint8");
  if (a.ndim() != 2 && a.ndim() != 3) invalid_argument("image arrays must be H x W or H x W x C, got shape " + shape_string(a));
  ImageInput in;
  in.kind = ImageInput::kPixels;
  in.height = static_cast<int32_t>(a.shape(0));
  in.width = static_cast<int32_t>(a.shape(1));
  in.channels = a.ndim() == 3 ? static_cast<int32_t>(a.shape(2)) : 1;
  if (a.shape(0) == 0 || a.shape(1) == 0 || a.shape(0) > INT32_MAX || a.shape(1) > INT32_MAX) {
    invalid_argument("image arrays must have a positive height and width, got shape " + shape_string(a));
  }
  if (in.channels != 1 && in.channels != 3 && in.channels != 4) {
    invalid_argument("image arrays must have 1, 3 or 4 channels, got shape " + shape_string(a));
  }
  // The stride of a dimension of size 1 is never used (numpy gives 0 to an axis added with None).
  const int64_t row_bytes = static_cast<int64_t>(in.width) * in.channels;
  const bool dense_channels = in.channels == 1 || a.stride(2) == 1;
  const bool dense_pixels = in.width == 1 || a.stride(1) == in.channels;
  const int64_t row_stride = in.height == 1 ? row_bytes : a.stride(0);
  if (!dense_channels || !dense_pixels || row_stride < row_bytes) {
    invalid_argument("image array strides must be row-major with interleaved channels (e.g. numpy.ascontiguousarray)");
  }
  in.data = static_cast<const uint8_t*>(a.data());
  in.row_stride = static_cast<size_t>(row_stride);
  return in;
}

ImageInput image_input(nb::handle item, std::vector<Pixels>& keep) {
  ImageInput in;
  if (nb::isinstance<nb::str>(item)) {
    in.path = nb::cast<std::string>(item);
    reject_nul(in.path, "an image path");
    return in;
  }
  if (nb::isinstance<nb::bytes>(item)) {
    nb::bytes b = nb::borrow<nb::bytes>(item);
    in.kind = ImageInput::kEncoded;
    in.data = reinterpret_cast<const uint8_t*>(b.c_str());
    in.size = b.size();
    return in;
  }
  Pixels a;
  if (!nb::try_cast(item, a, false)) {
    throw nb::type_error("an image must be a path (str), encoded bytes or a uint8 numpy array");
  }
  keep.push_back(a);
  return pixels_input(a);
}

// Frees a decoded image on every path out of a scope.
struct ImageHandle {
  intvit_image* image = nullptr;
  ~ImageHandle() { intvit_image_destroy(image); }
};

}  // namespace

class Model {
 public:
  Model(const std::string& path, int32_t threads, const std::string& backend, bool prefer_fp32) {
    reject_nul(path, "path");
    intvit_model* raw = nullptr;
    {
      nb::gil_scoped_release release;
      const intvit_status status = intvit_model_load(path.c_str(), prefer_fp32 ? INTVIT_LOAD_PREFER_FP32 : 0, &raw);
      INTVIT_PY_CHECK_PATH(status, intvit_last_error(), path);
    }
    model_.reset(raw, intvit_model_destroy);
    open_session(threads, backend);
  }

  // A second session on the same loaded weights (no reload).
  Model(const Model& other, int32_t threads, const std::string& backend) : model_(other.model_) {
    open_session(threads, backend);
  }

  ~Model() { intvit_session_destroy(session_); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  int32_t input_size() const { return input_size_; }
  int32_t num_classes() const { return num_classes_; }
  bool is_integer() const { return integer_; }
  double logit_scale() const { return logit_scale_; }
  std::string precision() const { return model_string(intvit_model_precision); }
  std::string backend() const {
    std::string b;
    with_session([&] { b = session_string(intvit_session_backend); });
    return b;
  }
  int32_t threads() const {
    int32_t t = 0;
    with_session([&] { INTVIT_PY_CHECK(intvit_session_threads(session_, &t), intvit_session_last_error(session_)); });
    return t;
  }
  size_t workspace_bytes() const {
    size_t b = 0;
    with_session([&] {
      INTVIT_PY_CHECK(intvit_session_workspace_bytes(session_, &b), intvit_session_last_error(session_));
    });
    return b;
  }
  std::vector<std::string> labels() const {
    std::vector<std::string> out;
    for (int32_t i = 0; i < num_classes_; ++i) {
      const char* label = nullptr;
      INTVIT_PY_CHECK(intvit_model_label(model_.get(), i, &label), intvit_model_last_error(model_.get()));
      out.emplace_back(label);
    }
    return out;
  }

  // [n, S, S, 3] uint8 C-contiguous -> [n, classes] int32; the input is read in place.
  Logits logits(nb::handle array) {
    // Integer-ness first: an FP32 model has no int32 logits whatever the batch, even of no images
    // (which never reach the C API's own check).
    if (!integer_) throw StatusError(INTVIT_ERROR_UNSUPPORTED, "logits(): an FP32 model has no int32 logits (use classify())");
    // Cast here rather than in the signature: an array of a dtype nanobind cannot take at all
    // (object, str, bytes, datetime) gets the same ValueError as any other dtype but uint8.
    Pixels batch;
    if (!nb::try_cast(array, batch, false) || batch.dtype() != nb::dtype<uint8_t>()) {
      invalid_argument("logits() needs a uint8 array, got " + dtype_name(array));
    }
    const int64_t s = input_size_;
    if (batch.ndim() != 4 || batch.shape(1) != static_cast<size_t>(s) || batch.shape(2) != static_cast<size_t>(s) ||
        batch.shape(3) != 3) {
      invalid_argument("logits() needs shape (n, " + std::to_string(s) + ", " + std::to_string(s) + ", 3), got " +
                       shape_string(batch));
    }
    const size_t n = batch.shape(0);
    // No images: nothing is read (numpy gives np.zeros((0, S, S, 3)) all-zero strides).
    const bool contiguous = n == 0 || (batch.stride(3) == 1 && batch.stride(2) == 3 && batch.stride(1) == 3 * s &&
                                       (n == 1 || batch.stride(0) == 3 * s * s));
    if (!contiguous) invalid_argument("logits() needs a C-contiguous array (numpy.ascontiguousarray)");
    const size_t classes = static_cast<size_t>(num_classes_);
    std::unique_ptr<int32_t[]> out(new int32_t[n * classes > 0 ? n * classes : 1]);
    if (n > 0) {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(run_mutex_);
      INTVIT_PY_CHECK(intvit_session_run_batch_into(session_, static_cast<const uint8_t*>(batch.data()), n, out.get(), n * classes),
            intvit_session_last_error(session_));
    }
    int32_t* data = out.release();
    nb::capsule owner(data, [](void* p) noexcept { delete[] static_cast<int32_t*>(p); });
    return Logits(data, {n, classes}, owner);
  }

  // The cropped input the engine makes of one image: [S, S, 3] uint8.
  Cropped preprocess(nb::handle image) {
    std::vector<Pixels> keep;
    const ImageInput in = image_input(image, keep);
    std::unique_ptr<uint8_t[]> out(new uint8_t[input_bytes_]);
    {
      nb::gil_scoped_release release;
      cropped_into(in, out.get());
    }
    uint8_t* data = out.release();
    nb::capsule owner(data, [](void* p) noexcept { delete[] static_cast<uint8_t*>(p); });
    const size_t s = static_cast<size_t>(input_size_);
    return Cropped(data, {s, s, 3}, owner);
  }

  // Top-`top` classes of every image, highest first.
  std::vector<std::vector<Prediction>> classify(nb::list images, int64_t top) {
    if (top < 1 || top > num_classes_) {
      invalid_argument("top must be in [1, " + std::to_string(num_classes_) + "], got " + std::to_string(top));
    }
    std::vector<Pixels> keep;
    std::vector<ImageInput> inputs;
    inputs.reserve(images.size());
    for (nb::handle item : images) {
      try {
        inputs.push_back(image_input(item, keep));
      } catch (const StatusError& e) {
        throw StatusError(e.status(), "image " + std::to_string(inputs.size()) + ": " + e.what(), e.missing_path());
      }
    }
    std::vector<intvit_prediction> predictions(inputs.size() * static_cast<size_t>(top));
    {
      nb::gil_scoped_release release;
      classify_inputs(inputs, static_cast<size_t>(top), predictions.data());
    }
    std::vector<std::vector<Prediction>> out(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (int64_t j = 0; j < top; ++j) {
        const intvit_prediction& p = predictions[i * static_cast<size_t>(top) + static_cast<size_t>(j)];
        out[i].emplace_back(p.class_index, p.label, p.probability);
      }
    }
    return out;
  }

 private:
  void open_session(int32_t threads, const std::string& backend) {
    nb::gil_scoped_release release;
    INTVIT_PY_CHECK(intvit_session_create(model_.get(), threads, backend.c_str(), &session_), intvit_last_error());
    int is_int = 0;
    INTVIT_PY_CHECK(intvit_model_input_size(model_.get(), &input_size_), intvit_model_last_error(model_.get()));
    INTVIT_PY_CHECK(intvit_model_input_bytes(model_.get(), &input_bytes_), intvit_model_last_error(model_.get()));
    INTVIT_PY_CHECK(intvit_model_num_classes(model_.get(), &num_classes_), intvit_model_last_error(model_.get()));
    INTVIT_PY_CHECK(intvit_model_is_integer(model_.get(), &is_int), intvit_model_last_error(model_.get()));
    INTVIT_PY_CHECK(intvit_session_logit_scale(session_, &logit_scale_), intvit_session_last_error(session_));
    integer_ = is_int != 0;
  }

  // Runs a query of the session in turn with runs: a run on another Python thread (GIL released)
  // may re-plan the session's workspaces, and a failing query writes the session's last error.
  // As in the runs, the GIL is released before waiting for run_mutex_ (a run holding the mutex
  // never waits for the GIL, so neither waits for the other), and `query` must not touch Python.
  template <class Query>
  void with_session(Query&& query) const {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(run_mutex_);
    query();
  }

  std::string model_string(intvit_status (*get)(const intvit_model*, const char**)) const {
    const char* s = nullptr;
    INTVIT_PY_CHECK(get(model_.get(), &s), intvit_model_last_error(model_.get()));
    return s;
  }
  std::string session_string(intvit_status (*get)(const intvit_session*, const char**)) const {
    const char* s = nullptr;
    INTVIT_PY_CHECK(get(session_, &s), intvit_session_last_error(session_));
    return s;
  }

  // Decodes (if encoded) and preprocesses one image into input_bytes_ bytes at dst. GIL released.
  void cropped_into(const ImageInput& in, uint8_t* dst) const {
    ImageHandle decoded;
    if (in.kind == ImageInput::kPath) {
      INTVIT_PY_CHECK_PATH(intvit_image_decode_file(in.path.c_str(), &decoded.image), intvit_last_error(), in.path);
    } else if (in.kind == ImageInput::kEncoded) {
      // No bytes: a corrupt image, as an empty file is (the C API calls size 0 an invalid argument).
      if (in.size == 0) throw StatusError(INTVIT_ERROR_CORRUPT_IMAGE, "cannot decode <memory>: empty input");
      INTVIT_PY_CHECK(intvit_image_decode_memory(in.data, in.size, &decoded.image), intvit_last_error());
    }
    const intvit_status status = capi::guarded(
        "intvit preprocess", static_cast<capi::SingleThreadErrors*>(nullptr), capi::InputKind::kImage, [&] {
          const Image cropped =
              decoded.image ? intvit::preprocess(decoded.image->image, session_->preprocess)
                            : intvit::preprocess(image_from_pixels(in.data, in.width, in.height, in.channels, in.row_stride),
                                                 session_->preprocess);
          if (cropped.rgb.size() != input_bytes_) capi::fail(INTVIT_ERROR_INTERNAL, "preprocessing gave the wrong size");
          std::memcpy(dst, cropped.rgb.data(), input_bytes_);
        });
    INTVIT_PY_CHECK(status, intvit_last_error());
  }

  // Chunks of images: preprocess each, one batch run (integer models) or one run per image (FP32).
  void classify_inputs(const std::vector<ImageInput>& inputs, size_t top, intvit_prediction* predictions) {
    const size_t chunk = inputs.size() < kClassifyChunk ? inputs.size() : kClassifyChunk;
    std::vector<uint8_t> cropped(chunk * input_bytes_);
    std::vector<int32_t> logits(integer_ ? chunk * static_cast<size_t>(num_classes_) : 0);
    for (size_t first = 0; first < inputs.size(); first += chunk) {
      const size_t n = std::min(chunk, inputs.size() - first);
      for (size_t i = 0; i < n; ++i) {
        try {
          cropped_into(inputs[first + i], cropped.data() + i * input_bytes_);
        } catch (const StatusError& e) {
          throw StatusError(e.status(), "image " + std::to_string(first + i) + ": " + e.what(), e.missing_path());
        }
      }
      std::lock_guard<std::mutex> lock(run_mutex_);
      if (integer_) {
        const size_t classes = static_cast<size_t>(num_classes_);
        INTVIT_PY_CHECK(intvit_session_run_batch_into(session_, cropped.data(), n, logits.data(), n * classes),
              intvit_session_last_error(session_));
        for (size_t i = 0; i < n; ++i) {
          INTVIT_PY_CHECK(intvit_session_top_k(session_, logits.data() + i * classes, classes, predictions + (first + i) * top, top),
                intvit_session_last_error(session_));
        }
      } else {
        for (size_t i = 0; i < n; ++i) {
          INTVIT_PY_CHECK(intvit_session_run_cropped(session_, cropped.data() + i * input_bytes_, predictions + (first + i) * top, top),
                intvit_session_last_error(session_));
        }
      }
    }
  }

  std::shared_ptr<intvit_model> model_;
  intvit_session* session_ = nullptr;
  // A session belongs to one thread at a time; Python threads may share a Model. Held, with the
  // GIL released, by every C call on session_ after construction (runs and queries); preprocess()
  // reads only session_->preprocess, which is fixed at creation.
  mutable std::mutex run_mutex_;
  int32_t input_size_ = 0, num_classes_ = 0;
  size_t input_bytes_ = 0;
  bool integer_ = false;
  double logit_scale_ = 1;
};

void bind_model(nb::module_& m) {
  nb::class_<Model>(m, "Model", "A loaded model with one session (see intvit.Model for the documented wrapper).")
      .def(nb::init<const std::string&, int32_t, const std::string&, bool>(), nb::arg("path"), nb::arg("threads"),
           nb::arg("backend"), nb::arg("prefer_fp32"))
      .def("clone", [](const Model& self, int32_t threads, const std::string& backend) {
             return new Model(self, threads, backend);
           }, nb::arg("threads"), nb::arg("backend"), nb::rv_policy::take_ownership)
      .def_prop_ro("input_size", &Model::input_size)
      .def_prop_ro("num_classes", &Model::num_classes)
      .def_prop_ro("is_integer", &Model::is_integer)
      .def_prop_ro("logit_scale", &Model::logit_scale)
      .def_prop_ro("precision", &Model::precision)
      .def_prop_ro("backend", &Model::backend)
      .def_prop_ro("threads", &Model::threads)
      .def_prop_ro("workspace_bytes", &Model::workspace_bytes)
      .def_prop_ro("labels", &Model::labels)
      .def("logits", &Model::logits, nb::arg("batch"))
      .def("preprocess", &Model::preprocess, nb::arg("image"))
      .def("classify", &Model::classify, nb::arg("images"), nb::arg("top"));
}

}  // namespace intvit::python
