// SPDX-License-Identifier: MIT
// Op A, portable SIMT version: correct for every dtype (f32/f16/bf16 q,
// cache and out), any page size, any strides, Dl <= 1024, Dr <= 128.  The
// fallback when no tensor-core path applies, and the reference the fast
// paths are compared with.
//
// One warp per (query, head) row; q and the row's f32 accumulator live in
// registers (lane holds latent dims lane, lane + W, ..., rope dims likewise);
// keys are streamed one at a time with an online softmax in the log2 domain.
// Grid: (m_blocks, num_parts); the CTA walks its pieces of the split plan.
// One kernel per cache dtype and dims class (see launch_absorbed_simt).
#include "absorbed_common.cuh"
#include "kernels.hpp"

namespace mla_gpu {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int m = MLA_WARP_SIZE / 2; m > 0; m /= 2) v += mla_shfl_xor(v, m);
  return v;
}

// The dims an instantiation handles.  FIXED_DL > 0: exactly Dl = FIXED_DL,
// Dr = FIXED_DR, multiples of the warp size (DeepSeek's 512 + 64), so every
// lane's elements are all in range and no load needs a check; 0: any dims up
// to the SIMT maxima, read from the params.
template <int FIXED_DL, int FIXED_DR>
struct simt_dims {
  static constexpr bool fixed = FIXED_DL > 0;
  static constexpr int latent_per_lane = (fixed ? FIXED_DL : kSimtMaxLatent) / MLA_WARP_SIZE;
  static constexpr int rope_per_lane = (fixed ? FIXED_DR : kSimtMaxRope) / MLA_WARP_SIZE;
  static_assert(!fixed || (FIXED_DL % MLA_WARP_SIZE == 0 && FIXED_DR % MLA_WARP_SIZE == 0), "whole warps");
  static_assert(kSimtMaxLatent % MLA_WARP_SIZE == 0 && kSimtMaxRope % MLA_WARP_SIZE == 0, "whole warps");
};

// Element j of a lane's share (lane + j * W) of a row part, at index
// first + (j * W) * step, where `first` is the lane's element 0 and `last` =
// part length - 1 - lane.  The load is unconditional, so all of a lane's loads
// are in flight together: a lane past the end reads the part's last element
// and returns 0.
template <bool FIXED, int DT>
__device__ __forceinline__ float load_share(const void* base, int64_t first, int64_t step, int last, int j) {
  const int at = FIXED ? j * MLA_WARP_SIZE : min(j * MLA_WARP_SIZE, last);
  const float v = load_element(base, first + at * step, DT);
  return FIXED || j * MLA_WARP_SIZE <= last ? v : 0.0f;
}

// A lane's share of a q part, with q's dtype dispatched once.
template <bool FIXED, int N>
__device__ __forceinline__ void load_q_share(float (&q)[N], const void* base, int64_t first, int64_t step, int last,
                                             int dtype) {
  if (dtype == dtype_f32) {
#pragma unroll
    for (int j = 0; j < N; ++j) q[j] = load_share<FIXED, dtype_f32>(base, first, step, last, j);
  } else if (dtype == dtype_f16) {
#pragma unroll
    for (int j = 0; j < N; ++j) q[j] = load_share<FIXED, dtype_f16>(base, first, step, last, j);
  } else {
#pragma unroll
    for (int j = 0; j < N; ++j) q[j] = load_share<FIXED, dtype_bf16>(base, first, step, last, j);
  }
}

template <int KV_DT, int FIXED_DL, int FIXED_DR>
__device__ void attend_row(const absorbed_params& kernel_arg, const seq_plan& s, int b, int m, int r,
                           int tile_begin, int tile_end, int slot) {
  using dims = simt_dims<FIXED_DL, FIXED_DR>;
  // Fresh reads of the arguments for each row: nothing derived from them
  // stays live across the row loop (on AMD that pinned SGPRs and spilled).
  const absorbed_params& p = mla_reread_kernel_arg(kernel_arg);
  const int lane = threadIdx.x % MLA_WARP_SIZE;
  const int latent_dim = dims::fixed ? FIXED_DL : p.latent_dim;
  const int rope_dim = dims::fixed ? FIXED_DR : p.rope_dim;
  const int64_t query = s.q_begin + r / p.heads;
  const int head = r % p.heads;
  const int64_t q_step = p.q_stride[2];
  const int64_t q_first = query * p.q_stride[0] + (int64_t)head * p.q_stride[1] + lane * q_step;

  // Bounds of the lane's shares (see load_share), hidden from the optimizer
  // at each use: hoisted, each j's bound check would hold a register for the
  // whole key loop.
  const int latent_last = latent_dim - 1 - lane, rope_last = rope_dim - 1 - lane;
  float q_latent[dims::latent_per_lane], q_rope[dims::rope_per_lane], o[dims::latent_per_lane];
  load_q_share<dims::fixed>(q_latent, p.q, q_first, q_step, mla_opaque(latent_last), p.q_dtype);
  if (dims::fixed || rope_dim > 0) {
    load_q_share<dims::fixed>(q_rope, p.q, q_first + latent_dim * q_step, q_step, mla_opaque(rope_last), p.q_dtype);
  } else {
#pragma unroll
    for (int j = 0; j < dims::rope_per_lane; ++j) q_rope[j] = 0.0f;
  }
#pragma unroll
  for (int j = 0; j < dims::latent_per_lane; ++j) o[j] = 0.0f;

  const float scale_log2 = p.scale * 1.4426950408889634f;
  float row_max = -INFINITY, row_sum = 0.0f;
  const int keys = visible_keys(p, s, r);
  const int t_end = min(keys, tile_end * p.tile.block_n);
  bool bad = false;
  for (int t = tile_begin * p.tile.block_n; t < t_end; ++t) {
    const int64_t row = cache_row_offset(p, b, t, &bad);
    const int key_latent_last = mla_opaque(latent_last), key_rope_last = mla_opaque(rope_last);
    // The latent part of the key is also the value row: loaded once.
    float kv[dims::latent_per_lane];
#pragma unroll
    for (int j = 0; j < dims::latent_per_lane; ++j)
      kv[j] = load_share<dims::fixed, KV_DT>(p.kv, row + p.latent_offset + lane, 1, key_latent_last, j);
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < dims::latent_per_lane; ++j) dot += q_latent[j] * kv[j];
    if (dims::fixed || rope_dim > 0) {
#pragma unroll
      for (int j = 0; j < dims::rope_per_lane; ++j)
        dot += q_rope[j] * load_share<dims::fixed, KV_DT>(p.kv, row + p.rope_offset + lane, 1, key_rope_last, j);
    }
    float score = warp_sum(dot) * scale_log2;
    if (bad) score = NAN;
    const float new_max = fmaxf(row_max, score);
    const float alpha = exp2f(row_max - new_max);
    const float weight = exp2f(score - new_max);
    row_sum = row_sum * alpha + weight;
    row_max = new_max;
#pragma unroll
    for (int j = 0; j < dims::latent_per_lane; ++j) o[j] = o[j] * alpha + weight * kv[j];
  }

  const row_sink sink = make_row_sink(p, s, m, r, slot);
  const bool empty = row_sum == 0.0f;  // no visible key: out = 0, lse = -inf
  const float inv = empty ? 0.0f : 1.0f / row_sum;
  const int store_last = mla_opaque(latent_last);
#pragma unroll
  for (int j = 0; j < dims::latent_per_lane; ++j)
    if (j * MLA_WARP_SIZE <= store_last) sink.store(lane + j * MLA_WARP_SIZE, o[j] * inv);
  if (lane == 0) sink.store_lse(empty ? -INFINITY : (row_max + log2f(row_sum)) * 0.6931471805599453f);
}

template <int KV_DT, int FIXED_DL, int FIXED_DR>
__global__ void __launch_bounds__(kThreads) absorbed_simt_kernel(absorbed_params p) {
  const int m = blockIdx.x;
  const int warp = threadIdx.x / MLA_WARP_SIZE;
  const int warps = blockDim.x / MLA_WARP_SIZE;
  for_each_piece(p, blockIdx.y, [&](int b, const seq_plan& s, int tile_begin, int tile_end, int slot) {
    const absorbed_params& piece_p = mla_reread_kernel_arg(p);  // see attend_row
    if (!s.valid) {
      fill_invalid_rows(piece_p, s, m);
      return;
    }
    const int rows = s.s_q * piece_p.heads;
    for (int rt = warp; rt < piece_p.tile.rows; rt += warps) {
      const int r = m * piece_p.tile.rows + rt;
      if (r < rows) attend_row<KV_DT, FIXED_DL, FIXED_DR>(p, s, b, m, r, tile_begin, tile_end, slot);
    }
  });
}

template <int KV_DT>
void launch_for_dtype(const absorbed_params& p, const dim3& grid, cudaStream_t stream) {
  if (p.latent_dim == 512 && p.rope_dim == 64) absorbed_simt_kernel<KV_DT, 512, 64><<<grid, kThreads, 0, stream>>>(p);
  else absorbed_simt_kernel<KV_DT, 0, 0><<<grid, kThreads, 0, stream>>>(p);
}

}  // namespace

cudaError_t launch_absorbed_simt(const absorbed_params& p, cudaStream_t stream) {
  if (p.batch == 0 || p.m_blocks == 0) return cudaSuccess;
  const dim3 grid(p.m_blocks, p.num_parts);
  if (p.kv_dtype == dtype_f32) launch_for_dtype<dtype_f32>(p, grid, stream);
  else if (p.kv_dtype == dtype_f16) launch_for_dtype<dtype_f16>(p, grid, stream);
  else launch_for_dtype<dtype_bf16>(p, grid, stream);
  return cudaGetLastError();
}

}  // namespace mla_gpu
