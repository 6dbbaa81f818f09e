// Op A, last stage: merge the partial results of sequences that the split
// plan spread over several CTAs, by their LSE (DESIGN.md 2.C), into out/lse.
// Grid: (m_blocks, sequences); a CTA does one row tile of one sequence and
// returns at once when that sequence was not split.
#include <math.h>

#include "absorbed_common.cuh"
#include "kernels.hpp"

namespace mla_gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxTileRows = 64;

__global__ void __launch_bounds__(kThreads) combine_kernel(absorbed_params p) {
  __shared__ float row_lse[kMaxTileRows];
  const int m = blockIdx.x;
  for (int b = blockIdx.y; b < p.batch; b += gridDim.y) {
    const seq_plan s = p.plan.seqs[b];
    if (s.pieces <= 1 || !s.valid) continue;
    const int rows = s.s_q * p.heads;
    const int r0 = m * p.tile.rows;
    const int tile_rows = min(p.tile.rows, rows - r0);
    if (tile_rows <= 0) continue;
    // Slot k holds piece k of this sequence: [slot][m_blocks][rows] layout.
    const int64_t slot_stride = (int64_t)p.m_blocks * p.tile.rows;
    const int64_t first = ((int64_t)s.slot_base * p.m_blocks + m) * p.tile.rows;
    __syncthreads();  // row_lse of the previous sequence is no longer read
    for (int rt = threadIdx.x; rt < tile_rows; rt += blockDim.x) {
      float hi = -INFINITY;
      for (int k = 0; k < s.pieces; ++k) hi = max_keep_nan(hi, p.plan.partial_lse[first + k * slot_stride + rt]);
      float sum = 0.0f;
      if (hi != -INFINITY)
        for (int k = 0; k < s.pieces; ++k) sum += expf(p.plan.partial_lse[first + k * slot_stride + rt] - hi);
      const float lse = hi == -INFINITY ? -INFINITY : hi + logf(sum);
      row_lse[rt] = lse;
      const row_sink sink = make_row_sink(p, s, m, r0 + rt, -1);
      sink.store_lse(lse);
    }
    __syncthreads();
    for (int e = threadIdx.x; e < tile_rows * p.latent_dim; e += blockDim.x) {
      const int rt = e / p.latent_dim;
      const int d = e % p.latent_dim;
      const float lse = row_lse[rt];
      float acc = 0.0f;
      if (lse != -INFINITY) {
        for (int k = 0; k < s.pieces; ++k) {
          const int64_t row = first + k * slot_stride + rt;
          const float w = expf(p.plan.partial_lse[row] - lse);
          if (w != 0.0f) acc += w * p.plan.partial_out[row * p.latent_dim + d];
        }
      }
      make_row_sink(p, s, m, r0 + rt, -1).store(d, acc);
    }
  }
}

}  // namespace

cudaError_t launch_combine(const absorbed_params& p, cudaStream_t stream) {
  if (p.batch == 0 || p.m_blocks == 0) return cudaSuccess;
  const dim3 grid(p.m_blocks, p.batch < 65535 ? p.batch : 65535);
  combine_kernel<<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace mla_gpu
