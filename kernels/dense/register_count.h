// A run-time count of vector registers (1..Max) turned into the compile-time size of a register
// array, for the tail passes of the per-ISA kernels. ISA-neutral (no intrinsics), and in an
// anonymous namespace so that every ISA translation unit keeps its own copy.
#pragma once

#include <type_traits>
#include <utility>

namespace bitnet::kernels::detail {
namespace {

// Calls f(std::integral_constant<int, n>{}); n is clamped to [1, Max].
template <int Max, int U = 1, class F>
inline void with_register_count(int n, F&& f) {
  if constexpr (U < Max) {
    if (n > U) return with_register_count<Max, U + 1>(n, std::forward<F>(f));
  }
  f(std::integral_constant<int, U>{});
}

}  // namespace
}  // namespace bitnet::kernels::detail
