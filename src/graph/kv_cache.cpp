#include "graph/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "dense.h"
#include "format/half.h"
#include "util/error.h"

namespace bitnet {
namespace {

int qmax_for(int bits) { return (1 << (bits - 1)) - 1; }

// Codes are stored with an offset so they are unsigned: 8 bits as int8 directly, 4 bits as
// q + 8 in a nibble (low nibble first), 3 bits as q + 4 packed little-endian, 8 codes per 3 bytes.
// DenseKernelSet::kv_dequant reads this layout back.
void pack_codes(const int8_t* q, int64_t n, int bits, uint8_t* out) {
  if (bits == 8) {
    std::memcpy(out, q, size_t(n));
  } else if (bits == 4) {
    for (int64_t i = 0; i < n; i += 2)
      out[i / 2] = uint8_t((q[i] + 8) | ((i + 1 < n ? q[i + 1] + 8 : 8) << 4));
  } else {
    for (int64_t g = 0; g < n; g += 8) {
      uint32_t word = 0;
      for (int j = 0; j < 8; ++j) word |= uint32_t((g + j < n ? q[g + j] : 0) + 4) << (3 * j);
      uint8_t* o = out + g / 8 * 3;
      o[0] = uint8_t(word);
      o[1] = uint8_t(word >> 8);
      o[2] = uint8_t(word >> 16);
    }
  }
}

}  // namespace

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, int bits)
    : n_layer_(n_layer), n_ctx_(n_ctx), n_head_kv_(n_head_kv), head_dim_(head_dim), bits_(bits) {
  if (!valid_bits(bits)) fail("KV cache bits must be 32, 16, 8, 4 or 3 (got {})", bits);
  if (head_dim > 1024) fail("head_dim {} is larger than the KV cache supports (1024)", head_dim);
  const size_t per_pos = size_t(n_head_kv) * 2 * row_bytes(bits);
  main_.resize(size_t(n_layer) * size_t(n_ctx) * per_pos);
  if (bits == 3) bos_.resize(size_t(n_layer) * size_t(n_head_kv) * 2 * row_bytes(4));
}

size_t KvCache::row_bytes(int bits) const {
  switch (bits) {
    case 32: return size_t(head_dim_) * 4;
    case 16: return size_t(head_dim_) * 2;
    case 8: return 4 + size_t(head_dim_);
    case 4: return 4 + size_t(head_dim_ + 1) / 2;
    default: return 4 + size_t(head_dim_ + 7) / 8 * 3;
  }
}

uint64_t KvCache::bytes_per_token() const { return uint64_t(n_layer_) * n_head_kv_ * 2 * row_bytes(bits_); }

uint8_t* KvCache::row(int64_t layer, int64_t pos, int kv, int64_t head) {
  return const_cast<uint8_t*>(static_cast<const KvCache*>(this)->row(layer, pos, kv, head));
}

const uint8_t* KvCache::row(int64_t layer, int64_t pos, int kv, int64_t head) const {
  if (bits_ == 3 && pos == 0) {
    const size_t rb = row_bytes(4);
    return bos_.data() + ((size_t(layer) * 2 + kv) * n_head_kv_ + head) * rb;
  }
  // Head-major: the positions of one (layer, K/V, head) are contiguous, so attention reads each
  // head's cache as one sequential stream. Position-major rows (all heads of a position together)
  // made decode over a 3-bit cache a strided walk of 52-byte rows 520 bytes apart, which the
  // hardware prefetchers did not follow: unpacking it took 30% of decode time at depth 4096.
  const size_t rb = row_bytes(bits_);
  return main_.data() + (((size_t(layer) * 2 + kv) * n_head_kv_ + head) * n_ctx_ + pos) * rb;
}

void KvCache::store(int64_t layer, int64_t pos, const float* k, const float* v) {
  const int bits = bits_at(pos);
  int8_t q[1024];
  for (int kv = 0; kv < 2; ++kv) {
    const float* src = kv == 0 ? k : v;
    for (int64_t h = 0; h < n_head_kv_; ++h) {
      const float* x = src + h * head_dim_;
      uint8_t* dst = row(layer, pos, kv, h);
      if (bits == 32) {
        std::memcpy(dst, x, size_t(head_dim_) * 4);
        continue;
      }
      if (bits == 16) {
        uint16_t* d = reinterpret_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < head_dim_; ++i) d[i] = f32_to_f16(x[i]);
        continue;
      }
      const int qmax = qmax_for(bits);
      float amax = 0;
      for (int64_t i = 0; i < head_dim_; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float scale = amax / float(qmax);
      const float inv = amax > 0 ? float(qmax) / amax : 0.0f;
      for (int64_t i = 0; i < head_dim_; ++i)
        q[i] = int8_t(std::clamp(std::nearbyint(x[i] * inv), float(-qmax), float(qmax)));
      std::memcpy(dst, &scale, 4);
      pack_codes(q, head_dim_, bits, dst + 4);
    }
  }
}

void KvCache::decode_rows(int64_t layer, int64_t pos0, int64_t n, int kv, int64_t head, float* dst) const {
  const kernels::DenseKernelSet& dk = kernels::dense_kernels();
  for (int64_t j = 0; j < n; ++j) {
    const int64_t pos = pos0 + j;
    const uint8_t* r = row(layer, pos, kv, head);
    float* d = dst + j * head_dim_;
    const int bits = bits_at(pos);
    if (bits == 32) {
      std::memcpy(d, r, size_t(head_dim_) * sizeof(float));
    } else if (bits == 16) {
      // vcvtph2ps / fcvtl where the CPU has them: a table lookup made an f16 cache half as fast as
      // f32 at depth 4096.
      dk.f16_to_f32(reinterpret_cast<const uint16_t*>(r), head_dim_, d);
    } else {
      float scale;
      std::memcpy(&scale, r, 4);
      // Per-ISA unpacking: the portable loop made a 3-bit cache slower than f32 at depth 4096.
      dk.kv_dequant(r + 4, head_dim_, bits, scale, d);
    }
  }
}

}  // namespace bitnet
