#include "models/vit_fp32.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "models/fp32_gemm.h"
#include "models/fp32_layers.h"
#include "models/safetensors.h"

namespace intvit {
using namespace fp32;  // read_tensor, linear, layer_norm, ... (models/fp32_layers.h)

ViTWeightsF32 load_vit_weights_f32(const SafeTensorsFile& f, const ViTConfig& cfg) {
  cfg.validate();
  ViTWeightsF32 m;
  m.config = cfg;
  const int d = cfg.embed_dim, p = cfg.patch_size, hidden = cfg.mlp_hidden();
  m.patch_embed.in = cfg.in_channels * p * p;
  m.patch_embed.out = d;
  m.patch_embed.weight = read_tensor(f, "patch_embed.proj.weight", {d, cfg.in_channels, p, p});
  m.patch_embed.bias = read_tensor(f, "patch_embed.proj.bias", {d});
  if (cfg.class_token) m.cls_token = read_tensor(f, "cls_token", {1, 1, d});
  if (cfg.distillation_token) m.dist_token = read_tensor(f, "dist_token", {1, 1, d});
  m.pos_embed = read_tensor(f, "pos_embed", {1, cfg.num_tokens(), d});
  for (int i = 0; i < cfg.depth; ++i) {
    const std::string b = "blocks." + std::to_string(i);
    BlockF32 blk;
    blk.norm1 = read_norm(f, b + ".norm1", d);
    blk.qkv = read_linear(f, b + ".attn.qkv", d, 3 * d);
    blk.proj = read_linear(f, b + ".attn.proj", d, d);
    blk.norm2 = read_norm(f, b + ".norm2", d);
    blk.fc1 = read_linear(f, b + ".mlp.fc1", d, hidden);
    blk.fc2 = read_linear(f, b + ".mlp.fc2", hidden, d);
    m.blocks.push_back(std::move(blk));
  }
  m.norm = read_norm(f, "norm", d);
  m.head = read_linear(f, "head", d, cfg.num_classes);
  if (cfg.distillation_token) m.head_dist = read_linear(f, "head_dist", d, cfg.num_classes);
  return m;
}

ViTWeightsF32 load_vit_f32(const std::filesystem::path& model_path) {
  const CheckpointFiles files = checkpoint_files(model_path);
  const ViTConfig cfg = load_vit_config(files.config);
  const SafeTensorsFile file = SafeTensorsFile::open(files.weights);
  return load_vit_weights_f32(file, cfg);
}

std::vector<float> vit_forward_f32(const ViTWeightsF32& m, const uint8_t* pixels,
                                   const ActivationObserver& observe) {
  const ViTConfig& cfg = m.config;
  const size_t d = cfg.embed_dim, p = cfg.patch_size, g = cfg.grid(), img = cfg.image_size;
  const size_t tokens = cfg.num_tokens(), prefix = cfg.num_prefix_tokens();
  const size_t heads = cfg.num_heads, hd = cfg.head_dim(), hidden = cfg.mlp_hidden();
  auto emit = [&](const std::string& name, const float* data, size_t rows, size_t cols) {
    if (observe) observe(name, data, rows, cols);
  };

  // Patch embedding as a GEMM over gathered patches in PyTorch's (c, ky, kx) order.
  const std::vector<float> patches = gather_patches(pixels, img, p, cfg.mean, cfg.std);
  std::vector<float> x(tokens * d);
  linear(m.patch_embed, patches.data(), g * g, &x[prefix * d]);
  if (cfg.class_token) std::copy(m.cls_token.begin(), m.cls_token.end(), x.begin());
  if (cfg.distillation_token) std::copy(m.dist_token.begin(), m.dist_token.end(), x.begin() + d);
  for (size_t i = 0; i < tokens * d; ++i) x[i] += m.pos_embed[i];
  emit("embed", x.data(), tokens, d);

  std::vector<float> h(tokens * d), qkv(tokens * 3 * d), q(tokens * d), k(tokens * d), v(tokens * d);
  std::vector<float> scores(heads * tokens * tokens), attn(tokens * d), tmp(tokens * d);
  std::vector<float> hid(tokens * hidden);
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int bi = 0; bi < cfg.depth; ++bi) {
    const BlockF32& blk = m.blocks[bi];
    const std::string name = "blocks." + std::to_string(bi);
    emit(name + ".norm1.in", x.data(), tokens, d);
    layer_norm(blk.norm1, cfg.layer_norm_eps, x.data(), tokens, d, h.data());
    emit(name + ".norm1.out", h.data(), tokens, d);
    linear(blk.qkv, h.data(), tokens, qkv.data());
    for (size_t t = 0; t < tokens; ++t) {
      for (size_t c = 0; c < d; ++c) {
        q[t * d + c] = qkv[t * 3 * d + c] * q_scale;
        k[t * d + c] = qkv[t * 3 * d + d + c];
        v[t * d + c] = qkv[t * 3 * d + 2 * d + c];
      }
    }
    emit(name + ".attn.q", q.data(), tokens, d);
    emit(name + ".attn.k", k.data(), tokens, d);
    emit(name + ".attn.v", v.data(), tokens, d);
    for (size_t hh = 0; hh < heads; ++hh) {
      sgemm(tokens, tokens, hd, &q[hh * hd], d, &k[hh * hd], d, /*b_transposed=*/true,
            &scores[hh * tokens * tokens], tokens);
    }
    emit(name + ".attn.logits", scores.data(), heads * tokens, tokens);
    softmax_rows(scores.data(), heads * tokens, tokens);
    emit(name + ".attn.probs", scores.data(), heads * tokens, tokens);
    for (size_t hh = 0; hh < heads; ++hh) {
      sgemm(tokens, hd, tokens, &scores[hh * tokens * tokens], tokens, &v[hh * hd], d,
            /*b_transposed=*/false, &attn[hh * hd], d);
    }
    emit(name + ".attn.out", attn.data(), tokens, d);
    linear(blk.proj, attn.data(), tokens, tmp.data());
    emit(name + ".attn.proj.out", tmp.data(), tokens, d);
    for (size_t i = 0; i < tokens * d; ++i) x[i] += tmp[i];

    emit(name + ".norm2.in", x.data(), tokens, d);
    layer_norm(blk.norm2, cfg.layer_norm_eps, x.data(), tokens, d, h.data());
    emit(name + ".norm2.out", h.data(), tokens, d);
    linear(blk.fc1, h.data(), tokens, hid.data());
    emit(name + ".mlp.fc1.out", hid.data(), tokens, hidden);
    for (float& e : hid) e = gelu(e, cfg.gelu);
    emit(name + ".mlp.gelu.out", hid.data(), tokens, hidden);
    linear(blk.fc2, hid.data(), tokens, tmp.data());
    emit(name + ".mlp.fc2.out", tmp.data(), tokens, d);
    for (size_t i = 0; i < tokens * d; ++i) x[i] += tmp[i];
  }

  // Only the prefix tokens feed the head(s); normalise just those.
  const size_t head_tokens = cfg.distillation_token ? 2 : 1;
  emit("norm.in", x.data(), head_tokens, d);
  layer_norm(m.norm, cfg.layer_norm_eps, x.data(), head_tokens, d, h.data());
  emit("norm.out", h.data(), head_tokens, d);
  std::vector<float> logits(cfg.num_classes);
  linear(m.head, h.data(), 1, logits.data());
  if (cfg.distillation_token) {
    std::vector<float> dist(cfg.num_classes);
    linear(m.head_dist, h.data() + d, 1, dist.data());
    for (int c = 0; c < cfg.num_classes; ++c) logits[c] = 0.5f * (logits[c] + dist[c]);
  }
  emit("logits", logits.data(), 1, logits.size());
  return logits;
}

}  // namespace intvit
