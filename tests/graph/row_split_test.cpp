#include "graph/row_split.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>

namespace bitnet {
namespace {

// Every (rows, tile, threads, min_rows) must give non-empty tasks that tile [0, rows) in order,
// with tile-aligned boundaries: the matmul kernels write whole row tiles.
void expect_partition(int64_t rows, int64_t tile, int threads, int64_t min_rows) {
  SCOPED_TRACE(testing::Message() << "rows=" << rows << " tile=" << tile << " threads=" << threads
                                  << " min_rows=" << min_rows);
  const RowSplit split(rows, tile, threads, min_rows);
  int64_t next = 0;
  for (int64_t t = 0; t < split.tasks(); ++t) {
    const RowRange r = split.range(t);
    ASSERT_EQ(r.begin, next) << "task " << t;
    ASSERT_LT(r.begin, r.end) << "task " << t << " is empty";
    ASSERT_EQ(r.begin % tile, 0) << "task " << t;
    if (r.end != rows) {
      ASSERT_EQ(r.end % tile, 0) << "task " << t;
    }
    next = r.end;
  }
  EXPECT_EQ(next, rows);
}

TEST(RowSplit, TasksTileTheRowsInOrder) {
  for (int64_t rows : {1, 7, 8, 63, 64, 65, 640, 1536, 2560, 2561, 6912, 128256})
    for (int64_t tile : {1, 4, 8, 16, 32})
      for (int threads : {1, 2, 3, 8, 64})
        for (int64_t min_rows : {1, 64, 256, 100000}) expect_partition(rows, tile, threads, min_rows);
}

TEST(RowSplit, EmptyAndDefault) {
  EXPECT_EQ(RowSplit().tasks(), 0);
  EXPECT_EQ(RowSplit(0, 8, 2).tasks(), 0);
}

TEST(RowSplit, FirstRoundCoversHalfAndSizesShrink) {
  // 2560 rows on 2 threads: 640, 640, 320, 320, 160, 160, 80, 80, 64, 64, 32 (the rest).
  const RowSplit split(2560, 8, 2, 64);
  const int64_t expected[] = {640, 640, 320, 320, 160, 160, 80, 80, 64, 64, 32};
  ASSERT_EQ(split.tasks(), int64_t(std::size(expected)));
  for (int64_t t = 0; t < split.tasks(); ++t) {
    const RowRange r = split.range(t);
    EXPECT_EQ(r.end - r.begin, expected[t]) << "task " << t;
  }
}

TEST(RowSplit, MinRowsGivesEqualTasks) {
  // The prefill split: min_rows above every geometric share gives equal tasks (the last shorter).
  const RowSplit split(6912, 32, 2, 1728);
  ASSERT_EQ(split.tasks(), 4);
  for (int64_t t = 0; t < 4; ++t) EXPECT_EQ(split.range(t).end - split.range(t).begin, 1728);
}

TEST(RowSplit, TaskCountGrowsLogarithmically) {
  // The 128256-row LM head on 8 threads with 64-row minimum: about 8 * log2(128256 / 8 / 64) tasks.
  const RowSplit split(128256, 16, 8, 64);
  EXPECT_LE(split.tasks(), 8 * 10);
  EXPECT_GE(split.tasks(), 8 * 7);
}

}  // namespace
}  // namespace bitnet
