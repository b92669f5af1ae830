#include "convert/ternary.h"

#include <cmath>

#include "util/error.h"

namespace bitnet::convert {

float absmean_inverse_scale(const float* w, uint64_t n) {
  double sum = 0.0;
  for (uint64_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(w[i]));
  const float mean = n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
  return 1.0f / std::fmax(mean, 1e-5f);
}

void ternarize(const float* w, uint64_t n, float s_w, int8_t* out, std::string_view tensor) {
  for (uint64_t i = 0; i < n; ++i) {
    if (!std::isfinite(w[i])) fail("tensor '{}': element {} is {} (not finite)", tensor, i, w[i]);
    // nearbyint in the default rounding mode is round-half-to-even, like torch.round.
    const float r = std::nearbyint(w[i] * s_w);
    out[i] = static_cast<int8_t>(r > 1.0f ? 1 : (r < -1.0f ? -1 : r));
  }
}

void unpack_hf_ternary_row(const uint8_t* packed, uint64_t out_rows, uint64_t in_cols, uint64_t row,
                           int8_t* out, std::string_view tensor) {
  const uint64_t R = (out_rows + 3) / 4;
  if (row >= out_rows) fail("tensor '{}': row {} out of range ({} rows)", tensor, row, out_rows);
  const uint64_t i = row / R, r = row % R;
  const uint8_t* src = packed + r * in_cols;
  for (uint64_t c = 0; c < in_cols; ++c) {
    const int code = (src[c] >> (2 * i)) & 3;
    if (code == 3)
      fail("tensor '{}': packed byte [{}, {}] = 0x{:02x} holds code 3 in bit pair {} (row {}), "
           "which is not a ternary value (valid codes are 0, 1, 2 for -1, 0, +1)",
           tensor, r, c, src[c], i, row);
    out[c] = static_cast<int8_t>(code - 1);
  }
}

void unpack_hf_ternary(const uint8_t* packed, uint64_t out_rows, uint64_t in_cols, int8_t* out,
                       std::string_view tensor) {
  for (uint64_t row = 0; row < out_rows; ++row)
    unpack_hf_ternary_row(packed, out_rows, in_cols, row, out + row * in_cols, tensor);
}

WeightScaleKind weight_scale_kind(std::string_view linear_class) {
  if (linear_class == "bitlinear") return WeightScaleKind::Inverse;
  if (linear_class == "autobitlinear") return WeightScaleKind::Direct;
  fail("quantization_config.linear_class '{}' is not known; expected 'bitlinear' (weight_scale = "
       "1/mean|W|) or 'autobitlinear' (weight_scale = mean|W|)",
       linear_class);
}

float alpha_from_weight_scale(float weight_scale, WeightScaleKind kind) {
  return kind == WeightScaleKind::Inverse ? 1.0f / weight_scale : weight_scale;
}

}  // namespace bitnet::convert
