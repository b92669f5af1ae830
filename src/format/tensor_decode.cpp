// Decoders of tensor_codec.h: tensor bytes -> f32 values, and -> ternary codes + one scale.
#include <cmath>
#include <cstring>

#include "format/half.h"
#include "format/tensor_codec.h"
#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet {
namespace {

using gguf::TensorInfo;

constexpr uint64_t kQK = 256;  // TQ1_0 / TQ2_0 block
constexpr uint64_t kTq2Bytes = 66, kTq1Bytes = 54, kQ8Bytes = 34;

struct Shape {
  uint64_t rows, cols;
};

// Checks that the info is self-consistent (dims valid, enough bytes) before any byte is read.
Shape check_tensor(const TensorInfo& t) {
  if (t.dims.empty() || t.dims.size() > 4) fail("tensor '{}': {} dimensions", t.name, t.dims.size());
  if (t.type == TensorType::TL2)
    fail("tensor '{}' has bitnet.cpp's TL2 type, whose layout depends on per-model kernel parameters that "
         "the file does not record; libbitnet cannot decode it (convert the model from its Hugging Face "
         "checkpoint instead)", t.name);
  const auto need = tensor_nbytes(t.type, t.dims.data(), uint32_t(t.dims.size()));
  if (!need) fail("tensor '{}': invalid dims for type {}", t.name, tensor_type_traits(t.type).name);
  if (t.nbytes < *need || (!t.data && *need > 0))
    fail("tensor '{}': {} bytes of data, its dims need {}", t.name, t.nbytes, *need);
  uint64_t rows = 1;
  for (size_t i = 1; i < t.dims.size(); ++i) rows *= t.dims[i];  // no overflow: tensor_nbytes succeeded
  return {rows, t.dims[0]};
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

[[noreturn]] void bad_code(const TensorInfo& t, uint64_t byte, const char* type) {
  fail("tensor '{}': invalid {} code 3 in data byte {}", t.name, type, byte);
}

// I2_S codes of flat elements [e0, e0 + n) -> out (values code-1). e0 and n need not be aligned.
void i2s_codes(const TensorInfo& t, uint64_t e0, uint64_t n, int8_t* out) {
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t e = e0 + i;
    const uint64_t j = e % 128;
    const uint64_t byte = (e / 128) * 32 + j % 32;
    const int c = (t.data[byte] >> (6 - 2 * (j / 32))) & 3;
    if (c == 3) bad_code(t, byte, "i2_s");
    out[i] = int8_t(c - 1);
  }
}

// BT2 codes of rows [r0, r0 + nr) -> out (values code-1).
void bt2_codes(const TensorInfo& t, uint64_t r0, uint64_t nr, uint64_t cols, int8_t* out) {
  const uint64_t rb = (cols + 3) / 4;
  for (uint64_t r = 0; r < nr; ++r) {
    const uint8_t* row = t.data + (r0 + r) * rb;
    for (uint64_t k = 0; k < cols; ++k) {
      const int c = (row[k / 4] >> (2 * (k % 4))) & 3;
      if (c == 3) bad_code(t, (r0 + r) * rb + k / 4, "bt2");
      out[r * cols + k] = int8_t(c - 1);
    }
  }
}

// TQ2_0 block -> codes (0..3) in element order.
void tq2_block_codes(const uint8_t* b, uint8_t* q) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m) q[h * 128 + l * 32 + m] = (b[h * 32 + m] >> (2 * l)) & 3;
}

// TQ1_0 block -> trits (0..2) in element order (llama.cpp's dequantize_row_tq1_0 order).
void tq1_block_codes(const uint8_t* b, uint8_t* q) {
  static constexpr uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
  auto trit = [](uint8_t byte, int n) { return uint8_t((uint16_t(uint8_t(byte * pow3[n])) * 3) >> 8); };
  int o = 0;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) q[o++] = trit(b[m], n);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) q[o++] = trit(b[32 + m], n);
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 4; ++j) q[o++] = trit(b[48 + j], n);
}

// Unscaled f32 decode of rows [r0, r0+nr) (BT2: codes-1 without its external scale).
void decode_rows_raw(const TensorInfo& t, Shape s, uint64_t r0, uint64_t nr, float* out) {
  const uint64_t K = s.cols;
  const uint64_t n = nr * K, e0 = r0 * K;
  switch (t.type) {
    case TensorType::F32: std::memcpy(out, t.data + e0 * 4, n * 4); return;
    case TensorType::F16:
      for (uint64_t i = 0; i < n; ++i) out[i] = f16_to_f32(load_u16(t.data + (e0 + i) * 2));
      return;
    case TensorType::BF16:
      for (uint64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load_u16(t.data + (e0 + i) * 2));
      return;
    case TensorType::Q8_0:
      for (uint64_t b = 0; b < n / 32; ++b) {
        const uint8_t* blk = t.data + (e0 / 32 + b) * kQ8Bytes;
        const float d = f16_to_f32(load_u16(blk));
        for (int j = 0; j < 32; ++j) out[b * 32 + j] = float(int8_t(blk[2 + j])) * d;
      }
      return;
    case TensorType::TQ2_0:
    case TensorType::TQ1_0: {
      const bool tq2 = t.type == TensorType::TQ2_0;
      const uint64_t bb = tq2 ? kTq2Bytes : kTq1Bytes;
      uint8_t q[kQK];
      for (uint64_t b = 0; b < n / kQK; ++b) {
        const uint8_t* blk = t.data + (e0 / kQK + b) * bb;
        if (tq2) tq2_block_codes(blk, q);
        else tq1_block_codes(blk, q);
        const float d = f16_to_f32(load_u16(blk + bb - 2));
        for (uint64_t j = 0; j < kQK; ++j) out[b * kQK + j] = float(int(q[j]) - 1) * d;
      }
      return;
    }
    case TensorType::I2_S:
    case TensorType::BT2: {
      std::vector<int8_t> codes(n);
      if (t.type == TensorType::I2_S) i2s_codes(t, e0, n, codes.data());
      else bt2_codes(t, r0, nr, K, codes.data());
      const float scale = t.type == TensorType::I2_S ? load_f32(t.data + s.rows * K / 4) : 1.0f;
      for (uint64_t i = 0; i < n; ++i) out[i] = float(codes[i]) * scale;
      return;
    }
    case TensorType::TL2: break;
  }
  fail("tensor '{}': cannot decode type {}", t.name, tensor_type_traits(t.type).name);
}

}  // namespace

std::string scale_tensor_name(const std::string& weight_name) {
  static const std::string suffix = ".weight";
  if (weight_name.size() > suffix.size() &&
      weight_name.compare(weight_name.size() - suffix.size(), suffix.size(), suffix) == 0)
    return weight_name.substr(0, weight_name.size() - suffix.size()) + ".scale";
  return weight_name + ".scale";
}

float read_scale_tensor(const TensorInfo& t) {
  const Shape s = check_tensor(t);
  if (s.rows * s.cols != 1) fail("scale tensor '{}' has {} elements, expected 1", t.name, s.rows * s.cols);
  if (t.type != TensorType::F32 && t.type != TensorType::F16 && t.type != TensorType::BF16)
    fail("scale tensor '{}' has type {}, expected f32", t.name, tensor_type_traits(t.type).name);
  float v;
  decode_rows_raw(t, s, 0, 1, &v);
  if (!std::isfinite(v)) fail("scale tensor '{}' is not finite ({})", t.name, v);
  return v;
}

void decode_rows_to_f32(const TensorInfo& t, uint64_t row_begin, uint64_t n_rows, float* out,
                        const TensorInfo* scale_tensor) {
  const Shape s = check_tensor(t);
  const auto end = checked_add(row_begin, n_rows);
  if (!end || *end > s.rows)
    fail("tensor '{}': rows [{}, {}+{}) out of range ({} rows)", t.name, row_begin, row_begin, n_rows, s.rows);
  if (t.type == TensorType::BT2 && !scale_tensor)
    fail("bt2 tensor '{}' needs its scale tensor '{}'", t.name, scale_tensor_name(t.name));
  const float scale = scale_tensor ? read_scale_tensor(*scale_tensor) : 1.0f;
  decode_rows_raw(t, s, row_begin, n_rows, out);
  if (scale_tensor)
    for (uint64_t i = 0; i < n_rows * s.cols; ++i) out[i] *= scale;
}

std::vector<float> decode_to_f32(const TensorInfo& t, const TensorInfo* scale_tensor) {
  const Shape s = check_tensor(t);
  std::vector<float> out(s.rows * s.cols);
  decode_rows_to_f32(t, 0, s.rows, out.data(), scale_tensor);
  return out;
}

TernaryWeights decode_ternary(const TensorInfo& t, const TensorInfo* scale_tensor) {
  const Shape s = check_tensor(t);
  const uint64_t n = s.rows * s.cols;
  TernaryWeights w;
  w.rows = int64_t(s.rows);
  w.cols = int64_t(s.cols);
  w.values.resize(n);
  float scale = 0.0f;
  switch (t.type) {
    case TensorType::BT2:
      if (!scale_tensor) fail("bt2 tensor '{}' needs its scale tensor '{}'", t.name, scale_tensor_name(t.name));
      bt2_codes(t, 0, s.rows, s.cols, w.values.data());
      w.scale = read_scale_tensor(*scale_tensor);
      return w;
    case TensorType::I2_S:
      i2s_codes(t, 0, n, w.values.data());
      scale = load_f32(t.data + n / 4);
      if (!std::isfinite(scale)) fail("tensor '{}': i2_s scale is not finite ({})", t.name, scale);
      break;
    case TensorType::TQ2_0:
    case TensorType::TQ1_0: {
      const bool tq2 = t.type == TensorType::TQ2_0;
      const uint64_t bb = tq2 ? kTq2Bytes : kTq1Bytes;
      uint8_t q[kQK];
      bool have_d = false;
      uint16_t d_bits = 0;
      for (uint64_t b = 0; b < n / kQK; ++b) {
        const uint8_t* blk = t.data + b * bb;
        if (tq2) tq2_block_codes(blk, q);
        else tq1_block_codes(blk, q);
        bool nonzero = false;
        for (uint64_t j = 0; j < kQK; ++j) {
          if (q[j] == 3)
            fail("tensor '{}' is not ternary: tq2_0 code 3 (value 2d) in block {}", t.name, b);
          w.values[b * kQK + j] = int8_t(int(q[j]) - 1);
          nonzero |= q[j] != 1;
        }
        if (!nonzero) continue;
        const uint16_t d = load_u16(blk + bb - 2);
        if (!have_d) {
          have_d = true;
          d_bits = d;
        } else if (d != d_bits) {
          fail("tensor '{}' is not ternary with one scale: block {} has d = {} but an earlier block has d = {}",
               t.name, b, f16_to_f32(d), f16_to_f32(d_bits));
        }
      }
      scale = have_d ? f16_to_f32(d_bits) : 0.0f;
      if (!std::isfinite(scale)) fail("tensor '{}': block scale is not finite", t.name);
      break;
    }
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: {
      std::vector<float> v(n);
      decode_rows_raw(t, s, 0, s.rows, v.data());
      float alpha = 0.0f;
      for (uint64_t i = 0; i < n; ++i) {
        if (!std::isfinite(v[i])) fail("tensor '{}' is not ternary: element {} is {}", t.name, i, v[i]);
        alpha = std::max(alpha, std::fabs(v[i]));
      }
      for (uint64_t i = 0; i < n; ++i) {
        const float r = alpha > 0.0f ? v[i] / alpha : 0.0f;
        const float q = std::nearbyint(r);
        if (std::fabs(r - q) > 1e-3f)
          fail("tensor '{}' is not ternary: element {} = {} is not 0 or +-{} (the largest magnitude)", t.name, i,
               v[i], alpha);
        w.values[i] = int8_t(q);
      }
      scale = alpha;
      break;
    }
    default:
      fail("tensor '{}' has type {}, which does not hold ternary weights", t.name, tensor_type_traits(t.type).name);
  }
  if (scale_tensor) scale *= read_scale_tensor(*scale_tensor);
  w.scale = scale;
  return w;
}

}  // namespace bitnet
