// Helpers for the dense kernel tests: parameterisation over every compiled-in dense variant
// (unsupported ones GTEST_SKIP) and the float error bound the float kernels are held to.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "dense.h"

namespace bitnet::kernels::testing {

inline std::vector<size_t> dense_variant_indices() {
  std::vector<size_t> v;
  for (size_t i = 0; i < dense_kernel_variants().size(); ++i) v.push_back(i);
  return v;
}

inline std::string dense_variant_name(const ::testing::TestParamInfo<size_t>& info) {
  return dense_kernel_variants()[info.param].name;
}

class DenseVariantTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    const DenseKernelVariant& v = dense_kernel_variants()[GetParam()];
    if (!v.supported) GTEST_SKIP() << "CPU/OS lacks " << v.name;
    set_ = v.set;
  }
  const DenseKernelSet& set() const { return *set_; }
  const DenseKernelSet& scalar() const { return *dense_kernel_variants()[0].set; }

 private:
  const DenseKernelSet* set_ = nullptr;
};

// Rigorous bound on |computed - exact| for a float sum of n products, whatever the order, as long
// as no term passes through more than `depth` roundings (Higham's gamma_depth = depth*u/(1-depth*u)
// times sum |a_k b_k|). Every variant accumulates in at least 4 interleaved lanes and folds them
// in at most 8 further additions, so depth = ceil(n/4) + 8 covers all of them (the product's own
// rounding, or none with FMA, included). Inputs that are exact in float (f16 weights are) add no
// further error.
inline double sum_error_bound(int64_t n, double sum_abs) {
  const double u = std::ldexp(1.0, -24);
  const double depth = double((n + 3) / 4 + 8);
  return depth * u / (1.0 - depth * u) * sum_abs;
}

}  // namespace bitnet::kernels::testing
