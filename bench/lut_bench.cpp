// LUT vs multiply-add ternary matmul on the 2B-4T shapes (issue 5: LUT kernels must win somewhere
// measurable or be explained).
//
//   lut/<kernel>/<M>x<K>/N:<n>/rows:<full|graph>/threads:<t>
//     kernel  mad_avx2, mad_avx512vnni, mad_avx512bw (the multiply-add kernels), lut16_avx2,
//             lut_avx512, amx_int8 (every supported non-scalar variant)
//     rows    full: one call per thread covers all its rows; graph: calls of the row count the graph
//             executor hands out (max(64, M/(8*threads)) rounded to the kernel's row tile), which
//             matters for LUT kernels because each call builds its own activation tables.
//     GOPS    2*M*K*N / time;  GB/s  packed weight bytes / time (N=1 is DRAM-bound). Time is the
//             calling thread's CPU time at threads:1 and wall time otherwise.
// Weights rotate through copies totalling > 3x the last-level cache (cold, as in decode).
// Run: build/bench/bitnet_bench_lut --benchmark_filter='N:128'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "amx.h"
#include "kernels.h"
#include "lut.h"
#include "runtime/thread_pool.h"
#include "util/aligned_buffer.h"

namespace {

using namespace bitnet::kernels;

const size_t kColdBytes = std::getenv("BITNET_BENCH_COLD_MB")
                              ? std::strtoull(std::getenv("BITNET_BENCH_COLD_MB"), nullptr, 10) << 20
                              : size_t{1024} << 20;  // above the last-level cache (260 MB on the CI host)

struct Shape {
  int64_t M, K;
  const char* what;
};
constexpr Shape kShapes[] = {
    {2560, 2560, "attn_q/o"}, {640, 2560, "attn_k/v"}, {6912, 2560, "ffn_gate/up"}, {2560, 6912, "ffn_down"}};

std::vector<int8_t> random_vals(int64_t n, unsigned seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

// As Context::ternary_linear's rows_per_task.
int64_t graph_rows(int64_t rows, int row_tile, int threads) {
  int64_t target = std::max<int64_t>(64, rows / (int64_t(threads) * 8));
  target = (target + row_tile - 1) / row_tile * row_tile;
  return std::min(target, rows);
}

void bm_matmul(benchmark::State& state, const TernaryMatmul* mm, Shape shape, int64_t N, bool graph,
               int threads) {
  const int64_t M = shape.M, K = shape.K;
  const size_t bytes = mm->packed_bytes(M, K);
  const size_t stride = (bytes + 4095) / 4096 * 4096;
  // Prefill is compute-bound: one copy is enough and keeps the benchmark's memory small.
  const size_t copies = N == 1 ? std::max<size_t>(2, kColdBytes / stride + 1) : 1;
  bitnet::AlignedBuffer<uint8_t> packed(stride * copies);
  {
    const auto w = random_vals(M * K, 1, -1, 1);
    mm->pack(w.data(), M, K, packed.data());
    for (size_t c = 1; c < copies; ++c) std::memcpy(packed.data() + c * stride, packed.data(), bytes);
  }
  const auto x = random_vals(N * K, 2, -128, 127);
  std::vector<int32_t> y(static_cast<size_t>(N * M));
  bitnet::ThreadPool pool(threads);
  const int64_t chunk =
      graph ? graph_rows(M, mm->row_tile, threads) : (M + threads - 1) / threads;
  const int64_t tasks = (M + chunk - 1) / chunk;
  size_t c = 0;
  for (auto _ : state) {
    const uint8_t* w = packed.data() + c * stride;
    c = c + 1 == copies ? 0 : c + 1;
    pool.parallel_for(tasks, [&](int64_t task, int) {
      const int64_t m0 = task * chunk, m1 = std::min(M, m0 + chunk);
      mm->matmul(w, M, K, m0, m1, x.data(), K, N, y.data(), M);
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(it * static_cast<double>(bytes) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GOPS"] = benchmark::Counter(it * 2.0 * static_cast<double>(M * K * N) * 1e-9,
                                              benchmark::Counter::kIsRate);
  state.counters["rows/call"] = static_cast<double>(chunk);
  state.SetLabel(std::string(mm->name) + " " + shape.what);
}

const bool registered = [] {
  std::vector<const TernaryMatmul*> mms;
  for (const KernelVariant& v : kernel_variants())
    if (v.supported && v.isa != Isa::Scalar) mms.push_back(&v.set->matmul);
  for (const LutVariant& v : lut_variants())
    if (v.supported && v.isa != Isa::Scalar) mms.push_back(v.matmul);
  for (const AmxVariant& v : amx_variants())
    if (v.supported && std::string(v.name) != "scalar") mms.push_back(v.matmul);
  const int threads_list[] = {1, 2};
  for (int threads : threads_list) {
    for (int64_t N : {1, 8, 128}) {
      for (const Shape& s : kShapes) {
        for (bool graph : {false, true}) {
          for (const TernaryMatmul* mm : mms) {
            const std::string name = std::string("lut/") + mm->name + "/" + std::to_string(s.M) + "x" +
                                     std::to_string(s.K) + "/N:" + std::to_string(N) +
                                     "/rows:" + (graph ? "graph" : "full") +
                                     "/threads:" + std::to_string(threads);
            auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_matmul, mm, s, N, graph, threads)
                          ->Unit(benchmark::kMicrosecond);
            // One thread: rates from CPU time, which other load on this shared machine does not
            // inflate; several threads need wall time.
            if (threads > 1) b->UseRealTime();
          }
        }
      }
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
