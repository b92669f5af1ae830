// Helpers shared by the kernel tests: parameterisation over every compiled-in kernel variant, a
// naive reference matmul, and random data.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "util/aligned_buffer.h"

namespace bitnet::kernels::testing {

inline std::vector<size_t> variant_indices() {
  std::vector<size_t> v;
  for (size_t i = 0; i < kernel_variants().size(); ++i) v.push_back(i);
  return v;
}

inline std::string variant_test_name(const ::testing::TestParamInfo<size_t>& info) {
  return kernel_variants()[info.param].name;
}

// Fixture base: GTEST_SKIPs variants this CPU cannot run.
class VariantTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    const KernelVariant& v = kernel_variants()[GetParam()];
    if (!v.supported) GTEST_SKIP() << "CPU/OS lacks " << v.name;
    set_ = v.set;
  }
  const KernelSet& set() const { return *set_; }
  const KernelSet& scalar() const { return *kernel_variants()[0].set; }

 private:
  const KernelSet* set_ = nullptr;
};

inline std::vector<int8_t> random_ternary(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> d(-1, 1);
  std::vector<int8_t> v(n);
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

inline std::vector<int8_t> random_i8(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

// y[n*ldy + m] = sum_k w[m*K + k] * x[n*ldx + k], computed in int64 so it cannot overflow.
inline std::vector<int32_t> naive_matmul(const std::vector<int8_t>& w, int64_t M, int64_t K,
                                         const std::vector<int8_t>& x, int64_t ldx, int64_t N,
                                         int64_t ldy) {
  std::vector<int32_t> y(static_cast<size_t>(N * ldy), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += int64_t{w[m * K + k]} * x[n * ldx + k];
      y[n * ldy + m] = static_cast<int32_t>(s);
    }
  return y;
}

constexpr int32_t kSentinel = 0x5a5a5a5a;

// Packs w with `mm` and runs rows [m0, m1); y is pre-filled with kSentinel (ldy = M + 3 so the
// gaps between token rows are checked too).
inline std::vector<int32_t> run_matmul(const TernaryMatmul& mm, const std::vector<int8_t>& w, int64_t M,
                                       int64_t K, const std::vector<int8_t>& x, int64_t ldx, int64_t N,
                                       int64_t m0, int64_t m1, int64_t ldy) {
  const size_t bytes = mm.packed_bytes(M, K);
  AlignedBuffer<uint8_t> packed(bytes + 64);
  for (size_t i = 0; i < 64; ++i) packed.data()[bytes + i] = 0xA5;
  mm.pack(w.data(), M, K, packed.data());
  for (size_t i = 0; i < 64; ++i) {
    if (packed.data()[bytes + i] != 0xA5) {
      ADD_FAILURE() << mm.name << ": pack wrote past packed_bytes(" << M << "," << K << ")";
      break;
    }
  }
  std::vector<int32_t> y(static_cast<size_t>(N * ldy), kSentinel);
  mm.matmul(packed.data(), M, K, m0, m1, x.data(), ldx, N, y.data(), ldy);
  return y;
}

}  // namespace bitnet::kernels::testing
