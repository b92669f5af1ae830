// Dense kernels on the BitNet b1.58 2B-4T shapes.
//
//   lmhead/<variant>/<f16|i8|f32>/N:<n>/threads:<t>
//     The 128256 x 2560 tied-embedding LM head (f16 626 MB, int8 328 MB, f32 1.31 GB), every call
//     streaming the whole matrix: it is 10-40x this machine's 32 MB L3, so each iteration reads it
//     from DRAM (cold), as decode does.
//     GB/s    weight bytes (plus int8 row scales) per second
//     Mrows/s rows per second;  ms/token = time per call / N
//     The int8 rows include quantising the activations with KernelSet::quantize_i8.
//   lmhead/graph/f32/...  the current graph's loop (ops::dot_f32 over an f32 copy), for comparison
//   lmhead_prepare/i8_from_f16  load-time cost of quantize_rows_i8_f16 over the whole head
//   ops/<variant>/...  RMSNorm, softmax, attention scores / weighted V sum; ops/graph/... are the
//     current plain C++ versions in src/graph/ops.cpp for comparison.
// Run: build/bench/bitnet_bench_dense --benchmark_filter='lmhead/avx512vnni'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dense.h"
#include "format/half.h"
#include "graph/ops.h"
#include "runtime/thread_pool.h"
#include "util/aligned_buffer.h"

namespace {

using namespace bitnet::kernels;

constexpr int64_t kVocab = 128256, kEmbd = 2560;

// Cheap deterministic values in about [-0.1, 0.1] (mt19937 over 328M values would take seconds).
struct Lcg {
  uint64_t s;
  float next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return float(int32_t(s >> 32)) * (0.1f / 2147483648.0f);
  }
};

// Each format is built once, on first use, and kept for the process.
const bitnet::AlignedBuffer<uint16_t>& head_f16() {
  static const auto buf = [] {
    auto b = std::make_unique<bitnet::AlignedBuffer<uint16_t>>(size_t(kVocab * kEmbd));
    Lcg g{1};
    for (size_t i = 0; i < b->size(); ++i) (*b)[i] = bitnet::f32_to_f16(g.next());
    return b;
  }();
  return *buf;
}

const bitnet::AlignedBuffer<float>& head_f32() {
  static const auto buf = [] {
    auto b = std::make_unique<bitnet::AlignedBuffer<float>>(size_t(kVocab * kEmbd));
    Lcg g{1};
    for (size_t i = 0; i < b->size(); ++i) (*b)[i] = g.next();
    return b;
  }();
  return *buf;
}

struct HeadI8 {
  bitnet::AlignedBuffer<int8_t> q;
  std::vector<float> scale;
};
const HeadI8& head_i8() {
  static const auto h = [] {
    auto p = std::make_unique<HeadI8>();
    p->q.resize(size_t(kVocab * kEmbd));
    p->scale.resize(size_t(kVocab));
    quantize_rows_i8_f16(head_f16().data(), kEmbd, kVocab, kEmbd, p->q.data(), kEmbd, p->scale.data());
    return p;
  }();
  return *h;
}

enum class Fmt { F16, I8, F32 };
const char* fmt_name(Fmt f) { return f == Fmt::F16 ? "f16" : f == Fmt::I8 ? "i8" : "f32"; }
double fmt_bytes(Fmt f) {
  const double n = double(kVocab) * double(kEmbd);
  return f == Fmt::F16 ? 2 * n : f == Fmt::I8 ? n + 4.0 * kVocab : 4 * n;
}

void bm_lmhead(benchmark::State& state, const DenseKernelSet* ds, Fmt fmt, int64_t N, int threads) {
  // Build the matrix before timing.
  if (fmt == Fmt::F16) head_f16();
  if (fmt == Fmt::F32) head_f32();
  if (fmt == Fmt::I8) head_i8();
  std::vector<float> x(static_cast<size_t>(N * kEmbd)), y(static_cast<size_t>(N * kVocab));
  Lcg g{7};
  for (auto& v : x) v = g.next() * 30.f;
  std::vector<int8_t> xq(x.size());
  std::vector<float> xs(static_cast<size_t>(N));
  const KernelSet& ks = kernels();
  bitnet::ThreadPool pool(threads);
  constexpr int64_t kRowStep = 16;
  const int64_t tasks = threads * 8;
  auto range = [&](int64_t t, int64_t* r0, int64_t* r1) {
    const int64_t steps = (kVocab + kRowStep - 1) / kRowStep;
    *r0 = steps * t / tasks * kRowStep;
    *r1 = std::min(kVocab, steps * (t + 1) / tasks * kRowStep);
  };
  for (auto _ : state) {
    if (fmt == Fmt::I8)
      for (int64_t n = 0; n < N; ++n) xs[size_t(n)] = ks.quantize_i8(x.data() + n * kEmbd, kEmbd, xq.data() + n * kEmbd);
    pool.parallel_for(tasks, [&](int64_t t, int) {
      int64_t r0, r1;
      range(t, &r0, &r1);
      switch (fmt) {
        case Fmt::F16:
          ds->gemm_f16(head_f16().data(), kEmbd, kEmbd, r0, r1, x.data(), kEmbd, N, y.data(), kVocab);
          break;
        case Fmt::F32:
          if (!ds) {  // today's src/graph/context.cpp lm_head: ops::dot_f32 per row and token
            const float* w = head_f32().data();
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t n = 0; n < N; ++n)
                y[size_t(n * kVocab + r)] = bitnet::ops::dot_f32(x.data() + n * kEmbd, w + r * kEmbd, kEmbd);
            break;
          }
          ds->gemm_f32(head_f32().data(), kEmbd, kEmbd, r0, r1, x.data(), kEmbd, N, y.data(), kVocab);
          break;
        case Fmt::I8:
          ds->gemm_i8(head_i8().q.data(), kEmbd, head_i8().scale.data(), kEmbd, r0, r1, xq.data(), kEmbd, xs.data(),
                      N, y.data(), kVocab);
          break;
      }
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double it = double(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(it * fmt_bytes(fmt) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["Mrows/s"] = benchmark::Counter(it * double(kVocab) * 1e-6, benchmark::Counter::kIsRate);
  state.counters["ms/token"] =
      benchmark::Counter(it * double(N) * 1e-3, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(ds ? ds->name : "graph ops::dot_f32");
}

void bm_prepare_i8(benchmark::State& state) {
  const auto& src = head_f16();
  bitnet::AlignedBuffer<int8_t> q(size_t(kVocab * kEmbd));
  std::vector<float> s(static_cast<size_t>(kVocab));
  for (auto _ : state) {
    quantize_rows_i8_f16(src.data(), kEmbd, kVocab, kEmbd, q.data(), kEmbd, s.data());
    benchmark::ClobberMemory();
  }
}

// ---- float ops ----

std::vector<float> values(int64_t n, uint64_t seed, float mul) {
  Lcg g{seed};
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = g.next() * mul;
  return v;
}

void bm_rms(benchmark::State& state, const DenseKernelSet* ds, int64_t n) {
  const auto x = values(n, 1, 10.f), w = values(n, 2, 10.f);
  std::vector<float> y(static_cast<size_t>(n));
  for (auto _ : state) {
    if (ds) ds->rms_norm(x.data(), w.data(), n, 1e-5f, y.data());
    else bitnet::ops::rms_norm(x.data(), w.data(), n, 1e-5f, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void bm_softmax(benchmark::State& state, const DenseKernelSet* ds, int64_t n) {
  const auto x0 = values(n, 3, 100.f);
  std::vector<float> x(x0);
  for (auto _ : state) {
    std::memcpy(x.data(), x0.data(), x.size() * 4);
    if (ds) ds->softmax(x.data(), n);
    else bitnet::ops::softmax(x.data(), n);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// One query head over n_pos cached positions of 2B-4T's layout (5 kv heads of 128, K and V
// interleaved per position: stride 2*5*128 floats).
constexpr int64_t kHd = 128, kLdKv = 2 * 5 * 128;

void bm_attn(benchmark::State& state, const DenseKernelSet* ds, int64_t n_pos) {
  const auto kv = values(n_pos * kLdKv, 4, 10.f), q = values(kHd, 5, 10.f);
  std::vector<float> s(static_cast<size_t>(n_pos)), out(static_cast<size_t>(kHd));
  const float scale = 0.08838835f;
  for (auto _ : state) {
    if (ds) {
      ds->attn_scores(q.data(), kv.data(), kLdKv, n_pos, kHd, scale, s.data());
      ds->softmax(s.data(), n_pos);
      ds->attn_values(s.data(), kv.data() + kHd * 5, kLdKv, n_pos, kHd, out.data());
    } else {  // what src/graph/context.cpp does today with an f32 cache
      for (int64_t j = 0; j < n_pos; ++j) s[size_t(j)] = bitnet::ops::dot_f32(q.data(), kv.data() + j * kLdKv, kHd) * scale;
      bitnet::ops::softmax(s.data(), n_pos);
      std::fill(out.begin(), out.end(), 0.0f);
      for (int64_t j = 0; j < n_pos; ++j) {
        const float* v = kv.data() + j * kLdKv + kHd * 5;
        for (int64_t i = 0; i < kHd; ++i) out[size_t(i)] += s[size_t(j)] * v[i];
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n_pos);
}

const bool registered = [] {
  for (const DenseKernelVariant& v : dense_kernel_variants()) {
    if (!v.supported) continue;
    for (Fmt f : {Fmt::F16, Fmt::I8, Fmt::F32}) {
      for (int64_t N : {1, 4, 8}) {
        for (int threads : {1, 2}) {
          if (v.isa == Isa::Scalar && (N > 1 || threads > 1)) continue;
          const std::string name = std::string("lmhead/") + v.name + "/" + fmt_name(f) + "/N:" + std::to_string(N) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bm_lmhead, v.set, f, N, threads)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime()
              ->MinTime(1.0);
        }
      }
    }
  }
  for (int threads : {1, 2})
    benchmark::RegisterBenchmark(("lmhead/graph/f32/N:1/threads:" + std::to_string(threads)).c_str(), bm_lmhead,
                                 nullptr, Fmt::F32, int64_t{1}, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(1.0);
  benchmark::RegisterBenchmark("lmhead_prepare/i8_from_f16", bm_prepare_i8)->Unit(benchmark::kMillisecond)->Iterations(2);
  std::vector<std::pair<std::string, const DenseKernelSet*>> sets = {{"graph", nullptr}};
  for (const DenseKernelVariant& v : dense_kernel_variants())
    if (v.supported && std::string(v.name) != "avx512vnni" && std::string(v.name) != "neondot") sets.push_back({v.name, v.set});
  for (const auto& [name, ds] : sets) {
    benchmark::RegisterBenchmark(("ops/" + name + "/rms_norm/2560").c_str(), bm_rms, ds, int64_t{2560});
    benchmark::RegisterBenchmark(("ops/" + name + "/softmax/4096").c_str(), bm_softmax, ds, int64_t{4096});
    for (int64_t n_pos : {256, 4096})
      benchmark::RegisterBenchmark(("ops/" + name + "/attention_head/n_pos:" + std::to_string(n_pos)).c_str(), bm_attn,
                                   ds, n_pos);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
