// LM head kernels: f32 / f16 rows x f32 activations against a double reference (within the
// rigorous summation bound of dense_test_util.h), int8 x int8 bit-exact against an int64 reference
// and the scalar twin. Edge shapes: K and row counts around every vector width and block size,
// row ranges that start and end inside blocks, N up to past two token blocks, padded strides; only
// y[n*ldy + r] for r in [r0, r1) may be written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "dense_test_util.h"
#include "format/half.h"

namespace bitnet::kernels::testing {
namespace {

constexpr float kSentinel = -12345.5f;

struct Shape {
  int64_t M, K, N, r0, r1;
};

std::vector<Shape> shapes() {
  std::vector<Shape> s;
  for (int64_t K : {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257})
    for (int64_t N : {1, 2, 5})
      s.push_back({13, K, N, 0, 13});
  for (int64_t M : {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 23})
    for (int64_t N : {1, 2, 3, 4, 5, 8, 9}) s.push_back({M, 37, N, 0, M});
  // Ranges starting and ending inside a block; an empty range writes nothing.
  s.push_back({40, 70, 1, 3, 29});
  s.push_back({40, 70, 6, 5, 38});
  s.push_back({40, 70, 3, 11, 11});
  s.push_back({40, 70, 1, 39, 40});
  s.push_back({64, 2560, 1, 0, 64});  // the 2B-4T hidden size
  s.push_back({24, 2560, 8, 0, 24});
  return s;
}

// ld* are padded (and odd) so row starts are unaligned and stray reads/writes would be visible.
struct FloatCase {
  Shape sh;
  int64_t ldw, ldx, ldy;
  std::vector<float> w;     // as f32 (the f16 case holds f16-rounded values, exact in both)
  std::vector<uint16_t> h;  // the same as f16 or bf16 bits
  std::vector<float> x;
};

enum class Rows { F32, F16, BF16 };

FloatCase make_float_case(const Shape& sh, std::mt19937& rng, Rows fmt) {
  FloatCase c{sh, sh.K + 5, sh.K + 3, sh.M + 3, {}, {}, {}};
  std::normal_distribution<float> d(0.f, 1.f);
  c.w.assign(size_t(sh.M * c.ldw), std::numeric_limits<float>::quiet_NaN());  // padding must not be read
  c.h.assign(c.w.size(), 0x7fc0);  // NaN as f16 and as bf16
  for (int64_t r = 0; r < sh.M; ++r)
    for (int64_t k = 0; k < sh.K; ++k) {
      float v = d(rng) * 0.05f;
      uint16_t& h = c.h[size_t(r * c.ldw + k)];
      if (fmt == Rows::F16) {
        h = f32_to_f16(v);
        v = f16_to_f32(h);
      } else if (fmt == Rows::BF16) {
        h = f32_to_bf16(v);
        v = bf16_to_f32(h);
      }
      c.w[size_t(r * c.ldw + k)] = v;
    }
  c.x.assign(size_t(sh.N * c.ldx), std::numeric_limits<float>::quiet_NaN());
  for (int64_t n = 0; n < sh.N; ++n)
    for (int64_t k = 0; k < sh.K; ++k) c.x[size_t(n * c.ldx + k)] = d(rng) * 3.f;
  return c;
}

void check_float(const FloatCase& c, const std::vector<float>& y, const char* what) {
  const Shape& s = c.sh;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t r = 0; r < c.ldy; ++r) {
      const float got = y[size_t(n * c.ldy + r)];
      if (r < s.r0 || r >= s.r1) {
        ASSERT_EQ(got, kSentinel) << what << " wrote outside [r0,r1): r=" << r << " n=" << n;
        continue;
      }
      double ref = 0, abs = 0;
      for (int64_t k = 0; k < s.K; ++k) {
        const double p = double(c.w[size_t(r * c.ldw + k)]) * double(c.x[size_t(n * c.ldx + k)]);
        ref += p;
        abs += std::fabs(p);
      }
      ASSERT_LE(std::fabs(double(got) - ref), sum_error_bound(s.K, abs))
          << what << " M=" << s.M << " K=" << s.K << " N=" << s.N << " r=" << r << " n=" << n << " got=" << got
          << " ref=" << ref;
    }
}

class DenseGemmTest : public DenseVariantTest {};

TEST_P(DenseGemmTest, F32MatchesDoubleReference) {
  std::mt19937 rng(11);
  for (const Shape& s : shapes()) {
    const FloatCase c = make_float_case(s, rng, Rows::F32);
    std::vector<float> y(size_t(s.N * c.ldy), kSentinel);
    set().gemm_f32(c.w.data(), c.ldw, s.K, s.r0, s.r1, c.x.data(), c.ldx, s.N, y.data(), c.ldy);
    check_float(c, y, set().name);
    if (HasFatalFailure()) return;
  }
}

TEST_P(DenseGemmTest, F16MatchesDoubleReference) {
  std::mt19937 rng(12);
  for (const Shape& s : shapes()) {
    const FloatCase c = make_float_case(s, rng, Rows::F16);
    std::vector<float> y(size_t(s.N * c.ldy), kSentinel);
    set().gemm_f16(c.h.data(), c.ldw, s.K, s.r0, s.r1, c.x.data(), c.ldx, s.N, y.data(), c.ldy);
    check_float(c, y, set().name);
    if (HasFatalFailure()) return;
  }
}

TEST_P(DenseGemmTest, Bf16MatchesDoubleReference) {
  std::mt19937 rng(14);
  for (const Shape& s : shapes()) {
    const FloatCase c = make_float_case(s, rng, Rows::BF16);
    std::vector<float> y(size_t(s.N * c.ldy), kSentinel);
    set().gemm_bf16(c.h.data(), c.ldw, s.K, s.r0, s.r1, c.x.data(), c.ldx, s.N, y.data(), c.ldy);
    check_float(c, y, set().name);
    if (HasFatalFailure()) return;
  }
}

TEST_P(DenseGemmTest, F16SpecialValuesConvertExactly) {
  // One weight per row, x = 1: the output is the converted f16 value itself (no rounding), for
  // subnormal, largest, negative zero, infinity and NaN halves.
  const std::vector<uint16_t> vals = {0x0001, 0x03ff, 0x0400, 0x7bff, 0x8000, 0xfbff, 0x3c00, 0x7c00, 0xfc00, 0x7e00};
  const int64_t M = int64_t(vals.size());
  for (int64_t K : {1, 17, 40}) {
    std::vector<uint16_t> w(size_t(M * K), 0);
    for (int64_t r = 0; r < M; ++r) w[size_t(r * K + (r % K))] = vals[size_t(r)];
    std::vector<float> x(size_t(K), 1.0f), y(size_t(M), kSentinel);
    set().gemm_f16(w.data(), K, K, 0, M, x.data(), K, 1, y.data(), M);
    for (int64_t r = 0; r < M; ++r) {
      const float want = f16_to_f32(vals[size_t(r)]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(y[size_t(r)])) << set().name << " r=" << r;
      } else {
        EXPECT_EQ(y[size_t(r)], want) << set().name << " K=" << K << " r=" << r;
      }
    }
  }
}

// ---- int8 ----

struct I8Case {
  Shape sh;
  int64_t ldw, ldx, ldy;
  std::vector<int8_t> w, x;
  std::vector<float> ws, xs;
};

I8Case make_i8_case(const Shape& sh, std::mt19937& rng) {
  I8Case c{sh, sh.K + 9, sh.K + 1, sh.M + 2, {}, {}, {}, {}};
  std::uniform_int_distribution<int> d(-128, 127);
  std::uniform_real_distribution<float> sc(0.001f, 0.1f);
  c.w.assign(size_t(sh.M * c.ldw), 0);
  for (auto& v : c.w) v = int8_t(d(rng));  // padding too: it must not be read (the sums would change)
  c.x.assign(size_t(sh.N * c.ldx), 0);
  for (auto& v : c.x) v = int8_t(d(rng));
  c.ws.resize(size_t(sh.M));
  for (auto& v : c.ws) v = sc(rng);
  c.xs.resize(size_t(sh.N));
  for (auto& v : c.xs) v = 1.0f / sc(rng);
  return c;
}

std::vector<float> run_i8(const DenseKernelSet& ks, const I8Case& c) {
  const Shape& s = c.sh;
  std::vector<float> y(size_t(s.N * c.ldy), kSentinel);
  ks.gemm_i8(c.w.data(), c.ldw, c.ws.data(), s.K, s.r0, s.r1, c.x.data(), c.ldx, c.xs.data(), s.N, y.data(), c.ldy);
  return y;
}

void check_i8(const I8Case& c, const std::vector<float>& y, const char* what) {
  const Shape& s = c.sh;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t r = 0; r < c.ldy; ++r) {
      const float got = y[size_t(n * c.ldy + r)];
      if (r < s.r0 || r >= s.r1) {
        ASSERT_EQ(got, kSentinel) << what << " wrote outside [r0,r1): r=" << r << " n=" << n;
        continue;
      }
      int64_t acc = 0;
      for (int64_t k = 0; k < s.K; ++k) acc += int64_t(c.w[size_t(r * c.ldw + k)]) * c.x[size_t(n * c.ldx + k)];
      const float want = (float(acc) * c.ws[size_t(r)]) * (1.0f / c.xs[size_t(n)]);
      ASSERT_EQ(std::memcmp(&got, &want, 4), 0) << what << " M=" << s.M << " K=" << s.K << " N=" << s.N
                                                 << " r=" << r << " n=" << n << " got=" << got << " want=" << want;
    }
}

TEST_P(DenseGemmTest, I8BitExact) {
  std::mt19937 rng(13);
  std::vector<Shape> all = shapes();
  all.push_back({20, 1000, 70, 0, 20});  // more tokens than one 64-token chunk
  all.push_back({9, 200, 64, 1, 8});
  for (const Shape& s : all) {
    const I8Case c = make_i8_case(s, rng);
    const std::vector<float> y = run_i8(set(), c);
    check_i8(c, y, set().name);
    if (HasFatalFailure()) return;
    const std::vector<float> ys = run_i8(scalar(), c);
    ASSERT_EQ(std::memcmp(y.data(), ys.data(), y.size() * 4), 0) << set().name << " differs from scalar, K=" << s.K;
  }
}

TEST_P(DenseGemmTest, I8ExtremesNearInt32Limit) {
  // |sum| up to 127*128*K and 128*128*K: the VNNI bias trick's intermediate (w+128)*x overflows
  // int32 here and must wrap back to the exact value.
  for (int64_t K : {64, 1000, 100000, 131071}) {
    for (int pattern = 0; pattern < 3; ++pattern) {
      const int8_t wv = pattern == 0 ? 127 : -128;
      const int8_t xv = pattern == 1 ? 127 : -128;
      I8Case c{{5, K, 2, 0, 5}, K, K, 5, {}, {}, {}, {}};
      c.w.assign(size_t(5 * K), wv);
      c.x.assign(size_t(2 * K), xv);
      c.x[size_t(K + 3)] = 0;  // second token differs
      c.ws.assign(5, 1.0f);
      c.xs.assign(2, 1.0f);
      const std::vector<float> y = run_i8(set(), c);
      check_i8(c, y, set().name);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(DenseGemmTest, I8ZeroActivationScaleGivesNonFiniteLogits) {
  // x_scale 0 is what quantize_i8 returns for non-finite activations: the logits must not look valid.
  I8Case c{{8, 64, 1, 0, 8}, 64, 64, 8, std::vector<int8_t>(8 * 64, 3), std::vector<int8_t>(64, 0),
           std::vector<float>(8, 0.5f), std::vector<float>(1, 0.0f)};
  const std::vector<float> y = run_i8(set(), c);
  for (float v : y) EXPECT_FALSE(std::isfinite(v)) << set().name;
}

INSTANTIATE_TEST_SUITE_P(AllVariants, DenseGemmTest, ::testing::ValuesIn(dense_variant_indices()), dense_variant_name);

// ---- load-time quantisation ----

TEST(DenseQuantizeRows, ScaleIsAbsmaxOver127AndRoundsHalfToEven) {
  // amax = 127 gives scale 1 exactly, so x.5 values are ties.
  const std::vector<float> w = {127.f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -126.5f, -127.f, 3.49f};
  const int64_t K = int64_t(w.size());
  std::vector<int8_t> q(w.size());
  float s = -1;
  ASSERT_TRUE(quantize_rows_i8(w.data(), K, 1, K, q.data(), K, &s));
  EXPECT_EQ(s, 1.0f);
  EXPECT_EQ(q, (std::vector<int8_t>{127, 0, 2, 2, 0, -2, -126, -127, 3}));
}

TEST(DenseQuantizeRows, RowsAreIndependentAndReconstructWithinHalfAStep) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.f, 1.f);
  const int64_t M = 7, K = 300, ldw = 310, ldq = 320;
  std::vector<float> w(size_t(M * ldw), 1e30f);  // padding would dominate amax if it were read
  for (int64_t r = 0; r < M; ++r)
    for (int64_t k = 0; k < K; ++k) w[size_t(r * ldw + k)] = d(rng) * float(r + 1);
  std::vector<int8_t> q(size_t(M * ldq), 99);
  std::vector<float> s(static_cast<size_t>(M));
  ASSERT_TRUE(quantize_rows_i8(w.data(), ldw, M, K, q.data(), ldq, s.data()));
  for (int64_t r = 0; r < M; ++r) {
    float amax = 0;
    for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(w[size_t(r * ldw + k)]));
    EXPECT_EQ(s[size_t(r)], amax / 127.0f);
    int hit127 = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t v = q[size_t(r * ldq + k)];
      ASSERT_GE(v, -127);
      hit127 += std::abs(v) == 127;
      EXPECT_LE(std::fabs(float(v) * s[size_t(r)] - w[size_t(r * ldw + k)]), 0.5001f * s[size_t(r)]);
    }
    EXPECT_GE(hit127, 1);
    for (int64_t k = K; k < ldq; ++k) EXPECT_EQ(q[size_t(r * ldq + k)], 99) << "wrote into row padding";
  }
}

TEST(DenseQuantizeRows, ZeroRowAndNonFiniteRow) {
  std::vector<float> w = {0.f, -0.f, 0.f, 1.f, std::numeric_limits<float>::infinity(), 2.f, 1.f, 2.f, 4.f};
  std::vector<int8_t> q(9, 5);
  std::vector<float> s(3);
  EXPECT_FALSE(quantize_rows_i8(w.data(), 3, 3, 3, q.data(), 3, s.data()));
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_TRUE(std::isnan(s[1]));
  EXPECT_EQ(s[2], 4.0f / 127.0f);
  EXPECT_EQ(q, (std::vector<int8_t>{0, 0, 0, 0, 0, 0, 32, 64, 127}));
  w[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(quantize_rows_i8(w.data(), 3, 3, 3, q.data(), 3, s.data()));
}

TEST(DenseQuantizeRows, F16SourceMatchesF32Source) {
  std::mt19937 rng(6);
  std::normal_distribution<float> d(0.f, 0.02f);
  const int64_t M = 5, K = 77;
  std::vector<uint16_t> h(size_t(M * K));
  std::vector<float> f(h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    h[i] = f32_to_f16(d(rng));
    f[i] = f16_to_f32(h[i]);
  }
  std::vector<int8_t> qh(h.size()), qf(h.size());
  std::vector<float> sh(static_cast<size_t>(M)), sf(static_cast<size_t>(M));
  ASSERT_TRUE(quantize_rows_i8_f16(h.data(), K, M, K, qh.data(), K, sh.data()));
  ASSERT_TRUE(quantize_rows_i8(f.data(), K, M, K, qf.data(), K, sf.data()));
  EXPECT_EQ(qh, qf);
  EXPECT_EQ(sh, sf);
}

// The whole int8 LM head path (weights quantised at load, activations per token with the
// KernelSet quantizer) stays close to the float logits: a sanity check of the scale convention
// (acc * w_scale / x_scale), not of the kernels' exactness (tested above).
TEST(DenseQuantizeRows, Int8HeadApproximatesFloatLogits) {
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.f, 1.f);
  const int64_t M = 64, K = 512;
  std::vector<float> w(static_cast<size_t>(M * K)), x(static_cast<size_t>(K));
  for (auto& v : w) v = d(rng) * 0.02f;
  for (auto& v : x) v = d(rng);
  std::vector<int8_t> qw(w.size()), qx(x.size());
  std::vector<float> ws(static_cast<size_t>(M));
  ASSERT_TRUE(quantize_rows_i8(w.data(), K, M, K, qw.data(), K, ws.data()));
  const float xs = kernels().quantize_i8(x.data(), K, qx.data());
  std::vector<float> yi(static_cast<size_t>(M)), yf(static_cast<size_t>(M));
  dense_kernels().gemm_i8(qw.data(), K, ws.data(), K, 0, M, qx.data(), K, &xs, 1, yi.data(), M);
  dense_kernels().gemm_f32(w.data(), K, K, 0, M, x.data(), K, 1, yf.data(), M);
  double err = 0, mag = 0;
  for (int64_t r = 0; r < M; ++r) {
    err += std::pow(double(yi[size_t(r)]) - yf[size_t(r)], 2);
    mag += std::pow(double(yf[size_t(r)]), 2);
  }
  EXPECT_LT(std::sqrt(err / mag), 0.02);  // int8 x int8: ~1% relative RMS error expected
}

}  // namespace
}  // namespace bitnet::kernels::testing
