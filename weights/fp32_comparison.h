// How far an integer model is from its FP32 original on the same images (offline, float allowed):
// top-1 agreement and output KL for the quantizer's sensitivity search and `intvit eval`, and the
// per-layer SQNR of every integer activation against the FP32 activation it replaces.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/int_swin.h"
#include "engine/int_vit.h"
#include "models/swin_fp32.h"
#include "models/vit_fp32.h"

namespace intvit {

using Images = std::vector<std::vector<uint8_t>>;  // cropped uint8 RGB HWC, image_size²
using ProgressFn = std::function<void(int done, int total)>;

// FP32 logits of every image (computed once, reused by each candidate the search tries).
std::vector<std::vector<float>> fp32_logits(const ViTWeightsF32& model, const Images& images,
                                            const ProgressFn& progress = {});

struct OutputAgreement {
  int images = 0;
  int top1_agree = 0;     // argmax equal
  double mean_kl = 0;     // mean over images of KL(softmax(fp32) || softmax(int)), nats
  double agreement_pct() const { return images ? 100.0 * top1_agree / images : 0; }
};

OutputAgreement compare_outputs(const IntViT& model, GemmIsa isa, const Images& images,
                                const std::vector<std::vector<float>>& reference_logits);

struct LayerSqnr {
  std::string name;  // the activation names of models/vit_fp32.h
  int bits = 8;      // integer storage: 8 (uint8), 16 or 32
  double sqnr_db = 0;  // 10·log10(Σx² / Σ(x − x̂)²) over all images; +inf when exact
};

// Per integer activation, in forward order.
std::vector<LayerSqnr> layer_sqnr(const ViTWeightsF32& fp32, const IntViT& model, GemmIsa isa, const Images& images,
                                  const ProgressFn& progress = {});
// The same for a Swin (models/swin_fp32.h's names; the integer Swin's observed tensors).
std::vector<LayerSqnr> layer_sqnr(const SwinWeightsF32& fp32, const IntSwin& model, GemmIsa isa, const Images& images,
                                  const ProgressFn& progress = {});

}  // namespace intvit
