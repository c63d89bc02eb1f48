// fc1 + GELU folded into one pass (engine/int_executor.cc folds_gelu: the 8-bit GELU table in fc1's
// output stage, QUANTIZATION.md §3.6) against the same model run unfolded (QBlock::gelu_bytes
// cleared, so the GELU node runs its own kernel): the same logits on every backend, thread count and
// batch size; the fold really happens where linear_fuses_byte_table says so; observed runs stay
// unfolded and agree.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "random_vit.h"
#include "engine/int_vit.h"
#include "engine/op_profile.h"
#include "engine/thread_pool.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

using namespace intvit;

namespace {

std::vector<int32_t> run_batch(const IntViT& m, GemmIsa isa, const std::vector<uint8_t>& pixels, size_t n, int threads,
                               OpProfile* profile = nullptr) {
  ThreadPool pool(threads);
  IntWorkspace ws(m, threads, n);
  std::vector<int32_t> logits(n * static_cast<size_t>(m.config.num_classes));
  int_vit_forward_batch(m, kernel_set(isa), n, pixels.data(), ws, logits.data(), &pool, profile);
  return logits;
}

}  // namespace

TEST_CASE("fc1 + GELU folded: the unfolded bits on every backend, thread count and batch", "[int_engine][gelu_fold]") {
  const ViTConfig config = test::tiny_config();
  const ViTWeightsF32 fp32 = random_vit(config, 4321);
  const auto calib = random_model_inputs(config, 12, 31);
  const auto images = random_model_inputs(config, 5, 77);
  std::vector<uint8_t> pixels;
  for (const auto& im : images) pixels.insert(pixels.end(), im.begin(), im.end());
  const CalibrationStats stats = calibrate(fp32, calib, ObserverKind::kMinMax);
  struct Mode {
    GeluMode gelu;
    std::vector<int> wide;  // 16-bit GELU blocks: no byte table, never folded
  };
  for (const Mode& mode : {Mode{GeluMode::kLut, {}}, Mode{GeluMode::kIgelu, {1}}, Mode{GeluMode::kShiftgelu, {}}}) {
    QuantizeOptions opt;
    opt.gelu = mode.gelu;
    opt.wide_blocks = mode.wide;
    opt.auto_wide = false;
    const IntViT m = quantize_vit(fp32, stats, opt);
    for (GemmIsa isa : kAllGemmIsas) {
      if (!gemm_isa_supported(isa)) continue;  // the across-backends engine test reports skips
      INFO("gelu " << gelu_mode_name(mode.gelu) << ", backend " << gemm_isa_name(isa));
      IntViT folded = m;
      folded.prepare(isa);
      IntViT unfolded = folded;
      for (size_t i = 0; i < folded.blocks.size(); ++i) {
        const bool wide = i == 1 && !mode.wide.empty();
        CHECK(folded.blocks[i].gelu_bytes.size() == (wide ? 0u : 256u));
        unfolded.blocks[i].gelu_bytes.clear();
      }
      for (int threads : {1, 2, 3}) {
        for (size_t n : {size_t{1}, images.size()}) {
          INFO("threads " << threads << ", batch " << n);
          CHECK(run_batch(folded, isa, pixels, n, threads) == run_batch(unfolded, isa, pixels, n, threads));
        }
      }
      // The fold happens where the GEMM applies the table in registers: no GELU pass is timed then.
      OpProfile with_fold, without_fold;
      run_batch(folded, isa, pixels, 2, 1, &with_fold);
      run_batch(unfolded, isa, pixels, 2, 1, &without_fold);
      const bool folds = linear_fuses_byte_table(*folded.blocks[0].fc1.packed);
      // In registers: the avx512vnni tiles and the amx block stage (amx-emu: where its stage is AVX-512), with VBMI.
      const bool amx_avx512 = (isa == GemmIsa::kAmx || isa == GemmIsa::kAmxEmu) && gemm_isa_supported(GemmIsa::kAvx512Vnni);
      CHECK(folds == (isa == GemmIsa::kRef || ((isa == GemmIsa::kAvx512Vnni || amx_avx512) && cpu_features().avx512vbmi)));
      CHECK((with_fold.get(OpKind::kGelu) == 0) == (folds && mode.wide.empty()));
      CHECK(without_fold.get(OpKind::kGelu) > 0);
      // An observed run keeps the separate nodes (both tensors exist) and gives the same logits.
      std::vector<int32_t> observed_logits(static_cast<size_t>(config.num_classes));
      IntWorkspace ws(folded, 1, 1);
      bool saw_fc1 = false, saw_gelu = false;
      const IntActivationObserver observer = [&](std::string_view name, const IntActivation&) {
        saw_fc1 = saw_fc1 || name == "blocks.0.mlp.fc1.out";
        saw_gelu = saw_gelu || name == "blocks.0.mlp.gelu.out";
      };
      int_vit_forward(folded, kernel_set(isa), pixels.data(), ws, observed_logits.data(), nullptr, &observer);
      CHECK(saw_fc1);
      CHECK(saw_gelu);
      const std::vector<int32_t> first = run_batch(folded, isa, pixels, 1, 1);
      CHECK(observed_logits == first);
    }
  }
}
