// The public C API (engine/include/intvit/intvit.h), called from C++: every status path and
// message, NULLs and bad sizes, agreement with the C++ engine, batches, images of any layout, and
// many threads sharing one model. Allocation counting and out-of-memory injection replace
// operator new, so they live in their own binary: tests/c_api_alloc/c_api_alloc_test.cc.
#include <climits>
#include <cstring>
#include <system_error>
#include <thread>

#include "c_api_fixture.h"
#include "engine/c_api/c_api_internal.h"
#include "kernels/error.h"
#include "engine/dataset.h"
#include "models/image.h"
#include "models/preprocess.h"

using namespace intvit;
using namespace intvit::test::c_api;

TEST_CASE("c_api: versions and status strings", "[c_api]") {
  CHECK(intvit_version() == INTVIT_VERSION_MAJOR * 10000 + INTVIT_VERSION_MINOR * 100 + INTVIT_VERSION_PATCH);
  CHECK(intvit_version() == INTVIT_VERSION_NUMBER);
  const std::string header_version = std::to_string(INTVIT_VERSION_MAJOR) + "." + std::to_string(INTVIT_VERSION_MINOR) +
                                     "." + std::to_string(INTVIT_VERSION_PATCH);
  CHECK(intvit_version_string() == header_version);
#ifdef INTVIT_PROJECT_VERSION
  CHECK(header_version == INTVIT_PROJECT_VERSION);  // the header's macros follow CMake's project() version
#endif
  // Stable numbers: they are the ABI.
  CHECK(INTVIT_OK == 0);
  CHECK(INTVIT_ERROR_INVALID_ARGUMENT == 1);
  CHECK(INTVIT_ERROR_IO == 2);
  CHECK(INTVIT_ERROR_CORRUPT_MODEL == 3);
  CHECK(INTVIT_ERROR_UNSUPPORTED == 4);
  CHECK(INTVIT_ERROR_OUT_OF_MEMORY == 5);
  CHECK(INTVIT_ERROR_BUFFER_TOO_SMALL == 6);
  CHECK(INTVIT_ERROR_INTERNAL == 7);
  CHECK(INTVIT_ERROR_CORRUPT_IMAGE == 8);
  std::vector<std::string> names;
  for (int s = 0; s <= 8; ++s) names.push_back(intvit_status_string(static_cast<intvit_status>(s)));
  for (size_t i = 0; i < names.size(); ++i) {
    CHECK(!names[i].empty());
    CHECK(names[i] != "unknown status");
    for (size_t j = 0; j < i; ++j) CHECK(names[i] != names[j]);
  }
  CHECK(std::string(intvit_status_string(static_cast<intvit_status>(9))) == "unknown status");
  CHECK(std::string(intvit_status_string(static_cast<intvit_status>(-1))) == "unknown status");
  // A fresh thread has no error yet.
  std::string fresh = "x";
  std::thread([&] { fresh = intvit_last_error(); }).join();
  CHECK(fresh.empty());
}

TEST_CASE("c_api: exceptions map to statuses (threads exhausted is out of memory, not a bug)", "[c_api]") {
  auto status_of = [](auto&& thrower, std::string& message) {
    try {
      thrower();
    } catch (...) {
      return capi::status_of_current_exception("f", capi::InputKind::kModel, message);
    }
    return INTVIT_OK;
  };
  std::string message;
  CHECK(status_of([] { throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again), "thread"); },
                  message) == INTVIT_ERROR_OUT_OF_MEMORY);
  CHECK(message.find("thread") != std::string::npos);
  CHECK(status_of([] { throw std::system_error(std::make_error_code(std::errc::invalid_argument), "x"); }, message) ==
        INTVIT_ERROR_INTERNAL);
  CHECK(status_of([] { throw std::bad_alloc(); }, message) == INTVIT_ERROR_OUT_OF_MEMORY);
  CHECK(status_of([] { throw Error(ErrorCode::kCorruptFile, "bad"); }, message) == INTVIT_ERROR_CORRUPT_MODEL);
}

TEST_CASE("c_api: destroy(NULL) is a no-op and the model outlives its handle in sessions", "[c_api]") {
  intvit_model_destroy(nullptr);
  intvit_session_destroy(nullptr);
  intvit_image_destroy(nullptr);
  intvit_model* m = load_tiny();
  SessionPtr s{new_session(m)};
  const char* label = nullptr;
  REQUIRE(intvit_model_label(m, 3, &label) == INTVIT_OK);
  const std::string label_copy = label;
  intvit_model_destroy(m);  // the session keeps the model (and its labels) alive
  const auto input = random_inputs(tiny_config(), 1, 5)[0];
  intvit_prediction top[10];
  REQUIRE(intvit_session_run_cropped(s.p, input.data(), top, 10) == INTVIT_OK);
  bool found = false;
  for (const auto& p : top) found |= p.class_index == 3 && p.label == label && label_copy == p.label;
  CHECK(found);
}

TEST_CASE("c_api: model loading status paths", "[c_api]") {
  const TinyModel& tiny = tiny_model();
  intvit_model* out = sentinel<intvit_model>();
  CHECK_FAILS(intvit_model_load(tiny.dir.c_str(), 0, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_load");
  CHECK_FAILS(intvit_model_load(nullptr, 0, &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_load");
  CHECK(out == nullptr);
  CHECK_FAILS(intvit_model_load("", 0, &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_load");
  CHECK_FAILS(intvit_model_load(tiny.dir.c_str(), 0x80, &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_load");
  CHECK(std::string(intvit_last_error()).find("flags") != std::string::npos);
  const fs::path missing = tiny.dir / "no-such-model";
  out = sentinel<intvit_model>();
  CHECK_FAILS(intvit_model_load(missing.c_str(), 0, &out), INTVIT_ERROR_IO, "intvit_model_load");
  CHECK(out == nullptr);
  CHECK(std::string(intvit_last_error()).find("no-such-model") != std::string::npos);

  // A model file and its corruptions.
  const std::vector<char> bytes = read_bytes(tiny.model_file());
  REQUIRE(bytes.size() > 1000);
  {
    ModelPtr from_file;
    REQUIRE(intvit_model_load(tiny.model_file().c_str(), 0, &from_file.p) == INTVIT_OK);
    ModelPtr from_buffer;
    REQUIRE(intvit_model_load_buffer(bytes.data(), bytes.size(), 0, &from_buffer.p) == INTVIT_OK);
  }
  const fs::path bad_dir = tiny.dir / "truncated";
  fs::create_directories(bad_dir);
  {
    std::ofstream f(bad_dir / kIntModelFileName, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  CHECK_FAILS(intvit_model_load(bad_dir.c_str(), 0, &out), INTVIT_ERROR_CORRUPT_MODEL, "intvit_model_load");
  for (size_t len : {size_t{1}, size_t{8}, size_t{100}, bytes.size() - 1}) {
    out = sentinel<intvit_model>();
    CHECK_FAILS(intvit_model_load_buffer(bytes.data(), len, 0, &out), INTVIT_ERROR_CORRUPT_MODEL,
                "intvit_model_load_buffer");
    CHECK(out == nullptr);
  }
  const std::string garbage(4096, 'x');
  CHECK_FAILS(intvit_model_load_buffer(garbage.data(), garbage.size(), 0, &out), INTVIT_ERROR_CORRUPT_MODEL,
              "intvit_model_load_buffer");
  // A newer format version is valid data this build does not read.
  std::string newer(bytes.begin(), bytes.end());
  const size_t at = newer.find("\"2\"", newer.find("intvit.version"));
  REQUIRE(at != std::string::npos);
  newer.replace(at, 3, "\"9\"");
  CHECK_FAILS(intvit_model_load_buffer(newer.data(), newer.size(), 0, &out), INTVIT_ERROR_UNSUPPORTED,
              "intvit_model_load_buffer");
  CHECK_FAILS(intvit_model_load_buffer(nullptr, 10, 0, &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_load_buffer");
  CHECK_FAILS(intvit_model_load_buffer(bytes.data(), 0, 0, &out), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_model_load_buffer");
  CHECK_FAILS(intvit_model_load_buffer(bytes.data(), bytes.size(), INTVIT_LOAD_PREFER_FP32, &out),
              INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_load_buffer");
  CHECK_FAILS(intvit_model_load_buffer(bytes.data(), bytes.size(), 0, nullptr), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_model_load_buffer");
  CHECK(out == nullptr);
  // An FP32 folder whose config.json is not JSON, or holds a value of the wrong type or range, is a
  // bad file (_CORRUPT_MODEL naming config.json), not a bad argument.
  const fs::path fp32_dir = tiny.dir / "bad-config";
  fs::create_directories(fp32_dir);
  std::ofstream(fp32_dir / "model.safetensors") << "unused: the config is read first";
  for (const char* config : {"{not json", "[1, 2]", R"({"model_args": {"embed_dim": "wide"}})",
                             R"({"model_args": {"depth": 1e10}})", R"({"pretrained_cfg": {"crop_pct": 0.01}})"}) {
    INFO(config);
    std::ofstream(fp32_dir / "config.json") << config;
    out = sentinel<intvit_model>();
    CHECK_FAILS(intvit_model_load(fp32_dir.c_str(), 0, &out), INTVIT_ERROR_CORRUPT_MODEL, "intvit_model_load");
    CHECK(std::string(intvit_last_error()).find("config.json") != std::string::npos);
    CHECK(out == nullptr);
  }
}

TEST_CASE("c_api: model queries", "[c_api]") {
  const ViTConfig c = tiny_config();
  ModelPtr m{load_tiny()};
  int32_t size = 0, classes = 0;
  size_t bytes = 0;
  int integer = -1;
  const char* precision = nullptr;
  REQUIRE(intvit_model_input_size(m.p, &size) == INTVIT_OK);
  REQUIRE(intvit_model_input_bytes(m.p, &bytes) == INTVIT_OK);
  REQUIRE(intvit_model_num_classes(m.p, &classes) == INTVIT_OK);
  REQUIRE(intvit_model_is_integer(m.p, &integer) == INTVIT_OK);
  REQUIRE(intvit_model_precision(m.p, &precision) == INTVIT_OK);
  CHECK(size == c.image_size);
  CHECK(bytes == static_cast<size_t>(c.image_size * c.image_size * 3));
  CHECK(classes == c.num_classes);
  CHECK(integer == 1);
  CHECK(std::string(precision) == "int8");
  for (int32_t i = 0; i < classes; ++i) {
    const char* label = nullptr;
    REQUIRE(intvit_model_label(m.p, i, &label) == INTVIT_OK);
    CHECK(std::string(label) == "tiny class " + std::to_string(i));
  }
  const char* label = sentinel<const char>();
  CHECK_FAILS(intvit_model_label(m.p, -1, &label), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_label");
  CHECK(label == nullptr);
  CHECK_FAILS(intvit_model_label(m.p, classes, &label), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_label");
  CHECK(std::string(intvit_model_last_error(m.p)) == intvit_last_error());
  CHECK(std::string(intvit_model_last_error(m.p)).find(std::to_string(classes)) != std::string::npos);
  CHECK_FAILS(intvit_model_label(m.p, 0, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_label");
  CHECK_FAILS(intvit_model_label(nullptr, 0, &label), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_label");
  CHECK_FAILS(intvit_model_input_size(nullptr, &size), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_input_size");
  CHECK_FAILS(intvit_model_input_size(m.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_input_size");
  CHECK_FAILS(intvit_model_input_bytes(nullptr, &bytes), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_input_bytes");
  CHECK_FAILS(intvit_model_input_bytes(m.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_input_bytes");
  CHECK_FAILS(intvit_model_num_classes(nullptr, &classes), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_num_classes");
  CHECK_FAILS(intvit_model_num_classes(m.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_num_classes");
  CHECK_FAILS(intvit_model_is_integer(nullptr, &integer), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_is_integer");
  CHECK_FAILS(intvit_model_is_integer(m.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_is_integer");
  CHECK_FAILS(intvit_model_precision(nullptr, &precision), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_precision");
  CHECK_FAILS(intvit_model_precision(m.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_model_precision");
  CHECK(std::string(intvit_model_last_error(nullptr)) == intvit_last_error());
  // Failures are recorded per thread on a shared model: each thread reads its own message.
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const char* l = nullptr;
      for (int i = 0; i < 200; ++i) (void)intvit_model_label(m.p, 1000 + t, &l);
      seen[t] = intvit_model_last_error(m.p);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(seen[t].find("index " + std::to_string(1000 + t) + " ") != std::string::npos);
  CHECK(std::string(intvit_model_last_error(m.p)).find("index 1000") == std::string::npos);  // this thread's own
  // A thread that starts after those ended has made no failing call: it reads "", even where it
  // gets an ended thread's std::thread::id (Linux reuses them; the messages were keyed by it).
  for (int t = 0; t < 8; ++t) {
    std::string fresh = "not read";
    std::thread([&] { fresh = intvit_model_last_error(m.p); }).join();
    CHECK(fresh.empty());
  }
}

TEST_CASE("c_api: session creation and queries", "[c_api]") {
  ModelPtr m{load_tiny()};
  intvit_session* out = sentinel<intvit_session>();
  CHECK_FAILS(intvit_session_create(nullptr, 1, nullptr, &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_create");
  CHECK(out == nullptr);
  CHECK_FAILS(intvit_session_create(m.p, 1, nullptr, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_create");
  for (int threads : {0, -1, 257, INT32_MIN}) {
    out = sentinel<intvit_session>();
    CHECK_FAILS(intvit_session_create(m.p, threads, nullptr, &out), INTVIT_ERROR_INVALID_ARGUMENT,
                "intvit_session_create");
    CHECK(out == nullptr);
    CHECK(std::string(intvit_model_last_error(m.p)).find("threads") != std::string::npos);
  }
  CHECK_FAILS(intvit_session_create(m.p, 1, "no-such-backend", &out), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_session_create");
  CHECK_FAILS(intvit_session_create(m.p, 1, "fp32", &out), INTVIT_ERROR_UNSUPPORTED, "intvit_session_create");  // known name
  CHECK(std::string(intvit_model_last_error(m.p)) == intvit_last_error());

  SessionPtr s{new_session(m.p, 2, "ref")};
  const char* backend = nullptr;
  int32_t threads = 0;
  size_t workspace = 0;
  double scale = 0;
  REQUIRE(intvit_session_backend(s.p, &backend) == INTVIT_OK);
  REQUIRE(intvit_session_threads(s.p, &threads) == INTVIT_OK);
  REQUIRE(intvit_session_workspace_bytes(s.p, &workspace) == INTVIT_OK);
  REQUIRE(intvit_session_logit_scale(s.p, &scale) == INTVIT_OK);
  CHECK(std::string(backend) == "ref");
  CHECK(threads == 2);
  CHECK(workspace > 0);
  CHECK(scale > 0);
  SessionPtr best{new_session(m.p, 1, "")};  // "" = the default backend, like NULL
  REQUIRE(intvit_session_backend(best.p, &backend) == INTVIT_OK);
  CHECK(std::string(backend) != "");
  CHECK_FAILS(intvit_session_backend(nullptr, &backend), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_backend");
  CHECK_FAILS(intvit_session_backend(s.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_backend");
  CHECK(std::string(intvit_session_last_error(s.p)) == intvit_last_error());
  CHECK_FAILS(intvit_session_threads(nullptr, &threads), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_threads");
  CHECK_FAILS(intvit_session_threads(s.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_threads");
  CHECK_FAILS(intvit_session_workspace_bytes(nullptr, &workspace), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_session_workspace_bytes");
  CHECK_FAILS(intvit_session_workspace_bytes(s.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_session_workspace_bytes");
  CHECK_FAILS(intvit_session_logit_scale(nullptr, &scale), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_logit_scale");
  CHECK_FAILS(intvit_session_logit_scale(s.p, nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_logit_scale");
  CHECK(std::string(intvit_session_last_error(nullptr)) == intvit_last_error());
}

TEST_CASE("c_api: cropped runs equal the C++ engine", "[c_api]") {
  const ViTConfig c = tiny_config();
  const fs::path dir = tiny_model().dir;
  std::shared_ptr<const Model> cpp_model = load_model(dir);
  ModelPtr m{load_tiny()};
  const auto inputs = random_inputs(c, 6, 11);
  for (const char* backend : {"ref", "avx2", "avx512vnni", "onednn"}) {
    intvit_session* raw = nullptr;
    if (intvit_session_create(m.p, 1, backend, &raw) != INTVIT_OK) {
      WARN("SKIPPED backend " << backend << ": " << intvit_last_error());
      continue;
    }
    SessionPtr s{raw};
    double scale = 0;
    REQUIRE(intvit_session_logit_scale(s.p, &scale) == INTVIT_OK);
    for (const auto& input : inputs) {
      INFO("backend " << backend);
      // Raw logits: the C++ reference backend's bits.
      std::vector<int32_t> logits(c.num_classes + 3, 12345);
      REQUIRE(intvit_session_run_cropped_into(s.p, input.data(), logits.data(), logits.size()) == INTVIT_OK);
      const std::vector<int32_t> want = cpp_int_logits(dir, input.data());
      CHECK(std::equal(want.begin(), want.end(), logits.begin()));
      CHECK(logits[c.num_classes] == 12345);  // nothing written past num_classes
      // Top-k: the C++ top_k of the model's real logits, same classes, probabilities and labels.
      const std::vector<Prediction> cpp_top = top_k(cpp_model->logits(input.data()), cpp_model->labels(), c.num_classes);
      for (size_t k : {size_t{1}, size_t{5}, static_cast<size_t>(c.num_classes)}) {
        std::vector<intvit_prediction> top(k + 1);
        top[k].class_index = -7;
        REQUIRE(intvit_session_run_cropped(s.p, input.data(), top.data(), k) == INTVIT_OK);
        CHECK(top[k].class_index == -7);
        std::vector<intvit_prediction> from_logits(k);
        REQUIRE(intvit_session_top_k(s.p, logits.data(), c.num_classes, from_logits.data(), k) == INTVIT_OK);
        double sum = 0;
        for (size_t i = 0; i < k; ++i) {
          CHECK(top[i].class_index == cpp_top[i].class_index);
          CHECK(top[i].probability == Approx(cpp_top[i].probability).margin(1e-12));
          CHECK(std::string(top[i].label) == cpp_top[i].label);
          CHECK(from_logits[i].class_index == top[i].class_index);
          CHECK(from_logits[i].probability == top[i].probability);
          CHECK(from_logits[i].label == top[i].label);
          // Label pointers are the model's own strings.
          const char* label = nullptr;
          REQUIRE(intvit_model_label(m.p, top[i].class_index, &label) == INTVIT_OK);
          CHECK(top[i].label == label);
          if (i > 0) CHECK(top[i].probability <= top[i - 1].probability);
          sum += top[i].probability;
        }
        if (k == static_cast<size_t>(c.num_classes)) CHECK(sum == Approx(1.0).margin(1e-9));
      }
    }
  }
}

TEST_CASE("c_api: images of any size layout and stride", "[c_api]") {
  const ViTConfig c = tiny_config();
  std::shared_ptr<const Model> cpp_model = load_model(tiny_model().dir);
  const PreprocessConfig pre = preprocess_config_for(c);
  ModelPtr m{load_tiny()};
  SessionPtr s{new_session(m.p)};
  const unsigned seed = 20240611;
  std::mt19937 rng(seed);
  INFO("seed " << seed);
  struct Shape {
    int width, height;
  };
  for (Shape shape : {Shape{32, 32}, Shape{1, 1}, Shape{7, 50}, Shape{61, 40}, Shape{200, 33}}) {
    for (int channels : {1, 3, 4}) {
      for (size_t padding : {size_t{0}, size_t{13}}) {
        INFO(shape.width << "x" << shape.height << "x" << channels << ", row padding " << padding);
        const std::vector<uint8_t> packed = random_image(rng, shape.width, shape.height, channels);
        // Strided copy; the padding bytes are noise that must not be read as pixels.
        const size_t row = static_cast<size_t>(shape.width) * channels, stride = row + padding;
        std::vector<uint8_t> strided(stride * shape.height);
        for (auto& b : strided) b = static_cast<uint8_t>(rng());
        for (int y = 0; y < shape.height; ++y) std::memcpy(&strided[y * stride], &packed[y * row], row);
        // C++ pipeline on the packed pixels.
        const Image input = preprocess(image_from_pixels(packed.data(), shape.width, shape.height, channels, row), pre);
        const auto want = top_k(cpp_model->logits(input.rgb.data()), cpp_model->labels(), 3);
        intvit_prediction top[3];
        REQUIRE(intvit_session_run_image(s.p, strided.data(), shape.width, shape.height, channels, stride, top, 3) ==
                INTVIT_OK);
        for (int i = 0; i < 3; ++i) {
          CHECK(top[i].class_index == want[i].class_index);
          CHECK(top[i].probability == Approx(want[i].probability).margin(1e-12));
        }
        if (channels == 3 && shape.width == c.image_size && shape.height == c.image_size && padding == 0) {
          // An image of the input size is the cropped input itself.
          intvit_prediction cropped[3];
          REQUIRE(intvit_session_run_cropped(s.p, packed.data(), cropped, 3) == INTVIT_OK);
          for (int i = 0; i < 3; ++i) CHECK(cropped[i].class_index == top[i].class_index);
        }
      }
    }
  }
  // Gray = RGB with equal channels; RGBA = RGB (alpha ignored).
  const std::vector<uint8_t> gray = random_image(rng, 45, 38, 1);
  std::vector<uint8_t> rgb, rgba;
  for (uint8_t v : gray) {
    rgb.insert(rgb.end(), {v, v, v});
    rgba.insert(rgba.end(), {v, v, v, static_cast<uint8_t>(rng())});
  }
  intvit_prediction a[10], b[10], d[10];
  REQUIRE(intvit_session_run_image(s.p, gray.data(), 45, 38, 1, 45, a, 10) == INTVIT_OK);
  REQUIRE(intvit_session_run_image(s.p, rgb.data(), 45, 38, 3, 45 * 3, b, 10) == INTVIT_OK);
  REQUIRE(intvit_session_run_image(s.p, rgba.data(), 45, 38, 4, 45 * 4, d, 10) == INTVIT_OK);
  for (int i = 0; i < 10; ++i) {
    CHECK(a[i].class_index == b[i].class_index);
    CHECK(a[i].probability == b[i].probability);
    CHECK(d[i].class_index == b[i].class_index);
    CHECK(d[i].probability == b[i].probability);
  }
}

TEST_CASE("c_api: bad run arguments get a status and a message and never a crash", "[c_api]") {
  const ViTConfig c = tiny_config();
  ModelPtr m{load_tiny()};
  SessionPtr s{new_session(m.p)};
  const auto input = random_inputs(c, 1, 3)[0];
  std::vector<uint8_t> big(64 * 64 * 4, 100);
  intvit_prediction top[11];
  std::vector<int32_t> logits(c.num_classes * 4);
  constexpr auto kBad = INTVIT_ERROR_INVALID_ARGUMENT;

  // run_image: each argument in turn.
  CHECK_FAILS(intvit_session_run_image(nullptr, big.data(), 8, 8, 3, 24, top, 1), kBad, "intvit_session_run_image");
  CHECK_FAILS(intvit_session_run_image(s.p, nullptr, 8, 8, 3, 24, top, 1), kBad, "intvit_session_run_image");
  CHECK(std::string(intvit_session_last_error(s.p)) == intvit_last_error());
  CHECK(std::string(intvit_last_error()).find("pixels") != std::string::npos);
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, 8, 3, 24, nullptr, 1), kBad, "intvit_session_run_image");
  for (int w : {0, -1, INT32_MIN}) {
    CHECK_FAILS(intvit_session_run_image(s.p, big.data(), w, 8, 3, 24, top, 1), kBad, "intvit_session_run_image");
    CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, w, 3, 24, top, 1), kBad, "intvit_session_run_image");
  }
  CHECK(std::string(intvit_last_error()).find("positive") != std::string::npos);
  for (int ch : {0, 2, 5, -3}) {
    CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, 8, ch, 64, top, 1), kBad, "intvit_session_run_image");
  }
  CHECK(std::string(intvit_last_error()).find("channels") != std::string::npos);
  // Over the pixel limit (one pixel over, and dimensions whose product needs 62 bits): rejected
  // before anything reads the (small) buffer.
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), INTVIT_MAX_IMAGE_PIXELS / 1024 + 1, 1024, 1,
                                       INTVIT_MAX_IMAGE_PIXELS, top, 1),
              kBad, "intvit_session_run_image");
  CHECK(std::string(intvit_last_error()).find("INTVIT_MAX_IMAGE_PIXELS") != std::string::npos);
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), INT32_MAX, INT32_MAX, 4, SIZE_MAX, top, 1), kBad,
              "intvit_session_run_image");
  // Strides: shorter than a row, and so long that height rows overflow size_t.
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, 8, 3, 23, top, 1), kBad, "intvit_session_run_image");
  CHECK(std::string(intvit_last_error()).find("row_stride") != std::string::npos);
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, 3, 3, SIZE_MAX / 2, top, 1), kBad,
              "intvit_session_run_image");
  CHECK(std::string(intvit_last_error()).find("overflows") != std::string::npos);
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, 8, 3, 24, top, 0), kBad, "intvit_session_run_image");
  CHECK_FAILS(intvit_session_run_image(s.p, big.data(), 8, 8, 3, 24, top, c.num_classes + 1), kBad,
              "intvit_session_run_image");
  CHECK(std::string(intvit_last_error()).find("k must be") != std::string::npos);
  // The largest legal stride for a one-row image is fine (only width * channels bytes are read).
  CHECK(intvit_session_run_image(s.p, big.data(), 8, 1, 3, SIZE_MAX, top, 1) == INTVIT_OK);

  // run_cropped / top_k.
  CHECK_FAILS(intvit_session_run_cropped(nullptr, input.data(), top, 1), kBad, "intvit_session_run_cropped");
  CHECK_FAILS(intvit_session_run_cropped(s.p, nullptr, top, 1), kBad, "intvit_session_run_cropped");
  CHECK_FAILS(intvit_session_run_cropped(s.p, input.data(), nullptr, 1), kBad, "intvit_session_run_cropped");
  CHECK_FAILS(intvit_session_run_cropped(s.p, input.data(), top, 0), kBad, "intvit_session_run_cropped");
  CHECK_FAILS(intvit_session_run_cropped(s.p, input.data(), top, c.num_classes + 1), kBad,
              "intvit_session_run_cropped");
  CHECK_FAILS(intvit_session_top_k(nullptr, logits.data(), c.num_classes, top, 1), kBad, "intvit_session_top_k");
  CHECK_FAILS(intvit_session_top_k(s.p, nullptr, c.num_classes, top, 1), kBad, "intvit_session_top_k");
  CHECK_FAILS(intvit_session_top_k(s.p, logits.data(), c.num_classes - 1, top, 1), kBad, "intvit_session_top_k");
  CHECK_FAILS(intvit_session_top_k(s.p, logits.data(), c.num_classes, nullptr, 1), kBad, "intvit_session_top_k");
  CHECK_FAILS(intvit_session_top_k(s.p, logits.data(), c.num_classes, top, 0), kBad, "intvit_session_top_k");

  // run_cropped_into: NULLs and a short buffer.
  CHECK_FAILS(intvit_session_run_cropped_into(nullptr, input.data(), logits.data(), logits.size()), kBad,
              "intvit_session_run_cropped_into");
  CHECK_FAILS(intvit_session_run_cropped_into(s.p, nullptr, logits.data(), logits.size()), kBad,
              "intvit_session_run_cropped_into");
  CHECK_FAILS(intvit_session_run_cropped_into(s.p, input.data(), nullptr, logits.size()), kBad,
              "intvit_session_run_cropped_into");
  for (size_t len : {size_t{0}, static_cast<size_t>(c.num_classes - 1)}) {
    CHECK_FAILS(intvit_session_run_cropped_into(s.p, input.data(), logits.data(), len), INTVIT_ERROR_BUFFER_TOO_SMALL,
                "intvit_session_run_cropped_into");
  }
  CHECK(std::string(intvit_session_last_error(s.p)).find(std::to_string(c.num_classes) + " needed") !=
        std::string::npos);

  // run_batch_into: n = 0, n so large that sizes overflow, short buffers.
  CHECK_FAILS(intvit_session_run_batch_into(nullptr, input.data(), 1, logits.data(), logits.size()), kBad,
              "intvit_session_run_batch_into");
  CHECK_FAILS(intvit_session_run_batch_into(s.p, nullptr, 1, logits.data(), logits.size()), kBad,
              "intvit_session_run_batch_into");
  CHECK_FAILS(intvit_session_run_batch_into(s.p, input.data(), 1, nullptr, logits.size()), kBad,
              "intvit_session_run_batch_into");
  CHECK_FAILS(intvit_session_run_batch_into(s.p, input.data(), 0, logits.data(), logits.size()), kBad,
              "intvit_session_run_batch_into");
  CHECK_FAILS(intvit_session_run_batch_into(s.p, input.data(), SIZE_MAX / 7, logits.data(), SIZE_MAX), kBad,
              "intvit_session_run_batch_into");
  CHECK(std::string(intvit_last_error()).find("overflow") != std::string::npos);
  CHECK_FAILS(intvit_session_run_batch_into(s.p, input.data(), 2, logits.data(), 2 * c.num_classes - 1),
              INTVIT_ERROR_BUFFER_TOO_SMALL, "intvit_session_run_batch_into");

  // After all that the session still gives the right answer.
  std::vector<int32_t> got(c.num_classes);
  REQUIRE(intvit_session_run_cropped_into(s.p, input.data(), got.data(), got.size()) == INTVIT_OK);
  CHECK(got == cpp_int_logits(tiny_model().dir, input.data()));
}

TEST_CASE("c_api: batch runs give the single-image bits", "[c_api][threads]") {
  const ViTConfig c = tiny_config();
  ModelPtr m{load_tiny()};
  // 41 images: with 2 threads, shares of 20 images per thread in passes of 8, 8 and 4 plus one
  // image on the whole pool; with 3 threads shares of 13 (8 + 5) plus 2.
  const auto inputs = random_inputs(c, 41, 7);
  REQUIRE(inputs.size() == 41);
  std::vector<uint8_t> batch;
  for (const auto& im : inputs) batch.insert(batch.end(), im.begin(), im.end());
  SessionPtr single{new_session(m.p)};
  std::vector<int32_t> want(inputs.size() * c.num_classes);
  for (size_t i = 0; i < inputs.size(); ++i) {
    REQUIRE(intvit_session_run_cropped_into(single.p, inputs[i].data(), &want[i * c.num_classes], c.num_classes) ==
            INTVIT_OK);
  }
  for (int threads : {1, 2, 3}) {
    SessionPtr s{new_session(m.p, threads)};
    for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{17}, inputs.size(), size_t{5}}) {
      INFO("threads " << threads << ", batch " << n);
      std::vector<int32_t> got(n * c.num_classes + 1, -99);
      REQUIRE(intvit_session_run_batch_into(s.p, batch.data(), n, got.data(), got.size()) == INTVIT_OK);
      CHECK(std::equal(got.begin(), got.end() - 1, want.begin()));
      CHECK(got.back() == -99);
    }
  }
}

TEST_CASE("c_api: sessions on one shared model from many threads give single-thread bits", "[c_api][threads]") {
  const ViTConfig c = tiny_config();
  ModelPtr m{load_tiny()};
  const auto inputs = random_inputs(c, 16, 31);
  const size_t classes = c.num_classes;
  // Reference: one session, one thread, the reference backend.
  std::vector<int32_t> want(inputs.size() * classes);
  {
    SessionPtr s{new_session(m.p, 1, "ref")};
    for (size_t i = 0; i < inputs.size(); ++i) {
      REQUIRE(intvit_session_run_cropped_into(s.p, inputs[i].data(), &want[i * classes], classes) == INTVIT_OK);
    }
  }
  // Four threads, each with its own session (different backends and thread counts, so packing on
  // first use also races), 500 runs each = 2000 runs. A fresh model handle, so that packing for
  // each backend happens concurrently.
  ModelPtr shared{load_tiny()};
  const char* backends[] = {nullptr, "avx2", "avx512vnni", "onednn"};
  constexpr int kThreads = 4, kRunsPerThread = 500;
  std::vector<int> mismatches(kThreads, 0), failures(kThreads, 0), runs(kThreads, 0);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      intvit_session* s = nullptr;
      if (intvit_session_create(shared.p, 1 + t % 2, backends[t], &s) != INTVIT_OK) {
        // Backend missing on this CPU: fall back to the default one (still a concurrent session).
        if (intvit_session_create(shared.p, 1 + t % 2, nullptr, &s) != INTVIT_OK) {
          errors[t] = intvit_last_error();
          return;
        }
      }
      std::vector<int32_t> logits(classes);
      for (int i = 0; i < kRunsPerThread; ++i) {
        const size_t which = static_cast<size_t>(i * 7 + t) % inputs.size();
        if (intvit_session_run_cropped_into(s, inputs[which].data(), logits.data(), classes) != INTVIT_OK) {
          ++failures[t];
          errors[t] = intvit_session_last_error(s);
          continue;
        }
        ++runs[t];
        mismatches[t] += !std::equal(logits.begin(), logits.end(), want.begin() + which * classes);
      }
      intvit_session_destroy(s);
    });
  }
  for (auto& th : threads) th.join();
  int total = 0;
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t << ": " << errors[t]);
    CHECK(errors[t].empty());
    CHECK(failures[t] == 0);
    CHECK(mismatches[t] == 0);
    total += runs[t];
  }
  CHECK(total == kThreads * kRunsPerThread);
}

TEST_CASE("c_api: decoding images", "[c_api]") {
  const fs::path dir = test::source_dir() / "tests/data/images";
  for (const char* name : {"decode/png_rgb8.png", "decode/jpeg_rgb_200_100_50.jpg", "decode/png_gray_alpha8.png",
                           "decode/pgm_gray.pgm", "resize/photo.png"}) {
    INFO(name);
    const fs::path path = dir / name;
    ImagePtr from_file, from_memory;
    REQUIRE(intvit_image_decode_file(path.c_str(), &from_file.p) == INTVIT_OK);
    const auto bytes = read_bytes(path);
    REQUIRE(intvit_image_decode_memory(bytes.data(), bytes.size(), &from_memory.p) == INTVIT_OK);
    const Image want = decode_image_file(path);
    for (intvit_image* im : {from_file.p, from_memory.p}) {
      const uint8_t* pixels = nullptr;
      int32_t w = 0, h = 0, ch = 0;
      size_t stride = 0;
      REQUIRE(intvit_image_pixels(im, &pixels, &w, &h, &ch, &stride) == INTVIT_OK);
      CHECK(w == want.width);
      CHECK(h == want.height);
      CHECK(ch == 3);
      CHECK(stride == static_cast<size_t>(w) * 3);
      CHECK(std::memcmp(pixels, want.rgb.data(), want.rgb.size()) == 0);
      // Every out is optional.
      REQUIRE(intvit_image_pixels(im, nullptr, nullptr, nullptr, nullptr, nullptr) == INTVIT_OK);
    }
  }
  intvit_image* out = sentinel<intvit_image>();
  const fs::path missing = dir / "no-such-file.png";
  CHECK_FAILS(intvit_image_decode_file(missing.c_str(), &out), INTVIT_ERROR_IO, "intvit_image_decode_file");
  CHECK(out == nullptr);
  CHECK_FAILS(intvit_image_decode_file(nullptr, &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_image_decode_file");
  CHECK_FAILS(intvit_image_decode_file("", &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_image_decode_file");
  const fs::path png = dir / "decode/png_rgb8.png";
  CHECK_FAILS(intvit_image_decode_file(png.c_str(), nullptr), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_image_decode_file");
  const std::string garbage = "this is not an image at all, just text";
  out = sentinel<intvit_image>();
  CHECK_FAILS(intvit_image_decode_memory(garbage.data(), garbage.size(), &out), INTVIT_ERROR_CORRUPT_IMAGE,
              "intvit_image_decode_memory");
  CHECK(out == nullptr);
  auto truncated = read_bytes(dir / "decode/jpeg_rgb_200_100_50.jpg");
  truncated.resize(truncated.size() / 3);
  CHECK_FAILS(intvit_image_decode_memory(truncated.data(), truncated.size(), &out), INTVIT_ERROR_CORRUPT_IMAGE,
              "intvit_image_decode_memory");
  // A header that declares more than INTVIT_MAX_IMAGE_PIXELS: rejected from the header alone.
  const std::string huge = "P6\n100000 100000\n255\n" + std::string(64, '\0');
  CHECK_FAILS(intvit_image_decode_memory(huge.data(), huge.size(), &out), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_image_decode_memory");
  CHECK_FAILS(intvit_image_decode_memory(nullptr, 10, &out), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_image_decode_memory");
  CHECK_FAILS(intvit_image_decode_memory(garbage.data(), 0, &out), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_image_decode_memory");
  CHECK_FAILS(intvit_image_decode_memory(garbage.data(), garbage.size(), nullptr), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_image_decode_memory");
  const uint8_t* pixels = sentinel<const uint8_t>();
  int32_t w = 5;
  CHECK_FAILS(intvit_image_pixels(nullptr, &pixels, &w, nullptr, nullptr, nullptr), INTVIT_ERROR_INVALID_ARGUMENT,
              "intvit_image_pixels");
  CHECK(pixels == nullptr);
  CHECK(w == 0);

  // Decode + classify, the C example's path, equals the C++ CLI's path.
  ModelPtr m{load_tiny()};
  SessionPtr s{new_session(m.p)};
  ImagePtr photo;
  REQUIRE(intvit_image_decode_file((dir / "resize/photo.png").c_str(), &photo.p) == INTVIT_OK);
  const uint8_t* px = nullptr;
  int32_t pw = 0, ph = 0, pc = 0;
  size_t ps = 0;
  REQUIRE(intvit_image_pixels(photo.p, &px, &pw, &ph, &pc, &ps) == INTVIT_OK);
  intvit_prediction top[5];
  REQUIRE(intvit_session_run_image(s.p, px, pw, ph, pc, ps, top, 5) == INTVIT_OK);
  std::shared_ptr<const Model> cpp = load_model(tiny_model().dir);
  const auto want = top_k(cpp->logits(preprocess(decode_image_file(dir / "resize/photo.png"),
                                                 preprocess_config_for(cpp->config())).rgb.data()),
                          cpp->labels(), 5);
  for (int i = 0; i < 5; ++i) CHECK(top[i].class_index == want[i].class_index);
}

TEST_CASE("c_api: FP32 models", "[c_api][shared]") {
  INTVIT_REQUIRE_SHARED();
  const fs::path dir = test::shared_dir() / "models" / "vit_tiny_patch16_224";
  ModelPtr m;
  REQUIRE(intvit_model_load(dir.c_str(), 0, &m.p) == INTVIT_OK);
  int integer = -1;
  const char* precision = nullptr;
  REQUIRE(intvit_model_is_integer(m.p, &integer) == INTVIT_OK);
  REQUIRE(intvit_model_precision(m.p, &precision) == INTVIT_OK);
  CHECK(integer == 0);
  CHECK(std::string(precision) == "fp32");
  const char* label = nullptr;
  REQUIRE(intvit_model_label(m.p, 207, &label) == INTVIT_OK);
  CHECK(std::string(label).find("retriever") != std::string::npos);  // golden retriever, ImageNet class 207
  intvit_session* out = sentinel<intvit_session>();
  CHECK_FAILS(intvit_session_create(m.p, 1, "avx2", &out), INTVIT_ERROR_UNSUPPORTED, "intvit_session_create");
  CHECK(out == nullptr);
  CHECK_FAILS(intvit_session_create(m.p, 1, "no-such-backend", &out), INTVIT_ERROR_INVALID_ARGUMENT, "intvit_session_create");
  SessionPtr s{new_session(m.p, 1, "fp32")};
  const char* backend = nullptr;
  REQUIRE(intvit_session_backend(s.p, &backend) == INTVIT_OK);
  CHECK(std::string(backend) == "fp32");
  std::mt19937 rng(5);
  const std::vector<uint8_t> input = random_image(rng, 224, 224, 3);
  std::vector<int32_t> logits(1000);
  intvit_prediction top[5];
  CHECK_FAILS(intvit_session_run_cropped_into(s.p, input.data(), logits.data(), logits.size()),
              INTVIT_ERROR_UNSUPPORTED, "intvit_session_run_cropped_into");
  CHECK_FAILS(intvit_session_run_batch_into(s.p, input.data(), 1, logits.data(), logits.size()),
              INTVIT_ERROR_UNSUPPORTED, "intvit_session_run_batch_into");
  CHECK_FAILS(intvit_session_top_k(s.p, logits.data(), logits.size(), top, 5), INTVIT_ERROR_UNSUPPORTED,
              "intvit_session_top_k");
  REQUIRE(intvit_session_run_cropped(s.p, input.data(), top, 5) == INTVIT_OK);
  std::shared_ptr<const Model> cpp = load_model(dir);
  const auto want = top_k(cpp->logits(input.data()), cpp->labels(), 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(top[i].class_index == want[i].class_index);
    CHECK(top[i].probability == Approx(want[i].probability).margin(1e-12));
  }
}

// Not a test on its own (hidden): tests/c_api.test.cmake runs it to make the model the install
// smoke test classifies with, written to $INTVIT_C_API_MODEL_OUT.
TEST_CASE("c_api: write the tiny model for the install smoke test", "[.][c_api_fixture]") {
  const char* out = std::getenv("INTVIT_C_API_MODEL_OUT");
  REQUIRE(out != nullptr);
  write_tiny_model(out);
  ModelPtr m;
  REQUIRE(intvit_model_load(out, 0, &m.p) == INTVIT_OK);
}
