// AMX-INT8 ternary GEMM for prefill (Sapphire Rapids and later).
//
// One TDPBSSD multiplies a 16 x 64 int8 tile of activations (16 tokens) by a 64 x 16 tile of
// weights (16 rows) into 16 x 16 int32: 16384 multiply-adds per instruction, ~1.5 T/s on one core
// of this machine's Xeon against ~0.15 T/s for 512-bit VNNI. The weights stay 2-bit in memory
// (P16x64 layout, amx_layout.h) and are expanded to int8 B tiles once per panel pair and token
// chunk, then reused by every 32 tokens of the chunk. Integer sums: bit-exact with every other
// ternary kernel.
//
// Register blocking: tiles 0-3 accumulate 2 token tiles x 2 row panels, tiles 4-5 hold the two
// activation tiles and 6-7 the two weight tiles of one 64-wide K block (each loaded tile feeds two
// TDPs). Decode (N = 1) has nothing to reuse and stays on the VNNI GEMV.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ternary_amx/amx_layout.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int64_t kTokenTile = 16;
// Activation chunk kept in L2 while the panels stream past it (bytes).
constexpr int64_t kChunkBytes = 768 * 1024;

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Per-thread scratch that only grows, so prefill allocates nothing after its first call.
struct Scratch {
  uint8_t* p = nullptr;
  size_t bytes = 0;
  ~Scratch() { std::free(p); }
  uint8_t* get(size_t n) {
    if (n > bytes) {
      std::free(p);
      bytes = 0;
      p = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
      if (p) bytes = n;
    }
    return p;
  }
};
thread_local Scratch t_act, t_weights;

// Expands panel `panel` (all KB blocks) into int8 B tiles: block b at dst + b * 1024.
inline void unpack_panel(const uint8_t* packed, int64_t KB, int64_t panel, int8_t* dst) {
  const uint8_t* src = packed + panel * KB * kAmxBlockBytes;
  const __m512i m3 = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1);
  for (int64_t b = 0; b < KB; ++b) {
    int8_t* tile = dst + b * 1024;
    for (int v = 0; v < 4; ++v) {
      const __m512i p = _mm512_load_si512(src + b * kAmxBlockBytes + v * 64);
      _mm512_store_si512(tile + (0 + v) * 64, _mm512_sub_epi8(_mm512_and_si512(p, m3), one));
      _mm512_store_si512(tile + (4 + v) * 64, _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(p, 2), m3), one));
      _mm512_store_si512(tile + (8 + v) * 64, _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(p, 4), m3), one));
      _mm512_store_si512(tile + (12 + v) * 64, _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(p, 6), m3), one));
    }
  }
}

// Writes a 16 x 16 int32 result (tokens t0.., rows r0..) into y, keeping tokens < n_end and rows
// in [m0, m1). Full tiles go straight from the tile register; edges through a small buffer.
// The tile intrinsics take the register number as a literal (GCC pastes it into the asm).
inline void tile_store(int tile, void* dst, int64_t stride) {
  switch (tile) {
    case 0: _tile_stored(0, dst, stride); break;
    case 1: _tile_stored(1, dst, stride); break;
    case 2: _tile_stored(2, dst, stride); break;
    default: _tile_stored(3, dst, stride); break;
  }
}

inline void store_tile(int tile, int32_t* y, int64_t ldy, int64_t t0, int64_t n_end, int64_t r0, int64_t m0, int64_t m1) {
  if (t0 >= n_end || r0 >= m1 || r0 + 16 <= m0) return;
  if (t0 + 16 <= n_end && r0 >= m0 && r0 + 16 <= m1) {
    tile_store(tile, y + t0 * ldy + r0, ldy * 4);
    return;
  }
  alignas(64) int32_t c[16 * 16];
  tile_store(tile, c, 64);
  __mmask16 mask = 0;
  for (int i = 0; i < 16; ++i)
    if (r0 + i >= m0 && r0 + i < m1) mask = static_cast<__mmask16>(mask | (1u << i));
  // Start both pointers at the first kept row so that no address, even of a masked lane, lies
  // before y's first kept element.
  int first = 0;
  while (!((mask >> first) & 1)) ++first;
  const __mmask16 shifted = static_cast<__mmask16>(mask >> first);
  for (int64_t t = t0; t < n_end && t < t0 + 16; ++t)
    _mm512_mask_storeu_epi32(y + t * ldy + r0 + first, shifted, _mm512_maskz_loadu_epi32(shifted, c + (t - t0) * 16 + first));
}

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t KB = (K + kAmxBlockK - 1) / kAmxBlockK, Kp = KB * kAmxBlockK;
  const int64_t p_begin = m0 / kAmxPanelRows, p_end = (m1 + kAmxPanelRows - 1) / kAmxPanelRows;
  int64_t chunk = kChunkBytes / Kp / (2 * kTokenTile) * (2 * kTokenTile);
  if (chunk < 2 * kTokenTile) chunk = 2 * kTokenTile;
  const int64_t chunk_cap = N < chunk ? (N + 2 * kTokenTile - 1) / (2 * kTokenTile) * (2 * kTokenTile) : chunk;
  int8_t* xa = reinterpret_cast<int8_t*>(t_act.get(static_cast<size_t>(chunk_cap * Kp)));
  int8_t* wb = reinterpret_cast<int8_t*>(t_weights.get(static_cast<size_t>(2 * KB * 1024)));
  if (!xa || !wb) {  // out of memory: the scalar twin needs no scratch
    kAmxScalar.matmul(packed, M, K, m0, m1, x, ldx, N, y, ldy);
    return;
  }
  TileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  _tile_loadconfig(&cfg);

  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t nc = N - n0 < chunk ? N - n0 : chunk;
    const int64_t ncp = (nc + 2 * kTokenTile - 1) / (2 * kTokenTile) * (2 * kTokenTile);
    // Activations of the chunk, K padded to whole blocks and tokens to whole tile pairs with zeros.
    for (int64_t t = 0; t < ncp; ++t) {
      int8_t* dst = xa + t * Kp;
      if (t < nc) {
        std::memcpy(dst, x + (n0 + t) * ldx, static_cast<size_t>(K));
        std::memset(dst + K, 0, static_cast<size_t>(Kp - K));
      } else {
        std::memset(dst, 0, static_cast<size_t>(Kp));
      }
    }
    int32_t* yc = y + n0 * ldy;
    for (int64_t p = p_begin; p < p_end; p += 2) {
      const bool pair = p + 1 < p_end;
      unpack_panel(packed, KB, p, wb);
      if (pair) unpack_panel(packed, KB, p + 1, wb + KB * 1024);
      const int64_t r0 = p * kAmxPanelRows, r1 = r0 + kAmxPanelRows;
      for (int64_t t = 0; t < ncp; t += 2 * kTokenTile) {
        const int8_t* a0 = xa + t * Kp;
        const int8_t* a1 = a0 + kTokenTile * Kp;
        _tile_zero(0);
        _tile_zero(2);
        if (pair) {
          _tile_zero(1);
          _tile_zero(3);
          for (int64_t b = 0; b < KB; ++b) {
            _tile_loadd(4, a0 + b * kAmxBlockK, Kp);
            _tile_loadd(6, wb + b * 1024, 64);
            _tile_loadd(7, wb + (KB + b) * 1024, 64);
            _tile_dpbssd(0, 4, 6);
            _tile_dpbssd(1, 4, 7);
            _tile_loadd(5, a1 + b * kAmxBlockK, Kp);
            _tile_dpbssd(2, 5, 6);
            _tile_dpbssd(3, 5, 7);
          }
          store_tile(1, yc, ldy, t, nc, r1, m0, m1);
          store_tile(3, yc, ldy, t + kTokenTile, nc, r1, m0, m1);
        } else {
          for (int64_t b = 0; b < KB; ++b) {
            _tile_loadd(4, a0 + b * kAmxBlockK, Kp);
            _tile_loadd(6, wb + b * 1024, 64);
            _tile_dpbssd(0, 4, 6);
            _tile_loadd(5, a1 + b * kAmxBlockK, Kp);
            _tile_dpbssd(2, 5, 6);
          }
        }
        store_tile(0, yc, ldy, t, nc, r0, m0, m1);
        store_tile(2, yc, ldy, t + kTokenTile, nc, r0, m0, m1);
      }
    }
  }
  _tile_release();  // the OS then need not save 8 KB of tile state on every context switch
}

}  // namespace

const TernaryMatmul kAmxInt8 = {"amx_int8", 2 * static_cast<int>(kAmxPanelRows), amx_packed_bytes, amx_pack,
                                matmul};

}  // namespace bitnet::kernels::detail
