// AVX2 ternary x int8 matmul: vpmaddubsw (unsigned codes x signed activations) summed over four
// 32-wide sub-blocks in int16, then widened with vpmaddwd.
//
// Packed layout ("4 rows x 128 k" blocks): rows grouped by 4 (last group padded with zero weights),
// K padded to a multiple of 128. Block b of group g is 128 bytes at (g*KB + b)*128; row r owns
// bytes [32r, 32r+32), and byte j holds the codes (w+1) of k = 128b + 32s + j in bits 2s..2s+1
// (s = 0..3). One 32-byte load gives four code vectors, each matching one contiguous 32-byte
// activation load.
//
// Overflow: a vpmaddubsw lane is c0*x0 + c1*x1 with codes <= 2, so |lane| <= 512 (no saturation);
// four of them add up to at most 2048 in magnitude before vpmaddwd widens to int32. All +127 or all
// -128 activations with all +1 weights therefore stay exact.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int64_t kRows = 4;
constexpr int64_t kBlockK = 128;
constexpr int64_t kBlockBytes = kRows * 32;
constexpr int kMaxTokens = 2;
constexpr int64_t kTokenChunk = 64;

inline int64_t groups_of(int64_t M) { return (M + kRows - 1) / kRows; }
inline int64_t blocks_of(int64_t K) { return (K + kBlockK - 1) / kBlockK; }

size_t packed_bytes(int64_t M, int64_t K) { return slot_packed_bytes(M, K, kRows); }
void pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) { slot_pack(w, M, K, kRows, dst); }

inline __m128i reduce4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

inline void store_rows(int32_t* yt, int64_t g, int64_t m0, int64_t m1, __m128i v) {
  const int64_t base = g * kRows;
  if (base >= m0 && base + kRows <= m1) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(yt + base), v);
    return;
  }
  alignas(16) int32_t tmp[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
  for (int64_t r = 0; r < kRows; ++r) {
    if (base + r >= m0 && base + r < m1) yt[base + r] = tmp[r];
  }
}

// One block of 4 rows x 128 k against T tokens; xs[t] points at the block's 128 activations.
template <int T>
inline void block(const uint8_t* blk, const int8_t* const* xs, __m256i (&acc)[4][T]) {
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int r = 0; r < 4; ++r) {
    const __m256i p = _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 32 * r));
    const __m256i c0 = _mm256_and_si256(p, m3);
    const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(p, 2), m3);
    const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(p, 4), m3);
    const __m256i c3 = _mm256_and_si256(_mm256_srli_epi16(p, 6), m3);
    for (int t = 0; t < T; ++t) {
      const __m256i* xv = reinterpret_cast<const __m256i*>(xs[t]);
      const __m256i s01 = _mm256_add_epi16(_mm256_maddubs_epi16(c0, _mm256_loadu_si256(xv + 0)),
                                           _mm256_maddubs_epi16(c1, _mm256_loadu_si256(xv + 1)));
      const __m256i s23 = _mm256_add_epi16(_mm256_maddubs_epi16(c2, _mm256_loadu_si256(xv + 2)),
                                           _mm256_maddubs_epi16(c3, _mm256_loadu_si256(xv + 3)));
      acc[r][t] = _mm256_add_epi32(acc[r][t], _mm256_madd_epi16(_mm256_add_epi16(s01, s23), ones));
    }
  }
}

// GEMV (prefetch_end set): the lines 4 KB ahead are requested into L2, so that DRAM misses overlap
// the arithmetic instead of alternating with it; never past prefetch_end. (The AVX-512 and AVX-VNNI
// GEMVs walk four streams instead. This kernel is bound by its 16 instructions per 32 bytes, about
// 22 GB/s per core on Zen 5 (matmul/avx2/*/N:1): two or four streams, with 0-2 KB of prefetch, read
// 20-24 GB/s on 1 thread too, and on 2 threads stayed within the noise of one stream.)
constexpr int64_t kPrefetchBytes = 4096;

template <int T>
void tile(const uint8_t* wg, int64_t KB, int64_t K, const int8_t* x, int64_t ldx, const int32_t* xsum,
          int32_t* y, int64_t ldy, int64_t g, int64_t m0, int64_t m1, const uint8_t* prefetch_end = nullptr) {
  __m256i acc[4][T];
  for (int r = 0; r < 4; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_si256();
  const int64_t full = K / kBlockK;
  const int8_t* xs[T];
  for (int64_t b = 0; b < full; ++b) {
    const uint8_t* ahead = wg + b * kBlockBytes + kPrefetchBytes;
    if (prefetch_end && ahead < prefetch_end) {
      _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + 64), _MM_HINT_T1);
    }
    for (int t = 0; t < T; ++t) xs[t] = x + t * ldx + b * kBlockK;
    block<T>(wg + b * kBlockBytes, xs, acc);
  }
  if (full < KB) {
    // K tail: activations are not padded, so copy the remainder into zeroed buffers.
    alignas(32) int8_t xt[T][kBlockK];
    const int64_t left = K - full * kBlockK;
    for (int t = 0; t < T; ++t) {
      std::memset(xt[t], 0, kBlockK);
      std::memcpy(xt[t], x + t * ldx + full * kBlockK, static_cast<size_t>(left));
      xs[t] = xt[t];
    }
    block<T>(wg + full * kBlockBytes, xs, acc);
  }
  for (int t = 0; t < T; ++t) {
    __m128i v = reduce4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]);
    v = _mm_sub_epi32(v, _mm_set1_epi32(xsum[t]));
    store_rows(y + t * ldy, g, m0, m1, v);
  }
}

int32_t sum_i8(const int8_t* x, int64_t K) {
  __m256i acc = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, ones));
  }
  const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  const __m128i h2 = _mm_hadd_epi32(h, h);
  int32_t s = _mm_cvtsi128_si32(_mm_hadd_epi32(h2, h2));
  for (; k < K; ++k) s += x[k];
  return s;
}

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t KB = blocks_of(K);
  const int64_t g_begin = m0 / kRows, g_end = (m1 + kRows - 1) / kRows;
  const int64_t gbytes = KB * kBlockBytes;
  int32_t xsum[kTokenChunk];
  if (N == 1) {
    xsum[0] = sum_i8(x, K);
    const uint8_t* end = packed + groups_of(M) * gbytes;
    for (int64_t g = g_begin; g < g_end; ++g) tile<1>(packed + g * gbytes, KB, K, x, ldx, xsum, y, ldy, g, m0, m1, end);
    return;
  }
  for (int64_t n0 = 0; n0 < N; n0 += kTokenChunk) {
    const int64_t nc = N - n0 < kTokenChunk ? N - n0 : kTokenChunk;
    for (int64_t t = 0; t < nc; ++t) xsum[t] = sum_i8(x + (n0 + t) * ldx, K);
    for (int64_t g = g_begin; g < g_end; ++g) {
      const uint8_t* wg = packed + g * gbytes;
      int64_t t0 = 0;
      for (; t0 + kMaxTokens <= nc; t0 += kMaxTokens)
        tile<kMaxTokens>(wg, KB, K, x + (n0 + t0) * ldx, ldx, xsum + t0, y + (n0 + t0) * ldy, ldy, g, m0, m1);
      if (t0 < nc) tile<1>(wg, KB, K, x + (n0 + t0) * ldx, ldx, xsum + t0, y + (n0 + t0) * ldy, ldy, g, m0, m1);
    }
  }
}

}  // namespace

const TernaryMatmul kMadAvx2 = {"mad_avx2", 16, packed_bytes, pack, matmul};

}  // namespace bitnet::kernels::detail
