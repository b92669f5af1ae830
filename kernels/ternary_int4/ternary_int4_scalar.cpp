// Scalar ternary x int4 matmul (R256 layout) and the INT4 absmean quantizer: the references for the
// SIMD variants.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {
namespace {

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t rb = pad256(K) / 4;
  for (int64_t m = m0; m < m1; ++m) {
    const uint8_t* row = packed + m * rb;
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* xn = x + n * ldx;
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (((row[64 * (k >> 8) + (k & 63)] >> (2 * ((k >> 6) & 3))) & 3) - 1) * xn[k];
      y[n * ldy + m] = acc;
    }
  }
}

}  // namespace

float quantize_i4_scalar(const float* x, int64_t K, int8_t* q) {
  if (K <= 0) return 0.0f;
  // The fixed summation order of sparse.h: 16 lanes, then folded in halves.
  float lane[16] = {};
  bool finite = true;
  for (int64_t k = 0; k < K; ++k) {
    const float a = std::fabs(x[k]);
    if (!(a <= FLT_MAX)) finite = false;
    lane[k & 15] += a;
  }
  if (!finite) {
    std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  for (int w = 8; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) lane[i] += lane[i + w];
  const float mean = lane[0] / static_cast<float>(K);
  const float s = 2.64575131106459059f / (mean > 1e-5f ? mean : 1e-5f);
  for (int64_t k = 0; k < K; ++k) {
    const float r = std::nearbyint(x[k] * s);
    q[k] = static_cast<int8_t>(r > 7.0f ? 7 : (r < -8.0f ? -8 : static_cast<int>(r)));
  }
  return s;
}

const TernaryInt4Matmul kMatI4Scalar = {"i4_scalar", 4, row_layout_bytes, row_layout_pack, matmul};

}  // namespace bitnet::kernels::detail
