// AVX2 LUT ternary matmul on the L32x4 layout (lut16_registry.h).
//
// One vpshufb looks up 32 rows' pair codes in the 16-byte table of one token's pair (broadcast to
// both 128-bit lanes). Each pair needs two lookups, the low and the high byte of the exact int16
// sum T. Instead of interleaving them back into int16 (two more shuffles per pair, and shuffles
// are the scarce port), the bytes are accumulated separately with plain adds:
//   * the high byte of T (T in [-256, 256]) is -1, 0 or 1; summed as int8 over a chunk of 126
//     pairs it stays in [-126, 126];
//   * the low bytes are added as uint16 words (all = even row + 256 * odd row, wrapping) and the odd
//     rows once more on their own (srli 8): even = all - 256 * odd recovers the even rows, exact
//     modulo 2^16, and each sum is at most 126 * 255 < 2^16.
// So a pair costs 2 shuffles + 4 simple ops per 32 rows and token; the chunk flush rebuilds
// T-sums = low + 256 * high in int16 (exact: |.| <= 32256) and widens them to int32.
//
// Loop order: token tile (2) > K chunk (126 pairs; the tables, 4 KB per token, stay in L1) > 32-row
// groups > bytes. Partial sums go to y as int32 after every chunk (the first chunk stores, later
// ones add), so y needs no zeroing and no scratch.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ternary_lut/lut16_registry.h"

namespace bitnet::kernels::detail {
namespace {

// Token tile. One 32-row group x 2 tokens needs 6 accumulators, 4 tables and 2 index vectors, which
// fit the 16 ymm registers; two groups x 2 tokens spill the accumulators to the stack (and measured
// no faster).
constexpr int kTokens = 2;

inline int64_t bytes_of(int64_t K) { return (K + kLut16ByteWeights - 1) / kLut16ByteWeights; }

// Table construction with vpmaddubsw (unsigned x signed bytes -> int16 pair sums): with the
// activations offset to u = x + 128 (0..255) and the code's digits (w0, w1) as coefficients,
//   maddubs(bcast16(u0, u1), (w0, w1)) = w0 x0 + w1 x1 + 128 (w0 + w1),
// and the last term is a per-code constant subtracted afterwards. No saturation: |.| <= 510.
struct Patterns {
  __m256i c01, corr, split;
};

inline Patterns patterns() {
  alignas(32) int8_t c01[32], split[32];
  alignas(32) int16_t corr[16];
  for (int c = 0; c < 16; ++c) {
    const int w0 = c < 9 ? c / 3 - 1 : 0, w1 = c < 9 ? c % 3 - 1 : 0;
    c01[2 * c] = static_cast<int8_t>(w0);
    c01[2 * c + 1] = static_cast<int8_t>(w1);
    corr[c] = static_cast<int16_t>(128 * (w0 + w1));
  }
  // Per 128-bit lane: the 8 low bytes of the lane's int16 entries, then the 8 high bytes.
  for (int lane = 0; lane < 2; ++lane)
    for (int i = 0; i < 8; ++i) {
      split[16 * lane + i] = static_cast<int8_t>(2 * i);
      split[16 * lane + 8 + i] = static_cast<int8_t>(2 * i + 1);
    }
  return {_mm256_load_si256(reinterpret_cast<const __m256i*>(c01)),
          _mm256_load_si256(reinterpret_cast<const __m256i*>(corr)),
          _mm256_load_si256(reinterpret_cast<const __m256i*>(split))};
}

// Tables of one token for pairs [2*j0, 2*(j0+nj)): 16 low bytes then 16 high bytes per pair.
inline void build_tables(const Patterns& P, const int8_t* x, int64_t K, int64_t j0, int64_t nj, uint8_t* tab) {
  alignas(32) uint8_t u[(kLut16ChunkBytes * kLut16ByteWeights + 31) / 32 * 32];
  const int64_t k0 = j0 * kLut16ByteWeights, len = nj * kLut16ByteWeights;
  const int64_t valid = K - k0 < len ? K - k0 : len;
  std::memset(u, 0, sizeof(u));  // x beyond K counts as 0
  std::memcpy(u, x + k0, static_cast<size_t>(valid));
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t i = 0; i < len; i += 32) {
    __m256i* p = reinterpret_cast<__m256i*>(u + i);
    _mm256_store_si256(p, _mm256_xor_si256(_mm256_load_si256(p), bias));
  }
  for (int64_t p = 0; p < 2 * nj; ++p) {
    int16_t u01;
    std::memcpy(&u01, u + 2 * p, 2);
    const __m256i t = _mm256_sub_epi16(_mm256_maddubs_epi16(_mm256_set1_epi16(u01), P.c01), P.corr);
    // [lo 0-7, hi 0-7 | lo 8-15, hi 8-15] -> [lo 0-15 | hi 0-15]
    const __m256i s = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(t, P.split), 0xD8);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tab + p * kLut16TableBytes), s);
  }
}

// Byte-split accumulators of 32 rows x one token (see the top of the file).
struct Acc {
  __m256i all, odd, neg;
};

// A 16-byte table in both 128-bit lanes (vbroadcasti128 from memory: a load, no shuffle).
inline __m256i table16(const uint8_t* t) {
  return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
}

inline void add_lookup(Acc& a, __m256i nib, const uint8_t* t) {
  const __m256i lo = _mm256_shuffle_epi8(table16(t), nib);
  const __m256i hi = _mm256_shuffle_epi8(table16(t + 16), nib);
  a.all = _mm256_add_epi16(a.all, lo);
  a.odd = _mm256_add_epi16(a.odd, _mm256_srli_epi16(lo, 8));
  a.neg = _mm256_add_epi8(a.neg, hi);
}

// Adds (or stores, if first) the 32 sums of one group into y rows [base, base+32) within [m0, m1).
inline void flush(const Acc& a, int32_t* y, int64_t base, int64_t m0, int64_t m1, bool first) {
  const __m256i high_odd = _mm256_and_si256(a.neg, _mm256_set1_epi16(static_cast<short>(0xFF00)));
  const __m256i odd = _mm256_add_epi16(a.odd, high_odd);  // low + 256 * high, odd rows
  const __m256i low_even = _mm256_sub_epi16(a.all, _mm256_slli_epi16(a.odd, 8));
  const __m256i even = _mm256_add_epi16(low_even, _mm256_slli_epi16(a.neg, 8));
  const __m256i r0 = _mm256_unpacklo_epi16(even, odd);  // rows 0-7 | rows 16-23
  const __m256i r1 = _mm256_unpackhi_epi16(even, odd);  // rows 8-15 | rows 24-31
  alignas(32) int32_t v[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(v), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(r0)));
  _mm256_store_si256(reinterpret_cast<__m256i*>(v + 8), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(r1)));
  _mm256_store_si256(reinterpret_cast<__m256i*>(v + 16), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(r0, 1)));
  _mm256_store_si256(reinterpret_cast<__m256i*>(v + 24), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(r1, 1)));
  if (base >= m0 && base + kLut16BlockRows <= m1) {
    for (int q = 0; q < 4; ++q) {
      __m256i* dst = reinterpret_cast<__m256i*>(y + base + 8 * q);
      __m256i s = _mm256_load_si256(reinterpret_cast<const __m256i*>(v + 8 * q));
      if (!first) s = _mm256_add_epi32(s, _mm256_loadu_si256(dst));
      _mm256_storeu_si256(dst, s);
    }
    return;
  }
  for (int64_t i = 0; i < kLut16BlockRows; ++i) {
    const int64_t m = base + i;
    if (m >= m0 && m < m1) y[m] = (first ? 0 : y[m]) + v[i];
  }
}

// One 32-row group g x T tokens over chunk bytes [j0, j0+nj).
template <int T>
inline void tile(const uint8_t* packed, int64_t B, int64_t g, int64_t j0, int64_t nj, const uint8_t* tab,
                 int64_t tab_stride, int32_t* y, int64_t ldy, int64_t m0, int64_t m1, bool first) {
  const uint8_t* src = packed + (g * B + j0) * kLut16BlockRows;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  Acc acc[T];
  for (int t = 0; t < T; ++t) acc[t] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int64_t j = 0; j < nj; ++j) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j * kLut16BlockRows));
    const __m256i nib[2] = {_mm256_and_si256(v, low4), _mm256_and_si256(_mm256_srli_epi16(v, 4), low4)};
    for (int h = 0; h < 2; ++h)  // low nibble: pair 2j, high nibble: pair 2j+1
      for (int t = 0; t < T; ++t) add_lookup(acc[t], nib[h], tab + t * tab_stride + (2 * j + h) * kLut16TableBytes);
  }
  for (int t = 0; t < T; ++t) flush(acc[t], y + t * ldy, g * kLut16BlockRows, m0, m1, first);
}

// Per-thread table buffer for the GEMV path (tables of the whole K for one token: 16 bytes per
// weight). Grows only when a larger K is seen, so decode allocates nothing per token.
struct TableBuffer {
  uint8_t* p = nullptr;
  size_t bytes = 0;
  ~TableBuffer() { std::free(p); }
  uint8_t* get(size_t n) {
    if (n > bytes) {
      std::free(p);
      bytes = 0;
      p = static_cast<uint8_t*>(std::aligned_alloc(32, (n + 31) / 32 * 32));
      if (p) bytes = n;
    }
    return p;
  }
};
thread_local TableBuffer t_tables;

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t B = bytes_of(K);
  const int64_t g_begin = m0 / kLut16BlockRows, g_end = (m1 + kLut16BlockRows - 1) / kLut16BlockRows;
  constexpr int64_t kTabStride = kLut16ChunkPairs * kLut16TableBytes;
  alignas(32) uint8_t tab[kTokens * kTabStride];
  const Patterns P = patterns();

  // GEMV: with the tables of the whole K built first, each 32-row block is read as one sequential
  // stream; the chunk-outer order below jumps between blocks every 2 KB, which the hardware
  // prefetchers follow less well when the weights come from DRAM.
  if (N == 1) {
    uint8_t* all = t_tables.get(static_cast<size_t>(2 * B * kLut16TableBytes));
    if (all) {  // (if the buffer cannot be had, the path below does the same work)
      for (int64_t j0 = 0; j0 < B; j0 += kLut16ChunkBytes) {
        const int64_t nj = B - j0 < kLut16ChunkBytes ? B - j0 : kLut16ChunkBytes;
        build_tables(P, x, K, j0, nj, all + 2 * j0 * kLut16TableBytes);
      }
      for (int64_t g = g_begin; g < g_end; ++g) {
        for (int64_t j0 = 0; j0 < B; j0 += kLut16ChunkBytes) {
          const int64_t nj = B - j0 < kLut16ChunkBytes ? B - j0 : kLut16ChunkBytes;
          tile<1>(packed, B, g, j0, nj, all + 2 * j0 * kLut16TableBytes, 0, y, ldy, m0, m1, j0 == 0);
        }
      }
      return;
    }
  }

  for (int64_t n0 = 0; n0 < N; n0 += kTokens) {
    const int nt = static_cast<int>(N - n0 < kTokens ? N - n0 : kTokens);
    for (int64_t j0 = 0; j0 < B; j0 += kLut16ChunkBytes) {
      const int64_t nj = B - j0 < kLut16ChunkBytes ? B - j0 : kLut16ChunkBytes;
      for (int t = 0; t < nt; ++t) build_tables(P, x + (n0 + t) * ldx, K, j0, nj, tab + t * kTabStride);
      int32_t* yt = y + n0 * ldy;
      for (int64_t g = g_begin; g < g_end; ++g) {
        if (nt == 2) {
          tile<2>(packed, B, g, j0, nj, tab, kTabStride, yt, ldy, m0, m1, j0 == 0);
        } else {
          tile<1>(packed, B, g, j0, nj, tab, kTabStride, yt, ldy, m0, m1, j0 == 0);
        }
      }
    }
  }
}

}  // namespace

const TernaryMatmul kLut16Avx2 = {"lut16_avx2", static_cast<int>(kLut16BlockRows), lut16_packed_bytes, lut16_pack,
                                  matmul};

}  // namespace bitnet::kernels::detail
