// Test helper: the integer model file as format version 1 wrote it (gamma/beta as F32, no stored
// softmax / GELU / LayerNorm parameters; the writer of weights/int_model_file.cc before version 2),
// so the tests and the corpus can hold the upgrade path and the version-1 error to real files.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/int_vit.h"
#include "models/safetensors_writer.h"

namespace intvit::test {

inline std::vector<std::byte> serialize_int_model_v1(const IntViT& m) {
  using nlohmann::json;
  SafeTensorsWriter st;
  json desc = json::object();
  auto act = [](const ActQuant& a) { return json{{"scale", a.scale}, {"zero_point", a.zero_point}, {"bits", a.bits}}; };
  auto linear = [&](const std::string& p, const QLinear& l) {
    st.add<int8_t>(p + ".weight", {l.out, l.in}, l.weight);
    st.add<int32_t>(p + ".bias", {l.out}, l.bias);
    st.add<int32_t>(p + ".multiplier", {l.out}, l.multiplier);
    st.add<int32_t>(p + ".shift", {l.out}, l.shift);
    const char* type = l.out_type == GemmOut::kU8 ? "u8" : l.out_type == GemmOut::kS16 ? "s16" : "s32";
    desc[p] = {{"in", l.in}, {"out", l.out}, {"input", act(l.input)}, {"out_type", type},
               {"out_zero_point", l.out_zero_point}, {"out_min", l.out_min}, {"out_max", l.out_max},
               {"accumulate", l.accumulate}};
  };
  auto norm = [&](const std::string& p, const QLayerNorm& n) {
    st.add<float>(p + ".gamma", {static_cast<int64_t>(n.gamma.size())}, n.gamma);
    st.add<float>(p + ".beta", {static_cast<int64_t>(n.beta.size())}, n.beta);
    desc[p] = {{"out", act(n.out)}};
  };
  linear("patch_embed", m.patch_embed);
  st.add<int32_t>("embed_init", {m.config.num_tokens(), m.config.embed_dim}, m.embed_init);
  json blocks = json::array();
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const QBlock& b = m.blocks[i];
    const std::string n = "blocks." + std::to_string(i);
    norm(n + ".norm1", b.norm1);
    linear(n + ".q", b.q);
    linear(n + ".k", b.k);
    linear(n + ".v", b.v);
    linear(n + ".proj", b.proj);
    norm(n + ".norm2", b.norm2);
    linear(n + ".fc1", b.fc1);
    linear(n + ".fc2", b.fc2);
    blocks.push_back({{"q_out", act(b.q_out)}, {"k_out", act(b.k_out)}, {"v_out", act(b.v_out)},
                      {"scores_scale", b.scores_scale}, {"probs", act(b.probs)}, {"attn_out", act(b.attn_out)},
                      {"attn_out_multiplier", b.attn_out_multiplier}, {"attn_out_shift", b.attn_out_shift},
                      {"gelu_in", act(b.gelu_in)}, {"gelu_out", act(b.gelu_out)}});
  }
  norm("norm", m.norm);
  linear("head", m.head);
  const json graph = {{"config", vit_config_to_json(m.config)}, {"softmax", softmax_mode_name(m.softmax_mode)},
                      {"gelu", gelu_mode_name(m.gelu_mode)},    {"attn_bits", m.attn_bits},
                      {"log2_renormalize", m.log2_renormalize}, {"residual_scale", m.residual_scale},
                      {"logit_scale", m.logit_scale},           {"labels", m.labels},
                      {"blocks", blocks},                       {"tensors", desc}};
  st.set_metadata("intvit.format", "int-vit");
  st.set_metadata("intvit.version", "1");
  st.set_metadata("intvit.graph", graph.dump());
  return st.serialize();
}

}  // namespace intvit::test
