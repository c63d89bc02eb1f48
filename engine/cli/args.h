// A tiny command-line parser for the intvit CLI: flags with values, boolean switches, positionals.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace intvit::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Args {
  std::map<std::string, std::string> values;  // --name VALUE
  std::set<std::string> switches;             // --name
  std::vector<std::string> positionals;

  bool has(const std::string& name) const { return values.count(name) || switches.count(name); }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  // --name on|off
  bool get_on_off(const std::string& name, bool fallback) const {
    const std::string v = get(name, fallback ? "on" : "off");
    if (v != "on" && v != "off") throw UsageError("--" + name + " expects on or off, got '" + v + "'");
    return v == "on";
  }
  long get_int(const std::string& name, long fallback, long lo, long hi) const {
    auto it = values.find(name);
    if (it == values.end()) return fallback;
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != it->second.size() || v < lo || v > hi) {
      throw UsageError("--" + name + " expects an integer in [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "], got '" + it->second + "'");
    }
    return v;
  }
};

// value_flags take a value; switch_flags do not. Unknown flags are a UsageError.
inline Args parse_args(int argc, char** argv, int first, const std::set<std::string>& value_flags,
                       const std::set<std::string>& switch_flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0 && s.size() > 2) {
      std::string name = s.substr(2), value;
      const size_t eq = name.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (switch_flags.count(name) && !inline_value) {
        a.switches.insert(name);
      } else if (value_flags.count(name)) {
        if (!inline_value) {
          if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
          value = argv[++i];
        }
        a.values[name] = value;
      } else {
        throw UsageError("unknown option --" + name);
      }
    } else if (s == "-o" && value_flags.count("output")) {
      if (i + 1 >= argc) throw UsageError("-o needs a value");
      a.values["output"] = argv[++i];
    } else if (s == "-h") {
      a.switches.insert("help");
    } else {
      a.positionals.push_back(s);
    }
  }
  return a;
}

}  // namespace intvit::cli
