// SPDX-License-Identifier: MIT
// Op A on tensor cores through mma.sync (sm_80 and newer): bf16 or f16 q and
// cache, Dl = 512, Dr = 64, f32 accumulation, online softmax.
//
// A CTA (8 warps) owns ROWS (query, head) rows of one sequence (its row
// tile) and streams the sequence's KV tiles of BN cache rows, gathered
// through the block table with cp.async into a 2-stage shared-memory ring.
// Per KV tile:
//   1. S = Q K^T  (ROWS x BN, k = 576): warps split rows (16 each) and tokens
//   2. row max across warps (shared memory), P = exp2(S - max) as bf16/f16
//   3. O += P V   (ROWS x 512, k = BN): V is the latent slice of the same
//      K tile; warps split rows and the 512 output dims
// Shared-memory rows of 576 elements are 72 chunks of 16 B, swizzled
// (chunk ^ row % 8) so that ldmatrix reads of 8 rows hit 8 distinct banks.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <utility>

#include "../gpu/absorbed_common.cuh"
#include "absorbed_mma.hpp"
#include "mma_primitives.cuh"
#include "tile_table.hpp"

namespace mla_cuda {
namespace {

using mla_gpu::absorbed_params;
using mla_gpu::seq_plan;

using namespace mma_config;

__device__ __forceinline__ uint32_t swizzled(int row, int chunk) {
  return (uint32_t)(row * kRowBytes + ((chunk ^ (row & 7)) << 4));
}

// Element offset of chunk `c` inside a cache row ([latent | rope] order).
__device__ __forceinline__ int64_t chunk_element(const absorbed_params& p, int c) {
  return c < kLatent / 8 ? (int64_t)p.latent_offset + c * 8 : (int64_t)p.rope_offset + (c - kLatent / 8) * 8;
}

template <class T, int ROWS, int BN>
struct tile_kernel {
  using S = shape<ROWS, BN>;

  // Issues the cp.async copies of KV tile `tile` of sequence b into `dst`.
  // A warp copies whole cache rows (rows warp, warp + 8, ...): lane l takes
  // chunks l, l + 32 and (l < 8) l + 64, whose element offsets inside a row
  // (`chunk_at`) are fixed per kernel; only the row address changes.
  static __device__ void load_kv_tile(const absorbed_params& p, int b, int s_k, int tile, uint32_t dst, bool* bad,
                                      const int64_t (&chunk_at)[3]) {
    const T* kv = static_cast<const T*>(p.kv);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int t0 = tile * BN;
    // One page holds the whole tile when pages are whole multiples of BN.
    const bool one_page = p.page_size % BN == 0;
    const int64_t tile_at = one_page ? mla_gpu::cache_row_offset(p, b, t0, bad) : 0;
#pragma unroll
    for (int row = warp; row < BN; row += kWarps) {
      const int token = t0 + row;
      const bool valid = token < s_k;
      int64_t row_at = 0;
      if (valid) row_at = one_page ? tile_at + (int64_t)row * p.row_stride : mla_gpu::cache_row_offset(p, b, token, bad);
      const T* src = kv + row_at;
      const uint32_t d = dst + row * kRowBytes;
      const int sw = row & 7;
      cp_async_16(d + ((lane ^ sw) << 4), src + chunk_at[0], valid);
      cp_async_16(d + ((32 + (lane ^ sw)) << 4), src + chunk_at[1], valid);
      if (lane < kChunks - 64) cp_async_16(d + ((64 + (lane ^ sw)) << 4), src + chunk_at[2], valid);
    }
  }

  static __device__ void load_q_tile(const absorbed_params& p, const seq_plan& s, int r0, int rows, uint32_t dst) {
    const T* q = static_cast<const T*>(p.q);
    for (int c = threadIdx.x; c < ROWS * kChunks; c += kThreads) {
      const int row = c / kChunks;
      const int chunk = c % kChunks;
      const int r = r0 + row;
      const bool valid = r < rows;
      const int64_t at = valid ? mla_gpu::q_row_offset(p, s, r) + chunk * 8 : 0;
      cp_async_16(dst + swizzled(row, chunk), q + at, valid);
    }
  }

  static __device__ void attend_piece(const absorbed_params& p, char* smem, int b, const seq_plan& s, int m,
                                      int tile_begin, int tile_end, int slot) {
    const int rows = s.s_q * p.heads;
    const int r0 = m * ROWS;
    if (r0 >= rows) return;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rw = warp % S::row_warps, cw = warp / S::row_warps;
    const int g = lane / 4, tq = lane % 4;

    // Keys visible to the last row bound the tiles of this row tile (causal).
    const int last_row = min(r0 + ROWS, rows) - 1;
    const int keys_max = mla_gpu::visible_keys(p, s, last_row);
    const int tile_stop = min(tile_end, (keys_max + BN - 1) / BN);
    const int n_tiles = max(0, tile_stop - tile_begin);
    // Keys visible to this thread's two rows (g and g + 8 of its warp).
    int keys[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = r0 + rw * 16 + g + h * 8;
      keys[h] = r < rows ? mla_gpu::visible_keys(p, s, r) : 0;
    }

    char* sq = smem;
    char* sk = smem + S::q_bytes;
    char* sp = sk + S::stages * S::k_bytes;
    float* red = reinterpret_cast<float*>(sp + S::p_bytes);  // [col_warps][ROWS]
    const uint32_t sq_addr = smem_addr(sq), sk_addr = smem_addr(sk), sp_addr = smem_addr(sp);

    int64_t chunk_at[3];
#pragma unroll
    for (int k = 0; k < 3; ++k) chunk_at[k] = chunk_element(p, min(lane + 32 * k, kChunks - 1));
    bool bad = false;
    __syncthreads();  // the previous piece is done with shared memory
    // Prologue: Q and the first stages-1 KV tiles, one commit group each.
    load_q_tile(p, s, r0, rows, sq_addr);
#pragma unroll
    for (int i = 0; i < S::stages - 1; ++i) {
      if (i < n_tiles) load_kv_tile(p, b, s.s_k, tile_begin + i, sk_addr + (uint32_t)(i * S::k_bytes), &bad, chunk_at);
      cp_async_commit();
    }

    float o[S::o_tiles][4];
#pragma unroll
    for (int j = 0; j < S::o_tiles; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};
    const float scale_log2 = p.scale * 1.4426950408889634f;
    const bool s_active = cw < S::s_active_warps;

    for (int it = 0; it < n_tiles; ++it) {
      const int tile = tile_begin + it;
      const uint32_t kt = sk_addr + (uint32_t)((it % S::stages) * S::k_bytes);
      cp_async_wait<S::stages - 2>();  // group `it` (tile it) complete
      __syncthreads();  // tile `it` visible to all; every warp is done with tile it-1
      const int next = it + S::stages - 1;  // into the stage tile it-1 used
      if (next < n_tiles)
        load_kv_tile(p, b, s.s_k, tile_begin + next, sk_addr + (uint32_t)((next % S::stages) * S::k_bytes), &bad, chunk_at);
      cp_async_commit();  // possibly empty: keeps one group per tile

      // ---- phase 1: S = Q K^T for 16 rows x (s_tiles * 8) tokens
      float sc[S::s_tiles][4];
#pragma unroll
      for (int j = 0; j < S::s_tiles; ++j) sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
      const int n0 = cw * S::s_tiles * 8;  // first token of this warp's columns
      if (s_active) {
        const int a_row = rw * 16 + (lane % 16);
        if constexpr (S::s_tiles == 1) {
          float odd[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll 2
          for (int k = 0; k < kChunks / 2; k += 2) {  // two k16 steps per B load
            uint32_t bfrag[4], a0[4], a1[4];
            ldmatrix_x4(bfrag, kt + swizzled(n0 + (lane % 8), 2 * k + lane / 8));
            ldmatrix_x4(a0, sq_addr + swizzled(a_row, 2 * k + lane / 16));
            ldmatrix_x4(a1, sq_addr + swizzled(a_row, 2 * k + 2 + lane / 16));
            mma_16816<T>(sc[0], a0, bfrag[0], bfrag[1]);
            mma_16816<T>(odd, a1, bfrag[2], bfrag[3]);  // second chain: half the latency
          }
#pragma unroll
          for (int e = 0; e < 4; ++e) sc[0][e] += odd[e];
        } else {
#pragma unroll 2
          for (int k = 0; k < kChunks / 2; ++k) {
            uint32_t a[4];
            ldmatrix_x4(a, sq_addr + swizzled(a_row, 2 * k + lane / 16));
#pragma unroll
            for (int j = 0; j < S::s_tiles; j += 2) {
              uint32_t bfrag[4];
              const int token = n0 + j * 8 + (lane % 8) + (lane / 16) * 8;
              ldmatrix_x4(bfrag, kt + swizzled(token, 2 * k + (lane / 8) % 2));
              mma_16816<T>(sc[j], a, bfrag[0], bfrag[1]);
              mma_16816<T>(sc[j + 1], a, bfrag[2], bfrag[3]);
            }
          }
        }
      }
      // Mask keys a row does not see (past s_k or causal), scale to log2.
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int j = 0; j < S::s_tiles; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int token = tile * BN + n0 + j * 8 + 2 * tq + (e & 1);
          const int h = e / 2;
          const float v = (s_active && token < keys[h]) ? sc[j][e] * scale_log2 : -INFINITY;
          sc[j][e] = v;
          tile_max[h] = fmaxf(tile_max[h], v);
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
        if (tq == 0) red[cw * ROWS + rw * 16 + g + h * 8] = tile_max[h];
      }
      __syncthreads();  // partial maxima of every column warp are visible

      // ---- phase 2a: new running max, P = exp2(S - max), rescale O
      float alpha[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float mx = row_max[h];
#pragma unroll
        for (int w = 0; w < S::col_warps; ++w) mx = fmaxf(mx, red[w * ROWS + rw * 16 + g + h * 8]);
        const float base = mx == -INFINITY ? 0.0f : mx;  // a row with no key yet stays at 0
        alpha[h] = exp2f(row_max[h] - base);
        row_max[h] = mx;
        row_sum[h] *= alpha[h];
        tile_max[h] = base;
      }
      if (s_active) {
#pragma unroll
        for (int j = 0; j < S::s_tiles; ++j) {
          const float p0 = exp2f(sc[j][0] - tile_max[0]), p1 = exp2f(sc[j][1] - tile_max[0]);
          const float p2 = exp2f(sc[j][2] - tile_max[1]), p3 = exp2f(sc[j][3] - tile_max[1]);
          row_sum[0] += p0 + p1;
          row_sum[1] += p2 + p3;
          const int col = n0 + j * 8 + 2 * tq;
          const int row = rw * 16 + g;
          *reinterpret_cast<uint32_t*>(sp + (row * S::p_stride + col) * 2) = pack2<T>(p0, p1);
          *reinterpret_cast<uint32_t*>(sp + ((row + 8) * S::p_stride + col) * 2) = pack2<T>(p2, p3);
        }
      }
#pragma unroll
      for (int j = 0; j < S::o_tiles; ++j) {
        o[j][0] *= alpha[0];
        o[j][1] *= alpha[0];
        o[j][2] *= alpha[1];
        o[j][3] *= alpha[1];
      }
      __syncthreads();  // P complete

      // ---- phase 2b: O += P V over this warp's output dims
      const int d0_chunk = cw * S::o_dims / 8;
#pragma unroll
      for (int k = 0; k < BN / 16; ++k) {
        uint32_t a[4];
        ldmatrix_x4(a, sp_addr + (uint32_t)(((rw * 16 + (lane % 16)) * S::p_stride + k * 16 + (lane / 16) * 8) * 2));
        const int token = k * 16 + (lane % 8) + ((lane / 8) % 2) * 8;
#pragma unroll
        for (int j = 0; j < S::o_tiles; j += 2) {
          uint32_t v[4];
          ldmatrix_x4_trans(v, kt + swizzled(token, d0_chunk + j + lane / 16));
          mma_16816<T>(o[j], a, v[0], v[1]);
          mma_16816<T>(o[j + 1], a, v[2], v[3]);
        }
      }
    }
    cp_async_wait_all();

    // ---- epilogue: full row sums across column warps, then write
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 1);
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 2);
    }
    const bool any_bad = __syncthreads_or(bad);  // also: every warp is done reading red
#pragma unroll
    for (int h = 0; h < 2; ++h)
      if (tq == 0) red[cw * ROWS + rw * 16 + g + h * 8] = row_sum[h];
    __syncthreads();
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int rt = rw * 16 + g + h * 8;
      const int r = r0 + rt;
      if (r >= rows) continue;
      float total = 0.0f;
#pragma unroll
      for (int w = 0; w < S::col_warps; ++w) total += red[w * ROWS + rt];
      const bool empty = total == 0.0f;  // no visible key: out = 0, lse = -inf
      const float inv = any_bad ? NAN : (empty ? 0.0f : 1.0f / total);
      const mla_gpu::row_sink sink = mla_gpu::make_row_sink(p, s, m, r, slot);
#pragma unroll
      for (int j = 0; j < S::o_tiles; ++j) {
        const int d = cw * S::o_dims + j * 8 + 2 * tq;
        sink.store(d, o[j][2 * h] * inv);
        sink.store(d + 1, o[j][2 * h + 1] * inv);
      }
      if (cw == 0 && tq == 0)
        sink.store_lse(any_bad ? NAN : (empty ? -INFINITY : (row_max[h] + log2f(total)) * 0.6931471805599453f));
    }
  }
};

template <class T, int ROWS, int BN>
__global__ void __launch_bounds__(kThreads, (shape<ROWS, BN>::ctas_per_sm)) absorbed_mma_kernel(absorbed_params p) {
  extern __shared__ __align__(128) char smem[];
  const int m = blockIdx.x;
  mla_gpu::for_each_piece(p, blockIdx.y, [&](int b, const seq_plan& s, int tile_begin, int tile_end, int slot) {
    if (!s.valid) {
      mla_gpu::fill_invalid_rows(p, s, m);
      return;
    }
    tile_kernel<T, ROWS, BN>::attend_piece(p, smem, b, s, m, tile_begin, tile_end, slot);
  });
}

template <class T, int ROWS, int BN>
cudaError_t launch_typed(const absorbed_params& p, cudaStream_t stream) {
  const size_t smem = shape<ROWS, BN>::smem_bytes;
  auto kernel = absorbed_mma_kernel<T, ROWS, BN>;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
  if (e != cudaSuccess) return e;
  kernel<<<dim3(p.m_blocks, p.num_parts), kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

// Launches the kernel of tile-table entry I when it is the mma.sync tile p asks for.
template <class T, size_t I>
bool try_tile(const absorbed_params& p, cudaStream_t stream, cudaError_t* e) {
  constexpr tile_entry t = kTiles[I];
  if constexpr (t.level != level_mma) {
    return false;
  } else {
    if (t.rows != p.tile.rows || t.block_n != p.tile.block_n) return false;
    *e = launch_typed<T, t.rows, t.block_n>(p, stream);
    return true;
  }
}

// Every mma.sync entry of the tile table is instantiated; a tile outside
// the table is a hard error (cudaErrorInvalidConfiguration), never a fallback.
template <class T, size_t... I>
cudaError_t launch_tile(const absorbed_params& p, cudaStream_t stream, std::index_sequence<I...>) {
  cudaError_t e = cudaErrorInvalidConfiguration;
  (void)(try_tile<T, I>(p, stream, &e) || ...);
  return e;
}

}  // namespace

cudaError_t launch_absorbed_mma(const mla_gpu::absorbed_params& p, cudaStream_t stream) {
  if (p.q_dtype == mla_gpu::dtype_bf16)
    return launch_tile<__nv_bfloat16>(p, stream, std::make_index_sequence<kNumTiles>{});
  return launch_tile<__half>(p, stream, std::make_index_sequence<kNumTiles>{});
}

}  // namespace mla_cuda
