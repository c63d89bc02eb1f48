// libFuzzer target: the safetensors container reader (models/safetensors.h).
// Parses the input, then checks what a successful parse promises — every view lies inside the
// buffer, byte sizes match shape × dtype, ranges tile the data section in order — and reads every
// tensor (to_f32 on the small ones, first and last byte of the others) so ASan sees any
// out-of-bounds view.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_common.h"
#include "models/safetensors.h"

namespace {

constexpr size_t kConvertLimitBytes = size_t{1} << 16;  // to_f32 only below this (keeps execs fast)

void touch(const intvit::SafeTensorsFile& file, const uint8_t* data, size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  const std::byte* expected = nullptr;  // views are in data-offset order and contiguous
  for (const intvit::TensorView& t : file.tensors()) {
    INTVIT_FUZZ_ASSERT(t.data >= begin && t.nbytes <= size && t.data - begin <= static_cast<ptrdiff_t>(size - t.nbytes));
    INTVIT_FUZZ_ASSERT(expected == nullptr || t.data == expected);
    expected = t.data + t.nbytes;
    INTVIT_FUZZ_ASSERT(static_cast<size_t>(t.numel()) * intvit::dtype_size(t.dtype) == t.nbytes);
    INTVIT_FUZZ_ASSERT(file.find(t.name) == &t);
    (void)t.shape_string();
    if (t.nbytes == 0) continue;
    if (t.nbytes <= kConvertLimitBytes) {
      const std::vector<float> values = t.to_f32();
      INTVIT_FUZZ_ASSERT(values.size() == static_cast<size_t>(t.numel()));
    } else {
      volatile std::byte first = t.data[0], last = t.data[t.nbytes - 1];
      (void)first;
      (void)last;
    }
  }
  if (expected) INTVIT_FUZZ_ASSERT(expected == begin + size);  // nothing after the last tensor
  for (const auto& [key, value] : file.metadata()) (void)(key.size() + value.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  intvit::fuzz::expect_clean([&] {
    const intvit::SafeTensorsFile file = intvit::SafeTensorsFile::from_buffer(data, size);
    touch(file, data, size);
  });
  return 0;
}
