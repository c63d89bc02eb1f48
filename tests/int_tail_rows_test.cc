// An unobserved forward computes the last block's q, attention and MLP on the selected token rows
// only (engine/int_executor.cc, Executor::live_rows): the head reads nothing else. Checked against
// observed runs, which compute every row: the same logits on every backend, thread count and batch,
// for the class token alone and for DeiT's two tokens, with 8- and 16-bit attention and a 16-bit
// MLP in the last block; and the rows past the selected ones really are skipped (their bytes keep
// the stream that entered the last block, where a full run has the block's output).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "random_vit.h"
#include "engine/int_vit.h"
#include "engine/thread_pool.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

using namespace intvit;

namespace {

// Rows [from, rows) of image 0's residual stream after the last block (int32), as the workspace holds it.
std::vector<int32_t> stream_rows(IntWorkspace& ws, const std::string& name, size_t from) {
  const int id = ws.graph().find(name);
  REQUIRE(id >= 0);
  const TensorDesc& t = ws.graph().tensors[static_cast<size_t>(id)];
  REQUIRE(t.dtype == ElemType::kS32);
  const auto* data = reinterpret_cast<const int32_t*>(ws.arena() + ws.plan().offset[static_cast<size_t>(id)]);
  return std::vector<int32_t>(data + from * t.cols, data + t.rows * t.cols);
}

}  // namespace

TEST_CASE("unobserved forwards skip the rows the logits do not read, with the full run's bits", "[int_engine][tail_rows]") {
  struct Mode {
    SoftmaxMode softmax;
    int attn_bits;
    std::vector<int> wide;  // 16-bit MLP blocks
  };
  const Mode modes[] = {{SoftmaxMode::kLut, 16, {}}, {SoftmaxMode::kIexp, 8, {1}}, {SoftmaxMode::kLog2, 4, {}}};
  for (const bool distilled : {false, true}) {
    ViTConfig config = test::tiny_config();
    if (distilled) {
      config.architecture = "deit_tiny_distilled_patch16_224";
      config.distillation_token = true;
    }
    const size_t selected = distilled ? 2 : 1, tokens = config.num_tokens(), classes = static_cast<size_t>(config.num_classes);
    const ViTWeightsF32 fp32 = random_vit(config, 2024);
    const CalibrationStats stats = calibrate(fp32, random_model_inputs(config, 12, 5), ObserverKind::kMinMax);
    const auto images = random_model_inputs(config, 3, 17);
    std::vector<uint8_t> pixels;
    for (const auto& im : images) pixels.insert(pixels.end(), im.begin(), im.end());
    for (const Mode& mode : modes) {
      QuantizeOptions opt;
      opt.softmax = mode.softmax;
      opt.attn_bits = mode.attn_bits;
      opt.wide_blocks = mode.wide;
      opt.auto_wide = false;
      const IntViT m = quantize_vit(fp32, stats, opt);
      const std::string last = "blocks." + std::to_string(config.depth - 1);
      for (GemmIsa isa : kAllGemmIsas) {
        if (!gemm_isa_supported(isa)) continue;  // the across-backends engine test reports skips
        INFO("distilled " << distilled << ", softmax " << softmax_mode_name(mode.softmax) << ", attn bits " << mode.attn_bits
                          << ", backend " << gemm_isa_name(isa));
        IntViT packed = m;
        packed.prepare(isa);
        // Observed: every row of every tensor is computed (and seen).
        std::vector<int32_t> full, stream_in, stream_out;
        for (size_t i = 0; i < images.size(); ++i) {
          const IntActivationObserver observer = [&](std::string_view name, const IntActivation& a) {
            if (i != 0 || name != last + ".norm1.in") return;
            const auto* x = static_cast<const int32_t*>(a.data);
            stream_in.assign(x + selected * a.cols, x + a.rows * a.cols);
          };
          IntWorkspace ws(packed, 1, 1);
          std::vector<int32_t> logits(classes);
          int_vit_forward(packed, kernel_set(isa), images[i].data(), ws, logits.data(), nullptr, &observer);
          full.insert(full.end(), logits.begin(), logits.end());
          if (i == 0) stream_out = stream_rows(ws, last + ".out", selected);
        }
        REQUIRE(stream_in.size() == (tokens - selected) * static_cast<size_t>(config.embed_dim));
        CHECK(stream_out != stream_in);  // the full run's last block changed those rows
        for (int threads : {1, 2, 3}) {
          for (size_t n : {size_t{1}, images.size()}) {
            INFO("threads " << threads << ", batch " << n);
            ThreadPool pool(threads);
            IntWorkspace ws(packed, threads, n);
            std::vector<int32_t> logits(n * classes);
            int_vit_forward_batch(packed, kernel_set(isa), n, pixels.data(), ws, logits.data(), &pool);
            CHECK(std::equal(logits.begin(), logits.end(), full.begin()));
            // Image 0's stream rows past the selected tokens are what entered the last block.
            if (n == 1) CHECK(stream_rows(ws, last + ".out", selected) == stream_in);
          }
        }
      }
    }
  }
}
