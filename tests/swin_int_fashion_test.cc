// Hidden: the integer Swin against its FP32 model on the full Fashion-MNIST test set (10,000
// images), run by the CTest swin_fashion_mnist_int_accuracy (tests/swin_int_fashion.test.cmake).
// The shipped models/default/fashion-swin is quantized here (calibrated on the first training
// images, the CLI's defaults: lut softmax with 16-bit probabilities, lut GELU) and must stay within
// 0.5 point of FP32 top-1 and agree with FP32 on at least 99 % of the images.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "engine/idx_dataset.h"
#include "engine/int_swin.h"
#include "engine/thread_pool.h"
#include "kernels/backend/backend.h"
#include "models/swin_fp32.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/swin_quantizer.h"

using namespace intvit;

namespace {

constexpr int kCalibrationImages = 200;

std::vector<uint8_t> gray_to_rgb(const uint8_t* gray, size_t pixels) {
  std::vector<uint8_t> rgb(pixels * 3);
  for (size_t p = 0; p < pixels; ++p) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = gray[p];
  return rgb;
}

}  // namespace

TEST_CASE("integer Swin top-1 vs FP32 on the Fashion-MNIST test set", "[.swin-int-fashion-accuracy]") {
  const char* dir_env = std::getenv("INTVIT_FASHION_MNIST_IDX_DIR");
  REQUIRE(dir_env != nullptr);
  const std::filesystem::path dir = dir_env;
  const SwinWeightsF32 fp32 = load_swin_f32(test::source_dir() / "models" / "default" / "fashion-swin");
  const IdxImages train = read_idx_images(dir / "train-images-idx3-ubyte", kCalibrationImages);
  const IdxImages test = read_idx_images(dir / "t10k-images-idx3-ubyte");
  const std::vector<int> labels = read_idx_labels(dir / "t10k-labels-idx1-ubyte");
  REQUIRE(test.count == 10000);
  REQUIRE(labels.size() == 10000u);
  REQUIRE(test.height == fp32.config.image_size);
  const size_t side = test.height, classes = fp32.config.num_classes;
  std::vector<std::vector<uint8_t>> calib;
  for (int i = 0; i < train.count; ++i) calib.push_back(gray_to_rgb(&train.pixels[i * side * side], side * side));
  IntSwin m = quantize_swin(fp32, calibrate(fp32, calib, ObserverKind::kMinMax), QuantizeOptions{});
  const GemmIsa isa = resolve_backend("");
  m.prepare(isa);
  const KernelSet kernels = kernel_set(isa);

  // Integer and FP32 predictions, the images split over the cores (the FP32 forward dominates).
  std::vector<int> int_top1(10000), fp32_top1(10000);
  const int threads = std::max(1, std::min(4, static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      SwinWorkspace ws(m);
      std::vector<int32_t> logits(classes);
      for (int i = t; i < test.count; i += threads) {
        const std::vector<uint8_t> rgb = gray_to_rgb(&test.pixels[i * side * side], side * side);
        int_swin_forward(m, kernels, rgb.data(), ws, logits.data());
        int_top1[i] = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        const std::vector<float> ref = swin_forward_f32(fp32, rgb.data());
        fp32_top1[i] = static_cast<int>(std::max_element(ref.begin(), ref.end()) - ref.begin());
      }
    });
  }
  for (auto& w : workers) w.join();
  int int_correct = 0, fp32_correct = 0, agree = 0;
  for (int i = 0; i < test.count; ++i) {
    int_correct += int_top1[i] == labels[i];
    fp32_correct += fp32_top1[i] == labels[i];
    agree += int_top1[i] == fp32_top1[i];
  }
  std::printf("Swin Fashion-MNIST (10000 images, backend %s): integer top-1 %d, FP32 top-1 %d, agreement %d\n",
              gemm_isa_name(isa), int_correct, fp32_correct, agree);
  CHECK(int_correct * 200 >= fp32_correct * 200 - test.count);  // within 0.5 point
  CHECK(agree * 100 >= 99 * test.count);                       // >= 99 % agreement
}
