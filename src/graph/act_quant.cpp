#include "graph/act_quant.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace bitnet::act {

float quantize_int4_absmean(const float* x, int64_t n, int8_t* q) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(double(x[i]));
  const float mean = float(sum / double(n));
  const float s = float(std::sqrt(7.0)) / std::max(mean, 1e-5f);
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::nearbyint(x[i] * s);  // default rounding mode: half to even
    q[i] = int8_t(std::clamp(v, -8.0f, 7.0f));
  }
  return s;
}

void topk_keep(float* x, int64_t n, float fraction, float* scratch) {
  const int64_t k = std::max<int64_t>(1, std::llround(double(n) * fraction));
  if (k >= n) return;
  for (int64_t i = 0; i < n; ++i) scratch[i] = std::fabs(x[i]);
  std::nth_element(scratch, scratch + (k - 1), scratch + n, std::greater<float>());
  const float threshold = scratch[k - 1];
  for (int64_t i = 0; i < n; ++i)
    if (!(std::fabs(x[i]) >= threshold)) x[i] = 0.0f;
}

}  // namespace bitnet::act
