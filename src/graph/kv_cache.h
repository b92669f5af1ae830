// Key/value cache, sized once from the context length; decoding never allocates.
//
// K (post-RoPE) and V are stored per layer, K/V, kv head and position (head-major: each head's
// positions are contiguous) in one of these formats:
//   32: f32 (exact; the default, so results match the reference implementations)
//   16: f16
//    8, 4, 3: symmetric absmax integers per head and position (q = round(x * qmax / max|x|),
//       qmax = 2^(bits-1) - 1), one f32 scale per head and position; BitNet a4.8's 3-bit cache
//       keeps position 0 (the BOS token, whose heads carry outliers) at 4 bits.
// Attention reads the packed values a block at a time: decode_rows dequantises up to 64 positions
// of one head into a small per-thread tile (32 KB at head_dim 128) that the query heads of a GQA
// group then share through the dense f32 kernels; the cache itself is never expanded to f32.
#pragma once

#include <cstdint>
#include <vector>

#include "util/aligned_buffer.h"

namespace bitnet {

class KvCache {
 public:
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, int bits);

  int64_t n_ctx() const { return n_ctx_; }
  int bits() const { return bits_; }
  static bool valid_bits(int bits) { return bits == 32 || bits == 16 || bits == 8 || bits == 4 || bits == 3; }

  // Stores all kv heads of one position (k and v: n_head_kv * head_dim floats each).
  void store(int64_t layer, int64_t pos, const float* k, const float* v);

  // Values of K (kv = 0) or V (kv = 1) for positions [pos0, pos0 + n) of one head, dequantised into
  // dst (n rows of head_dim floats): exactly code * scale (or the f16/f32 value).
  void decode_rows(int64_t layer, int64_t pos0, int64_t n, int kv, int64_t head, float* dst) const;

  // f32 cache only (bits() == 32): head `head` of K or V at position 0; position j is j * f32_stride()
  // floats further on (the cache is head-major, so that is head_dim: one contiguous stream per head).
  // Lets attention run the dense kernels on the cache in place.
  const float* f32_k(int64_t layer, int64_t head) const { return reinterpret_cast<const float*>(row(layer, 0, 0, head)); }
  const float* f32_v(int64_t layer, int64_t head) const { return reinterpret_cast<const float*>(row(layer, 0, 1, head)); }
  int64_t f32_stride() const { return head_dim_; }

  // Bytes of K and V for one position across all layers (what decode reads per cached token).
  uint64_t bytes_per_token() const;
  uint64_t bytes() const { return uint64_t(main_.size()) + uint64_t(bos_.size()); }

 private:
  int bits_at(int64_t pos) const { return (bits_ == 3 && pos == 0) ? 4 : bits_; }
  size_t row_bytes(int bits) const;
  // Head `head` of K (kv = 0) or V (kv = 1) at (layer, pos).
  uint8_t* row(int64_t layer, int64_t pos, int kv, int64_t head);
  const uint8_t* row(int64_t layer, int64_t pos, int kv, int64_t head) const;

  int64_t n_layer_, n_ctx_, n_head_kv_, head_dim_;
  int bits_;
  AlignedBuffer<uint8_t> main_;
  AlignedBuffer<uint8_t> bos_;  // position 0 at 4 bits when bits_ == 3
};

}  // namespace bitnet
