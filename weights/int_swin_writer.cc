// Writing an integer Swin (engine/int_swin.h) as a format-2 model file (weights/FORMAT.md, "Swin"):
// the ViT's layer records (weights/int_model_writer.h) plus the Swin-only fields. Offline.
#include <string>

#include "weights/int_model_file.h"
#include "weights/int_model_writer.h"

namespace intvit {

void save_int_model(const IntSwin& m, const std::filesystem::path& dir) {
  using nlohmann::json;
  const SwinConfig& c = m.config;
  ModelWriter w;
  w.linear("patch_embed", m.patch_embed);
  w.norm("patch_norm", m.patch_norm);
  json stages = json::array();
  for (size_t s = 0; s < m.stages.size(); ++s) {
    const QSwinStage& st = m.stages[s];
    const std::string stage = "layers." + std::to_string(s);
    if (s > 0) {
      w.norm(stage + ".downsample.norm", st.merge_norm);
      w.linear(stage + ".downsample.reduction", st.merge_reduction);
    }
    json blocks = json::array();
    const int64_t heads = c.num_heads[s], n = static_cast<int64_t>(c.stage_window(static_cast<int>(s))) * c.stage_window(static_cast<int>(s));
    for (size_t j = 0; j < st.blocks.size(); ++j) {
      const std::string name = stage + ".blocks." + std::to_string(j);
      blocks.push_back(w.block(name, st.blocks[j].attn_mlp));
      w.st.add<int32_t>(name + ".attn_bias", {heads, n, n}, st.blocks[j].attn_bias);
    }
    stages.push_back({{"residual_scale", st.residual_scale}, {"blocks", blocks}});
  }
  w.norm("norm", m.norm);
  w.linear("head", m.head);
  const json graph = {{"architecture", "swin"},
                      {"config", swin_config_to_json(c)},
                      {"softmax", softmax_mode_name(m.softmax_mode)},
                      {"gelu", gelu_mode_name(m.gelu_mode)},
                      {"attn_bits", m.attn_bits},
                      {"log2_renormalize", m.log2_renormalize},
                      {"logit_scale", m.logit_scale},
                      {"labels", m.labels},
                      {"patch_embed_scale", m.patch_embed_scale},
                      {"patch_norm_multiplier", m.patch_norm_multiplier},
                      {"patch_norm_shift", m.patch_norm_shift},
                      {"pooled", act_to_json(m.pooled)},
                      {"pool_multiplier", m.pool_multiplier},
                      {"pool_shift", m.pool_shift},
                      {"stages", stages},
                      {"tensors", w.desc}};
  w.save(graph, m.labels, swin_config_to_json(c), dir);
}

}  // namespace intvit
