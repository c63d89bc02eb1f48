// A loaded classifier, FP32 or integer, behind one small interface used by the CLI, the C API and
// the benchmarks. A Model is immutable after loading and may be shared between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/vit_config.h"

namespace intvit {

struct Prediction {
  int class_index = 0;
  double probability = 0;  // softmax of the logits (presentation only, computed after inference)
  std::string label;
};

struct SessionOptions;
class Session;

class Model {
 public:
  virtual ~Model() = default;
  const ViTConfig& config() const { return config_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::filesystem::path& source() const { return source_; }
  virtual std::string precision() const = 0;  // "fp32" or "int8"
  // Real-valued logits for one cropped uint8 RGB HWC image of config().image_size².
  // (The integer model computes int32 logits; this returns them times their scale.)
  virtual std::vector<double> logits(const uint8_t* pixels) const = 0;
  // See engine/session.h: create_session(model, options) calls this with the owning pointer.
  virtual std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const = 0;

 protected:
  ViTConfig config_;
  std::vector<std::string> labels_;
  std::filesystem::path source_;
};

// A model folder or file: an integer intvit model (model.intvit) if present, else FP32 safetensors
// (config.json + model.safetensors). prefer_fp32 skips the integer model.
std::unique_ptr<Model> load_model(const std::filesystem::path& path, bool prefer_fp32 = false);
// An integer model file image held by the caller (copied; the buffer may be freed afterwards).
std::unique_ptr<Model> load_int_model_buffer(const void* data, size_t size);

// Top-k predictions (k clamped to the class count), highest first; ties by lower class index.
std::vector<Prediction> top_k(const std::vector<double>& logits, const std::vector<std::string>& labels, int k);

}  // namespace intvit
