// The ternary arithmetic of BitNet b1.58 checkpoints: absmean ternarisation of master weights,
// unpacking of transformers' 2-bit `pack_weights` layout, and the `weight_scale` conventions.
// See docs/convert.md and /work/shared/models/tiny-bitnet/README.md "Exact quantisation math".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::convert {

// Per-tensor absmean scale exactly as transformers' WeightQuant / the BitNet reference:
// s_w = 1 / max(mean|W|, 1e-5), both in float32 (the mean is accumulated in double and rounded
// once, the closest float32 can get to torch's reduction). Returns s_w; alpha = 1 / s_w.
float absmean_inverse_scale(const float* w, uint64_t n);

// Wq = clamp(round_half_even(w * s_w), -1, 1), the product taken in float32 like torch.
// Throws Error naming `tensor` if a weight is NaN or infinite.
void ternarize(const float* w, uint64_t n, float s_w, int8_t* out, std::string_view tensor);

// Unpacks transformers' packed uint8 layout: for W of shape [out, in] and R = ceil(out/4),
// packed is [R, in] and W[i*R + r, c] = ((packed[r, c] >> 2i) & 3) - 1. Rows past `out` (padding
// of the last bit pair) are ignored. Code 3 (value +2) is invalid and throws Error naming `tensor`.
void unpack_hf_ternary(const uint8_t* packed, uint64_t out_rows, uint64_t in_cols, int8_t* out,
                       std::string_view tensor);
// One row `row` (< out_rows) of the same layout into out[0, in_cols).
void unpack_hf_ternary_row(const uint8_t* packed, uint64_t out_rows, uint64_t in_cols, uint64_t row,
                           int8_t* out, std::string_view tensor);

// How a packed checkpoint's `weight_scale` relates to the dequantisation factor alpha
// (W = alpha * Wq), by quantization_config.linear_class.
enum class WeightScaleKind {
  Inverse,  // "bitlinear": y = (Wq x) / (s_x * weight_scale), so alpha = 1 / weight_scale
  Direct,   // "autobitlinear" offline: y = (Wq x) * weight_scale / s_x, so alpha = weight_scale
};
// Throws Error for an unknown linear_class (the message names it and the known ones).
WeightScaleKind weight_scale_kind(std::string_view linear_class);
float alpha_from_weight_scale(float weight_scale, WeightScaleKind kind);

}  // namespace bitnet::convert
