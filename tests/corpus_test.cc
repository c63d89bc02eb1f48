// The robustness corpus (tests/corpus/): bad (and a few good) model files and images, each with the
// outcome its folder's manifest.txt names. A bad input must end in a clean intvit::Error with the
// listed code, a good one must load and run; a crash or a sanitizer report fails the test run (run
// it in the asan preset). Every file must be listed and every listed file must exist, so a new
// corpus file cannot go untested. Model files come from tests/fuzz/make_seed_models.cc, images
// from tests/corpus/make_image_corpus.py.
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "models/image.h"
#include "models/preprocess.h"
#include "test_support.h"
#include "weights/int_model_file.h"

using namespace intvit;

namespace {

const std::filesystem::path kCorpus = std::filesystem::path(INTVIT_SOURCE_DIR) / "tests" / "corpus";

// "<file> <outcome>  # comment" lines; '#' starts a comment, blank lines are ignored.
std::map<std::string, std::string> read_manifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / "manifest.txt");
  REQUIRE(in);
  std::map<std::string, std::string> expected;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string file, outcome;
    if (!(fields >> file)) continue;
    REQUIRE((fields >> outcome));
    INFO(dir / "manifest.txt" << ": " << file);
    REQUIRE(expected.emplace(file, outcome).second);
  }
  return expected;
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const char* code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kCorruptFile: return "corrupt_file";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kOutOfMemory: return "out_of_memory";
    case ErrorCode::kInternal: return "internal";
  }
  return "?";
}

// Runs `attempt` on every file of `folder` and checks the outcome against the manifest.
// An escaping exception of any other type fails the test (Catch reports it with the file).
void check_folder(const std::string& folder, const std::function<void(const std::vector<uint8_t>&)>& attempt) {
  const std::filesystem::path dir = kCorpus / folder;
  const std::map<std::string, std::string> expected = read_manifest(dir);
  std::set<std::string> seen;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "manifest.txt" || entry.path().extension() == ".py") continue;
    seen.insert(name);
    INFO(folder << "/" << name);
    const auto it = expected.find(name);
    REQUIRE(it != expected.end());  // every corpus file has a listed outcome
    const std::string& want = it->second;
    REQUIRE((want == "ok" || want == "any" || want == "error" || want == "corrupt_file" || want == "unsupported" ||
             want == "invalid_argument"));
    const std::vector<uint8_t> bytes = read_bytes(entry.path());
    std::string got = "ok", message;
    try {
      attempt(bytes);
    } catch (const Error& e) {
      got = code_name(e.code());
      message = e.what();
    }
    INFO("expected " << want << ", got " << got << (message.empty() ? "" : ": " + message));
    if (want == "any") continue;
    if (want == "error") {
      CHECK(got != "ok");
    } else {
      CHECK(got == want);
    }
  }
  for (const auto& [name, outcome] : expected) {
    INFO(folder << "/manifest.txt lists a missing file: " << name);
    CHECK(seen.count(name) == 1);
  }
}

}  // namespace

TEST_CASE("robustness corpus: integer model files fail cleanly with the documented code", "[corpus][format]") {
  check_folder("model", [](const std::vector<uint8_t>& bytes) {
    // The raw loader decides the outcome; a file that loads must also become a Model and run
    // (zero image) without tripping a sanitizer.
    (void)load_int_model_from_buffer(bytes.data(), bytes.size());
    std::shared_ptr<const Model> model = load_int_model_buffer(bytes.data(), bytes.size());
    const ViTConfig& c = model->config();
    const std::vector<uint8_t> zero(static_cast<size_t>(c.image_size) * c.image_size * 3, 0);
    std::vector<int32_t> logits(c.num_classes);
    create_session(model, {1, ""})->run_int(zero.data(), logits.data());
  });
}

TEST_CASE("robustness corpus: images decode and preprocess, or fail cleanly", "[corpus][image]") {
  check_folder("image", [](const std::vector<uint8_t>& bytes) {
    const Image image = decode_image_memory(bytes, "corpus image");
    REQUIRE(image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3);
    PreprocessConfig config;
    config.input_size = 32;
    const Image out = preprocess(image, config);
    CHECK((out.width == 32 && out.height == 32));
  });
}
