// Op A, portable SIMT version: correct for every dtype (f32/f16/bf16 q,
// cache and out), any page size, any strides, Dl <= 1024, Dr <= 128.  The
// fallback when no tensor-core path applies, and the reference the fast
// paths are compared with.
//
// One warp per (query, head) row; q and the row's f32 accumulator live in
// registers (lane holds elements lane, lane + W, ...); keys are streamed one
// at a time with an online softmax in the log2 domain.
// Grid: (m_blocks, num_parts); the CTA walks its pieces of the split plan.
#include "absorbed_common.cuh"
#include "kernels.hpp"

namespace mla_gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kQPerLane = (kSimtMaxLatent + kSimtMaxRope + MLA_WARP_SIZE - 1) / MLA_WARP_SIZE;
constexpr int kOPerLane = (kSimtMaxLatent + MLA_WARP_SIZE - 1) / MLA_WARP_SIZE;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int m = MLA_WARP_SIZE / 2; m > 0; m /= 2) v += mla_shfl_xor(v, m);
  return v;
}

// Index of the cache element that holds element e of the concatenated
// [latent | rope] row.
__device__ __forceinline__ int64_t row_element(const absorbed_params& p, int e) {
  return e < p.latent_dim ? (int64_t)p.latent_offset + e : (int64_t)p.rope_offset + (e - p.latent_dim);
}

__device__ void attend_row(const absorbed_params& p, const seq_plan& s, int b, int m, int r, int tile_begin,
                           int tile_end, int slot) {
  const int lane = threadIdx.x % MLA_WARP_SIZE;
  const int dims = p.latent_dim + p.rope_dim;
  const int64_t query = s.q_begin + r / p.heads;
  const int head = r % p.heads;
  const int64_t q_base = query * p.q_stride[0] + (int64_t)head * p.q_stride[1];

  float q[kQPerLane];
#pragma unroll
  for (int j = 0; j < kQPerLane; ++j) {
    const int e = lane + j * MLA_WARP_SIZE;
    q[j] = e < dims ? load_element(p.q, q_base + (int64_t)e * p.q_stride[2], p.q_dtype) : 0.0f;
  }
  float o[kOPerLane];
#pragma unroll
  for (int j = 0; j < kOPerLane; ++j) o[j] = 0.0f;

  const float scale_log2 = p.scale * 1.4426950408889634f;
  float row_max = -INFINITY, row_sum = 0.0f;
  const int keys = visible_keys(p, s, r);
  const int t_end = min(keys, tile_end * p.tile.block_n);
  bool bad = false;
  for (int t = tile_begin * p.tile.block_n; t < t_end; ++t) {
    const int64_t row = cache_row_offset(p, b, t, &bad);
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < kQPerLane; ++j) {
      const int e = lane + j * MLA_WARP_SIZE;
      if (e < dims) dot += q[j] * load_element(p.kv, row + row_element(p, e), p.kv_dtype);
    }
    float score = warp_sum(dot) * scale_log2;
    if (bad) score = NAN;
    const float new_max = fmaxf(row_max, score);
    const float alpha = exp2f(row_max - new_max);
    const float weight = exp2f(score - new_max);
    row_sum = row_sum * alpha + weight;
    row_max = new_max;
#pragma unroll
    for (int j = 0; j < kOPerLane; ++j) {
      const int e = lane + j * MLA_WARP_SIZE;
      const float v = e < p.latent_dim ? load_element(p.kv, row + p.latent_offset + e, p.kv_dtype) : 0.0f;
      o[j] = o[j] * alpha + weight * v;
    }
  }

  const row_sink sink = make_row_sink(p, s, m, r, slot);
  const bool empty = row_sum == 0.0f;  // no visible key: out = 0, lse = -inf
  const float inv = empty ? 0.0f : 1.0f / row_sum;
#pragma unroll
  for (int j = 0; j < kOPerLane; ++j) {
    const int e = lane + j * MLA_WARP_SIZE;
    if (e < p.latent_dim) sink.store(e, o[j] * inv);
  }
  if (lane == 0) sink.store_lse(empty ? -INFINITY : (row_max + log2f(row_sum)) * 0.6931471805599453f);
}

__global__ void __launch_bounds__(kThreads) absorbed_simt_kernel(absorbed_params p) {
  const int m = blockIdx.x;
  const int warp = threadIdx.x / MLA_WARP_SIZE;
  const int warps = blockDim.x / MLA_WARP_SIZE;
  for_each_piece(p, blockIdx.y, [&](int b, const seq_plan& s, int tile_begin, int tile_end, int slot) {
    if (!s.valid) {
      fill_invalid_rows(p, s, m);
      return;
    }
    const int rows = s.s_q * p.heads;
    for (int rt = warp; rt < p.tile.rows; rt += warps) {
      const int r = m * p.tile.rows + rt;
      if (r < rows) attend_row(p, s, b, m, r, tile_begin, tile_end, slot);
    }
  });
}

}  // namespace

cudaError_t launch_absorbed_simt(const absorbed_params& p, cudaStream_t stream) {
  if (p.batch == 0 || p.m_blocks == 0) return cudaSuccess;
  const dim3 grid(p.m_blocks, p.num_parts);
  absorbed_simt_kernel<<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace mla_gpu
