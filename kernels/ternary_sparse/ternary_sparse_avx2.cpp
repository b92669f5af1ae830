// AVX2 row-subset, int4 and column-sparse kernels (vpmaddubsw). Same algorithms as the AVX-512 file
// (ternary_sparse_avx512.inc / .cpp), on 32-byte halves of each 64-byte chunk:
//   rows/int4: half h of chunk b holds codes of k = 256b + 64s + 32h + [0,32) in bits 2s.
//   cols: the C256 perm for AVX2 makes vpunpckl/hbw of a 32-byte half (rows 64s + 32h + [0,32)) give
//         int16 lanes in row order (lo: +0..15, hi: +16..31).
// Overflow: rows: one maddubs lane <= 512, four summed <= 2048, widened right away. cols: as AVX-512.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int kGroup = 4;
constexpr int kPrefetchGroups = 2;

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

inline __m128i reduce4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// xp: K activations padded with zeros to a multiple of 256 (callers copy the tail).
template <int R>
inline __m128i dot_rows(const uint8_t* const* w, const uint8_t* const* pf, int64_t KB, const int8_t* xp) {
  __m256i acc[4];
  for (int r = 0; r < 4; ++r) acc[r] = _mm256_setzero_si256();
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < KB; ++b) {
    for (int r = 0; r < R; ++r)
      if (pf && pf[r]) _mm_prefetch(reinterpret_cast<const char*>(pf[r] + 64 * b), _MM_HINT_T1);
    for (int h = 0; h < 2; ++h) {
      const int8_t* xb = xp + 256 * b + 32 * h;
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 64));
      const __m256i x2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 128));
      const __m256i x3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 192));
      for (int r = 0; r < R; ++r) {
        const __m256i p = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[r] + 64 * b + 32 * h));
        const __m256i s01 = _mm256_add_epi16(
            _mm256_maddubs_epi16(_mm256_and_si256(p, m3), x0),
            _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(p, 2), m3), x1));
        const __m256i s23 = _mm256_add_epi16(
            _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(p, 4), m3), x2),
            _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(p, 6), m3), x3));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_add_epi16(s01, s23), ones));
      }
    }
  }
  return reduce4(acc[0], acc[1], acc[2], acc[3]);
}

inline __m128i dot_rows_n(int n, const uint8_t* const* w, const uint8_t* const* pf, int64_t KB,
                          const int8_t* xp) {
  switch (n) {
    case 4: return dot_rows<4>(w, pf, KB, xp);
    case 3: return dot_rows<3>(w, pf, KB, xp);
    case 2: return dot_rows<2>(w, pf, KB, xp);
    default: return dot_rows<1>(w, pf, KB, xp);
  }
}

// Full 256-blocks are read from x in place; a partial last block is copied, zero-padded, to tailbuf
// (padding codes are 1, so the activations there must be 0).
inline __m128i dot_padded(int g, const uint8_t* const* w, const uint8_t* const* pf, int64_t K, const int8_t* x,
                          int8_t* tailbuf) {
  const int64_t full = K / 256, KB = pad256(K) / 256;
  __m128i v = _mm_setzero_si128();
  if (full > 0) v = dot_rows_n(g, w, pf, full, x);
  if (KB > full) {
    std::memset(tailbuf, 0, 256);
    std::memcpy(tailbuf, x + 256 * full, static_cast<size_t>(K - 256 * full));
    const uint8_t* wt[kGroup];
    for (int q = 0; q < g; ++q) wt[q] = w[q] + 64 * full;
    v = _mm_add_epi32(v, dot_rows_n(g, wt, nullptr, 1, tailbuf));
  }
  return v;
}

void matmul_rows(const uint8_t* packed, int64_t M, int64_t K, const int32_t* rows, int64_t nrows,
                 const int8_t* x, int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (K <= 0 || N <= 0 || nrows <= 0) return;
  const int64_t rb = pad256(K) / 4;
  constexpr int64_t kTok = 64;
  int32_t xsum[kTok];
  alignas(32) int8_t tailbuf[256];
  for (int64_t n0 = 0; n0 < N; n0 += kTok) {
    const int64_t nc = N - n0 < kTok ? N - n0 : kTok;
    for (int64_t t = 0; t < nc; ++t) xsum[t] = sum_i8(x + (n0 + t) * ldx, K);
    int64_t i = 0;
    while (i < nrows) {
      int32_t r[kGroup];
      const uint8_t* w[kGroup];
      int g = 0;
      while (g < kGroup && i < nrows) {
        const int32_t ri = rows[i++];
        if (ri < 0 || ri >= M) continue;
        r[g] = ri;
        w[g] = packed + ri * rb;
        ++g;
      }
      if (g == 0) break;
      const uint8_t* pf[kGroup] = {nullptr, nullptr, nullptr, nullptr};
      for (int q = 0; q < kGroup; ++q) {
        const int64_t j = i + (kPrefetchGroups - 1) * kGroup + q;
        if (j < nrows && rows[j] >= 0 && rows[j] < M) pf[q] = packed + rows[j] * rb;
      }
      for (int64_t t = 0; t < nc; ++t) {
        alignas(16) int32_t out[4];
        __m128i v = dot_padded(g, w, t == 0 ? pf : nullptr, K, x + (n0 + t) * ldx, tailbuf);
        v = _mm_sub_epi32(v, _mm_set1_epi32(xsum[t]));
        _mm_store_si128(reinterpret_cast<__m128i*>(out), v);
        for (int q = 0; q < g; ++q) y[(n0 + t) * ldy + r[q]] = out[q];
      }
    }
  }
}

void matmul_i4(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
               int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t rb = pad256(K) / 4;
  constexpr int64_t kTok = 64;
  int32_t xsum[kTok];
  alignas(32) int8_t tailbuf[256];
  for (int64_t n0 = 0; n0 < N; n0 += kTok) {
    const int64_t nc = N - n0 < kTok ? N - n0 : kTok;
    for (int64_t t = 0; t < nc; ++t) xsum[t] = sum_i8(x + (n0 + t) * ldx, K);
    for (int64_t m = m0; m < m1; m += kGroup) {
      const int g = static_cast<int>(m1 - m < kGroup ? m1 - m : kGroup);
      const uint8_t* w[kGroup];
      const uint8_t* pf[kGroup];
      for (int q = 0; q < kGroup; ++q) {
        w[q] = packed + (m + (q < g ? q : 0)) * rb;
        const int64_t mp = m + kPrefetchGroups * kGroup + q;
        pf[q] = mp < m1 ? packed + mp * rb : nullptr;
      }
      for (int64_t t = 0; t < nc; ++t) {
        alignas(16) int32_t out[4];
        __m128i v = dot_padded(g, w, t == 0 ? pf : nullptr, K, x + (n0 + t) * ldx, tailbuf);
        v = _mm_sub_epi32(v, _mm_set1_epi32(xsum[t]));
        _mm_store_si128(reinterpret_cast<__m128i*>(out), v);
        for (int q = 0; q < g; ++q) y[(n0 + t) * ldy + m + q] = out[q];
      }
    }
  }
}

// ---- column-sparse ----

constexpr int64_t kPairsPerSpan = 63;
constexpr int64_t kBlockChunks = 16;
constexpr int64_t kBatch = 2 * kPairsPerSpan;

void col_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  uint8_t perm[64];
  for (int j = 0; j < 64; ++j) {
    const int h = j / 32, q = j % 32;
    perm[j] = static_cast<uint8_t>(32 * h + ((q & 15) < 8 ? 8 * (q >> 4) + (q & 7) : 16 + 8 * (q >> 4) + (q & 7)));
  }
  col_layout_pack(w, M, K, perm, dst);
}

inline __m256i bcast_pair(int8_t v1, int8_t v2) {
  return _mm256_set1_epi16(static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint8_t>(v1)) |
                                                (static_cast<uint16_t>(static_cast<uint8_t>(v2)) << 8)));
}

// acc: 16 vectors of 16 int16 rows; vector 4s + 2h + {0 lo, 1 hi} holds rows 64s + 32h + 16*{0,1}.
inline void pair_chunk(__m256i* acc, const uint8_t* c1, const uint8_t* c2, __m256i bv, __m256i m3) {
  for (int h = 0; h < 2; ++h) {
    const __m256i p1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c1 + 32 * h));
    const __m256i p2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c2 + 32 * h));
    const __m256i lo = _mm256_unpacklo_epi8(p1, p2), hi = _mm256_unpackhi_epi8(p1, p2);
    __m256i* a = acc + 2 * h;
    a[0] = _mm256_add_epi16(a[0], _mm256_maddubs_epi16(_mm256_and_si256(lo, m3), bv));
    a[1] = _mm256_add_epi16(a[1], _mm256_maddubs_epi16(_mm256_and_si256(hi, m3), bv));
    a[4] = _mm256_add_epi16(a[4], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(lo, 2), m3), bv));
    a[5] = _mm256_add_epi16(a[5], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 2), m3), bv));
    a[8] = _mm256_add_epi16(a[8], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(lo, 4), m3), bv));
    a[9] = _mm256_add_epi16(a[9], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 4), m3), bv));
    a[12] = _mm256_add_epi16(a[12], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(lo, 6), m3), bv));
    a[13] = _mm256_add_epi16(a[13], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 6), m3), bv));
  }
}

void matvec_cols(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int32_t* idx,
                 const int8_t* val, int64_t nnz, int32_t* y) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1) return;
  const int64_t cb = pad256(M) / 4;
  const __m256i m3 = _mm256_set1_epi8(3);
  alignas(64) int16_t acc16[kBlockChunks * 256];
  alignas(64) int32_t acc32[kBlockChunks * 256];
  const uint8_t* col[kBatch + 4];
  int8_t v[kBatch + 4];

  int32_t vsum = 0;
  for (int64_t i = 0; i < nnz; ++i)
    if (idx[i] >= 0 && idx[i] < K) vsum += val[i];

  for (int64_t c0 = m0 / 256; c0 * 256 < m1; c0 += kBlockChunks) {
    const int64_t c1 = (m1 + 255) / 256 < c0 + kBlockChunks ? (m1 + 255) / 256 : c0 + kBlockChunks;
    const int64_t nch = c1 - c0;
    std::memset(acc32, 0, static_cast<size_t>(nch * 256) * sizeof(int32_t));
    int64_t i = 0;
    while (i < nnz) {
      int64_t n = 0;
      while (n < kBatch && i < nnz) {
        const int64_t k = idx[i];
        if (k >= 0 && k < K) {
          col[n] = packed + k * cb + 64 * c0;
          v[n] = val[i];
          ++n;
        }
        ++i;
      }
      if (n == 0) break;
      const int64_t batch_end_raw = i;
      while (n % 4) {
        col[n] = col[0];
        v[n] = 0;
        ++n;
      }
      std::memset(acc16, 0, static_cast<size_t>(nch * 256) * sizeof(int16_t));
      for (int64_t g = 0; g < n; g += 4) {
        const uint8_t* pf[4];
        for (int q = 0; q < 4; ++q) {
          const int64_t j = g + 8 + q;
          pf[q] = nullptr;
          if (j < n) {
            pf[q] = col[j];
          } else {
            const int64_t raw = batch_end_raw + (j - n);
            if (raw < nnz && idx[raw] >= 0 && idx[raw] < K) pf[q] = packed + idx[raw] * cb + 64 * c0;
          }
        }
        const __m256i bv01 = bcast_pair(v[g], v[g + 1]);
        const __m256i bv23 = bcast_pair(v[g + 2], v[g + 3]);
        for (int64_t c = 0; c < nch; ++c) {
          for (int q = 0; q < 4; ++q)
            if (pf[q]) _mm_prefetch(reinterpret_cast<const char*>(pf[q] + 64 * c), _MM_HINT_T1);
          __m256i* a = reinterpret_cast<__m256i*>(acc16 + 256 * c);
          __m256i acc[16];
          for (int r = 0; r < 16; ++r) acc[r] = _mm256_load_si256(a + r);
          pair_chunk(acc, col[g] + 64 * c, col[g + 1] + 64 * c, bv01, m3);
          pair_chunk(acc, col[g + 2] + 64 * c, col[g + 3] + 64 * c, bv23, m3);
          for (int r = 0; r < 16; ++r) _mm256_store_si256(a + r, acc[r]);
        }
      }
      for (int64_t e = 0; e < nch * 256; e += 16) {
        const __m256i s = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc16 + e));
        __m256i* d = reinterpret_cast<__m256i*>(acc32 + e);
        _mm256_store_si256(d, _mm256_add_epi32(_mm256_load_si256(d), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s))));
        _mm256_store_si256(d + 1, _mm256_add_epi32(_mm256_load_si256(d + 1),
                                                   _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s, 1))));
      }
    }
    const int64_t lo = m0 > c0 * 256 ? m0 : c0 * 256;
    const int64_t hi = m1 < c1 * 256 ? m1 : c1 * 256;
    for (int64_t m = lo; m < hi; ++m) y[m] = acc32[m - c0 * 256] - vsum;
  }
}

}  // namespace

const TernaryRowSubset kRowsAvx2 = {"rows_avx2", row_layout_bytes, row_layout_pack, matmul_rows};
const TernaryInt4Matmul kMatI4Avx2 = {"i4_avx2", 4, row_layout_bytes, row_layout_pack, matmul_i4};
const TernaryColSparse kColsAvx2 = {"cols_avx2", 256, col_layout_bytes, col_pack, matvec_cols};

}  // namespace bitnet::kernels::detail
