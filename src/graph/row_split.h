// How a decode matmul's rows are handed to the pool (guided self-scheduling).
//
// The pool hands out task numbers from one shared counter, so consecutive tasks go to different
// threads. Equal small tasks therefore give each thread many short, scattered pieces of the weight
// matrix, and every piece restarts the hardware prefetcher: on a 2-core Zen 5 the 0.7B model's
// decode ran 10-30% faster with one piece per thread than with eight (docs/benchmarks.md). One
// piece per thread, however,
// leaves nothing to rebalance when a thread is preempted on a shared machine. So the sizes
// decrease geometrically: the first n_threads tasks cover half the rows, the next n_threads a
// quarter, and so on down to `min_rows`; most bytes are read in long runs, and the small tail
// tasks go to whichever thread is free first.
#pragma once

#include <algorithm>
#include <cstdint>

namespace bitnet {

struct RowRange {
  int64_t begin = 0, end = 0;
};

class RowSplit {
 public:
  // Task boundaries are multiples of `tile` (except the end of the matrix); tasks hold at least
  // min_rows rows (rounded up to the tile) unless the matrix is smaller.
  RowSplit() : RowSplit(0, 1, 1) {}
  RowSplit(int64_t rows, int64_t tile, int n_threads, int64_t min_rows = 64)
      : rows_(std::max<int64_t>(rows, 0)),
        tile_(std::max<int64_t>(tile, 1)),
        threads_(std::max(n_threads, 1)),
        min_rows_(round_up(std::max<int64_t>(min_rows, 1))) {
    tasks_ = 0;
    for (int64_t level = 0, start = 0; start < rows_; ++level) {
      const int64_t size = level_size(level);
      const int64_t n = std::min<int64_t>(threads_, (rows_ - start + size - 1) / size);
      tasks_ += n;
      start += n * size;
    }
  }

  int64_t tasks() const { return tasks_; }

  // Rows of task `task` (0 <= task < tasks()); the ranges of all tasks tile [0, rows) in order.
  RowRange range(int64_t task) const {
    int64_t start = 0;
    for (int64_t level = 0;; ++level) {
      const int64_t size = level_size(level);
      if (task < threads_) {
        const int64_t b = std::min(rows_, start + task * size);
        return {b, std::min(rows_, b + size)};
      }
      task -= threads_;
      start += threads_ * size;
    }
  }

 private:
  int64_t round_up(int64_t n) const { return (n + tile_ - 1) / tile_ * tile_; }
  // Level l: each of the n_threads tasks takes rows / (n_threads * 2^(l+1)), so level l covers
  // half of what the earlier levels left.
  int64_t level_size(int64_t level) const {
    const int64_t share = level >= 62 ? 0 : (rows_ >> (level + 1)) / threads_;
    return std::max(min_rows_, round_up(share));
  }

  int64_t rows_, tile_, threads_, min_rows_, tasks_;
};

}  // namespace bitnet
