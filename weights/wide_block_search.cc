#include "weights/wide_block_search.h"

#include <algorithm>
#include <cstdio>

#include "kernels/gemm/gemm.h"

namespace intvit {
namespace {

std::string blocks_text(const std::vector<int>& blocks) {
  std::string s;
  for (int b : blocks) {
    if (!s.empty()) s += ',';
    s += std::to_string(b);
  }
  return s.empty() ? "none" : s;
}

}  // namespace

std::vector<int> search_wide_blocks(const ViTWeightsF32& fp32, const CalibrationStats& stats, QuantizeOptions options,
                                    const Images& images, const WideSearchOptions& search,
                                    std::vector<WideSearchStep>* steps,
                                    const std::function<void(const std::string&)>& log) {
  const GemmIsa isa = best_native_gemm_isa();
  const auto reference = fp32_logits(fp32, images);
  auto evaluate = [&](const std::vector<int>& blocks) {
    options.wide_blocks = blocks;
    options.auto_wide = false;
    IntViT m = quantize_vit(fp32, stats, options);
    m.prepare(isa);
    return compare_outputs(m, isa, images, reference);
  };
  // Start from the range-ratio choice (the blocks whose GELU inputs dwarf the others').
  std::vector<int> chosen = options.auto_wide && options.wide_blocks.empty()
                               ? choose_wide_blocks(stats, fp32.config, options.auto_wide_ratio)
                               : options.wide_blocks;
  OutputAgreement best = evaluate(chosen);
  auto say = [&](const std::string& what, const std::vector<int>& blocks, const OutputAgreement& a) {
    if (!log) return;
    char line[200];
    std::snprintf(line, sizeof line, "%-10s wide blocks %-12s agreement %5.1f %%  KL %.5f", what.c_str(),
                  blocks_text(blocks).c_str(), a.agreement_pct(), a.mean_kl);
    log(line);
  };
  say("start", chosen, best);
  if (steps) steps->push_back({chosen, best});
  const int depth = fp32.config.depth;
  for (;;) {
    int best_block = -1;
    OutputAgreement best_candidate;
    for (int b = 0; b < depth; ++b) {
      if (std::find(chosen.begin(), chosen.end(), b) != chosen.end()) continue;
      std::vector<int> candidate = chosen;
      candidate.push_back(b);
      std::sort(candidate.begin(), candidate.end());
      const MacCount macs = count_macs(fp32.config, candidate, options.attn_bits);
      if (macs.wide > search.max_wide_mac_share * macs.total) continue;
      const OutputAgreement a = evaluate(candidate);
      say("  try", candidate, a);
      if (best_block < 0 || a.mean_kl < best_candidate.mean_kl) {
        best_block = b;
        best_candidate = a;
      }
    }
    if (best_block < 0 || best_candidate.mean_kl > (1 - search.min_kl_gain) * best.mean_kl) break;
    chosen.push_back(best_block);
    std::sort(chosen.begin(), chosen.end());
    best = best_candidate;
    say("accept", chosen, best);
    if (steps) steps->push_back({chosen, best});
  }
  return chosen;
}

}  // namespace intvit
