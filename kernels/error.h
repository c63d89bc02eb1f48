// The one exception type intvit's C++ code throws. The C API turns it into a status + message.
#pragma once

#include <stdexcept>
#include <string>

namespace intvit {

enum class ErrorCode {
  kInvalidArgument = 1,
  kIo = 2,
  kCorruptFile = 3,
  kUnsupported = 4,
  kOutOfMemory = 5,
  kInternal = 6,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace intvit
