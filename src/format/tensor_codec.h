// Decoding and encoding of tensor data, shared by the model loader and the converter.
//
// Every decoder checks the TensorInfo's byte size against its dims first, so a TensorInfo that did
// not come from the validating reader still cannot make it read out of bounds. Errors name the
// tensor (and the byte, for invalid codes).
//
// Layouts (see docs/file-format.md): ggml's F32/F16/BF16/Q8_0/TQ1_0/TQ2_0; bitnet.cpp's I2_S (flat
// 128-element blocks, codes 0/1/2 = -1/0/+1, one f32 scale after the codes, 32-byte tail); and
// libbitnet's BT2 (row-major 2-bit codes, separate F32 `.scale` tensor).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/gguf.h"

namespace bitnet {

// ---- decoding to float

// All elements as f32. `scale_tensor` (a one-element tensor, llama.cpp's optional `.scale` or BT2's
// required one) is multiplied in when given; BT2 without it throws.
std::vector<float> decode_to_f32(const gguf::TensorInfo& t, const gguf::TensorInfo* scale_tensor = nullptr);

// Rows [row_begin, row_begin + n_rows) (a row is dims[0] elements) into out[n_rows * dims[0]].
// For embedding lookups: decodes only what is asked for.
void decode_rows_to_f32(const gguf::TensorInfo& t, uint64_t row_begin, uint64_t n_rows, float* out,
                        const gguf::TensorInfo* scale_tensor = nullptr);

// ---- ternary weights

struct TernaryWeights {
  int64_t rows = 0;            // product of dims[1..]
  int64_t cols = 0;            // dims[0] (K)
  std::vector<int8_t> values;  // rows * cols, row-major, each in {-1, 0, +1}
  float scale = 0.0f;          // W = scale * values
};

// BT2 (scale from `scale_tensor`, required), I2_S (scale stored after the codes), TQ1_0/TQ2_0 (all
// blocks containing a nonzero must share one fp16 d, which becomes the scale), and F32/F16/BF16
// tensors holding ternary*alpha (alpha = max|v|; every v/alpha must lie within 1e-3 of -1, 0 or 1,
// else "tensor X is not ternary"). For the non-BT2 types a given `scale_tensor` is multiplied into
// the scale (llama.cpp's optional per-tensor scales).
TernaryWeights decode_ternary(const gguf::TensorInfo& t, const gguf::TensorInfo* scale_tensor);

// The single value of a one-element F32/F16/BF16 tensor (a `.scale` tensor).
float read_scale_tensor(const gguf::TensorInfo& t);

// Name of the separate scale tensor of a weight: "blk.0.attn_q.weight" -> "blk.0.attn_q.scale".
std::string scale_tensor_name(const std::string& weight_name);

// ---- encoding (values: rows * cols int8 in {-1,0,1}, row-major; other values throw)

// BT2: rows * ceil(cols/4) bytes. The scale is written separately as the `.scale` F32 tensor.
std::vector<uint8_t> encode_bt2(const int8_t* values, int64_t rows, int64_t cols);
// I2_S as bitnet.cpp's quantizer writes it: rows*cols/4 code bytes, the f32 scale, 28 zero bytes
// (bitnet.cpp leaves those 28 bytes uninitialised). rows*cols must be a multiple of 128.
std::vector<uint8_t> encode_i2_s(const int8_t* values, int64_t rows, int64_t cols, float scale);
// llama.cpp's TQ2_0 / TQ1_0 reference quantizer applied to values*scale: every block holding a
// nonzero gets d = fp16(scale), all-zero blocks d = 0 (llama.cpp's per-block absmax). cols must be
// a multiple of 256.
std::vector<uint8_t> encode_tq2_0(const int8_t* values, int64_t rows, int64_t cols, float scale);
std::vector<uint8_t> encode_tq1_0(const int8_t* values, int64_t rows, int64_t cols, float scale);

// Float encoders, round to nearest even; Q8_0 is ggml's reference (d = absmax/127, q = round(x/d)).
std::vector<uint8_t> encode_f16(const float* x, uint64_t n);
std::vector<uint8_t> encode_bf16(const float* x, uint64_t n);
std::vector<uint8_t> encode_q8_0(const float* x, uint64_t n);  // n must be a multiple of 32

// Bytes the encoders above produce (also what tensor_nbytes returns for the type).
uint64_t bt2_nbytes(int64_t rows, int64_t cols);

}  // namespace bitnet
