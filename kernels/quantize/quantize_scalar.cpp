// Scalar per-token absmax int8 quantizer: the reference for the SIMD quantizers (bit-identical).
//
// The steps are fixed so every variant can reproduce them exactly: amax = max |x| (max is
// order-independent, so any reduction order gives the same float); s = 127 / max(amax, 1e-5) in
// float; q = nearbyint(x * s) under the default rounding mode (ties to even), clamped to [-128, 127].
// Non-finite input gives q = 0 and s = 0.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {

float quantize_i8_scalar(const float* x, int64_t K, int8_t* q) {
  float amax = 0.0f;
  bool finite = true;
  for (int64_t i = 0; i < K; ++i) {
    const float a = std::fabs(x[i]);
    if (!(a <= FLT_MAX)) finite = false;  // inf or NaN
    if (a > amax) amax = a;
  }
  if (!finite) {
    if (K > 0) std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  const float s = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
  for (int64_t i = 0; i < K; ++i) {
    const float r = std::nearbyint(x[i] * s);
    q[i] = static_cast<int8_t>(r > 127.0f ? 127 : (r < -128.0f ? -128 : static_cast<int>(r)));
  }
  return s;
}

}  // namespace bitnet::kernels::detail
