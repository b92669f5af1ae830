// Float ops of the graph: dot/axpy and the attention loops against double references within the
// rigorous summation bound (dense_test_util.h); RMSNorm bit-identical across variants (fixed
// double summation order) and within 1e-6 relative of double; softmax within 1e-6 relative of
// double; edge cases (empty, one element, tails of every length, -inf, NaN, aliasing); dispatch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "dense_test_util.h"

namespace bitnet::kernels::testing {
namespace {

std::vector<int64_t> lengths() {
  std::vector<int64_t> v;
  for (int64_t n = 0; n <= 70; ++n) v.push_back(n);
  for (int64_t n : {127, 128, 129, 255, 256, 257, 1000, 2560, 6912}) v.push_back(n);
  return v;
}

std::vector<float> normal(std::mt19937& rng, int64_t n, float sigma) {
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = d(rng);
  return v;
}

class DenseOpsTest : public DenseVariantTest {};

TEST_P(DenseOpsTest, DotWithinBound) {
  std::mt19937 rng(21);
  for (int64_t n : lengths()) {
    const auto a = normal(rng, n, 1.f), b = normal(rng, n, 2.f);
    double ref = 0, abs = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += double(a[size_t(i)]) * b[size_t(i)];
      abs += std::fabs(double(a[size_t(i)]) * b[size_t(i)]);
    }
    const float got = set().dot_f32(a.data(), b.data(), n);
    ASSERT_LE(std::fabs(got - ref), sum_error_bound(n, abs)) << set().name << " n=" << n;
  }
}

TEST_P(DenseOpsTest, AxpyOneRoundingPerElementAndNoStrayWrites) {
  std::mt19937 rng(22);
  const double u = std::ldexp(1.0, -24);
  for (int64_t n : lengths()) {
    const auto x = normal(rng, n, 1.f);
    auto y = normal(rng, n + 8, 1.f);
    const auto y0 = y;
    const float a = 0.37f;
    set().axpy_f32(a, x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double ref = double(y0[size_t(i)]) + double(a) * x[size_t(i)];
      // FMA rounds once; multiply-then-add twice.
      ASSERT_LE(std::fabs(y[size_t(i)] - ref), 2 * u * (std::fabs(y0[size_t(i)]) + std::fabs(double(a) * x[size_t(i)])))
          << set().name << " n=" << n << " i=" << i;
    }
    for (int64_t i = n; i < n + 8; ++i) ASSERT_EQ(y[size_t(i)], y0[size_t(i)]) << set().name << " wrote past n";
  }
}

TEST_P(DenseOpsTest, RmsNormBitIdenticalToScalarAndWithin1e6OfDouble) {
  std::mt19937 rng(23);
  for (int64_t n : lengths()) {
    if (n == 0) continue;
    for (float sigma : {1e-3f, 1.f, 300.f}) {
      const auto x = normal(rng, n, sigma);
      const auto w = normal(rng, n, 1.f);
      std::vector<float> y(size_t(n) + 8, 7.f), ys(size_t(n) + 8, 7.f);
      const float eps = 1e-5f;
      set().rms_norm(x.data(), w.data(), n, eps, y.data());
      scalar().rms_norm(x.data(), w.data(), n, eps, ys.data());
      ASSERT_EQ(std::memcmp(y.data(), ys.data(), y.size() * 4), 0) << set().name << " n=" << n;
      double ss = 0;
      for (float v : x) ss += double(v) * v;
      const double inv = 1.0 / std::sqrt(ss / double(n) + double(eps));
      for (int64_t i = 0; i < n; ++i) {
        const double ref = double(w[size_t(i)]) * double(x[size_t(i)]) * inv;
        ASSERT_LE(std::fabs(y[size_t(i)] - ref), 1e-6 * std::fabs(ref)) << set().name << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST_P(DenseOpsTest, RmsNormInPlace) {
  std::mt19937 rng(24);
  for (int64_t n : {1, 15, 16, 17, 2560}) {
    auto x = normal(rng, n, 1.f);
    const auto w = normal(rng, n, 1.f);
    std::vector<float> y(static_cast<size_t>(n));
    set().rms_norm(x.data(), w.data(), n, 1e-6f, y.data());
    set().rms_norm(x.data(), w.data(), n, 1e-6f, x.data());
    ASSERT_EQ(x, y) << set().name << " n=" << n;
  }
}

void expect_softmax(const DenseKernelSet& ks, std::vector<float> x, const char* what) {
  const int64_t n = int64_t(x.size());
  std::vector<double> ref(x.size());
  float mx = -std::numeric_limits<float>::infinity();
  for (float v : x) mx = std::max(mx, v);
  // The reference starts from the fp32 difference x - max, as every fp32 softmax does (torch
  // included): its rounding (up to |x - max| * 2^-24 absolute, i.e. 5e-6 relative after exp at
  // x - max = -87) belongs to the input, not to the kernel.
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float t = x[i] - mx;
    sum += ref[i] = std::exp(double(t));
  }
  for (auto& r : ref) r /= sum;
  std::vector<float> y = x;
  y.resize(x.size() + 5, 3.f);
  ks.softmax(y.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    // Below exp(-87.3) (1.2e-38 before the division by a sum >= 1) values may flush to zero.
    ASSERT_LE(std::fabs(y[size_t(i)] - ref[size_t(i)]), 1e-6 * ref[size_t(i)] + 1.2e-38)
        << ks.name << " " << what << " n=" << n << " i=" << i << " x=" << x[size_t(i)] << " got=" << y[size_t(i)]
        << " ref=" << ref[size_t(i)];
  }
  for (size_t i = x.size(); i < y.size(); ++i) ASSERT_EQ(y[i], 3.f) << ks.name << " wrote past n";
}

TEST_P(DenseOpsTest, SoftmaxWithin1e6OfDouble) {
  std::mt19937 rng(25);
  for (int64_t n : lengths()) {
    if (n == 0) continue;
    expect_softmax(set(), normal(rng, n, 3.f), "normal");
    if (HasFatalFailure()) return;
    std::uniform_real_distribution<float> wide(-120.f, 20.f);  // exponents across the whole range
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = wide(rng);
    expect_softmax(set(), x, "wide");
    if (HasFatalFailure()) return;
  }
  // Every exponent step from 0 down to the underflow bound, at fine resolution.
  std::vector<float> sweep;
  for (float t = 0.f; t > -90.f; t -= 0.0137f) sweep.push_back(t);
  expect_softmax(set(), sweep, "sweep");
  expect_softmax(set(), std::vector<float>(37, 1.5f), "equal");
  expect_softmax(set(), {1e30f, -1e30f, 0.f}, "huge");
}

TEST_P(DenseOpsTest, SoftmaxEdgeCases) {
  float one = 42.f;
  set().softmax(&one, 1);
  EXPECT_EQ(one, 1.0f) << set().name;
  set().softmax(nullptr, 0);  // nothing to do, nothing read
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> masked = {0.5f, -inf, 1.5f, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf,
                               -inf, -inf, -inf, 2.f};
  set().softmax(masked.data(), int64_t(masked.size()));
  double sum = 0;
  for (size_t i = 0; i < masked.size(); ++i) {
    if (i != 0 && i != 2 && i != 17) {
      EXPECT_EQ(masked[i], 0.0f) << set().name << " i=" << i;
    }
    sum += masked[i];
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  for (size_t pos : {size_t(0), size_t(5), size_t(20)}) {
    std::vector<float> bad(21, 1.f);
    bad[pos] = std::numeric_limits<float>::quiet_NaN();
    set().softmax(bad.data(), int64_t(bad.size()));
    for (float v : bad) EXPECT_TRUE(std::isnan(v)) << set().name << " NaN at " << pos << " must not vanish";
  }
}

TEST_P(DenseOpsTest, AttentionScoresAndValues) {
  std::mt19937 rng(26);
  for (int64_t hd : {1, 5, 16, 17, 64, 72, 96, 100, 128, 130, 200, 256}) {
    for (int64_t n_pos : {1, 3, 4, 5, 9, 64, 257}) {
      const int64_t ld = 3 * hd + 7;  // K/V rows of one head are strided (layer/kv/head interleave)
      const auto q = normal(rng, hd, 1.f);
      const auto k = normal(rng, n_pos * ld, 1.f);
      const auto v = normal(rng, n_pos * ld, 1.f);
      const float scale = 1.0f / std::sqrt(float(hd));
      std::vector<float> s(size_t(n_pos) + 4, 9.f);
      set().attn_scores(q.data(), k.data(), ld, n_pos, hd, scale, s.data());
      for (int64_t j = 0; j < n_pos; ++j) {
        double ref = 0, abs = 0;
        for (int64_t i = 0; i < hd; ++i) {
          const double p = double(q[size_t(i)]) * k[size_t(j * ld + i)];
          ref += p;
          abs += std::fabs(p);
        }
        // One more rounding for the scale multiply.
        const double bound = double(scale) * (sum_error_bound(hd, abs) + std::ldexp(std::fabs(ref), -23));
        ASSERT_LE(std::fabs(s[size_t(j)] - double(scale) * ref), bound) << set().name << " hd=" << hd << " j=" << j;
      }
      for (int64_t j = n_pos; j < n_pos + 4; ++j) ASSERT_EQ(s[size_t(j)], 9.f) << set().name;

      std::vector<float> p(static_cast<size_t>(n_pos));
      std::uniform_real_distribution<float> pd(0.f, 1.f);
      for (auto& e : p) e = pd(rng);
      // attn_values accumulates into out: start from a known value.
      std::vector<float> out(size_t(hd) + 4, 9.f);
      for (int64_t i = 0; i < hd; ++i) out[size_t(i)] = 0.25f * float(i % 5) - 0.5f;
      const std::vector<float> base = out;
      set().attn_values(p.data(), v.data(), ld, n_pos, hd, out.data());
      for (int64_t i = 0; i < hd; ++i) {
        double ref = base[size_t(i)], abs = std::fabs(base[size_t(i)]);
        for (int64_t j = 0; j < n_pos; ++j) {
          const double t = double(p[size_t(j)]) * v[size_t(j * ld + i)];
          ref += t;
          abs += std::fabs(t);
        }
        // Positions are summed one after another (not in lanes): depth n_pos + 1.
        const double depth = double(n_pos + 1), u = std::ldexp(1.0, -24);
        ASSERT_LE(std::fabs(out[size_t(i)] - ref), depth * u / (1 - depth * u) * abs)
            << set().name << " hd=" << hd << " n_pos=" << n_pos << " i=" << i;
      }
      for (int64_t i = hd; i < hd + 4; ++i) ASSERT_EQ(out[size_t(i)], 9.f) << set().name << " wrote past hd";
    }
  }
}

TEST_P(DenseOpsTest, F16ToF32EveryBitPatternAndLength) {
  // All 65536 half values (zeros, subnormals, infinities, NaNs) in one call, then every length
  // 0..40 from an odd offset for the tails; the scalar twin's bits are the reference.
  std::vector<uint16_t> h(65536 + 64);
  for (size_t i = 0; i < h.size(); ++i) h[i] = uint16_t(i * 40503u);
  for (uint32_t i = 0; i < 65536; ++i) h[i] = uint16_t(i);
  std::vector<float> got(h.size(), -7.f), ref(h.size(), -7.f);
  const auto check = [&](size_t off, int64_t n) {
    std::fill(got.begin(), got.end(), -7.f);
    std::fill(ref.begin(), ref.end(), -7.f);
    set().f16_to_f32(h.data() + off, n, got.data() + off);
    dense_kernel_variants()[0].set->f16_to_f32(h.data() + off, n, ref.data() + off);
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(ref[i])) {
        ASSERT_TRUE(std::isnan(got[i])) << set().name << " i=" << i;
      } else {
        ASSERT_EQ(std::memcmp(&got[i], &ref[i], 4), 0) << set().name << " i=" << i << " n=" << n << " " << got[i] << " vs " << ref[i];
      }
    }
  };
  check(0, 65536);
  for (int64_t n = 0; n <= 40; ++n) check(3, n);
  // Spot values against their definition.
  const uint16_t one = 0x3C00, minus_two = 0xC000, smallest_subnormal = 0x0001;
  float v[3];
  const uint16_t in[3] = {one, minus_two, smallest_subnormal};
  set().f16_to_f32(in, 3, v);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], std::ldexp(1.0f, -24));
}

// Packs codes q (signed, |q| <= 2^(bits-1)) the way graph/kv_cache.cpp stores them (dense.h).
std::vector<uint8_t> pack_kv_codes(const std::vector<int>& q, int bits) {
  const size_t n = q.size();
  if (bits == 8) {
    std::vector<uint8_t> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = uint8_t(int8_t(q[i]));
    return out;
  }
  if (bits == 4) {
    std::vector<uint8_t> out((n + 1) / 2, 0);
    for (size_t i = 0; i < n; ++i) out[i / 2] = uint8_t(out[i / 2] | ((q[i] + 8) << (4 * (i & 1))));
    return out;
  }
  std::vector<uint8_t> out((n + 7) / 8 * 3, 0);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = uint32_t(q[i] + 4) << (3 * (i & 7));
    for (int b = 0; b < 3; ++b) out[i / 8 * 3 + b] = uint8_t(out[i / 8 * 3 + b] | (c >> (8 * b)));
  }
  return out;
}

TEST_P(DenseOpsTest, KvDequantMatchesDefinitionBitExactly) {
  // Every head size up to 64 and the real ones (64, 80, 96, 100, 128, 256) with random codes over
  // the full range of each width; the packed row is exactly as long as the layout says, so reading
  // past it shows up under ASan.
  std::mt19937 rng(41);
  std::vector<int64_t> sizes;
  for (int64_t n = 1; n <= 64; ++n) sizes.push_back(n);
  for (int64_t n : {80, 96, 100, 127, 128, 129, 256}) sizes.push_back(n);
  for (int bits : {8, 4, 3}) {
    const int lo = bits == 8 ? -128 : -(1 << (bits - 1)), hi = bits == 8 ? 127 : (1 << (bits - 1)) - 1;
    std::uniform_int_distribution<int> code(lo, hi);
    for (int64_t n : sizes) {
      std::vector<int> q(static_cast<size_t>(n));
      for (int& v : q) v = code(rng);
      if (n > 2) q[0] = lo, q[size_t(n - 1)] = hi;
      const std::vector<uint8_t> packed = pack_kv_codes(q, bits);
      const float scale = 0.0371f * float(bits);
      std::vector<float> got(size_t(n) + 1, -7.f);
      set().kv_dequant(packed.data(), n, bits, scale, got.data());
      for (int64_t i = 0; i < n; ++i) {
        const float want = float(q[size_t(i)]) * scale;
        ASSERT_EQ(std::memcmp(&got[size_t(i)], &want, 4), 0)
            << set().name << " bits=" << bits << " n=" << n << " i=" << i << ": " << got[size_t(i)] << " vs " << want;
      }
      ASSERT_EQ(got[size_t(n)], -7.f) << set().name << " bits=" << bits << " n=" << n << " wrote past the row";
    }
  }
}

TEST_P(DenseOpsTest, ByteSumExactAtEveryLengthAndOffset) {
  // Lengths around the 64/128/256-byte strides and the four-stream split (512 bytes), unaligned starts, and all-0xFF bytes (the largest
  // lane sums) next to random ones.
  std::mt19937 rng(23);
  std::vector<uint8_t> buf(4096 + 64);
  for (auto& b : buf) b = uint8_t(rng());
  for (int fill = 0; fill < 2; ++fill) {
    if (fill == 1) std::fill(buf.begin(), buf.end(), uint8_t(0xFF));
    for (size_t offset : {0, 1, 7, 33, 63}) {
      for (size_t n : {0, 1, 15, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 2047, 3001, 4096}) {
        uint64_t ref = 0;
        for (size_t i = 0; i < n; ++i) ref += buf[offset + i];
        ASSERT_EQ(set().byte_sum(buf.data() + offset, n), ref) << set().name << " n=" << n << " offset=" << offset;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, DenseOpsTest, ::testing::ValuesIn(dense_variant_indices()), dense_variant_name);

TEST(DenseDispatch, VariantsAreCompleteAndFollowTheActiveIsa) {
  const auto& v = dense_kernel_variants();
  ASSERT_FALSE(v.empty());
  EXPECT_STREQ(v[0].name, "scalar");
  EXPECT_TRUE(v[0].supported);
  for (const DenseKernelVariant& dv : v) {
    ASSERT_NE(dv.set, nullptr);
    EXPECT_EQ(dv.set->isa, dv.isa) << dv.name;
    const DenseKernelSet& s = *dv.set;
    for (const void* f : {(const void*)s.gemm_f32, (const void*)s.gemm_f16, (const void*)s.gemm_i8,
                          (const void*)s.dot_f32, (const void*)s.axpy_f32, (const void*)s.rms_norm,
                          (const void*)s.softmax, (const void*)s.attn_scores, (const void*)s.attn_values, (const void*)s.gemm_bf16, (const void*)s.byte_sum, (const void*)s.f16_to_f32, (const void*)s.kv_dequant})
      EXPECT_NE(f, nullptr) << dv.name;
  }
  const Isa active = kernels().isa;
  EXPECT_EQ(dense_kernels().isa, active);
  // force_isa (and so --isa / BITNET_ISA) moves the dense set along with the ternary one.
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (!kernels_for(isa)) continue;
    force_isa(isa);
    EXPECT_EQ(dense_kernels().isa, isa) << isa_name(isa);
    EXPECT_EQ(&dense_kernels(), dense_kernels_for(isa));
  }
  force_isa(active);
}

}  // namespace
}  // namespace bitnet::kernels::testing
