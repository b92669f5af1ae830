// Helpers for the sparse/int4 kernel tests: parameterisation over every compiled-in sparse variant.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "sparse.h"

namespace bitnet::kernels::testing {

inline std::vector<size_t> sparse_variant_indices() {
  std::vector<size_t> v;
  for (size_t i = 0; i < sparse_kernel_variants().size(); ++i) v.push_back(i);
  return v;
}

inline std::string sparse_variant_test_name(const ::testing::TestParamInfo<size_t>& info) {
  return sparse_kernel_variants()[info.param].name;
}

class SparseVariantTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    const SparseKernelVariant& v = sparse_kernel_variants()[GetParam()];
    if (!v.supported) GTEST_SKIP() << "CPU/OS lacks " << v.name;
    set_ = v.set;
  }
  const SparseKernelSet& set() const { return *set_; }
  const SparseKernelSet& scalar() const { return *sparse_kernel_variants()[0].set; }

 private:
  const SparseKernelSet* set_ = nullptr;
};

// Packs with a pack function into a buffer with a guard zone checked for overruns.
template <class Layout>
AlignedBuffer<uint8_t> pack_checked(const Layout& l, const std::vector<int8_t>& w, int64_t M, int64_t K) {
  const size_t bytes = l.packed_bytes(M, K);
  AlignedBuffer<uint8_t> packed(bytes + 64);
  for (size_t i = 0; i < 64; ++i) packed.data()[bytes + i] = 0xA5;
  l.pack(w.data(), M, K, packed.data());
  for (size_t i = 0; i < 64; ++i) {
    if (packed.data()[bytes + i] != 0xA5) {
      ADD_FAILURE() << l.name << ": pack wrote past packed_bytes(" << M << "," << K << ")";
      break;
    }
  }
  return packed;
}

// x with roughly `zero_frac` of its entries zero, the others uniform int8 (zero excluded).
inline std::vector<int8_t> random_sparse_i8(std::mt19937& rng, size_t n, double zero_frac) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<int> d(-128, 126);
  std::vector<int8_t> v(n);
  for (auto& e : v) {
    int x = d(rng);
    if (x >= 0) ++x;
    e = u(rng) < zero_frac ? 0 : static_cast<int8_t>(x);
  }
  return v;
}

}  // namespace bitnet::kernels::testing
