#include "runtime/bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "dense.h"
#include "runtime/thread_pool.h"
#include "util/error.h"

namespace bitnet {
namespace {

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

}  // namespace

struct ReadBandwidthProbe::State {
  int n_threads = 1;
  uint64_t slice = 0, total = 0;
  std::unique_ptr<uint8_t, FreeDeleter> buf;
  ThreadPool pool;
  explicit State(int threads) : n_threads(threads), pool(threads) {}
};

ReadBandwidthProbe::ReadBandwidthProbe(int n_threads, uint64_t buffer_bytes)
    : state_(std::make_unique<State>(std::max(1, n_threads))) {
  State& st = *state_;
  constexpr uint64_t kPage = 4096, kHuge = uint64_t(2) << 20;
  st.slice = buffer_bytes / uint64_t(st.n_threads) / kPage * kPage;
  if (st.slice == 0) fail("bandwidth: buffer of {} bytes is too small for {} threads", buffer_bytes, st.n_threads);
  st.total = st.slice * uint64_t(st.n_threads);
  const uint64_t alloc = (st.total + kHuge - 1) / kHuge * kHuge;  // aligned_alloc wants a multiple
  st.buf.reset(static_cast<uint8_t*>(std::aligned_alloc(kHuge, alloc)));
  if (!st.buf) fail("bandwidth: cannot allocate {} bytes", alloc);
#ifdef MADV_HUGEPAGE
  // Huge pages keep TLB misses out of the figure. (The weights are on 4 KB pages; madvising them
  // too changed nothing measurable in lmhead/*/N:1 on Zen 5, 3 alternated rounds.)
  madvise(st.buf.get(), alloc, MADV_HUGEPAGE);
#endif
  // Each thread first-touches the slice it will read, so pages live where they are read.
  st.pool.parallel_for(st.n_threads, [&](int64_t t, int) {
    std::memset(st.buf.get() + uint64_t(t) * st.slice, int(t + 1), st.slice);
  });
}

ReadBandwidthProbe::~ReadBandwidthProbe() = default;

BandwidthResult ReadBandwidthProbe::measure(int runs) {
  State& st = *state_;
  runs = std::max(1, runs);
  // The widest loads this CPU has (dense kernels' byte_sum): the figure is a ceiling the kernels
  // are held to, so it must not be what a narrow loop happens to reach.
  const auto byte_sum = kernels::dense_kernels().byte_sum;
  BandwidthResult r;
  r.buffer_bytes = st.total;
  r.n_threads = st.n_threads;
  r.runs = runs;
  std::atomic<uint64_t> sink{0};
  for (int run = 0; run < runs; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    st.pool.parallel_for(st.n_threads, [&](int64_t t, int) {
      sink.fetch_add(byte_sum(st.buf.get() + uint64_t(t) * st.slice, st.slice), std::memory_order_relaxed);
    });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.samples.push_back(double(st.total) / std::max(secs, 1e-9));
  }
  // The sums depend on every byte; checking them keeps the reads from being optimised away.
  if (sink.load() == 0) fail("bandwidth: internal error (empty sum)");
  r.bytes_per_second = *std::max_element(r.samples.begin(), r.samples.end());
  double sum = 0;
  for (double s : r.samples) sum += s;
  r.mean_bytes_per_second = sum / double(r.samples.size());
  return r;
}

BandwidthResult measure_read_bandwidth(int n_threads, uint64_t buffer_bytes, int runs) {
  return ReadBandwidthProbe(n_threads, buffer_bytes).measure(runs);
}

}  // namespace bitnet
