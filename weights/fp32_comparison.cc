#include "weights/fp32_comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "kernels/error.h"

namespace intvit {
namespace {

std::vector<double> softmax(const float* x, size_t n) {
  const double mx = *std::max_element(x, x + n);
  std::vector<double> p(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(static_cast<double>(x[i]) - mx);
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

std::vector<std::vector<float>> fp32_logits(const ViTWeightsF32& model, const Images& images,
                                            const ProgressFn& progress) {
  std::vector<std::vector<float>> out;
  out.reserve(images.size());
  for (const auto& image : images) {
    out.push_back(vit_forward_f32(model, image.data()));
    if (progress) progress(static_cast<int>(out.size()), static_cast<int>(images.size()));
  }
  return out;
}

OutputAgreement compare_outputs(const IntViT& model, GemmIsa isa, const Images& images,
                                const std::vector<std::vector<float>>& reference_logits) {
  if (reference_logits.size() != images.size()) throw Error(ErrorCode::kInternal, "compare_outputs: size mismatch");
  const size_t classes = static_cast<size_t>(model.config.num_classes);
  IntWorkspace ws(model);
  std::vector<int32_t> q(classes);
  std::vector<float> real(classes);
  OutputAgreement a;
  for (size_t i = 0; i < images.size(); ++i) {
    int_vit_forward(model, kernel_set(isa), images[i].data(), ws, q.data());
    for (size_t c = 0; c < classes; ++c) real[c] = static_cast<float>(model.logit_scale * q[c]);
    const std::vector<float>& ref = reference_logits[i];
    const auto ref_top = std::max_element(ref.begin(), ref.end()) - ref.begin();
    const auto int_top = std::max_element(q.begin(), q.end()) - q.begin();
    a.top1_agree += ref_top == int_top;
    const std::vector<double> p = softmax(ref.data(), classes), r = softmax(real.data(), classes);
    double kl = 0;
    for (size_t c = 0; c < classes; ++c) {
      if (p[c] > 0) kl += p[c] * (std::log(p[c]) - std::log(std::max(r[c], 1e-300)));
    }
    a.mean_kl += kl;
    ++a.images;
  }
  if (a.images) a.mean_kl /= a.images;
  return a;
}

namespace {

// One FP32 forward and one integer forward of an image, each with its observer.
using Fp32Run = std::function<void(const uint8_t*, const ActivationObserver&)>;
using IntRun = std::function<void(const uint8_t*, const IntActivationObserver&)>;

std::vector<LayerSqnr> layer_sqnr_of(const Fp32Run& run_fp32, const IntRun& run_int, const Images& images, const ProgressFn& progress) {
  struct Sums {
    double signal = 0, noise = 0;
    int bits = 8;
    size_t order = 0;
  };
  std::map<std::string, Sums, std::less<>> sums;
  std::map<std::string, std::vector<float>, std::less<>> reference;
  const ActivationObserver keep_fp32 = [&](std::string_view name, const float* data, size_t rows, size_t cols) {
    reference[std::string(name)].assign(data, data + rows * cols);
  };
  const IntActivationObserver compare = [&](std::string_view name, const IntActivation& a) {
    const auto ref = reference.find(name);
    if (ref == reference.end() || ref->second.size() < a.rows * a.cols) return;  // no FP32 counterpart
    auto [it, inserted] = sums.try_emplace(std::string(name));
    Sums& s = it->second;
    if (inserted) s.order = sums.size();
    s.bits = a.type == GemmOut::kU8 ? 8 : a.type == GemmOut::kS16 ? 16 : 32;
    for (size_t r = 0; r < a.rows; ++r) {
      for (size_t c = 0; c < a.cols; ++c) {
        const double x = ref->second[r * a.cols + c], e = x - a.real(r, c);
        s.signal += x * x;
        s.noise += e * e;
      }
    }
  };
  for (size_t i = 0; i < images.size(); ++i) {
    run_fp32(images[i].data(), keep_fp32);
    run_int(images[i].data(), compare);
    if (progress) progress(static_cast<int>(i + 1), static_cast<int>(images.size()));
  }
  std::vector<LayerSqnr> out;
  for (const auto& [name, s] : sums) {
    const double db = s.noise > 0 ? 10 * std::log10(s.signal / s.noise) : std::numeric_limits<double>::infinity();
    out.push_back({name, s.bits, db});
  }
  std::sort(out.begin(), out.end(), [&](const LayerSqnr& a, const LayerSqnr& b) {
    return sums.find(a.name)->second.order < sums.find(b.name)->second.order;
  });
  return out;
}

}  // namespace

std::vector<LayerSqnr> layer_sqnr(const ViTWeightsF32& fp32, const IntViT& model, GemmIsa isa, const Images& images,
                                  const ProgressFn& progress) {
  IntWorkspace ws(model);
  std::vector<int32_t> logits(model.config.num_classes);
  return layer_sqnr_of([&](const uint8_t* px, const ActivationObserver& o) { vit_forward_f32(fp32, px, o); },
                       [&](const uint8_t* px, const IntActivationObserver& o) {
                         int_vit_forward(model, kernel_set(isa), px, ws, logits.data(), nullptr, &o);
                       },
                       images, progress);
}

std::vector<LayerSqnr> layer_sqnr(const SwinWeightsF32& fp32, const IntSwin& model, GemmIsa isa, const Images& images,
                                  const ProgressFn& progress) {
  SwinWorkspace ws(model);
  std::vector<int32_t> logits(static_cast<size_t>(model.config.num_classes));
  return layer_sqnr_of([&](const uint8_t* px, const ActivationObserver& o) { swin_forward_f32(fp32, px, o); },
                       [&](const uint8_t* px, const IntActivationObserver& o) {
                         int_swin_forward(model, kernel_set(isa), px, ws, logits.data(), nullptr, &o);
                       },
                       images, progress);
}

}  // namespace intvit
