#include "bench/swin_model_bench.h"

#include <chrono>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "models/fp32_layers.h"
#include "random_swin.h"  // tests/random_swin.h
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/swin_quantizer.h"

namespace intvit::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

SwinConfig swin_arch_config() { return parse_swin_config({{"architecture", "swin_tiny_patch4_window7_224"}}); }

std::optional<SwinConfig> swin_config_of(const std::filesystem::path& model) {
  std::ifstream in(fp32::checkpoint_files(model).config);
  if (!in) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !is_swin_config(j)) return std::nullopt;
  return parse_swin_config(j);
}

SwinBuildTimes build_random_swin(const SwinConfig& c, unsigned weight_seed, unsigned calib_seed, int images,
                                 const std::filesystem::path& dir, QuantizeReport* report) {
  SwinBuildTimes t;
  auto t0 = std::chrono::steady_clock::now();
  const SwinWeightsF32 fp32 = random_swin(c, weight_seed);
  t.init = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const CalibrationStats stats =
      calibrate(fp32, random_model_inputs(swin_model_view(c), static_cast<size_t>(images), calib_seed), ObserverKind::kMinMax);
  t.calib = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  IntSwin q = quantize_swin(fp32, stats, {}, report);
  for (int i = 0; i < c.num_classes; ++i) q.labels.push_back("class_" + std::to_string(i));
  t.quant = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::filesystem::remove_all(dir);
  save_int_model(q, dir);
  t.save = seconds_since(t0);
  return t;
}

std::array<double, static_cast<size_t>(OpKind::kCount)> swin_macs_per_op(const SwinConfig& c) {
  std::array<double, static_cast<size_t>(OpKind::kCount)> m{};
  auto at = [&](OpKind k) -> double& { return m[static_cast<size_t>(k)]; };
  const double p = c.patch_size, res0 = c.stage_resolution(0);
  at(OpKind::kPatchEmbed) = res0 * res0 * 3 * p * p * c.embed_dim;
  for (int s = 0; s < c.num_stages(); ++s) {
    const double res = c.stage_resolution(s), t = res * res, d = c.stage_dim(s), h = c.mlp_hidden(s);
    const double n = static_cast<double>(c.stage_window(s)) * c.stage_window(s);
    if (s > 0) at(OpKind::kLinear) += t * 4 * c.stage_dim(s - 1) * d;
    at(OpKind::kLinear) += c.depths[s] * (t * d * 3 * d + t * d * d + 2 * t * d * h);
    at(OpKind::kQk) += c.depths[s] * t * n * d;
    at(OpKind::kAv) += c.depths[s] * t * n * d;
  }
  at(OpKind::kLinear) += static_cast<double>(c.num_features()) * c.num_classes;
  return m;
}

}  // namespace intvit::bench
