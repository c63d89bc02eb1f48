// Folder expansion (list_image_files, list_folder_dataset) and the CLI's batches on parallel
// threads (run_batches_in_order): order, error reporting, boundedness, failures without deadlock.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/dataset.h"
#include "kernels/error.h"
#include "engine/image_files.h"
#include "engine/parallel_batches.h"

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

// run_batches_in_order with load / process / emit callbacks that check each other: input i loads
// as bytes of value i (inputs with i % 4 == 2 fail), process writes each loaded input's first
// byte + 1000 · worker, emit checks order, errors and outputs.
TEST_CASE("run_batches_in_order: every input once, in order, failures reported in place", "[pipeline][concurrency]") {
  for (int workers : {1, 2, 3}) {
    for (size_t batch : {1, 3, 8}) {
      for (size_t inputs : {0, 1, 7, 8, 25}) {
        INFO("workers " << workers << ", batch " << batch << ", inputs " << inputs);
        const size_t bytes = 5;
        std::vector<std::atomic<int>> busy(static_cast<size_t>(workers));  // process calls running per worker
        std::atomic<int> overlapping{0};
        size_t next_index = 0, emitted_batches = 0;
        bool in_order = true, errors_ok = true, outputs_ok = true, sizes_ok = true;
        BatchWork w;
        w.inputs = inputs;
        w.batch = batch;
        w.input_bytes = bytes;
        w.workers = workers;
        w.load = [&](size_t i, uint8_t* out) {
          if (i % 4 == 2) throw Error(ErrorCode::kCorruptFile, "bad " + std::to_string(i));
          std::fill(out, out + bytes, static_cast<uint8_t>(i));
        };
        w.process = [&](int worker, PreparedBatch& b) {
          if (busy[static_cast<size_t>(worker)]++ != 0) ++overlapping;
          b.outputs.clear();
          for (size_t k = 0; k < b.loaded; ++k) b.outputs.push_back(b.pixels[k * bytes] + 1000.0 * worker);
          --busy[static_cast<size_t>(worker)];
        };
        w.emit = [&](const PreparedBatch& b) {
          in_order &= b.first == next_index;
          // Full batches, then shrinking ones so that every worker has work until the end.
          const size_t left = inputs - b.first, w_count = static_cast<size_t>(workers);
          sizes_ok &= b.count == std::min(batch, (left + w_count - 1) / w_count) && b.errors.size() == b.count;
          size_t loaded = 0;
          for (size_t i = 0; i < b.count && i < b.errors.size(); ++i) {
            const size_t index = b.first + i;
            if (index % 4 == 2) {
              errors_ok &= b.errors[i] == "bad " + std::to_string(index);
              continue;
            }
            errors_ok &= b.errors[i].empty();
            if (b.pixels.size() < (loaded + 1) * bytes || b.outputs.size() <= loaded) {
              outputs_ok = false;
              break;
            }
            outputs_ok &= b.pixels[loaded * bytes] == static_cast<uint8_t>(index) &&
                          b.pixels[loaded * bytes + bytes - 1] == static_cast<uint8_t>(index);
            const int worker = static_cast<int>(b.outputs[loaded] / 1000.0);
            outputs_ok &= worker >= 0 && worker < workers && b.outputs[loaded] - 1000.0 * worker == static_cast<uint8_t>(index);
            ++loaded;
          }
          sizes_ok &= b.loaded == loaded && b.pixels.size() == loaded * bytes && (loaded > 0 || b.outputs.empty());
          next_index += b.count;
          ++emitted_batches;
        };
        run_batches_in_order(w);
        CHECK(in_order);
        CHECK(errors_ok);
        CHECK(outputs_ok);
        CHECK(sizes_ok);
        CHECK(overlapping.load() == 0);
        CHECK(next_index == inputs);
        CHECK(emitted_batches >= (inputs + batch - 1) / batch);
      }
    }
  }
}

TEST_CASE("run_batches_in_order: the workers run batches at the same time", "[pipeline][concurrency]") {
  // Worker 0's first batch waits until another worker is inside process: it returns only if two
  // threads really run batches concurrently (bounded wait, so a regression fails, not hangs).
  std::atomic<int> inside{0};
  std::atomic<bool> met{false};
  BatchWork w;
  w.inputs = 16;
  w.batch = 2;
  w.input_bytes = 1;
  w.workers = 2;
  w.load = [](size_t, uint8_t* out) { *out = 1; };
  w.process = [&](int, PreparedBatch&) {
    ++inside;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!met && inside.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    if (inside.load() >= 2) met = true;
    --inside;
  };
  w.emit = [](const PreparedBatch&) {};
  run_batches_in_order(w);
  CHECK(met.load());
}

TEST_CASE("run_batches_in_order: at most 2 batches per worker are held while one is slow, order kept", "[pipeline][concurrency]") {
  // Batch 0 stalls in process until the others have loaded all they may: 2 workers hold 4 batches
  // (2 slots each), so exactly 4 · 4 inputs load, however long we wait; then the rest run, and
  // batches 1-3, finished first, are emitted after batch 0.
  std::atomic<size_t> loaded{0};
  std::atomic<bool> release{false};
  size_t emitted = 0;
  BatchWork w;
  w.inputs = 1000;
  w.batch = 4;
  w.input_bytes = 1;
  w.workers = 2;
  w.load = [&](size_t, uint8_t* out) {
    *out = 1;
    ++loaded;
  };
  size_t seen_while_stalled = 0;
  w.process = [&](int, PreparedBatch& b) {
    if (b.first != 0) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (loaded.load() < 4 * 4 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen_while_stalled = loaded.load();
    release = true;
  };
  bool in_order = true;  // batches 1-3 finish before batch 0: they must still come out after it
  w.emit = [&](const PreparedBatch& b) {
    in_order &= b.first == emitted;
    emitted += b.count;
  };
  run_batches_in_order(w);
  CHECK(release.load());
  CHECK(seen_while_stalled == 4 * 4);
  CHECK(in_order);
  CHECK(emitted == 1000);
}

TEST_CASE("run_batches_in_order: a failing process, emit or load stops every thread and is rethrown", "[pipeline][concurrency]") {
  for (int workers : {1, 2, 3}) {
    for (const char* where : {"process", "emit", "load"}) {
      INFO("workers " << workers << ", throwing in " << where);
      std::atomic<size_t> loads{0};
      size_t emitted_after_failure = 0;
      BatchWork w;
      w.inputs = 200;
      w.batch = 3;
      w.input_bytes = 2;
      w.workers = workers;
      w.load = [&](size_t i, uint8_t* out) {
        ++loads;
        // Not a std::exception: not an input's error but a failure of the run.
        if (std::string(where) == "load" && i == 40) throw 42;
        out[0] = out[1] = 7;
      };
      w.process = [&](int, PreparedBatch& b) {
        if (std::string(where) == "process" && b.first <= 40 && 40 < b.first + b.count) throw std::runtime_error("process failed");
        b.outputs.assign(b.loaded, 1.0);
      };
      w.emit = [&](const PreparedBatch& b) {
        if (b.first > 40) ++emitted_after_failure;
        if (std::string(where) == "emit" && b.first <= 40 && 40 < b.first + b.count) throw std::runtime_error("emit failed");
      };
      if (std::string(where) == "load") {
        CHECK_THROWS_AS(run_batches_in_order(w), int);
      } else {
        CHECK_THROWS_WITH(run_batches_in_order(w), std::string(where) + " failed");
      }
      CHECK(emitted_after_failure == 0);
      // The others stopped: the batches held (2 per worker) start at most at the failing one, 39.
      CHECK(loads.load() <= 39 + 2 * static_cast<size_t>(workers) * 3);
    }
  }
}

TEST_CASE("run_batches_in_order: every input failing is reported, process is not called", "[pipeline][concurrency]") {
  size_t errors = 0, processed = 0;
  BatchWork w;
  w.inputs = 10;
  w.batch = 4;
  w.input_bytes = 3;
  w.workers = 2;
  w.load = [](size_t, uint8_t*) { throw std::runtime_error(""); };
  w.process = [&](int, PreparedBatch&) { ++processed; };
  w.emit = [&](const PreparedBatch& b) {
    for (const std::string& e : b.errors) errors += e == "unknown error";
  };
  run_batches_in_order(w);
  CHECK(errors == 10);
  CHECK(processed == 0);
}

TEST_CASE("run_batches_in_order: bad arguments are rejected", "[pipeline]") {
  BatchWork good;
  good.inputs = 4;
  good.batch = 1;
  good.input_bytes = 1;
  good.workers = 2;
  good.load = [](size_t, uint8_t*) {};
  good.process = [](int, PreparedBatch&) {};
  good.emit = [](const PreparedBatch&) {};
  CHECK_NOTHROW(run_batches_in_order(good));
  BatchWork w = good;
  w.batch = 0;
  CHECK_THROWS_AS(run_batches_in_order(w), Error);
  w = good;
  w.input_bytes = 0;
  CHECK_THROWS_AS(run_batches_in_order(w), Error);
  w = good;
  w.workers = 0;
  CHECK_THROWS_AS(run_batches_in_order(w), Error);
  w = good;
  w.load = nullptr;
  CHECK_THROWS_AS(run_batches_in_order(w), Error);
  w = good;
  w.process = nullptr;
  CHECK_THROWS_AS(run_batches_in_order(w), Error);
  w = good;
  w.emit = nullptr;
  CHECK_THROWS_AS(run_batches_in_order(w), Error);
}

}  // namespace intvit
