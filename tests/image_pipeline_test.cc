// Folder expansion (list_image_files, list_folder_dataset) and the CLI's decode-ahead queue
// (BatchPrefetcher): order, error reporting, boundedness.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/batch_prefetcher.h"
#include "engine/dataset.h"
#include "kernels/error.h"
#include "engine/image_files.h"

namespace intvit {
namespace {

namespace fs = std::filesystem;

struct ScratchDir {
  fs::path root = fs::temp_directory_path() / ("intvit_pipeline_" + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~ScratchDir() { fs::remove_all(root); }
  void touch(const std::string& rel) const {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << "x";
  }
};

std::vector<std::string> relative(const std::vector<fs::path>& files, const fs::path& root) {
  std::vector<std::string> out;
  for (const fs::path& f : files) out.push_back(f.lexically_relative(root).string());
  return out;
}

}  // namespace

TEST_CASE("list_image_files: recursive, image extensions only, byte-order sorted", "[pipeline]") {
  ScratchDir d;
  for (const char* f : {"b.jpg", "a.PNG", "a/z.jpeg", "a/b/c.bmp", "B.gif", "notes.txt", "labels.csv", "x.ppm",
                        "y.pgm", "noext", "sub/deeper/img.JPG", "sub/readme.md"}) {
    d.touch(f);
  }
  fs::create_directories(d.root / "empty_dir.jpg");  // a folder named like an image is not an image
  const std::vector<std::string> want = {"B.gif", "a.PNG", "a/b/c.bmp", "a/z.jpeg", "b.jpg", "sub/deeper/img.JPG",
                                         "x.ppm", "y.pgm"};
  CHECK(relative(list_image_files(d.root), d.root) == want);
  const std::vector<LabeledFile> ds = list_folder_dataset(d.root, "", 3);
  REQUIRE(ds.size() == 3);
  CHECK(ds[2].name == "a/b/c.bmp");
  CHECK(ds[2].path == d.root / "a/b/c.bmp");
  CHECK(ds[2].label == -1);
}

TEST_CASE("list_image_files: a file or a missing path is a clear error", "[pipeline]") {
  ScratchDir d;
  d.touch("only.txt");
  CHECK_THROWS_WITH(list_image_files(d.root / "only.txt"), Catch::Contains("not a folder"));
  CHECK_THROWS_WITH(list_image_files(d.root / "missing"), Catch::Contains("not a folder"));
  CHECK(list_image_files(d.root).empty());
  CHECK_THROWS_WITH(list_folder_dataset(d.root, "", 0), Catch::Contains("no images found"));
}

TEST_CASE("BatchPrefetcher: every input once, in order, failures reported in place", "[pipeline]") {
  for (size_t batch : {1, 3, 8}) {
    for (size_t inputs : {0, 1, 7, 8, 25}) {
      const size_t bytes = 5;
      // Input i fills its bytes with i; every 4th input (i % 4 == 2) fails.
      BatchPrefetcher p(inputs, batch, bytes, 2, [&](size_t i, uint8_t* out) {
        if (i % 4 == 2) throw Error(ErrorCode::kCorruptFile, "bad " + std::to_string(i));
        std::fill(out, out + bytes, static_cast<uint8_t>(i));
      });
      PreparedBatch b;
      size_t next_index = 0;
      while (p.next(b)) {
        INFO("batch " << batch << ", inputs " << inputs << ", first " << b.first);
        REQUIRE(b.first == next_index);
        REQUIRE(b.count == std::min(batch, inputs - next_index));
        REQUIRE(b.errors.size() == b.count);
        size_t loaded = 0;
        for (size_t i = 0; i < b.count; ++i) {
          const size_t index = b.first + i;
          if (index % 4 == 2) {
            CHECK(b.errors[i] == "bad " + std::to_string(index));
            continue;
          }
          CHECK(b.errors[i].empty());
          REQUIRE(b.pixels.size() >= (loaded + 1) * bytes);
          CHECK(b.pixels[loaded * bytes] == static_cast<uint8_t>(index));
          CHECK(b.pixels[loaded * bytes + bytes - 1] == static_cast<uint8_t>(index));
          ++loaded;
        }
        CHECK(b.loaded == loaded);
        CHECK(b.pixels.size() == loaded * bytes);
        next_index += b.count;
      }
      CHECK(next_index == inputs);
      CHECK_FALSE(p.next(b));
    }
  }
}

TEST_CASE("BatchPrefetcher: stays at most depth batches ahead, destroying it early stops the thread", "[pipeline]") {
  std::atomic<size_t> loaded{0};
  {
    BatchPrefetcher p(1000, 4, 1, 2, [&](size_t, uint8_t* out) {
      *out = 1;
      ++loaded;
    });
    PreparedBatch b;
    REQUIRE(p.next(b));
    // The producer fills 2 more batches (the queue's depth), then waits for the consumer before it
    // starts another: exactly 3 batches loaded however long we wait.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (loaded.load() < 4 * (1 + 2) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(loaded.load() == 4 * (1 + 2));
  }
  CHECK(loaded.load() < 1000);
}

TEST_CASE("BatchPrefetcher: bad construction arguments are rejected", "[pipeline]") {
  const auto load = [](size_t, uint8_t*) {};
  CHECK_THROWS_AS(BatchPrefetcher(4, 0, 1, 2, load), Error);
  CHECK_THROWS_AS(BatchPrefetcher(4, 1, 0, 2, load), Error);
  CHECK_THROWS_AS(BatchPrefetcher(4, 1, 1, 0, load), Error);
  CHECK_THROWS_AS(BatchPrefetcher(4, 1, 1, 2, BatchPrefetcher::LoadFn()), Error);
}

}  // namespace intvit
