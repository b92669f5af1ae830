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

// Calls fn(i, code) for every element, code as a signed integer.
template <class Fn>
inline void for_each_code(const uint8_t* codes, int64_t n, int bits, Fn&& fn) {
  if (bits == 8) {
    const int8_t* c = reinterpret_cast<const int8_t*>(codes);
    for (int64_t i = 0; i < n; ++i) fn(i, int(c[i]));
  } else if (bits == 4) {
    for (int64_t i = 0; i < n; i += 2) {
      const uint8_t b = codes[i / 2];
      fn(i, int(b & 15) - 8);
      if (i + 1 < n) fn(i + 1, int(b >> 4) - 8);
    }
  } else {
    for (int64_t g = 0; g < n; g += 8) {
      const uint8_t* c = codes + g / 8 * 3;
      const uint32_t word = uint32_t(c[0]) | (uint32_t(c[1]) << 8) | (uint32_t(c[2]) << 16);
      const int64_t m = std::min<int64_t>(8, n - g);
      for (int j = 0; j < m; ++j) fn(g + j, int((word >> (3 * j)) & 7) - 4);
    }
  }
}

// d[i] = float(code_i) * scale for a packed row: what for_each_code gives, in loops without
// per-element branches or calls so the compiler can unroll and vectorize them (attention over a
// quantized cache dequantises every cached element once per decoded token).
void dequantize_codes(const uint8_t* codes, int64_t n, int bits, float scale, float* d) {
  if (bits == 8) {
    const int8_t* c = reinterpret_cast<const int8_t*>(codes);
    for (int64_t i = 0; i < n; ++i) d[i] = float(c[i]) * scale;
    return;
  }
  if (bits == 4) {
    const int64_t pairs = n / 2;
    for (int64_t i = 0; i < pairs; ++i) {
      const int b = codes[i];
      d[2 * i] = float((b & 15) - 8) * scale;
      d[2 * i + 1] = float((b >> 4) - 8) * scale;
    }
    if (n & 1) d[n - 1] = float((codes[pairs] & 15) - 8) * scale;
    return;
  }
  const int64_t full = n / 8;
  for (int64_t g = 0; g < full; ++g) {
    const uint8_t* c = codes + 3 * g;
    const uint32_t word = uint32_t(c[0]) | (uint32_t(c[1]) << 8) | (uint32_t(c[2]) << 16);
    float* o = d + 8 * g;
    for (int j = 0; j < 8; ++j) o[j] = float(int((word >> (3 * j)) & 7) - 4) * scale;
  }
  if (full * 8 < n) {
    const uint8_t* c = codes + 3 * full;
    const uint32_t word = uint32_t(c[0]) | (uint32_t(c[1]) << 8) | (uint32_t(c[2]) << 16);
    for (int64_t j = 0; j < n - 8 * full; ++j) d[8 * full + j] = float(int((word >> (3 * j)) & 7) - 4) * scale;
  }
}

// f16 -> f32 by table: the bit-manipulating conversion has data-dependent branches and ran once
// per cached element per decoded token, dominating f16-cache attention. 256 KiB, exact.
const float* f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = f16_to_f32(uint16_t(h));
    return t;
  }();
  return table.data();
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
  const size_t rb = row_bytes(bits_);
  return main_.data() + (((size_t(layer) * n_ctx_ + pos) * 2 + kv) * n_head_kv_ + head) * rb;
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

float KvCache::dot_k(int64_t layer, int64_t pos, int64_t head, const float* q) const {
  const uint8_t* r = row(layer, pos, 0, head);
  const int bits = bits_at(pos);
  if (bits == 32) {
    const float* k = reinterpret_cast<const float*>(r);
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= head_dim_; i += 4) {
      s0 += q[i] * k[i];
      s1 += q[i + 1] * k[i + 1];
      s2 += q[i + 2] * k[i + 2];
      s3 += q[i + 3] * k[i + 3];
    }
    for (; i < head_dim_; ++i) s0 += q[i] * k[i];
    return (s0 + s1) + (s2 + s3);
  }
  // Decode the row first, then one dot product with independent partial sums: a single running
  // sum over the row is a chain of dependent adds, which made quantized-KV decode 2-3x slower
  // than f32 at depth.
  float k[1024];  // head_dim <= 1024 (checked in the constructor)
  float scale = 1.0f;
  if (bits == 16) {
    const uint16_t* h = reinterpret_cast<const uint16_t*>(r);
    const float* tab = f16_table();
    for (int64_t i = 0; i < head_dim_; ++i) k[i] = tab[h[i]];
  } else {
    std::memcpy(&scale, r, 4);
    for_each_code(r + 4, head_dim_, bits, [&](int64_t i, int c) { k[i] = float(c); });
  }
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= head_dim_; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += q[i + j] * k[i + j];
  for (; i < head_dim_; ++i) s[0] += q[i] * k[i];
  return (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) * scale;
}

void KvCache::decode_rows(int64_t layer, int64_t pos0, int64_t n, int kv, int64_t head, float* dst) const {
  const auto f16_row = kernels::dense_kernels().f16_to_f32;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t pos = pos0 + j;
    const uint8_t* r = row(layer, pos, kv, head);
    float* d = dst + j * head_dim_;
    const int bits = bits_at(pos);
    if (bits == 32) {
      std::memcpy(d, r, size_t(head_dim_) * sizeof(float));
    } else if (bits == 16) {
      // vcvtph2ps / fcvtl where the CPU has them: the table lookup below made an f16 cache half as
      // fast as f32 at depth 4096.
      f16_row(reinterpret_cast<const uint16_t*>(r), head_dim_, d);
    } else {
      float scale;
      std::memcpy(&scale, r, 4);
      dequantize_codes(r + 4, head_dim_, bits, scale, d);
    }
  }
}

void KvCache::add_v(int64_t layer, int64_t pos, int64_t head, float w, float* out) const {
  const uint8_t* r = row(layer, pos, 1, head);
  const int bits = bits_at(pos);
  if (bits == 32) {
    const float* v = reinterpret_cast<const float*>(r);
    for (int64_t i = 0; i < head_dim_; ++i) out[i] += w * v[i];
    return;
  }
  if (bits == 16) {
    const uint16_t* v = reinterpret_cast<const uint16_t*>(r);
    const float* tab = f16_table();
    for (int64_t i = 0; i < head_dim_; ++i) out[i] += w * tab[v[i]];
    return;
  }
  float scale;
  std::memcpy(&scale, r, 4);
  const float ws = w * scale;
  for_each_code(r + 4, head_dim_, bits, [&](int64_t i, int c) { out[i] += ws * float(c); });
}

}  // namespace bitnet
