// AVX-VNNI ternary x int8 matmul (VEX vpdpbusd on ymm: Alder Lake and later, Zen 5): the AVX2
// kernel's work per weight byte halved, for the CPUs that have VNNI but no AVX-512.
//
// Packed layout ("2 rows x 128 k" blocks, one cache line each): rows grouped by 2 (last group padded
// with zero weights), K padded to a multiple of 128. Block b of group g is 64 bytes at
// (g*KB + b)*64; row r owns bytes [32r, 32r+32), and byte j holds the codes (w+1) of
// k = 128b + 32s + j in bits 2s..2s+1 (s = 0..3), so slot s of a 32-byte load pairs with the
// contiguous activations [128b + 32s, +32).
//
// Why this kernel: the AVX2 one spends 16 instructions per 32 weight bytes (3 shifts, 4 ands,
// 4 vpmaddubsw, 3 adds, the widening vpmaddwd and its add) and is compute-bound at about 22 GB/s
// per core even on Zen 5. vpdpbusd multiplies and accumulates into int32 in one instruction: 11
// instructions per 32 bytes (shift, mask, vpdpbusd), one accumulator per row and token, so four
// decode streams or a 2-row x 4-token GEMM tile fit the 16 registers.
//
// Overflow: a vpdpbusd lane adds 4 products of at most 2 * 128 to int32; K < 131072 keeps every
// sum far inside int32 (kernels.h).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernel_registry.h"
#include "vnni_tied.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int64_t kRows = 2;
constexpr int64_t kBlockK = 128;
constexpr int64_t kBlockBytes = kRows * 32;
constexpr int64_t kTokenChunk = 64;

inline int64_t blocks_of(int64_t K) { return (K + kBlockK - 1) / kBlockK; }

size_t packed_bytes(int64_t M, int64_t K) { return slot_packed_bytes(M, K, kRows); }
void pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) { slot_pack(w, M, K, kRows, dst); }

inline int32_t hsum(__m256i v) {
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4e));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xb1));
  return _mm_cvtsi128_si32(q);
}

// GEMV walks S groups at once, one from each part of the row range, so a thread reads S sequential
// streams and asks for each one's line kPrefetchBytes ahead. On Zen 5 (matmul/avxvnni/*/N:1,
// 2 alternated rounds): one group at a time (with the codes masked in place, 8 accumulators) read
// 17-20 GB/s on 1 thread and 27-33 on 2; two streams 25 and 42-43; four 27-31 and 46-52; eight 27
// and 35-40; four without the prefetch 26-29 and 35-44.
constexpr int kStreams = 4;
constexpr int64_t kPrefetchBytes = 2048;
constexpr int kMaxTokens = 4;  // GEMM tile: 2 rows x 4 tokens = 8 accumulators

// S groups (weights at wg[s], numbers g[s]) against T tokens over the whole K: 2*S*T accumulators.
// y[t*ldy + m] gets sum_k W[m,k] * x[t*ldx + k] for the rows m of the groups inside [m0, m1).
template <int S, int T>
inline void tile(const uint8_t* const* wg, const int64_t* g, int64_t K, const int8_t* x, int64_t ldx,
                 const int32_t* xsum, int32_t* y, int64_t ldy, int64_t m0, int64_t m1) {
  static_assert(S * T * kRows <= 8, "accumulators must leave registers for the codes");
  __m256i acc[S][kRows][T];
  for (int s = 0; s < S; ++s)
    for (int r = 0; r < kRows; ++r)
      for (int t = 0; t < T; ++t) acc[s][r][t] = _mm256_setzero_si256();
  const __m256i m3 = _mm256_set1_epi8(3);
  auto step = [&](int64_t b, const int8_t* const* xb) __attribute__((always_inline)) {
    for (int s = 0; s < S; ++s) {
      const uint8_t* blk = wg[s] + b * kBlockBytes;
      if constexpr (S > 1) _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchBytes), _MM_HINT_T0);
      for (int r = 0; r < kRows; ++r) {
        const __m256i p = _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 32 * r));
        const __m256i c[4] = {_mm256_and_si256(p, m3), _mm256_and_si256(_mm256_srli_epi16(p, 2), m3),
                              _mm256_and_si256(_mm256_srli_epi16(p, 4), m3),
                              _mm256_and_si256(_mm256_srli_epi16(p, 6), m3)};
        for (int t = 0; t < T; ++t) {
          const __m256i* xv = reinterpret_cast<const __m256i*>(xb[t]);
          for (int q = 0; q < 4; ++q)
            acc[s][r][t] = dpbusd_avx_tied(acc[s][r][t], c[q], _mm256_loadu_si256(xv + q));
        }
      }
    }
  };
  const int64_t full = K / kBlockK;
  const int8_t* xb[T];
  for (int64_t b = 0; b < full; ++b) {
    for (int t = 0; t < T; ++t) xb[t] = x + t * ldx + b * kBlockK;
    step(b, xb);
  }
  if (full < blocks_of(K)) {
    // K tail: activations are not padded, so copy the remainder into zeroed buffers.
    alignas(32) int8_t xt[T][kBlockK];
    const size_t left = static_cast<size_t>(K - full * kBlockK);
    for (int t = 0; t < T; ++t) {
      std::memset(xt[t], 0, kBlockK);
      std::memcpy(xt[t], x + t * ldx + full * kBlockK, left);
      xb[t] = xt[t];
    }
    step(full, xb);
  }
  for (int s = 0; s < S; ++s)
    for (int r = 0; r < kRows; ++r) {
      const int64_t m = g[s] * kRows + r;
      if (m < m0 || m >= m1) continue;
      for (int t = 0; t < T; ++t) y[t * ldy + m] = hsum(acc[s][r][t]) - xsum[t];
    }
}

// GEMM remainder: nt in [1, T] tokens, each count its own instantiation.
template <int T>
inline void tile_tokens(const uint8_t* wg, int64_t g, int64_t K, const int8_t* x, int64_t ldx,
                        const int32_t* xsum, int32_t* y, int64_t ldy, int64_t m0, int64_t m1, int nt) {
  if constexpr (T > 1) {
    if (nt < T) return tile_tokens<T - 1>(wg, g, K, x, ldx, xsum, y, ldy, m0, m1, nt);
  }
  tile<1, T>(&wg, &g, K, x, ldx, xsum, y, ldy, m0, m1);
}

int32_t sum_i8(const int8_t* x, int64_t K) {
  __m256i acc = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi8(1);
  int64_t k = 0;
  for (; k + 32 <= K; k += 32)
    acc = dpbusd_avx_tied(acc, ones, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k)));
  int32_t s = hsum(acc);
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
    const int64_t part = (g_end - g_begin) / kStreams;
    for (int64_t i = 0; i < part; ++i) {
      int64_t g[kStreams];
      const uint8_t* wg[kStreams];
      for (int s = 0; s < kStreams; ++s) {
        g[s] = g_begin + s * part + i;
        wg[s] = packed + g[s] * gbytes;
      }
      tile<kStreams, 1>(wg, g, K, x, ldx, xsum, y, ldy, m0, m1);
    }
    for (int64_t g = g_begin + kStreams * part; g < g_end; ++g) {
      const uint8_t* wg = packed + g * gbytes;
      tile<1, 1>(&wg, &g, K, x, ldx, xsum, y, ldy, m0, m1);
    }
    return;
  }
  // GEMM: a group's K/2 bytes stay in L1 while the chunk's tokens stream past them.
  for (int64_t n0 = 0; n0 < N; n0 += kTokenChunk) {
    const int64_t nc = N - n0 < kTokenChunk ? N - n0 : kTokenChunk;
    for (int64_t t = 0; t < nc; ++t) xsum[t] = sum_i8(x + (n0 + t) * ldx, K);
    for (int64_t g = g_begin; g < g_end; ++g) {
      for (int64_t t0 = 0; t0 < nc; t0 += kMaxTokens) {
        const int nt = static_cast<int>(nc - t0 < kMaxTokens ? nc - t0 : kMaxTokens);
        tile_tokens<kMaxTokens>(packed + g * gbytes, g, K, x + (n0 + t0) * ldx, ldx, xsum + t0,
                                y + (n0 + t0) * ldy, ldy, m0, m1, nt);
      }
    }
  }
}

}  // namespace

const TernaryMatmul kMadAvxVnni = {"mad_avxvnni", 16, packed_bytes, pack, matmul};

}  // namespace bitnet::kernels::detail
