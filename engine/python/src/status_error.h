// How the binding reports a failed intvit call: a C++ StatusError carrying the C status and
// message, turned into the matching Python exception (intvit/_errors.py) by a translator.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "intvit/intvit.h"

namespace intvit::python {

class StatusError : public std::runtime_error {
 public:
  // missing_path: the call failed with INTVIT_ERROR_IO on a path that does not exist
  // (FileNotFoundError in Python).
  StatusError(intvit_status status, const std::string& message, bool missing_path = false)
      : std::runtime_error(message), status_(status), missing_path_(missing_path) {}
  intvit_status status() const noexcept { return status_; }
  bool missing_path() const noexcept { return missing_path_; }

 private:
  intvit_status status_;
  bool missing_path_;
};

// Throws StatusError unless `call` (an intvit C function) returns INTVIT_OK. `message` (a
// last-error string) is evaluated only after the call failed: a macro, because function
// arguments are evaluated in an unspecified order.
#define INTVIT_PY_CHECK(call, message)                                                          \
  do {                                                                                          \
    const intvit_status intvit_py_status = (call);                                              \
    if (intvit_py_status != INTVIT_OK) ::intvit::python::throw_status(intvit_py_status, message); \
  } while (0)

// As INTVIT_PY_CHECK for a call that took `path`: an I/O failure on a path that does not exist
// becomes FileNotFoundError.
#define INTVIT_PY_CHECK_PATH(call, message, path)                                                     \
  do {                                                                                                \
    const intvit_status intvit_py_status = (call);                                                    \
    if (intvit_py_status != INTVIT_OK) ::intvit::python::throw_status(intvit_py_status, message, path); \
  } while (0)

[[noreturn]] inline void throw_status(intvit_status status, const char* message) {
  throw StatusError(status, message ? message : "");
}
[[noreturn]] inline void throw_status(intvit_status status, const char* message, const std::string& path) {
  std::error_code ec;
  const bool missing = status == INTVIT_ERROR_IO && !std::filesystem::exists(path, ec);
  throw StatusError(status, message ? message : "", missing);
}

// ValueError-style failure of the binding's own argument checks.
[[noreturn]] inline void invalid_argument(const std::string& message) {
  throw StatusError(INTVIT_ERROR_INVALID_ARGUMENT, message);
}

// The C API takes NUL-terminated paths, so a Python str with an embedded NUL would silently name a
// shorter path ("model\0garbage" loading "model"): such a path is an invalid argument, and the
// message names the argument it came in.
inline void reject_nul(const std::string& path, const std::string& argument) {
  const size_t nul = path.find('\0');
  if (nul != std::string::npos) {
    invalid_argument(argument + " must not contain a NUL character, got '" + path.substr(0, nul) + "\\0...'");
  }
}

void bind_errors(nanobind::module_& m);

}  // namespace intvit::python
