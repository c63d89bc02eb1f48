// The executor's fused attn@v with 16-bit probabilities (av16_u8, QUANTIZATION.md Eq. 23c) against
// the unfused nodes it replaces (vᵀ, av16, requantize): the same logits on every backend, thread
// count and batch, and never fused in observed runs. The kernel itself: av16_u8_test.cc.
#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

#include "engine/int_vit.h"
#include "engine/thread_pool.h"
#include "kernels/softmax/av16-u8.h"
#include "random_vit.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

using namespace intvit;

namespace {

int g_fused_calls = 0;
void counting_av16_u8(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v, int32_t zv,
                      const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  ++g_fused_calls;
  av16_u8_ref(m, n, k, probs, ld_p, v, ld_v, zv, rq, out, ld_out);
}

std::vector<int32_t> run_batch(const IntViT& m, const KernelSet& k, const std::vector<uint8_t>& pixels, size_t n, int threads) {
  ThreadPool pool(threads);
  IntWorkspace ws(m, threads, n);
  std::vector<int32_t> logits(n * static_cast<size_t>(m.config.num_classes));
  int_vit_forward_batch(m, k, n, pixels.data(), ws, logits.data(), &pool);
  return logits;
}

}  // namespace

TEST_CASE("av16_u8 in the executor: the unfused logits on every backend, thread count and batch", "[int_engine][av16_u8]") {
  const ViTConfig config = test::tiny_config();  // head_dim 16, 17 tokens: column and row tails
  const ViTWeightsF32 fp32 = random_vit(config, 8765);
  const CalibrationStats stats = calibrate(fp32, random_model_inputs(config, 12, 41), ObserverKind::kMinMax);
  const auto images = random_model_inputs(config, 5, 97);
  std::vector<uint8_t> pixels;
  for (const auto& im : images) pixels.insert(pixels.end(), im.begin(), im.end());
  QuantizeOptions opt;  // defaults: lut softmax, 16-bit probabilities
  REQUIRE(opt.attn_bits == 16);
  const IntViT base = quantize_vit(fp32, stats, opt);
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) continue;  // the across-backends engine test reports skips
    INFO("backend " << gemm_isa_name(isa));
    IntViT m = base;
    m.prepare(isa);
    const KernelSet fused = kernel_set(isa);
    KernelSet unfused = fused;
    unfused.av16_u8 = nullptr;  // vᵀ, av16 and requantize as separate nodes
    for (int threads : {1, 2, 3}) {
      for (size_t n : {size_t{1}, images.size()}) {
        INFO("threads " << threads << ", batch " << n);
        CHECK(run_batch(m, fused, pixels, n, threads) == run_batch(m, unfused, pixels, n, threads));
      }
    }
  }
  // The fused kernel really runs in unobserved runs, and never in observed ones (whose observers see
  // vᵀ and the accumulators); both give the same logits.
  IntViT m = base;
  m.prepare(GemmIsa::kRef);
  KernelSet counting = kernel_set(GemmIsa::kRef);
  counting.av16_u8 = counting_av16_u8;
  g_fused_calls = 0;
  const std::vector<int32_t> unobserved = run_batch(m, counting, pixels, 1, 1);
  CHECK(g_fused_calls == config.depth * config.num_heads);
  g_fused_calls = 0;
  std::vector<int32_t> observed(static_cast<size_t>(config.num_classes));
  IntWorkspace ws(m, 1, 1);
  bool saw_vt = false;
  const IntActivationObserver observer = [&](std::string_view name, const IntActivation&) { saw_vt = saw_vt || name == "blocks.0.attn.vt"; };
  int_vit_forward_traced(m, counting, pixels.data(), ws, observed.data(), observer);
  CHECK(g_fused_calls == 0);
  CHECK(saw_vt);
  CHECK(observed == unobserved);
}
