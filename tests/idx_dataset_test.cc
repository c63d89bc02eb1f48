#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/dataset.h"
#include "kernels/error.h"
#include "engine/idx_dataset.h"
#include "engine/vit_config.h"
#include "random_vit.h"

namespace intvit {
namespace {

std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("intvit_idx_" + std::to_string(::getpid()) + "_" + name);
}

void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// IDX header: magic 00 00 08 rank, then big-endian dimensions.
std::vector<uint8_t> idx_header(std::vector<uint32_t> dims) {
  std::vector<uint8_t> h = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) h.push_back(static_cast<uint8_t>(d >> s));
  }
  return h;
}

}  // namespace

TEST_CASE("IDX images and labels are read in file order", "[idx]") {
  const auto images = scratch("images"), labels = scratch("labels");
  std::vector<uint8_t> img = idx_header({3, 2, 4});
  for (int i = 0; i < 3 * 2 * 4; ++i) img.push_back(static_cast<uint8_t>(i * 7));
  write_bytes(images, img);
  std::vector<uint8_t> lab = idx_header({3});
  lab.insert(lab.end(), {9, 0, 4});
  write_bytes(labels, lab);

  CHECK(is_idx_file(images));
  const IdxImages all = read_idx_images(images);
  CHECK(all.count == 3);
  CHECK(all.height == 2);
  CHECK(all.width == 4);
  REQUIRE(all.pixels.size() == 24);
  CHECK(all.pixels[23] == static_cast<uint8_t>(23 * 7));
  CHECK(read_idx_images(images, 2).count == 2);
  CHECK(read_idx_labels(labels) == std::vector<int>{9, 0, 4});

  // Through load_dataset: gray replicated to RGB and resized to the model's input.
  ViTConfig c = test::tiny_config();
  const auto set = load_dataset(images, labels, c, 2);
  REQUIRE(set.size() == 2);
  CHECK(set[1].label == 0);
  CHECK(set[0].pixels.size() == static_cast<size_t>(c.image_size) * c.image_size * 3);
  CHECK(set[0].pixels[0] == set[0].pixels[1]);
  CHECK(set[0].pixels[1] == set[0].pixels[2]);
  std::filesystem::remove(images);
  std::filesystem::remove(labels);
}

TEST_CASE("bad IDX files get clear errors", "[idx]") {
  const auto path = scratch("bad"), labels = scratch("bad_labels");
  auto error_of = [&](const std::vector<uint8_t>& bytes) -> std::string {
    write_bytes(path, bytes);
    try {
      read_idx_images(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  std::vector<uint8_t> truncated = idx_header({2, 28, 28});
  truncated.resize(truncated.size() + 28 * 28 + 5);
  CHECK_THAT(error_of(truncated), Catch::Contains("truncated"));
  CHECK_THAT(error_of({0x1f, 0x8b, 8, 0, 0, 0}), Catch::Contains("gzip"));
  CHECK_THAT(error_of(idx_header({2})), Catch::Contains("not an IDX file"));
  CHECK_THAT(error_of({0, 0, 8, 3, 0, 0}), Catch::Contains("truncated IDX header"));
  CHECK_THAT(error_of(idx_header({1, 0, 28})), Catch::Contains("empty or too large"));
  CHECK_THAT(error_of(idx_header({1, 65536, 65536})), Catch::Contains("empty or too large"));
  // A header claiming 4 billion images fails on the missing data, not on an allocation.
  CHECK_THAT(error_of(idx_header({0xffffffffu, 28, 28})), Catch::Contains("truncated"));

  std::vector<uint8_t> img = idx_header({2, 4, 4});
  img.resize(img.size() + 32);
  write_bytes(path, img);
  std::vector<uint8_t> lab = idx_header({1});
  lab.push_back(3);
  write_bytes(labels, lab);
  CHECK_THROWS_WITH(load_dataset(path, labels, test::tiny_config(), 0), Catch::Contains("1 labels for 2 images"));
  std::filesystem::remove(path);
  std::filesystem::remove(labels);
}

// A .safetensors dataset holds its labels (class_index): a labels file given with it is refused, not
// silently left unread (eval --labels X on one read neither X nor said so).
TEST_CASE("load_dataset: a .safetensors dataset refuses a labels file", "[dataset]") {
  const std::filesystem::path dir = std::filesystem::path(INTVIT_SOURCE_DIR) / "models" / "default" / "fashion-vit";
  const ViTConfig config = load_vit_config(dir / "config.json");
  const std::filesystem::path file = dir / "reference.safetensors";
  CHECK_THROWS_WITH(load_dataset(file, dir / "labels.csv", config, 2),
                    Catch::Contains("is not read for a .safetensors dataset") && Catch::Contains("class_index"));
  const std::vector<LabeledImage> images = load_dataset(file, {}, config, 2);
  REQUIRE(images.size() == 2);
  CHECK(images[0].label >= 0);  // from class_index
}

}  // namespace intvit
