// Calibration's observers (weights/calibration.h): "auto" is minmax except the GELU outputs, which
// take omse; the names parse, and an unknown one is a clear error.
#include <catch2/catch.hpp>

#include <string>

#include "kernels/error.h"
#include "random_vit.h"
#include "weights/calibration.h"

namespace intvit {
namespace {

bool is_gelu_output(const std::string& name) {
  return name.size() >= 8 && name.compare(name.size() - 8, 8, "gelu.out") == 0;
}

TEST_CASE("calibration: auto is minmax except the GELU outputs, which are omse", "[calibration]") {
  const ViTConfig c = test::tiny_config();
  const ViTWeightsF32 fp32 = test::random_vit(c, 4321);
  const auto images = random_model_inputs(c, 6, 17);
  const CalibrationStats automatic = calibrate(fp32, images, ObserverKind::kAuto);
  const CalibrationStats minmax = calibrate(fp32, images, ObserverKind::kMinMax);
  const CalibrationStats omse = calibrate(fp32, images, ObserverKind::kOmse);
  REQUIRE(automatic.ranges.size() == minmax.ranges.size());
  int gelu_outputs = 0, narrowed = 0;
  for (const auto& [name, range] : automatic.ranges) {
    INFO(name);
    const TensorRange& want = is_gelu_output(name) ? omse.at(name) : minmax.at(name);
    CHECK(range.min == want.min);
    CHECK(range.max == want.max);
    CHECK(range.full_abs_max() == minmax.at(name).full_abs_max());  // 16/32-bit tensors keep the whole range
    if (is_gelu_output(name)) {
      ++gelu_outputs;
      narrowed += range.max - range.min < minmax.at(name).max - minmax.at(name).min;
    }
  }
  CHECK(gelu_outputs == c.depth);
  CHECK(narrowed > 0);  // omse clipped some GELU output: the two observers really differ here
}

TEST_CASE("calibration: observer names", "[calibration]") {
  CHECK(parse_observer_kind("auto") == ObserverKind::kAuto);
  CHECK(parse_observer_kind("minmax") == ObserverKind::kMinMax);
  CHECK(parse_observer_kind("ema") == ObserverKind::kEma);
  CHECK(parse_observer_kind("percentile") == ObserverKind::kPercentile);
  CHECK(parse_observer_kind("omse") == ObserverKind::kOmse);
  CHECK_THROWS_WITH(parse_observer_kind("max"), Catch::Contains("auto|minmax|ema|percentile|omse"));
}

}  // namespace
}  // namespace intvit
