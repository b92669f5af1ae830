// Encoders of tensor_codec.h. The ternary encoders reproduce byte for byte what bitnet.cpp's
// quantize_i2_s and llama.cpp's quantize_row_tq{1,2}_0_ref / quantize_row_q8_0_ref write.
#include <cmath>
#include <cstring>

#include "format/half.h"
#include "format/tensor_codec.h"
#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet {
namespace {

uint64_t checked_count(int64_t rows, int64_t cols, const char* what) {
  if (rows <= 0 || cols <= 0) fail("{}: invalid shape {}x{}", what, rows, cols);
  const auto n = checked_mul(uint64_t(rows), uint64_t(cols));
  if (!n || *n > (uint64_t(1) << 62)) fail("{}: shape {}x{} is too large", what, rows, cols);
  return *n;
}

void check_ternary(const int8_t* v, uint64_t n, const char* what) {
  for (uint64_t i = 0; i < n; ++i)
    if (v[i] < -1 || v[i] > 1) fail("{}: value {} at index {} is not -1, 0 or 1", what, int(v[i]), i);
}

void check_scale(float scale, const char* what) {
  if (!std::isfinite(scale) || scale < 0.0f) fail("{}: scale {} must be finite and >= 0", what, scale);
}

void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// TQ block encoders from codes q = v + 1 (llama.cpp: lroundf(x / d) + 1 with x = v * d).
void tq2_block(const uint8_t* q, uint8_t* out) {
  for (int j = 0; j < 64; j += 32)
    for (int m = 0; m < 32; ++m) {
      uint8_t b = 0;
      for (int n = 0; n < 4; ++n) b |= uint8_t(q[j * 4 + m + n * 32] << (2 * n));
      out[j + m] = b;
    }
}

uint8_t tq1_pack(uint16_t q) { return uint8_t((q * 256 + 242) / 243); }  // ceil(q * 256 / 243)

void tq1_block(const uint8_t* q, uint8_t* out) {
  // qs[0..31]: 5 trits each from elements m + 32n; qs[32..47]: elements 160 + m + 16n;
  // qh[0..3]: elements 240 + j + 4n and a trailing 0 trit. First element = most significant trit.
  for (int m = 0; m < 32; ++m) {
    uint16_t v = 0;
    for (int n = 0; n < 5; ++n) v = uint16_t(v * 3 + q[m + n * 32]);
    out[m] = tq1_pack(v);
  }
  for (int m = 0; m < 16; ++m) {
    uint16_t v = 0;
    for (int n = 0; n < 5; ++n) v = uint16_t(v * 3 + q[160 + m + n * 16]);
    out[32 + m] = tq1_pack(v);
  }
  for (int j = 0; j < 4; ++j) {
    uint16_t v = 0;
    for (int n = 0; n < 4; ++n) v = uint16_t(v * 3 + q[240 + j + n * 4]);
    out[48 + j] = tq1_pack(uint16_t(v * 3));
  }
}

std::vector<uint8_t> encode_tq(const int8_t* values, int64_t rows, int64_t cols, float scale, bool tq2) {
  const char* what = tq2 ? "encode_tq2_0" : "encode_tq1_0";
  const uint64_t n = checked_count(rows, cols, what);
  if (cols % 256 != 0) fail("{}: row length {} is not a multiple of 256", what, cols);
  check_ternary(values, n, what);
  check_scale(scale, what);
  const uint64_t bb = tq2 ? 66 : 54;
  std::vector<uint8_t> out(n / 256 * bb);
  const uint16_t d_bits = f32_to_f16(scale);
  uint8_t q[256];
  for (uint64_t b = 0; b < n / 256; ++b) {
    const int8_t* v = values + b * 256;
    bool nonzero = false;
    for (int j = 0; j < 256; ++j) nonzero |= v[j] != 0;
    nonzero &= scale > 0.0f;  // llama.cpp: d = block absmax; d == 0 gives all codes 1
    for (int j = 0; j < 256; ++j) q[j] = uint8_t(nonzero ? v[j] + 1 : 1);
    uint8_t* blk = out.data() + b * bb;
    if (tq2) tq2_block(q, blk);
    else tq1_block(q, blk);
    store_u16(blk + bb - 2, nonzero ? d_bits : 0);
  }
  return out;
}

}  // namespace

uint64_t bt2_nbytes(int64_t rows, int64_t cols) {
  checked_count(rows, cols, "bt2_nbytes");
  const auto n = checked_mul(uint64_t(rows), (uint64_t(cols) + 3) / 4);
  if (!n) fail("bt2_nbytes: shape {}x{} is too large", rows, cols);
  return *n;
}

std::vector<uint8_t> encode_bt2(const int8_t* values, int64_t rows, int64_t cols) {
  const uint64_t n = checked_count(rows, cols, "encode_bt2");
  check_ternary(values, n, "encode_bt2");
  const uint64_t rb = (uint64_t(cols) + 3) / 4;
  // Code 1 (zero) everywhere first, so the padding of the last byte of each row is code 1.
  std::vector<uint8_t> out(bt2_nbytes(rows, cols), uint8_t(0x55));
  for (uint64_t r = 0; r < uint64_t(rows); ++r) {
    uint8_t* row = out.data() + r * rb;
    const int8_t* v = values + r * uint64_t(cols);
    for (uint64_t k = 0; k < uint64_t(cols); ++k) {
      const int shift = int(2 * (k % 4));
      row[k / 4] = uint8_t((row[k / 4] & ~(3 << shift)) | ((v[k] + 1) << shift));
    }
  }
  return out;
}

std::vector<uint8_t> encode_i2_s(const int8_t* values, int64_t rows, int64_t cols, float scale) {
  const uint64_t n = checked_count(rows, cols, "encode_i2_s");
  if (n % 128 != 0) fail("encode_i2_s: element count {} is not a multiple of 128", n);
  check_ternary(values, n, "encode_i2_s");
  if (!std::isfinite(scale)) fail("encode_i2_s: scale {} is not finite", scale);
  std::vector<uint8_t> out(n / 4 + 32, 0);
  for (uint64_t e = 0; e < n; ++e) {
    const uint64_t j = e % 128;
    out[(e / 128) * 32 + j % 32] |= uint8_t((values[e] + 1) << (6 - 2 * (j / 32)));
  }
  std::memcpy(out.data() + n / 4, &scale, 4);
  return out;
}

std::vector<uint8_t> encode_tq2_0(const int8_t* values, int64_t rows, int64_t cols, float scale) {
  return encode_tq(values, rows, cols, scale, true);
}

std::vector<uint8_t> encode_tq1_0(const int8_t* values, int64_t rows, int64_t cols, float scale) {
  return encode_tq(values, rows, cols, scale, false);
}

std::vector<uint8_t> encode_f16(const float* x, uint64_t n) {
  std::vector<uint8_t> out(n * 2);
  for (uint64_t i = 0; i < n; ++i) store_u16(out.data() + 2 * i, f32_to_f16(x[i]));
  return out;
}

std::vector<uint8_t> encode_bf16(const float* x, uint64_t n) {
  std::vector<uint8_t> out(n * 2);
  for (uint64_t i = 0; i < n; ++i) store_u16(out.data() + 2 * i, f32_to_bf16(x[i]));
  return out;
}

std::vector<uint8_t> encode_q8_0(const float* x, uint64_t n) {
  if (n % 32 != 0) fail("encode_q8_0: element count {} is not a multiple of 32", n);
  std::vector<uint8_t> out(n / 32 * 34);
  for (uint64_t b = 0; b < n / 32; ++b) {
    const float* v = x + b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* blk = out.data() + b * 34;
    store_u16(blk, f32_to_f16(d));
    for (int j = 0; j < 32; ++j) blk[2 + j] = uint8_t(int8_t(std::round(v[j] * id)));
  }
  return out;
}

}  // namespace bitnet
