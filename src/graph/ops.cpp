#include "graph/ops.h"

#include <algorithm>
#include <cmath>

namespace bitnet::ops {

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  // transformers: variance = mean(x^2) in fp32; x * rsqrt(variance + eps); weight * x.
  double sum = 0.0;  // double keeps the reduction close to torch's pairwise fp32 sum
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  const float variance = float(sum / double(n));
  const float inv = 1.0f / std::sqrt(variance + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * inv);
}

RopeTables make_rope_tables(int64_t head_dim, float theta, int64_t n_pos) {
  RopeTables t;
  t.half = head_dim / 2;
  std::vector<float> inv_freq(t.half);
  for (int64_t i = 0; i < t.half; ++i) {
    const float exponent = float(2 * i) / float(head_dim);
    inv_freq[i] = 1.0f / std::pow(theta, exponent);
  }
  t.cos.resize(n_pos * t.half);
  t.sin.resize(n_pos * t.half);
  for (int64_t p = 0; p < n_pos; ++p)
    for (int64_t i = 0; i < t.half; ++i) {
      const float angle = float(p) * inv_freq[i];
      t.cos[p * t.half + i] = std::cos(angle);
      t.sin[p * t.half + i] = std::sin(angle);
    }
  return t;
}

void rope_rotate_half(float* x, int64_t n_heads, int64_t head_dim, const RopeTables& t, int64_t pos) {
  const int64_t half = head_dim / 2;
  const float* c = t.cos.data() + pos * t.half;
  const float* s = t.sin.data() + pos * t.half;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * c[i] - b * s[i];
      v[i + half] = b * c[i] + a * s[i];
    }
  }
}

void rope_interleaved(float* x, int64_t n_heads, int64_t head_dim, const RopeTables& t, int64_t pos) {
  const int64_t half = head_dim / 2;
  const float* c = t.cos.data() + pos * t.half;
  const float* s = t.sin.data() + pos * t.half;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[2 * i], b = v[2 * i + 1];
      v[2 * i] = a * c[i] - b * s[i];
      v[2 * i + 1] = b * c[i] + a * s[i];
    }
  }
}

void softmax(float* x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
    s4 += a[i + 4] * b[i + 4];
    s5 += a[i + 5] * b[i + 5];
    s6 += a[i + 6] * b[i + 6];
    s7 += a[i + 7] * b[i + 7];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7));
}

// up and out may be the same array (element-wise, so that is safe).
void relu2_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float r = g > 0.0f ? g : 0.0f;
    out[i] = (r * r) * up[i];
  }
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace bitnet::ops
