#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <vector>

namespace bitnet {
namespace {

TEST(ThreadPool, EveryTaskRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 64, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t t, int thread) {
        EXPECT_GE(thread, 0);
        EXPECT_LT(thread, threads);
        hits[size_t(t)].fetch_add(1);
      });
      for (int64_t t = 0; t < n; ++t) EXPECT_EQ(hits[size_t(t)].load(), 1) << "threads " << threads << " n " << n;
    }
  }
}

TEST(ThreadPool, ManyBackToBackRegionsSeeEarlierWrites) {
  // Decode runs hundreds of regions per token; each must observe the previous region's results.
  ThreadPool pool(4);
  std::vector<int64_t> data(256, 0);
  for (int round = 0; round < 2000; ++round) {
    pool.parallel_for(int64_t(data.size()), [&](int64_t t, int) { data[size_t(t)] += 1; });
    int64_t sum = 0;
    pool.parallel_for(1, [&](int64_t, int) { sum = std::accumulate(data.begin(), data.end(), int64_t(0)); });
    ASSERT_EQ(sum, int64_t(data.size()) * (round + 1));
  }
}

TEST(ThreadPool, DestroysCleanlyWhileIdle) {
  for (int i = 0; i < 20; ++i) {
    ThreadPool pool(3);
    pool.parallel_for(10, [](int64_t, int) {});
  }
}

}  // namespace
}  // namespace bitnet
