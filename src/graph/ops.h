// Float ops of the graph that are not matmuls over ternary weights. They mirror Hugging Face
// transformers' float32 order of operations where it matters for agreement (RMSNorm, RoPE tables,
// dequantisation as acc / (s_x * s_w)).
#pragma once

#include <cstdint>
#include <vector>

namespace bitnet::ops {

// y = w * (x * 1/sqrt(mean(x^2) + eps)), all in fp32 (x may alias y).
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);

// cos/sin tables for positions [0, n_pos): cos[p*half + i], half = head_dim/2,
// inv_freq[i] = 1 / theta^(2i/head_dim) computed in fp32 like transformers.
struct RopeTables {
  int64_t half = 0;
  std::vector<float> cos, sin;
};
RopeTables make_rope_tables(int64_t head_dim, float theta, int64_t n_pos);

// Rotate-half (NEOX) RoPE on n_heads consecutive heads of head_dim floats, at position pos.
void rope_rotate_half(float* x, int64_t n_heads, int64_t head_dim, const RopeTables& t, int64_t pos);

// Interleaved (NORM, original llama) RoPE: pairs (2i, 2i+1).
void rope_interleaved(float* x, int64_t n_heads, int64_t head_dim, const RopeTables& t, int64_t pos);

// In-place softmax over n values.
void softmax(float* x, int64_t n);

// Dot product of two float vectors (4 partial sums, so the compiler can vectorise it without
// fast-math).
float dot_f32(const float* a, const float* b, int64_t n);

// out[i] = relu(gate[i])^2 * up[i]  or  silu(gate[i]) * up[i]
void relu2_mul(const float* gate, const float* up, int64_t n, float* out);
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

}  // namespace bitnet::ops
