// transpose_u8 against the element definition: block edges (16) in both dimensions, partial row
// ranges (what one thread writes), strides wider than the rows, untouched padding.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "kernels/layout/transpose.h"

namespace intvit {

TEST_CASE("transpose_u8 equals y[e][j] = x[j][e] and writes only its columns", "[transpose]") {
  const size_t ds[] = {1, 7, 15, 16, 17, 33, 64, 192, 384};
  const size_t ts[] = {1, 15, 16, 17, 31, 32, 197};
  for (size_t d : ds) {
    for (size_t t : ts) {
      const size_t ld_x = d + 3, ld_y = t + 5;
      std::vector<uint8_t> x(t * ld_x);
      for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i * 131 + 7);
      const size_t ranges[][2] = {{0, t}, {0, t / 2}, {t / 2, t}, {t / 3, t - t / 4}};
      for (const auto& range : ranges) {
        const size_t j0 = range[0], j1 = range[1];
        std::vector<uint8_t> y(d * ld_y, 0xA5);
        transpose_u8(d, j0, j1, x.data(), ld_x, y.data(), ld_y);
        INFO("d " << d << " t " << t << " rows [" << j0 << ", " << j1 << ")");
        for (size_t e = 0; e < d; ++e) {
          for (size_t j = 0; j < ld_y; ++j) {
            const uint8_t expect = j >= j0 && j < j1 ? x[j * ld_x + e] : uint8_t{0xA5};
            REQUIRE(y[e * ld_y + j] == expect);
          }
        }
      }
    }
  }
}

}  // namespace intvit
