// Memory read bandwidth, measured the way decode reads weights: every thread streams its own slice
// of a buffer much larger than the last-level cache and sums it (as four interleaved sequential
// streams, the fastest way this code has found to read memory: see byte_sum_avx512). `bitnet bench` divides this by the
// bytes read per token to get the decode speed limit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace bitnet {

struct BandwidthResult {
  double bytes_per_second = 0;  // best run
  double mean_bytes_per_second = 0;
  uint64_t buffer_bytes = 0;
  int n_threads = 0;
  int runs = 0;
  std::vector<double> samples;  // bytes per second of every run
};

// A probe that keeps its buffer (first-touched by the threads that read it) and its threads, so that
// it can be re-run cheaply: `bitnet bench` measures right before every decode repetition, because
// on a shared machine the bandwidth can move by 2x within minutes.
// n_threads: the threads that read (the benchmark's thread count); buffer_bytes is rounded down to
// a multiple of 4 KiB per thread. Throws Error if the buffer cannot be allocated.
class ReadBandwidthProbe {
 public:
  ReadBandwidthProbe(int n_threads, uint64_t buffer_bytes);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
  ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

  BandwidthResult measure(int runs);  // runs >= 1 timed passes over the buffer

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One probe, measured once.
BandwidthResult measure_read_bandwidth(int n_threads, uint64_t buffer_bytes = uint64_t(1) << 30, int runs = 5);

}  // namespace bitnet
