// Activation quantisers of BitNet a4.8 that are not the plain int8 absmax of b1.58 (which is a
// kernel: kernels().quantize_i8). Formulas are exactly those the a4.8 model was trained with
// (models/README.md, "a4.8"): per token, round half to even.
#pragma once

#include <cstdint>

namespace bitnet::act {

// INT4 absmean: s = sqrt(7) / max(mean|x|, 1e-5); q = clamp(round(x*s), -8, 7). Returns s.
float quantize_int4_absmean(const float* x, int64_t n, int8_t* q);

// TopK sparsification: keeps the k = round(n * fraction) entries of largest magnitude (every entry
// tied with the k-th is kept) and zeroes the rest, in place. scratch holds n floats.
void topk_keep(float* x, int64_t n, float fraction, float* scratch);

}  // namespace bitnet::act
