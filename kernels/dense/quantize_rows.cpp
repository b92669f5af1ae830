// Load-time int8 quantisation of dense weight rows (the LM head's int8 copy). Runs once per model
// load, so it is plain portable code.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dense.h"
#include "format/half.h"

namespace bitnet::kernels {
namespace {

// One row; false if it holds a NaN or an infinity.
bool quantize_row(const float* w, int64_t K, int8_t* q, float* scale) {
  float amax = 0.0f;
  for (int64_t k = 0; k < K; ++k) {
    const float a = std::fabs(w[k]);
    if (!(a <= std::numeric_limits<float>::max())) {
      if (K > 0) std::memset(q, 0, size_t(K));
      *scale = std::numeric_limits<float>::quiet_NaN();
      return false;
    }
    amax = a > amax ? a : amax;
  }
  if (amax == 0.0f) {
    if (K > 0) std::memset(q, 0, size_t(K));
    *scale = 0.0f;
    return true;
  }
  const float s = amax / 127.0f;
  for (int64_t k = 0; k < K; ++k) {
    float v = std::nearbyint(w[k] / s);
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[k] = int8_t(v);
  }
  *scale = s;
  return true;
}

}  // namespace

bool quantize_rows_i8(const float* w, int64_t ldw, int64_t M, int64_t K, int8_t* q, int64_t ldq, float* scale) {
  bool ok = true;
  for (int64_t r = 0; r < M; ++r) ok &= quantize_row(w + r * ldw, K, q + r * ldq, scale + r);
  return ok;
}

bool quantize_rows_i8_f16(const uint16_t* w, int64_t ldw, int64_t M, int64_t K, int8_t* q, int64_t ldq,
                          float* scale) {
  std::vector<float> row(size_t(K > 0 ? K : 0));
  bool ok = true;
  for (int64_t r = 0; r < M; ++r) {
    const uint16_t* src = w + r * ldw;
    for (int64_t k = 0; k < K; ++k) row[size_t(k)] = f16_to_f32(src[k]);
    ok &= quantize_row(row.data(), K, q + r * ldq, scale + r);
  }
  return ok;
}

}  // namespace bitnet::kernels
