// SPDX-License-Identifier: MIT
// Op A, last stage: merge the partial results of sequences that the split
// plan spread over several CTAs, by their LSE (docs/design.md section 2, op C), into out/lse.
// Grid: (m_blocks, sequences, latent_dim / kDims); a CTA does kDims output
// dims of one row tile of one sequence, and returns at once when that
// sequence was not split.  One warp per row reduces the LSE over pieces;
// the weights exp(lse_k - lse) go through shared memory, kChunk pieces at a
// time, so the shared memory stays fixed whatever the number of pieces.
// The weighted sum is latency-bound (one long sequence may come in 100+
// pieces): a thread owns 4 consecutive dims (one 16-byte load per piece and
// row) of only the rows that exist, and kUnroll pieces' loads are issued
// before their sums.
#include <math.h>

#include "absorbed_common.cuh"
#include "kernels.hpp"

namespace mla_gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxTileRows = 64;
constexpr int kVec = 4;                              // dims per thread (one float4)
constexpr int kDims = 32;                            // output dims per CTA (more CTAs for few sequences)
constexpr int kChunk = 32;                           // pieces per weight chunk
constexpr int kUnroll = 8;                           // pieces whose loads are in flight together
constexpr int kRowStep = kThreads / (kDims / kVec);  // rows between a thread's outputs
constexpr int kPerThread = kMaxTileRows / kRowStep;  // row outputs per thread
static_assert(kThreads % (kDims / kVec) == 0 && kMaxTileRows % kRowStep == 0, "whole rows");
static_assert(kChunk % kUnroll == 0, "whole unrolled steps");

__device__ __forceinline__ float warp_max_keep_nan(float v) {
#pragma unroll
  for (int m = MLA_WARP_SIZE / 2; m > 0; m /= 2) v = max_keep_nan(v, mla_shfl_xor(v, m));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int m = MLA_WARP_SIZE / 2; m > 0; m /= 2) v += mla_shfl_xor(v, m);
  return v;
}

__global__ void __launch_bounds__(kThreads) combine_kernel(absorbed_params kernel_arg) {
  __shared__ float row_lse[kMaxTileRows];
  __shared__ float weight[kMaxTileRows][kChunk];
  const int m = blockIdx.x;
  const int d0 = blockIdx.z * kDims;
  const int lane = threadIdx.x % MLA_WARP_SIZE, warp = threadIdx.x / MLA_WARP_SIZE;
  const int warps = blockDim.x / MLA_WARP_SIZE;
  for (int b = blockIdx.y; b < kernel_arg.batch; b += gridDim.y) {
    const absorbed_params& p = mla_reread_kernel_arg(kernel_arg);
    const seq_plan s = p.plan.seqs[b];
    if (s.pieces <= 1 || !s.valid) continue;
    const int r0 = m * p.tile.rows;
    const int tile_rows = min(p.tile.rows, s.s_q * p.heads - r0);
    if (tile_rows <= 0) continue;
    // Piece k of this sequence is slot slot_base + k: [slot][m_blocks][rows].
    const int64_t slot_stride = (int64_t)p.m_blocks * p.tile.rows;
    const int64_t first = ((int64_t)s.slot_base * p.m_blocks + m) * p.tile.rows;
    const float* lse_of = p.plan.partial_lse + first;
    __syncthreads();  // shared memory of the previous sequence is free
    for (int rt = warp; rt < tile_rows; rt += warps) {
      float hi = -INFINITY;
      for (int k = lane; k < s.pieces; k += MLA_WARP_SIZE) hi = max_keep_nan(hi, lse_of[k * slot_stride + rt]);
      hi = warp_max_keep_nan(hi);
      float sum = 0.0f;
      if (hi != -INFINITY)
        for (int k = lane; k < s.pieces; k += MLA_WARP_SIZE) sum += expf(lse_of[k * slot_stride + rt] - hi);
      sum = warp_sum(sum);
      const float lse = hi == -INFINITY ? -INFINITY : hi + logf(sum);  // NaN stays NaN
      if (lane == 0) {
        row_lse[rt] = lse;
        if (blockIdx.z == 0) make_row_sink(p, s, m, r0 + rt, -1).store_lse(lse);
      }
    }
    // Each thread owns dims [d, d + 4) of rows rt0, rt0 + kRowStep, ...
    // (those below tile_rows) across all piece chunks; part0 is its element
    // of row rt0 of piece 0 (rows are padded to 4 floats).
    const int d = d0 + (threadIdx.x % (kDims / kVec)) * kVec, rt0 = threadIdx.x / (kDims / kVec);
    const int rows_here = rt0 < tile_rows ? (tile_rows - rt0 + kRowStep - 1) / kRowStep : 0;
    const int64_t row_step = partial_row_stride(p.latent_dim);
    const int64_t piece_step = slot_stride * row_step;
    const float* part0 = p.plan.partial_out + (first + rt0) * row_step + d;
    float4 acc[kPerThread];
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) acc[i] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    for (int k0 = 0; k0 < s.pieces; k0 += kChunk) {
      __syncthreads();  // row_lse ready; the previous weight chunk is consumed
      for (int e = threadIdx.x; e < tile_rows * kChunk; e += blockDim.x) {
        const int rt = e / kChunk, k = k0 + e % kChunk;
        const float lse = row_lse[rt];
        weight[rt][e % kChunk] = (k < s.pieces && lse != -INFINITY) ? expf(lse_of[k * slot_stride + rt] - lse) : 0.0f;
      }
      __syncthreads();
      if (d >= p.latent_dim) continue;
      // Pieces past s.pieces have weight 0 and read piece k0 instead (in
      // bounds), so every unrolled step is whole.
      const int kn = min(kChunk, s.pieces - k0);
      for (int k = 0; k < kn; k += kUnroll) {
        float4 v[kUnroll][kPerThread];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          const float* piece = part0 + (int64_t)(k0 + (k + u < kn ? k + u : 0)) * piece_step;
#pragma unroll
          for (int i = 0; i < kPerThread; ++i)
            if (i < rows_here) v[u][i] = *reinterpret_cast<const float4*>(piece + (int64_t)i * kRowStep * row_step);
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
          for (int i = 0; i < kPerThread; ++i) {
            if (i >= rows_here) continue;
            const float w = k + u < kn ? weight[rt0 + i * kRowStep][k + u] : 0.0f;
            acc[i].x += w * v[u][i].x;
            acc[i].y += w * v[u][i].y;
            acc[i].z += w * v[u][i].z;
            acc[i].w += w * v[u][i].w;
          }
        }
      }
    }
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      if (i >= rows_here || d >= p.latent_dim) continue;
      const row_sink sink = make_row_sink(p, s, m, r0 + rt0 + i * kRowStep, -1);
      const float sums[kVec] = {acc[i].x, acc[i].y, acc[i].z, acc[i].w};
#pragma unroll
      for (int j = 0; j < kVec; ++j)
        if (d + j < p.latent_dim) sink.store(d + j, sums[j]);
    }
  }
}

}  // namespace

cudaError_t launch_combine(const absorbed_params& p, cudaStream_t stream) {
  if (p.batch == 0 || p.m_blocks == 0) return cudaSuccess;
  const dim3 grid(p.m_blocks, p.batch < 65535 ? p.batch : 65535, (p.latent_dim + kDims - 1) / kDims);
  combine_kernel<<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace mla_gpu
