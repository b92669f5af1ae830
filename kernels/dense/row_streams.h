// Decode walk over the rows [r0, r1) of a matrix as S concurrent sequential streams: the range is
// cut into S equal parts and row i of every part is computed together, with their loads
// interleaved; the rows left over at the end are computed one at a time.
//
// Why: a GEMV row kernel that does real work per byte (f16 conversion + FMA, int8 dot products)
// reading one stream per core loses the overlap between memory and arithmetic. On Zen 5 the
// single-stream f16 head took about the sum of its memory time and its compute time per cache line
// (27-31 GB/s per core, where the same loop runs at 100 GB/s from L2 and a plain read at 36-40);
// several streams keep more misses in flight (docs/benchmarks.md, "2026-12-05, later").
#pragma once

#include <cstdint>

namespace bitnet::kernels::detail {

// group(rows) computes the S rows rows[0..S) with interleaved loads; one(r) computes a single row.
template <int S, class Group, class One>
inline void walk_row_streams(int64_t r0, int64_t r1, Group&& group, One&& one) {
  const int64_t part = (r1 - r0) / S;
  int64_t rows[S];
  for (int64_t i = 0; i < part; ++i) {
    for (int s = 0; s < S; ++s) rows[s] = r0 + s * part + i;
    group(static_cast<const int64_t*>(rows));
  }
  for (int64_t r = r0 + S * part; r < r1; ++r) one(r);
}

}  // namespace bitnet::kernels::detail
