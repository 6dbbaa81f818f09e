// SPDX-License-Identifier: MIT
// Op C on the cpu: merge P partial (o, lse) states of strided tensors of any
// float dtype; the context's tasks (task_runner.hpp) pull chunks of
// (row, head) pairs, each pair merged on its own (no order between pairs).
#include "cpu_context.hpp"
#include "element_access.hpp"
#include "lse_merge.hpp"

#include <common/plugin_error.hpp>

#include <algorithm>

namespace mla_cpu {

void merge_states(const mla_context& ctx, const mla_merge_args& args) {
  const mla_merge_args* a = &args;
  const mla_tensor &po = a->parts_out, &pl = a->parts_lse, &out = a->out, &lse = a->lse;
  const int64_t rows = a->num_rows;
  const int H = a->num_heads, P = a->num_parts, Dv = a->head_dim;
  // About 8K loaded elements per chunk: small merges stay on the caller.
  const int64_t grain = std::max<int64_t>(1, 8192 / ((int64_t)P * Dv));
  for_each_chunk(*ctx.tasks, rows * H, grain, [&](int64_t begin, int64_t end, int) {
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t r = pair / H;
      const int h = (int)(pair % H);
      const int64_t part_at = r * po.stride[1] + (int64_t)h * po.stride[2];
      const int64_t lse_at = r * pl.stride[1] + (int64_t)h * pl.stride[2];
      const int64_t out_at = r * out.stride[0] + (int64_t)h * out.stride[1];
      const float merged = merge_lse_row(
          P, Dv, [&](int p) { return static_cast<const float*>(pl.data)[lse_at + (int64_t)p * pl.stride[0]]; },
          [&](int p, int d) {
            return load_element(po.data, po.dtype, part_at + (int64_t)p * po.stride[0] + (int64_t)d * po.stride[3]);
          },
          [&](int d, float v) { store_element(out.data, out.dtype, out_at + (int64_t)d * out.stride[2], v); });
      if (lse.data) static_cast<float*>(lse.data)[r * lse.stride[0] + (int64_t)h * lse.stride[1]] = merged;
    }
  });
}

}  // namespace mla_cpu
