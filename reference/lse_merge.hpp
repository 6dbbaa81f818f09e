// SPDX-License-Identifier: MIT
// The LSE merge of partial attention states (docs/design.md section 2, op C), shared by op C
// (merge_states) and by op A's pass over split work items:
//   lse = log(sum_p exp(lse_p)),  o = sum_p o_p * exp(lse_p - lse)
// A part with lse_p = -inf contributes nothing (its o_p is not read); if all
// parts are empty, o = 0 and lse = -inf.  A NaN lse_p makes the row NaN.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>

namespace mla_cpu {

// lse_at(p) -> float; part_at(p, d) -> float; store(d, value).
template <class LseAt, class PartAt, class Store>
float merge_lse_row(int parts, int dim, LseAt&& lse_at, PartAt&& part_at, Store&& store) {
  constexpr float neg_inf = -std::numeric_limits<float>::infinity();
  float m = neg_inf;
  bool has_nan = false;
  for (int p = 0; p < parts; ++p) {
    const float l = lse_at(p);
    has_nan |= std::isnan(l);
    m = std::max(m, l);
  }
  if (has_nan) m = std::numeric_limits<float>::quiet_NaN();
  if (m == neg_inf) {
    for (int d = 0; d < dim; ++d) store(d, 0.f);
    return neg_inf;
  }
  float sum = 0.f;
  for (int p = 0; p < parts; ++p) sum += std::exp(lse_at(p) - m);
  const float lse = m + std::log(sum);

  constexpr int kChunk = 256;  // accumulate on the stack: merges allocate nothing
  float acc[kChunk];
  // d0 in int64: the step past the last chunk of a dim near INT32_MAX.
  for (int64_t d0 = 0; d0 < dim; d0 += kChunk) {
    const int n = (int)std::min<int64_t>(kChunk, dim - d0);
    std::fill(acc, acc + n, 0.f);
    for (int p = 0; p < parts; ++p) {
      const float l = lse_at(p);
      if (l == neg_inf) continue;  // empty part: contributes nothing, even if its o is NaN
      const float w = std::exp(l - lse);
      for (int d = 0; d < n; ++d) acc[d] += w * part_at(p, (int)d0 + d);
    }
    for (int d = 0; d < n; ++d) store((int)d0 + d, acc[d]);
  }
  return lse;
}

}  // namespace mla_cpu
