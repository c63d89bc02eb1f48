// The ViT config (engine/vit_config.h): the MLP width as timm computes it, and its validation.
#include <string>

#include <nlohmann/json.hpp>

#include "engine/vit_config.h"
#include "kernels/error.h"
#include "random_vit.h"
#include "test_support.h"

using namespace intvit;

namespace {

ViTConfig with_mlp(int embed_dim, int num_heads, double mlp_ratio) {
  nlohmann::json j = vit_config_to_json(test::tiny_config());
  j["model_args"]["embed_dim"] = embed_dim;
  j["model_args"]["num_heads"] = num_heads;
  j["model_args"]["mlp_ratio"] = mlp_ratio;
  return parse_vit_config(j);
}

}  // namespace

// timm's Block builds fc1 with int(dim * mlp_ratio) rows: the double product truncated, also where
// it falls just below an integer (100 * 4.35 = 434.99999999999994 in double: timm's fc1 has 434).
TEST_CASE("ViT config: the MLP width is timm's int(dim * mlp_ratio)", "[config]") {
  CHECK(with_mlp(192, 3, 4.0).mlp_hidden() == 768);
  CHECK(with_mlp(192, 3, 2.999).mlp_hidden() == 575);
  REQUIRE(100 * 4.35 < 435.0);
  CHECK(with_mlp(100, 4, 4.35).mlp_hidden() == 434);
}

TEST_CASE("ViT config: an MLP width below 1 is refused", "[config]") {
  try {
    (void)with_mlp(192, 3, 0.004);  // 0.768 rows
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kInvalidArgument);
    CHECK(std::string(e.what()).find("mlp_ratio") != std::string::npos);
  }
}
