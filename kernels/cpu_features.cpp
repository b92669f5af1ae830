// CPU feature detection. A feature counts only if the CPU reports it *and* the OS saves the register
// state it needs (XCR0 on x86); otherwise the first AVX instruction would fault.
#include <cstring>

#include "kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace bitnet::kernels {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf) {
  Regs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

// xgetbv as raw bytes: the intrinsic would need -mxsave, and this file must stay baseline x86-64.
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(unsigned v, int n) { return (v >> n) & 1u; }

// Linux hands out the 8 KB AMX tile state only to processes that ask for it once
// (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA, kernel 5.16+); without it the first tile
// instruction faults. Threads started later inherit the permission.
bool request_amx_permission() {
#if defined(__linux__) && defined(SYS_arch_prctl)
  constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuInfo detect() {
  CpuInfo info;
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1) return info;
  const Regs l1 = cpuid(1, 0);
  const bool osxsave = bit(l1.c, 27);
  info.avx = bit(l1.c, 28);
  info.fma = bit(l1.c, 12);
  info.f16c = bit(l1.c, 29);
  if (osxsave) {
    const uint64_t xcr0 = read_xcr0();
    info.os_avx = (xcr0 & 0x6) == 0x6;            // XMM + YMM state
    info.os_avx512 = (xcr0 & 0xE6) == 0xE6;       // + opmask, ZMM_Hi256, Hi16_ZMM
    info.os_amx = (xcr0 & 0x60000) == 0x60000;    // XTILECFG + XTILEDATA
  }
  if (max_leaf >= 7) {
    const Regs l7 = cpuid(7, 0);
    info.avx2 = bit(l7.b, 5);
    info.avx512f = bit(l7.b, 16);
    info.avx512dq = bit(l7.b, 17);
    info.avx512bw = bit(l7.b, 30);
    info.avx512vl = bit(l7.b, 31);
    info.avx512vbmi = bit(l7.c, 1);
    info.avx512vnni = bit(l7.c, 11);
    if (l7.a >= 1) info.avx_vnni = bit(cpuid(7, 1).a, 4);
    info.amx_tile = bit(l7.d, 24);
    info.amx_int8 = bit(l7.d, 25);
  }
  // Features whose state the OS does not save are unusable: report them as absent.
  if (!info.os_avx) {
    info.avx = info.avx2 = info.fma = info.f16c = info.avx_vnni = false;
  }
  if (!info.os_avx512) {
    info.os_amx = false;
    info.avx512f = info.avx512dq = info.avx512bw = info.avx512vl = info.avx512vbmi =
        info.avx512vnni = false;
  }
  if (info.avx512f && info.avx512bw && info.avx512vl && info.avx512dq && info.avx2) {
    info.best = Isa::Avx512;
    // AMX is only used next to the AVX-512 kernels (its unpacking and edges are AVX-512 code).
    if (info.os_amx && info.amx_tile && info.amx_int8) info.os_amx = request_amx_permission();
  } else if (info.avx2 && info.avx) {
    info.best = Isa::Avx2;
  }
  if (info.best != Isa::Avx512 || !info.os_amx) info.os_amx = info.amx_tile = info.amx_int8 = false;
  if (__get_cpuid_max(0x80000000, nullptr) >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002 + i, 0);
      std::memcpy(brand + 16 * i + 0, &r.a, 4);
      std::memcpy(brand + 16 * i + 4, &r.b, 4);
      std::memcpy(brand + 16 * i + 8, &r.c, 4);
      std::memcpy(brand + 16 * i + 12, &r.d, 4);
    }
    info.brand = brand;
    while (!info.brand.empty() && info.brand.back() == ' ') info.brand.pop_back();
    while (!info.brand.empty() && info.brand.front() == ' ') info.brand.erase(info.brand.begin());
  }
  return info;
}

#elif defined(__aarch64__)

CpuInfo detect() {
  CpuInfo info;
  info.neon = true;  // Advanced SIMD is mandatory on AArch64
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP);
#ifdef HWCAP_ASIMDDP
  info.neon_dotprod = (hw & HWCAP_ASIMDDP) != 0;
#endif
#endif
  info.best = Isa::Neon;
  return info;
}

#else

CpuInfo detect() { return CpuInfo{}; }

#endif

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

}  // namespace bitnet::kernels
