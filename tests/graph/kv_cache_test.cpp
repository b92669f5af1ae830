// KvCache: decode_rows (what attention reads) returns exactly the documented quantisation of what
// was stored (f16 rounding, or code * scale with q = round(x * qmax / max|x|)) on every head size,
// including odd ones that end inside a packed byte or a 3-byte group, and stays within half a step.
#include "graph/kv_cache.h"

#include "format/half.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace bitnet {
namespace {

// The value the cache documents for element i of a stored row x (n values, stored at `bits`).
float expected_value(const float* x, int64_t n, int64_t i, int bits) {
  if (bits == 32) return x[i];
  if (bits == 16) return f16_to_f32(f32_to_f16(x[i]));
  const int qmax = (1 << (bits - 1)) - 1;
  float amax = 0;
  for (int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float scale = amax / float(qmax), inv = amax > 0 ? float(qmax) / amax : 0.0f;
  const float q = std::clamp(std::nearbyint(x[i] * inv), float(-qmax), float(qmax));
  return q * scale;
}

TEST(KvCache, DecodeRowsReturnsTheDocumentedQuantisation) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 2.f);
  constexpr int64_t kLayers = 2, kCtx = 5, kHeads = 2;
  for (int bits : {32, 16, 8, 4, 3}) {
    for (int64_t hd : {1, 2, 3, 7, 8, 9, 15, 16, 17, 64, 127, 128}) {
      KvCache kv(kLayers, kCtx, kHeads, hd, bits);
      std::vector<float> k(size_t(kLayers * kCtx * kHeads * hd)), v(k.size());
      for (auto& e : k) e = nd(rng);
      for (auto& e : v) e = nd(rng);
      for (int64_t l = 0; l < kLayers; ++l)
        for (int64_t pos = 0; pos < kCtx; ++pos) {
          const size_t at = size_t((l * kCtx + pos) * kHeads * hd);
          kv.store(l, pos, k.data() + at, v.data() + at);
        }
      std::vector<float> rows(size_t(kCtx * hd));
      for (int64_t l = 0; l < kLayers; ++l) {
        for (int which = 0; which < 2; ++which) {
          const std::vector<float>& src = which ? v : k;
          for (int64_t h = 0; h < kHeads; ++h) {
            kv.decode_rows(l, 0, kCtx, which, h, rows.data());
            for (int64_t pos = 0; pos < kCtx; ++pos) {
              const float* x = src.data() + ((l * kCtx + pos) * kHeads + h) * hd;
              const float* got = rows.data() + pos * hd;
              // Quantisation step of this row: absmax / qmax (BOS keeps 4 bits in a 3-bit cache).
              const int eff = bits == 3 && pos == 0 ? 4 : bits;
              float amax = 0;
              for (int64_t i = 0; i < hd; ++i) amax = std::max(amax, std::fabs(x[i]));
              const float tol = eff == 32 ? 0.f : eff == 16 ? amax * 1e-3f : amax / float((1 << (eff - 1)) - 1) * 0.5001f;
              for (int64_t i = 0; i < hd; ++i)
                ASSERT_LE(std::fabs(got[i] - x[i]), tol) << "bits " << bits << " hd " << hd << " pos " << pos << " i " << i;
              for (int64_t i = 0; i < hd; ++i)
                ASSERT_EQ(got[i], expected_value(x, hd, i, eff)) << "bits " << bits << " hd " << hd << " pos " << pos << " i " << i;
            }
          }
        }
      }
    }
  }
}

TEST(KvCache, DecodeRowsOfASubrangeEqualsTheFullDecode) {
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (int bits : {16, 8, 4, 3}) {
    const int64_t hd = 24, ctx = 70;
    KvCache kv(1, ctx, 1, hd, bits);
    std::vector<float> k(static_cast<size_t>(hd)), v(static_cast<size_t>(hd));
    for (int64_t pos = 0; pos < ctx; ++pos) {
      for (auto& e : k) e = nd(rng);
      for (auto& e : v) e = nd(rng);
      kv.store(0, pos, k.data(), v.data());
    }
    std::vector<float> all(size_t(ctx * hd)), part(size_t(ctx * hd));
    kv.decode_rows(0, 0, ctx, 0, 0, all.data());
    kv.decode_rows(0, 33, 20, 0, 0, part.data());
    for (int64_t i = 0; i < 20 * hd; ++i) ASSERT_EQ(part[size_t(i)], all[size_t(33 * hd + i)]) << bits;
  }
}

}  // namespace
}  // namespace bitnet
