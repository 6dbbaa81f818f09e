// SPDX-License-Identifier: MIT
// Op C: merge P partial states (out_p, lse_p) of the same rows (docs/design.md section 2, op C).
// One CTA per (row, head) pair, grid-stride; the LSE of the pair is reduced
// once by each thread (P is small), then threads stride over head_dim.
#include <math.h>

#include "element.cuh"
#include "kernels.hpp"

namespace mla_gpu {
namespace {

constexpr int kThreads = 128;

__global__ void __launch_bounds__(kThreads) merge_states_kernel(merge_params p) {
  const int64_t pairs = p.num_rows * p.num_heads;
  for (int64_t pair = blockIdx.x; pair < pairs; pair += gridDim.x) {
    const int64_t row = pair / p.num_heads;
    const int64_t head = pair % p.num_heads;
    const int64_t lse_at = row * p.parts_lse_stride[1] + head * p.parts_lse_stride[2];
    float hi = -INFINITY;
    for (int k = 0; k < p.num_parts; ++k) hi = max_keep_nan(hi, p.parts_lse[k * p.parts_lse_stride[0] + lse_at]);
    float sum = 0.0f;
    if (hi != -INFINITY)
      for (int k = 0; k < p.num_parts; ++k) sum += expf(p.parts_lse[k * p.parts_lse_stride[0] + lse_at] - hi);
    // A NaN part makes hi or sum NaN, and so the merged row: never hidden.
    const float lse = hi == -INFINITY ? -INFINITY : hi + logf(sum);
    const int64_t part_at = row * p.parts_out_stride[1] + head * p.parts_out_stride[2];
    const int64_t out_at = row * p.out_stride[0] + head * p.out_stride[1];
    for (int d = threadIdx.x; d < p.head_dim; d += blockDim.x) {
      float acc = 0.0f;
      if (lse != -INFINITY) {
        for (int k = 0; k < p.num_parts; ++k) {
          const float w = expf(p.parts_lse[k * p.parts_lse_stride[0] + lse_at] - lse);
          const int64_t at = k * p.parts_out_stride[0] + part_at + (int64_t)d * p.parts_out_stride[3];
          if (w != 0.0f) acc += w * load_element(p.parts_out, at, p.parts_out_dtype);
        }
      }
      store_element(p.out, out_at + (int64_t)d * p.out_stride[2], p.out_dtype, acc);
    }
    if (threadIdx.x == 0 && p.lse) p.lse[row * p.lse_stride[0] + head * p.lse_stride[1]] = lse;
  }
}

}  // namespace

cudaError_t launch_merge_states(const merge_params& p, cudaStream_t stream) {
  const int64_t pairs = p.num_rows * p.num_heads;
  if (pairs == 0) return cudaSuccess;
  const int grid = pairs < 65536 ? (int)pairs : 65536;
  merge_states_kernel<<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace mla_gpu
