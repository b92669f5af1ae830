// Ternary matmul and quantizer throughput per kernel variant on the real BitNet b1.58 2B-4T shapes.
//
//   matmul/<variant>/<M>x<K>/N:<n>/threads:<t>
//     GB/s  packed weight bytes streamed per second (decode, N=1, is bandwidth-bound)
//     GOPS  2*M*K*N integer ops per second (prefill, N=128, is compute-bound)
// Weights rotate through copies totalling > 3x the last-level cache, so every iteration reads its
// weights from memory (cold), as decode does. Run: build/bench/bitnet_bench_kernels
//   --benchmark_filter='matmul/avx512vnni' etc.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "runtime/thread_pool.h"
#include "util/aligned_buffer.h"

namespace {

using namespace bitnet::kernels;

const size_t kColdBytes = std::getenv("BITNET_BENCH_COLD_MB") ? std::strtoull(std::getenv("BITNET_BENCH_COLD_MB"), nullptr, 10) << 20 : size_t{1024} << 20;  // well above the last-level cache (260 MB on the CI host)

struct Shape {
  int64_t M, K;
  const char* what;
};
constexpr Shape kShapes[] = {
    {2560, 2560, "attn_q/o"}, {640, 2560, "attn_k/v"}, {6912, 2560, "ffn_gate/up"}, {2560, 6912, "ffn_down"}};

std::vector<int8_t> random_ternary(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-1, 1);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<int8_t> random_i8(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

void bm_matmul(benchmark::State& state, const KernelSet* ks, Shape shape, int64_t N, int threads) {
  const TernaryMatmul& mm = ks->matmul;
  const int64_t M = shape.M, K = shape.K;
  const size_t bytes = mm.packed_bytes(M, K);
  const size_t stride = (bytes + 4095) / 4096 * 4096;
  const size_t copies = std::max<size_t>(2, kColdBytes / stride + 1);
  bitnet::AlignedBuffer<uint8_t> packed(stride * copies);
  {
    const auto w = random_ternary(M * K, 1);
    mm.pack(w.data(), M, K, packed.data());
    for (size_t c = 1; c < copies; ++c) std::memcpy(packed.data() + c * stride, packed.data(), bytes);
  }
  const auto x = random_i8(N * K, 2);
  std::vector<int32_t> y(static_cast<size_t>(N * M));
  bitnet::ThreadPool pool(threads);
  const int64_t tile = mm.row_tile;
  const int64_t tiles = (M + tile - 1) / tile;
  const int64_t tasks = std::min<int64_t>(tiles, threads * 4);
  size_t c = 0;
  for (auto _ : state) {
    const uint8_t* w = packed.data() + c * stride;
    c = c + 1 == copies ? 0 : c + 1;
    pool.parallel_for(tasks, [&](int64_t task, int) {
      const int64_t m0 = tiles * task / tasks * tile;
      const int64_t m1 = std::min(M, tiles * (task + 1) / tasks * tile);
      mm.matmul(w, M, K, m0, m1, x.data(), K, N, y.data(), M);
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(it * static_cast<double>(bytes) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GOPS"] = benchmark::Counter(it * 2.0 * static_cast<double>(M * K * N) * 1e-9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(std::string(mm.name) + " " + shape.what);
}

void bm_quantize(benchmark::State& state, const KernelSet* ks, int64_t K) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(K));
  for (auto& v : x) v = d(rng);
  std::vector<int8_t> q(static_cast<size_t>(K));
  for (auto _ : state) {
    benchmark::DoNotOptimize(ks->quantize_i8(x.data(), K, q.data()));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * K * static_cast<int64_t>(sizeof(float)));
  state.SetLabel(ks->quantize_name);
}

const bool registered = [] {
  for (const KernelVariant& v : kernel_variants()) {
    if (!v.supported) continue;
    for (const Shape& s : kShapes) {
      for (int64_t N : {1, 128}) {
        for (int threads : {1, 2}) {
          if (N == 128 && threads == 2 && v.isa == Isa::Scalar) continue;
          const std::string name = std::string("matmul/") + v.name + "/" + std::to_string(s.M) + "x" +
                                   std::to_string(s.K) + "/N:" + std::to_string(N) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bm_matmul, v.set, s, N, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        }
      }
    }
    for (int64_t K : {2560, 6912}) {
      const std::string name = std::string("quantize/") + v.name + "/K:" + std::to_string(K);
      benchmark::RegisterBenchmark(name.c_str(), bm_quantize, v.set, K);
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
