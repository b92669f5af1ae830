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

BandwidthResult measure_read_bandwidth(int n_threads, uint64_t buffer_bytes, int runs) {
  n_threads = std::max(1, n_threads);
  runs = std::max(1, runs);
  constexpr uint64_t kPage = 4096, kHuge = uint64_t(2) << 20;
  const uint64_t slice = buffer_bytes / uint64_t(n_threads) / kPage * kPage;
  if (slice == 0) fail("bandwidth: buffer of {} bytes is too small for {} threads", buffer_bytes, n_threads);
  const uint64_t total = slice * uint64_t(n_threads);
  const uint64_t alloc = (total + kHuge - 1) / kHuge * kHuge;  // aligned_alloc wants a multiple
  std::unique_ptr<uint8_t, FreeDeleter> buf(static_cast<uint8_t*>(std::aligned_alloc(kHuge, alloc)));
  if (!buf) fail("bandwidth: cannot allocate {} bytes", alloc);
#ifdef MADV_HUGEPAGE
  // Model weights are large allocations too; huge pages keep TLB misses out of the figure.
  madvise(buf.get(), alloc, MADV_HUGEPAGE);
#endif

  ThreadPool pool(n_threads);
  // Each thread first-touches the slice it will read, so pages live where they are read.
  pool.parallel_for(n_threads, [&](int64_t t, int) { std::memset(buf.get() + uint64_t(t) * slice, int(t + 1), slice); });

  // The widest loads this CPU has (dense kernels' byte_sum): the figure is a ceiling the kernels
  // are held to, so it must not be what a narrow loop happens to reach.
  const auto byte_sum = kernels::dense_kernels().byte_sum;
  BandwidthResult r;
  r.buffer_bytes = total;
  r.n_threads = n_threads;
  r.runs = runs;
  std::atomic<uint64_t> sink{0};
  for (int run = 0; run < runs; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(n_threads, [&](int64_t t, int) {
      sink.fetch_add(byte_sum(buf.get() + uint64_t(t) * slice, slice), std::memory_order_relaxed);
    });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.samples.push_back(double(total) / std::max(secs, 1e-9));
  }
  // The sums depend on every byte; checking them keeps the reads from being optimised away.
  if (sink.load() == 0) fail("bandwidth: internal error (empty sum)");
  r.bytes_per_second = *std::max_element(r.samples.begin(), r.samples.end());
  double sum = 0;
  for (double s : r.samples) sum += s;
  r.mean_bytes_per_second = sum / double(r.samples.size());
  return r;
}

}  // namespace bitnet
