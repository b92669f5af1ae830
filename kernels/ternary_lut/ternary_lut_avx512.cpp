// AVX-512 LUT ternary matmul (AVX-512BW vpermw; no VNNI or VBMI needed).
//
// One vpermw looks up 32 rows x 3 weights of one token in that token's 32-entry int16 table of a
// triplet: 96 multiply-adds per shuffle, against 64 per vpdpbusd, and both issue at one zmm per
// cycle on Zen 4 (measured), while the int16 add that accumulates the lookup goes to the other ALU
// pipes. Tables cost ~8 instructions per token and triplet and are reused by every 32 rows of the
// call's row range, so the kernel gains most when a call covers many rows. Measured on this Zen 4
// (bench/lut_bench.cpp, 1 thread, CPU time): N=128 ~440 GOPS vs ~205 for mad_avx512vnni (2.1x;
// 1.6-2.1x with the graph's 160-320-row calls), N=8 1.4-1.9x; N=1 from DRAM 0.6-0.75x (see gemv).
//
// Loop order: token tile (4) > K chunk (84 triplets, the int16 limit; the 4 tokens' tables for it,
// 21.5 KB, stay in L1) > row groups (4 x 32 rows) > words. Partial sums go to y as int32 after every
// chunk (the first chunk stores, later ones add), so y needs no zeroing and no scratch.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ternary_lut/lut_registry.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int kTokens = 4;  // token tile
constexpr int kGroups = 4;  // 32-row groups per tile
constexpr int64_t kGroupRows = 32;

inline int64_t words_of(int64_t K) { return (K + kLutWordWeights - 1) / kLutWordWeights; }

// Table construction with vpmaddubsw (unsigned x signed bytes -> int16 pair sums). The activations
// are offset to u = x + 128 in 0..255 and the coefficients are the weight digits w in {-1, 0, 1}:
//   maddubs(bcast16(u0,u1), (w0,w1)) + maddubs(bcast8(u2), (w2,0)) = sum w_i x_i + 128 sum w_i,
// and the last term is a per-entry constant subtracted once. 7 instructions per table, no multiply.
struct Patterns {
  __m512i c01, c2, corr;
};

inline Patterns patterns() {
  alignas(64) int8_t c01[64], c2[64];
  alignas(64) int16_t corr[32];
  for (int c = 0; c < 32; ++c) {
    const int w0 = c < 27 ? c / 9 - 1 : 0, w1 = c < 27 ? c / 3 % 3 - 1 : 0, w2 = c < 27 ? c % 3 - 1 : 0;
    c01[2 * c] = static_cast<int8_t>(w0);
    c01[2 * c + 1] = static_cast<int8_t>(w1);
    c2[2 * c] = static_cast<int8_t>(w2);
    c2[2 * c + 1] = 0;
    corr[c] = static_cast<int16_t>(128 * (w0 + w1 + w2));
  }
  return {_mm512_load_si512(c01), _mm512_load_si512(c2), _mm512_load_si512(corr)};
}

// Tables of one token for triplets [3*w0, 3*(w0+nw)): tab[j] = 32 int16. x beyond K counts as 0.
// u: scratch of at least 9*nw + 64 bytes.
inline void build_tables(const Patterns& P, const int8_t* x, int64_t K, int64_t w0, int64_t nw,
                         uint8_t* u, int16_t* tab) {
  const int64_t k0 = w0 * kLutWordWeights;
  const int64_t len = nw * kLutWordWeights;
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t i = 0; i < len; i += 64) {
    const int64_t left = K - k0 - i;  // activations still inside K
    const __mmask64 m = left >= 64 ? ~0ULL : (left <= 0 ? 0 : (1ULL << left) - 1);
    _mm512_storeu_si512(u + i, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + k0 + i), bias));
  }
  for (int64_t j = 0; j < nw * kLutWordTriplets; ++j) {
    int16_t u01;
    std::memcpy(&u01, u + 3 * j, 2);
    const __m512i a01 = _mm512_set1_epi16(u01);
    const __m512i a2 = _mm512_set1_epi8(static_cast<char>(u[3 * j + 2]));
    const __m512i t = _mm512_add_epi16(_mm512_maddubs_epi16(a01, P.c01), _mm512_maddubs_epi16(a2, P.c2));
    _mm512_store_si512(tab + j * kLutTableEntries, _mm512_sub_epi16(t, P.corr));
  }
}

// Adds (or stores, if first) the 32 int16 sums of one group into y rows [base, base+32) restricted
// to [m0, m1).
inline void flush(__m512i acc, int32_t* yt, int64_t base, int64_t m0, int64_t m1, bool first) {
  for (int h = 0; h < 2; ++h) {
    const int64_t r0 = base + 16 * h;
    __mmask16 mask = 0xFFFF;
    if (r0 < m0 || r0 + 16 > m1) {
      mask = 0;
      for (int i = 0; i < 16; ++i)
        if (r0 + i >= m0 && r0 + i < m1) mask = static_cast<__mmask16>(mask | (1u << i));
      if (!mask) continue;
    }
    const __m512i v = _mm512_cvtepi16_epi32(h == 0 ? _mm512_castsi512_si256(acc) : _mm512_extracti64x4_epi64(acc, 1));
    int32_t* dst = yt + r0;
    if (first) {
      _mm512_mask_storeu_epi32(dst, mask, v);
    } else {
      _mm512_mask_storeu_epi32(dst, mask, _mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, dst), v));
    }
  }
}

// acc += tab[idx] (32 int16 lanes). Written as one asm block so that the compiler keeps one
// temporary per lookup: with intrinsics GCC 12 hoists the lookups of a whole word ahead of their adds
// (or re-associates the adds into a tree), needs more than 32 registers and spills the accumulators.
inline __m512i lookup_add(__m512i acc, __m512i idx, __m512i tab) {
  __m512i tmp;
  asm("vpermw %[tab], %[idx], %[tmp]\n\tvpaddw %[tmp], %[acc], %[acc]"
      : [acc] "+v"(acc), [tmp] "=&v"(tmp)
      : [idx] "v"(idx), [tab] "v"(tab));
  return acc;
}

// R groups (starting at group g0) x T tokens over chunk words [w0, w0+nw).
template <int R, int T>
inline void tile(const uint8_t* packed, int64_t W, int64_t g0, int64_t w0, int64_t nw, const int16_t* tab,
                 int64_t tab_stride, int32_t* y, int64_t ldy, int64_t m0, int64_t m1, bool first) {
  const uint16_t* src[R];
  for (int r = 0; r < R; ++r) {
    const int64_t g = g0 + r;
    src[r] = reinterpret_cast<const uint16_t*>(packed) + ((g / 2) * W + w0) * kLutBlockRows + (g % 2) * kGroupRows;
  }
  __m512i acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_si512();
  for (int64_t w = 0; w < nw; ++w) {
    __m512i idx[R];
    for (int r = 0; r < R; ++r) idx[r] = _mm512_load_si512(src[r] + w * kLutBlockRows);
    for (int s = 0; s < 3; ++s) {
      const int16_t* tj = tab + (w * 3 + s) * kLutTableEntries;
      __m512i tv[T];
      for (int t = 0; t < T; ++t) tv[t] = _mm512_load_si512(tj + t * tab_stride);
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) acc[r][t] = lookup_add(acc[r][t], idx[r], tv[t]);
      if (s < 2)
        for (int r = 0; r < R; ++r) idx[r] = _mm512_srli_epi16(idx[r], 5);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) flush(acc[r][t], y + t * ldy, (g0 + r) * kGroupRows, m0, m1, first);
}

template <int T>
inline void tile_groups(int R, const uint8_t* packed, int64_t W, int64_t g0, int64_t w0, int64_t nw,
                        const int16_t* tab, int64_t tab_stride, int32_t* y, int64_t ldy, int64_t m0,
                        int64_t m1, bool first) {
  switch (R) {
    case 4: tile<4, T>(packed, W, g0, w0, nw, tab, tab_stride, y, ldy, m0, m1, first); break;
    case 3: tile<3, T>(packed, W, g0, w0, nw, tab, tab_stride, y, ldy, m0, m1, first); break;
    case 2: tile<2, T>(packed, W, g0, w0, nw, tab, tab_stride, y, ldy, m0, m1, first); break;
    default: tile<1, T>(packed, W, g0, w0, nw, tab, tab_stride, y, ldy, m0, m1, first); break;
  }
}

// Per-thread table buffer for the GEMV path (tables of the whole K for one token: 64 bytes per 3
// weights). Grows only when a larger K is seen, so decode allocates nothing per token.
struct TableBuffer {
  int16_t* p = nullptr;
  size_t entries = 0;
  ~TableBuffer() { std::free(p); }
  int16_t* get(size_t n) {
    if (n > entries) {
      std::free(p);
      entries = 0;
      p = static_cast<int16_t*>(std::aligned_alloc(64, (n * sizeof(int16_t) + 63) / 64 * 64));
      if (p) entries = n;
    }
    return p;
  }
};
thread_local TableBuffer t_tables;


// GEMV: one 64-row block walks the whole K as a single sequential stream of weights (the layout's
// point); int16 sums are widened into int32 registers after every chunk. Measured: as fast as the
// multiply-add GEMV when the weights are in L2, but ~1.5-2x slower from DRAM (cold), with or without
// software prefetch or L1-sized K chunks: every 128 bytes of weights come with 192 bytes of table
// loads from L2, and the weight misses no longer overlap as well. Decode should stay on the
// multiply-add kernels.
inline void gemv_block(const uint16_t* src, int64_t W, const int16_t* tab, int32_t* y, int64_t base,
                       int64_t m0, int64_t m1) {
  __m512i a32[4];
  for (auto& a : a32) a = _mm512_setzero_si512();
  for (int64_t w0 = 0; w0 < W; w0 += kLutChunkWords) {
    const int64_t w1 = W - w0 < kLutChunkWords ? W : w0 + kLutChunkWords;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    for (int64_t w = w0; w < w1; ++w) {
      __m512i i0 = _mm512_load_si512(src + w * kLutBlockRows);
      __m512i i1 = _mm512_load_si512(src + w * kLutBlockRows + kGroupRows);
      const int16_t* tj = tab + w * kLutWordTriplets * kLutTableEntries;
      for (int s = 0; s < 3; ++s) {
        const __m512i tv = _mm512_load_si512(tj + s * kLutTableEntries);
        acc0 = lookup_add(acc0, i0, tv);
        acc1 = lookup_add(acc1, i1, tv);
        i0 = _mm512_srli_epi16(i0, 5);
        i1 = _mm512_srli_epi16(i1, 5);
      }
    }
    a32[0] = _mm512_add_epi32(a32[0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc0)));
    a32[1] = _mm512_add_epi32(a32[1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc0, 1)));
    a32[2] = _mm512_add_epi32(a32[2], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc1)));
    a32[3] = _mm512_add_epi32(a32[3], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc1, 1)));
  }
  for (int q = 0; q < 4; ++q) {
    const int64_t r0 = base + 16 * q;
    __mmask16 mask = 0xFFFF;
    if (r0 < m0 || r0 + 16 > m1) {
      mask = 0;
      for (int i = 0; i < 16; ++i)
        if (r0 + i >= m0 && r0 + i < m1) mask = static_cast<__mmask16>(mask | (1u << i));
    }
    _mm512_mask_storeu_epi32(y + r0, mask, a32[q]);
  }
}

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t W = words_of(K);
  const int64_t g_begin = m0 / kGroupRows, g_end = (m1 + kGroupRows - 1) / kGroupRows;
  constexpr int64_t kTabStride = kLutChunkTriplets * kLutTableEntries;
  alignas(64) int16_t tab[kTokens * kTabStride];
  alignas(64) uint8_t u[kLutChunkWords * kLutWordWeights + 64];
  const Patterns P = patterns();

  if (N == 1) {
    int16_t* all = t_tables.get(static_cast<size_t>(W * kLutWordTriplets * kLutTableEntries));
    if (all) {  // (if the buffer cannot be had, the chunked path below does the same work)
      for (int64_t w0 = 0; w0 < W; w0 += kLutChunkWords) {
        const int64_t nw = W - w0 < kLutChunkWords ? W - w0 : kLutChunkWords;
        build_tables(P, x, K, w0, nw, u, all + w0 * kLutWordTriplets * kLutTableEntries);
      }
      const uint16_t* words = reinterpret_cast<const uint16_t*>(packed);
      for (int64_t b = m0 / kLutBlockRows; b * kLutBlockRows < m1; ++b)
        gemv_block(words + b * W * kLutBlockRows, W, all, y, b * kLutBlockRows, m0, m1);
      return;
    }
  }

  for (int64_t n0 = 0; n0 < N; n0 += kTokens) {
    const int nt = static_cast<int>(N - n0 < kTokens ? N - n0 : kTokens);
    for (int64_t w0 = 0; w0 < W; w0 += kLutChunkWords) {
      const int64_t nw = W - w0 < kLutChunkWords ? W - w0 : kLutChunkWords;
      for (int t = 0; t < nt; ++t) build_tables(P, x + (n0 + t) * ldx, K, w0, nw, u, tab + t * kTabStride);
      int32_t* yt = y + n0 * ldy;
      for (int64_t g = g_begin; g < g_end; g += kGroups) {
        const int R = static_cast<int>(g_end - g < kGroups ? g_end - g : kGroups);
        switch (nt) {
          case 4: tile_groups<4>(R, packed, W, g, w0, nw, tab, kTabStride, yt, ldy, m0, m1, w0 == 0); break;
          case 3: tile_groups<3>(R, packed, W, g, w0, nw, tab, kTabStride, yt, ldy, m0, m1, w0 == 0); break;
          case 2: tile_groups<2>(R, packed, W, g, w0, nw, tab, kTabStride, yt, ldy, m0, m1, w0 == 0); break;
          default: tile_groups<1>(R, packed, W, g, w0, nw, tab, kTabStride, yt, ldy, m0, m1, w0 == 0); break;
        }
      }
    }
  }
}

}  // namespace

const TernaryMatmul kLutAvx512 = {"lut_avx512", static_cast<int>(kLutBlockRows), lut_packed_bytes, lut_pack,
                                  matmul};

}  // namespace bitnet::kernels::detail
