// Sparse ternary kernels against the dense kernel on the BitNet b1.58 2B-4T shapes, N=1 (decode),
// weights colder than the last-level cache (copies rotating through 1 GiB, as kernels_bench.cpp).
//
//   sparse/<variant>/<what>/<M>x<K>/zero:<pct>/threads:<t>
//     up    (6912x2560): row-subset matmul over the (100-pct)% rows whose gate is non-zero
//     down  (2560x6912), o_proj (2560x2560): column-sparse matvec over the (100-pct)% non-zero inputs
//   dense/<variant>/<M>x<K>/threads:<t>: the active dense kernel (kernels().matmul), same conditions
// Each sparse iteration also runs the dense kernel (kernels().matmul, its own cold copies) right
// before, timed separately, so both see the same machine load; the reported time is the sparse
// call's. Counters: speedup = dense time / sparse time, of_ideal = speedup * (1 - zero fraction),
// i.e. the fraction of the ideal 1/(1-sparsity) reached (issue 7.7a asks >= 0.8); dense_us = the
// dense kernel's mean time. Positions of zeros are uniform random.
// read_of_ideal: the same fraction for a plain read (one load per cache line, no arithmetic) of the
// rows or columns the sparse call reads, against a plain read of all of them, timed in the same
// iteration. It is the memory system's own ceiling for skipping scattered 640-byte pieces: the
// hardware prefetchers fetch ahead past a piece whether or not the next one is wanted.
// Run: build/bench/bitnet_bench_sparse --benchmark_filter=... (BITNET_BENCH_COLD_MB to change the
// rotation size).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "runtime/thread_pool.h"
#include "sparse.h"
#include "util/aligned_buffer.h"

namespace {

using namespace bitnet::kernels;

const size_t kColdBytes = std::getenv("BITNET_BENCH_COLD_MB")
                              ? std::strtoull(std::getenv("BITNET_BENCH_COLD_MB"), nullptr, 10) << 20
                              : size_t{1024} << 20;  // above the last-level cache (260 MB on the CI host)

enum class Kind { Rows, Cols };
struct Shape {
  int64_t M, K;
  const char* what;
  Kind kind;
};
constexpr Shape kShapes[] = {{6912, 2560, "up", Kind::Rows},
                             {2560, 6912, "down", Kind::Cols},
                             {2560, 2560, "o_proj", Kind::Cols}};

std::vector<int8_t> random_ternary(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-1, 1);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

// Exactly round(n * zero) entries are zero, at random positions; the others are non-zero int8.
std::vector<int8_t> sparse_input(int64_t n, double zero, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(1, 127);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<int8_t>((rng() & 1) ? d(rng) : -d(rng));
  std::vector<size_t> pos(static_cast<size_t>(n));
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = i;
  std::shuffle(pos.begin(), pos.end(), rng);
  const size_t nz = static_cast<size_t>(static_cast<double>(n) * zero + 0.5);
  for (size_t i = 0; i < nz; ++i) v[pos[i]] = 0;
  return v;
}

// Packed copies rotating through kColdBytes.
struct Cold {
  bitnet::AlignedBuffer<uint8_t> buf;
  size_t stride = 0, copies = 0, bytes = 0, next = 0;
  template <class PackFn>
  Cold(size_t packed_bytes, PackFn pack) : bytes(packed_bytes) {
    stride = (bytes + 4095) / 4096 * 4096;
    copies = std::max<size_t>(2, kColdBytes / stride + 1);
    buf.resize(stride * copies);
    pack(buf.data());
    for (size_t c = 1; c < copies; ++c) std::memcpy(buf.data() + c * stride, buf.data(), bytes);
  }
  const uint8_t* take() {
    const uint8_t* p = buf.data() + next * stride;
    next = next + 1 == copies ? 0 : next + 1;
    return p;
  }
};

// Bytes of one row (row layout) or column (column layout): both layouts store `count` pieces of
// equal, 64-byte-aligned size back to back.
int64_t pad_bytes_per_piece(size_t packed_bytes, int64_t count) {
  return static_cast<int64_t>(packed_bytes) / count / 64 * 64;
}

// One dense N=1 matmul over all rows, split into row tiles across the pool.
void dense_once(const TernaryMatmul& mm, bitnet::ThreadPool& pool, int threads, const uint8_t* w, int64_t M,
                int64_t K, const int8_t* x, int32_t* y) {
  const int64_t tile = mm.row_tile, tiles = (M + tile - 1) / tile;
  const int64_t tasks = std::min<int64_t>(tiles, threads);
  pool.parallel_for(tasks, [&](int64_t t, int) {
    const int64_t m0 = tiles * t / tasks * tile, m1 = std::min(M, tiles * (t + 1) / tasks * tile);
    mm.matmul(w, M, K, m0, m1, x, K, 1, y, M);
  });
}

// Touches every cache line of the listed pieces (piece i at base + list[i] * bytes), split across
// the pool; each thread walks its share as 4 interleaved runs, like the sparse row kernel.
void read_pieces(bitnet::ThreadPool& pool, int threads, const uint8_t* base, const int32_t* list, int64_t n,
                 int64_t bytes, uint64_t* sink) {
  pool.parallel_for(threads, [&](int64_t t, int) {
    const int64_t i0 = n * t / threads, i1 = n * (t + 1) / threads, part = (i1 - i0) / 4;
    uint64_t sum = 0;
    for (int64_t i = 0; i < part; ++i)
      for (int64_t s = 0; s < 4; ++s) {
        const uint8_t* p = base + int64_t(list[i0 + s * part + i]) * bytes;
        for (int64_t off = 0; off < bytes; off += 64) sum += *reinterpret_cast<const volatile uint64_t*>(p + off);
      }
    for (int64_t i = i0 + 4 * part; i < i1; ++i)
      for (int64_t off = 0; off < bytes; off += 64)
        sum += *reinterpret_cast<const volatile uint64_t*>(base + int64_t(list[i]) * bytes + off);
    sink[t] = sum;
  });
}

template <class Fn>
double timed(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  benchmark::ClobberMemory();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

void bm_dense(benchmark::State& state, Shape s, int threads) {
  const TernaryMatmul& mm = kernels().matmul;
  const auto w = random_ternary(s.M * s.K, 1);
  Cold cold(mm.packed_bytes(s.M, s.K), [&](uint8_t* d) { mm.pack(w.data(), s.M, s.K, d); });
  const auto x = sparse_input(s.K, 0.0, 2);
  std::vector<int32_t> y(static_cast<size_t>(s.M));
  bitnet::ThreadPool pool(threads);
  for (auto _ : state) {
    dense_once(mm, pool, threads, cold.take(), s.M, s.K, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * cold.bytes * 1e-9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(std::string(mm.name) + " " + s.what);
}

void bm_sparse(benchmark::State& state, const SparseKernelSet* ks, Shape s, double zero, int threads) {
  const auto w = random_ternary(s.M * s.K, 1);
  std::vector<int32_t> y(static_cast<size_t>(s.M));
  bitnet::ThreadPool pool(threads);
  double touched = 0;  // packed bytes a call reads
  // The dense kernel, interleaved with the sparse one.
  const TernaryMatmul& dmm = kernels().matmul;
  Cold dcold(dmm.packed_bytes(s.M, s.K), [&](uint8_t* d) { dmm.pack(w.data(), s.M, s.K, d); });
  const auto dx = sparse_input(s.K, 0.0, 2);
  std::vector<int32_t> dy(static_cast<size_t>(s.M));
  double dense_ns = 0, sparse_ns = 0, read_all_ns = 0, read_some_ns = 0;
  uint64_t sink[8] = {};
  // Plain reads of the pieces the sparse call reads (`some`) and of all of them, on their own copies.
  std::vector<int32_t> all(static_cast<size_t>(std::max(s.M, s.K)));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
  auto read_ceiling = [&](Cold& cold, const std::vector<int32_t>& some, int64_t count, int64_t bytes) {
    const int64_t n = static_cast<int64_t>(some.size());
    read_all_ns += timed([&] { read_pieces(pool, threads, cold.take(), all.data(), count, bytes, sink); });
    read_some_ns += timed([&] { read_pieces(pool, threads, cold.take(), some.data(), n, bytes, sink); });
  };
  if (s.kind == Kind::Rows) {
    const TernaryRowSubset& r = ks->rows;
    Cold cold(r.packed_bytes(s.M, s.K), [&](uint8_t* d) { r.pack(w.data(), s.M, s.K, d); });
    // The rows that survive the gate: a (1 - zero) fraction of M, sorted.
    const auto gate = sparse_input(s.M, zero, 3);
    std::vector<int32_t> rows;
    for (int64_t m = 0; m < s.M; ++m)
      if (gate[static_cast<size_t>(m)] != 0) rows.push_back(static_cast<int32_t>(m));
    const auto x = sparse_input(s.K, 0.0, 2);
    const int64_t n = static_cast<int64_t>(rows.size());
    touched = static_cast<double>(cold.bytes) * static_cast<double>(n) / static_cast<double>(s.M);
    for (auto _ : state) {
      dense_ns += timed([&] { dense_once(dmm, pool, threads, dcold.take(), s.M, s.K, dx.data(), dy.data()); });
      const uint8_t* p = cold.take();
      const double ns = timed([&] {
        pool.parallel_for(threads, [&](int64_t t, int) {
          const int64_t i0 = n * t / threads, i1 = n * (t + 1) / threads;
          r.matmul_rows(p, s.M, s.K, rows.data() + i0, i1 - i0, x.data(), s.K, 1, y.data(), s.M);
        });
      });
      sparse_ns += ns;
      state.SetIterationTime(ns * 1e-9);
      read_ceiling(cold, rows, s.M, pad_bytes_per_piece(cold.bytes, s.M));
    }
    state.SetLabel(std::string(r.name) + " " + s.what);
  } else {
    const TernaryColSparse& c = ks->cols;
    Cold cold(c.packed_bytes(s.M, s.K), [&](uint8_t* d) { c.pack(w.data(), s.M, s.K, d); });
    const auto x = sparse_input(s.K, zero, 2);
    std::vector<int32_t> idx(static_cast<size_t>(s.K));
    std::vector<int8_t> val(static_cast<size_t>(s.K));
    const int64_t nnz = sparse_gather(x.data(), s.K, idx.data(), val.data());
    const std::vector<int32_t> cols(idx.begin(), idx.begin() + nnz);
    touched = static_cast<double>(cold.bytes) * static_cast<double>(nnz) / static_cast<double>(s.K);
    const int64_t tile = c.row_tile, tiles = (s.M + tile - 1) / tile;
    for (auto _ : state) {
      dense_ns += timed([&] { dense_once(dmm, pool, threads, dcold.take(), s.M, s.K, dx.data(), dy.data()); });
      const uint8_t* p = cold.take();
      const double ns = timed([&] {
        pool.parallel_for(threads, [&](int64_t t, int) {
          const int64_t m0 = tiles * t / threads * tile, m1 = std::min(s.M, tiles * (t + 1) / threads * tile);
          c.matvec(p, s.M, s.K, m0, m1, idx.data(), val.data(), nnz, y.data());
        });
      });
      sparse_ns += ns;
      state.SetIterationTime(ns * 1e-9);
      read_ceiling(cold, cols, s.K, pad_bytes_per_piece(cold.bytes, s.K));
    }
    state.SetLabel(std::string(c.name) + " " + s.what);
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * touched * 1e-9,
                                              benchmark::Counter::kIsRate);
  const double it = static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["dense_us"] = dense_ns / it * 1e-3;
  state.counters["speedup"] = sparse_ns > 0 ? dense_ns / sparse_ns : 0;
  state.counters["of_ideal"] = sparse_ns > 0 ? dense_ns / sparse_ns * (1.0 - zero) : 0;
  state.counters["read_of_ideal"] = read_some_ns > 0 ? read_all_ns / read_some_ns * (1.0 - zero) : 0;
}

void bm_gather(benchmark::State& state, int64_t K, double zero) {
  const auto x = sparse_input(K, zero, 2);
  std::vector<int32_t> idx(static_cast<size_t>(K));
  std::vector<int8_t> val(static_cast<size_t>(K));
  for (auto _ : state) benchmark::DoNotOptimize(sparse_gather(x.data(), K, idx.data(), val.data()));
}

const bool registered = [] {
  for (int threads : {1, 2}) {
    for (const Shape& s : kShapes) {
      const std::string dims = std::to_string(s.M) + "x" + std::to_string(s.K);
      benchmark::RegisterBenchmark(("dense/" + std::string(isa_name(kernels().isa)) + "/" + s.what + "/" + dims +
                                    "/threads:" + std::to_string(threads)).c_str(),
                                   bm_dense, s, threads)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
      for (const SparseKernelVariant& v : sparse_kernel_variants()) {
        if (!v.supported || v.isa == Isa::Scalar) continue;
        for (int pct : {0, 50, 70, 85}) {
          const std::string name = std::string("sparse/") + v.name + "/" + s.what + "/" + dims +
                                   "/zero:" + std::to_string(pct) + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bm_sparse, v.set, s, pct / 100.0, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseManualTime();
        }
      }
    }
  }
  for (int64_t K : {2560, 6912})
    benchmark::RegisterBenchmark(("gather/K:" + std::to_string(K) + "/zero:85").c_str(), bm_gather, K, 0.85);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
