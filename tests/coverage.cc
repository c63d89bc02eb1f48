#include "coverage.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

namespace intvit::test {
namespace {

class Coverage {
 public:
  void ran(const std::string& v) {
    std::lock_guard<std::mutex> lock(mutex_);
    ran_.insert(v);
  }
  void unsupported(const std::string& v, const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex_);
    unsupported_[v] = why;
  }
  void known(const std::string& v, bool supported, const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex_);
    known_[v] = {supported, why};
  }

  // Once, at process exit: one line on stdout and the records for the summary.
  ~Coverage() {
    if (ran_.empty() && unsupported_.empty() && known_.empty()) return;
    std::string line = "kernel variants run:";
    for (const std::string& v : ran_) line += " " + v;
    if (!unsupported_.empty()) {
      line += "; not runnable on this CPU:";
      for (const auto& [v, why] : unsupported_) line += " " + v + " (" + why + ")";
    }
    std::printf("%s\n", line.c_str());
    const char* dir = std::getenv("INTVIT_COVERAGE_DIR");
    if (dir == nullptr || *dir == '\0') dir = INTVIT_COVERAGE_DEFAULT_DIR;
    const std::string path = std::string(dir) + "/" + std::to_string(::getpid()) + ".txt";
    if (FILE* f = std::fopen(path.c_str(), "a")) {
      for (const std::string& v : ran_) std::fprintf(f, "ran\t%s\n", v.c_str());
      for (const auto& [v, why] : unsupported_) std::fprintf(f, "unsupported\t%s\t%s\n", v.c_str(), why.c_str());
      for (const auto& [v, k] : known_) std::fprintf(f, "known\t%s\t%d\t%s\n", v.c_str(), k.first ? 1 : 0, k.second.c_str());
      std::fclose(f);
    }
  }

 private:
  std::mutex mutex_;
  std::set<std::string> ran_;
  std::map<std::string, std::string> unsupported_;
  std::map<std::string, std::pair<bool, std::string>> known_;
};

Coverage& coverage() {
  static Coverage c;
  return c;
}

}  // namespace

void record_variant_ran(const std::string& variant) { coverage().ran(variant); }
void record_variant_unsupported(const std::string& variant, const std::string& why) { coverage().unsupported(variant, why); }
void record_variant_known(const std::string& variant, bool supported, const std::string& why) {
  coverage().known(variant, supported, why);
}

}  // namespace intvit::test
