// The kernel dispatch table: everything the graph executes per token goes through kernels().
//
// Kernels know nothing of GGUF or models: they see pointers, shapes and their own packed layouts.
// Weights arrive as plain ternary values and each kernel repacks them at load time into the layout
// it wants (pack); the file format stays ISA-neutral.
//
// The ISA is chosen once, at first use, from CPUID and OS support (XCR0); BITNET_ISA=scalar|avx2|
// avx512|neon (or force_isa) picks a lower level. Every SIMD kernel has a scalar twin that gives
// bit-identical integer results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::kernels {

enum class Isa : uint8_t { Scalar, Avx2, Avx512, Neon };

const char* isa_name(Isa isa);
bool parse_isa(const char* name, Isa* out);  // "scalar", "avx2", "avx512", "neon"

struct CpuInfo {
  Isa best = Isa::Scalar;  // highest level this CPU *and* OS can run
  bool avx2 = false, fma = false, f16c = false, avx512f = false, avx512bw = false,
       avx512vl = false, avx512vnni = false, avx512vbmi = false, avx_vnni = false;
  bool neon = false, neon_dotprod = false;
  // OS support (x86: XCR0 via xgetbv): whether the kernel saves YMM / ZMM+opmask state.
  bool os_avx = false, os_avx512 = false;
  // AMX tiles (Sapphire Rapids+): set only if the CPU has them, XCR0 enables them and the OS granted
  // this process the tile state (Linux arch_prctl).
  bool amx_tile = false, amx_int8 = false, os_amx = false;
  bool avx = false, avx512dq = false;
  std::string brand;  // CPU brand string where the CPU reports one ("" otherwise)
};
const CpuInfo& cpu_info();

// Ternary x int8 matrix multiply (the I2_S-style multiply-add family).
struct TernaryMatmul {
  const char* name;  // e.g. "mad_avx512_vnni"
  // Rows are handed out to threads in multiples of row_tile (except the last chunk).
  int row_tile;
  size_t (*packed_bytes)(int64_t M, int64_t K);
  // w: M rows of K values in {-1,0,+1}, row-major (other values count by their sign).
  // dst: packed_bytes(M,K) bytes, 64-byte aligned.
  void (*pack)(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);
  // y[n*ldy + m] = sum_k W[m,k] * x[n*ldx + k] for m in [m0,m1), n in [0,N). Exact int32 for
  // K < 131072 (kernels may scale codes by up to 64 before multiplying; the loader refuses wider).
  // x rows hold K int8 values (no padding requirement).
  void (*matmul)(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1,
                 const int8_t* x, int64_t ldx, int64_t N, int32_t* y, int64_t ldy);
};

struct KernelSet {
  Isa isa;
  TernaryMatmul matmul;
  // Per-token int8 absmax: s = 127 / max(max|x|, 1e-5); q = clamp(round_half_even(x*s), -128, 127).
  // Returns s. If x holds a NaN or an infinity, q is all zero and 0 is returned (no UB, no crash).
  float (*quantize_i8)(const float* x, int64_t K, int8_t* q);
  const char* quantize_name = "";  // e.g. "quant_avx512"
};

// Every kernel set compiled into this binary (one per variant: AVX-512 with and without VNNI, NEON
// with and without dotprod...). `supported`: this CPU and OS can run it. Tests and benches iterate
// over these; variants that are not supported must not be called.
struct KernelVariant {
  const char* name;  // "scalar", "avx2", "avx512bw", "avx512vnni", "neon", "neondot"
  Isa isa;
  bool supported;
  const KernelSet* set;
};
const std::vector<KernelVariant>& kernel_variants();

// The active set (dispatched once; thread-safe).
const KernelSet& kernels();
// The set for one ISA, or nullptr if it is not compiled in or this CPU cannot run it.
const KernelSet* kernels_for(Isa isa);
// Force a level (must be supported); used by --isa and tests. Not thread-safe with running kernels.
void force_isa(Isa isa);

}  // namespace bitnet::kernels
