// SPDX-License-Identifier: MIT
// Op B's decompressed form on tensor cores through mma.sync m16n8k16 (sm_80
// and newer): bf16 or f16 operands, f32 accumulation, Dn = Dv = 128, Dr = 64
// (Dk = 192), Dl a multiple of 64.  Two kernels per round (the shared glue,
// backends/gpu/decompressed_host.cpp, runs the rounds):
//
//   expand: K_nope = C W_UK[h]^T and V = C W_UV[h]^T for a 64-key tile of
//     the round's latent rows C; a CTA does one head's K or V (64 x 128,
//     k = Dl) and, for K, copies the shared RoPE part beside it, so that K
//     rows are [k_nope | kR], 192 wide, as the attention kernel reads them.
//   attend: FlashAttention-2's schedule for one chunk: a CTA owns 64 query
//     rows of one head (4 warps x 16 rows, Q fragments in registers), walks
//     the chunk's 64-key tiles (S = Q K^T, masked bottom-right causal, online
//     softmax in log2 units, P kept in registers as the A operand of
//     O += P V) and merges into the running O / max / sum of the pass in the
//     workspace (f32; read back for every chunk after the first).
//
// Shared-memory rows are 16-byte chunks XOR-swizzled by row % 8, so that
// ldmatrix's 8 rows of a phase hit 8 distinct bank groups.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "../gpu/decompressed_common.cuh"
#include "decompressed_mma.hpp"
#include "mma_primitives.cuh"
#include "opb_config.hpp"
#include "opb_q_rows.cuh"

namespace mla_cuda {
namespace {

using mla_gpu::opb_params;
using mla_gpu::opb_round;
using mla_gpu::opb_seq;
using mla_gpu::opb_span;
using namespace opb_config;

constexpr float kLog2e = 1.4426950408889634f;

// Byte offset of 16-byte chunk `chunk` of row `row` in a tile of rows of
// `ROW_CHUNKS` chunks (a multiple of 8).
template <int ROW_CHUNKS>
__device__ __forceinline__ uint32_t swz(int row, int chunk) {
  static_assert(ROW_CHUNKS % 8 == 0, "the swizzle permutes groups of 8 chunks");
  return (uint32_t)(row * ROW_CHUNKS * 16 + ((chunk ^ (row & 7)) << 4));
}

// ---------------------------------------------------------------- expand

template <class T>
__global__ void __launch_bounds__(kExpandThreads) opb_expand_mma(opb_params p, opb_round r) {
  extern __shared__ __align__(128) char smem[];
  int b;
  opb_seq s;
  opb_span sp;
  if (!mla_gpu::opb_slot_span(p, r, blockIdx.z, b, s, sp)) return;
  const int t0 = blockIdx.x * kExpandKeys;  // chunk-relative first key
  if ((int64_t)sp.key_lo + t0 >= sp.key_hi) return;
  const int slot = blockIdx.z, h = blockIdx.y >> 1, part = blockIdx.y & 1;  // part 0: K, 1: V
  const int Dl = p.latent_dim, W = p.latent_dim + p.rope_dim;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, tq = lane % 4;

  // Latent rows of the tile (the gather zeroed those past the keys) and the
  // head's weight rows, both with unit inner stride (host-checked).
  const T* lat = static_cast<const T*>(p.lat) + ((int64_t)slot * p.chunk_keys + t0) * W;
  const T* w =
      static_cast<const T*>(part == 0 ? p.wk : p.wv) + (int64_t)h * (part == 0 ? p.wk_head_stride : p.wv_head_stride);
  const int64_t w_ld = part == 0 ? p.wk_row_stride : p.wv_row_stride;
  const uint32_t sa = smem_addr(smem), sb = sa + kExpandStages * (uint32_t)kExpandATile;
  constexpr int kRowChunks = kLatentStep / 8;

  auto load_stage = [&](int kb, int stage) {
    const int k0 = kb * kLatentStep;
    for (int c = tid; c < kExpandKeys * kRowChunks; c += kExpandThreads) {
      const int row = c / kRowChunks, ch = c % kRowChunks;
      cp_async_16(sa + stage * (uint32_t)kExpandATile + swz<kRowChunks>(row, ch), lat + (int64_t)row * W + k0 + ch * 8,
                  true);
    }
    for (int c = tid; c < kExpandOut * kRowChunks; c += kExpandThreads) {
      const int row = c / kRowChunks, ch = c % kRowChunks;
      cp_async_16(sb + stage * (uint32_t)kExpandBTile + swz<kRowChunks>(row, ch), w + (int64_t)row * w_ld + k0 + ch * 8,
                  true);
    }
  };

  float acc[kExpandOut / 8][4];
#pragma unroll
  for (int n = 0; n < kExpandOut / 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
  const int steps = Dl / kLatentStep;
  load_stage(0, 0);
  cp_async_commit();
  for (int kb = 0; kb < steps; ++kb) {
    if (kb + 1 < steps) load_stage(kb + 1, (kb + 1) & 1);  // the stage step kb-1 used (freed below)
    cp_async_commit();
    cp_async_wait<1>();  // step kb's group has landed
    __syncthreads();
    const uint32_t a_st = sa + (kb & 1) * (uint32_t)kExpandATile, b_st = sb + (kb & 1) * (uint32_t)kExpandBTile;
#pragma unroll
    for (int k16 = 0; k16 < kLatentStep / 16; ++k16) {
      uint32_t a[4];
      ldmatrix_x4(a, a_st + swz<kRowChunks>(warp * 16 + lane % 16, 2 * k16 + lane / 16));
#pragma unroll
      for (int np = 0; np < kExpandOut / 16; ++np) {
        uint32_t bf[4];
        ldmatrix_x4(bf, b_st + swz<kRowChunks>(np * 16 + lane % 8 + (lane / 16) * 8, 2 * k16 + (lane / 8) % 2));
        mma_16816<T>(acc[2 * np], a, bf[0], bf[1]);
        mma_16816<T>(acc[2 * np + 1], a, bf[2], bf[3]);
      }
    }
    __syncthreads();  // every warp is done with this stage before it is refilled
  }
  cp_async_wait_all();

  // Rows [k_nope | kR] (192 wide) or v (128 wide) of keys t0 .. t0 + 63.
  const int64_t kv_row0 = ((int64_t)slot * p.heads + h) * p.chunk_keys + t0;
  T* dst = part == 0 ? static_cast<T*>(p.k) + kv_row0 * kDk : static_cast<T*>(p.v) + kv_row0 * kDv;
  const int ld = part == 0 ? kDk : kDv;
  const int row = warp * 16 + g;
#pragma unroll
  for (int n = 0; n < kExpandOut / 8; ++n) {
    const int col = n * 8 + 2 * tq;
    *reinterpret_cast<uint32_t*>(dst + (int64_t)row * ld + col) = pack2<T>(acc[n][0], acc[n][1]);
    *reinterpret_cast<uint32_t*>(dst + (int64_t)(row + 8) * ld + col) = pack2<T>(acc[n][2], acc[n][3]);
  }
  if (part == 0) {
    constexpr int kRopeChunks = kRope / 8;
    for (int c = tid; c < kExpandKeys * kRopeChunks; c += kExpandThreads) {
      const int t = c / kRopeChunks, ch = c % kRopeChunks;
      *reinterpret_cast<uint4*>(dst + (int64_t)t * kDk + kNope + ch * 8) =
          *reinterpret_cast<const uint4*>(lat + (int64_t)t * W + Dl + ch * 8);
    }
  }
}

// ---------------------------------------------------------------- attend

constexpr int kQChunks = kDk / 8, kVChunks = kDv / 8;  // 24, 16
constexpr int kQSteps = kDk / 16;                      // k16 steps of S
constexpr int kSTiles = kAttendKeys / 8;               // n8 tiles of S per warp
constexpr int kOTiles = kDv / 8;                       // n8 tiles of O per warp

// Q rows [r_lo, r_hi) of head h (zero past r_hi), converted to T, into the
// swizzled Q tile: 16-byte loads when q is T with unit inner stride and
// 16-byte aligned rows, else element by element (any dtype and stride).
template <class T>
__device__ void load_q(const opb_params& p, const opb_seq& s, int h, int64_t r_lo, int64_t r_hi, uint32_t sq) {
  const bool vec = opb_q_vectorizable<T>(p);
  for (int c = threadIdx.x; c < kAttendRows * kQChunks; c += kAttendThreads) {
    const int row = c / kQChunks, ch = c % kQChunks;
    const uint4 v = opb_q_chunk<T>(p, s, h, r_lo + row, r_hi, ch, vec);
    asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};\n" ::"r"(sq + swz<kQChunks>(row, ch)), "r"(v.x), "r"(v.y),
                 "r"(v.z), "r"(v.w));
  }
}

template <class T>
__global__ void __launch_bounds__(kAttendThreads) opb_attend_mma(opb_params p, opb_round r) {
  extern __shared__ __align__(128) char smem[];
  int b;
  opb_seq s;
  opb_span sp;
  if (!mla_gpu::opb_slot_span(p, r, blockIdx.z, b, s, sp)) return;
  const int64_t r_lo = sp.q_lo + (int64_t)blockIdx.x * kAttendRows;
  if (r_lo >= sp.q_hi) return;
  const int64_t r_hi = min(r_lo + kAttendRows, (int64_t)sp.q_hi);
  static_assert(kAttendKeys == mla_gpu::kOpbKeyTile, "the schedule's key tile");
  const int n_tiles = mla_gpu::opb_tiles_seen(p, s, sp, r_hi - 1);
  if (n_tiles == 0) return;
  const int slot = blockIdx.z, h = blockIdx.y;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, tq = lane % 4;

  const uint32_t sq = smem_addr(smem);
  const uint32_t sk = sq + (uint32_t)kAttendQTile;
  const uint32_t sv = sk + kAttendStages * (uint32_t)kAttendKTile;
  const int64_t kv_row0 = ((int64_t)slot * p.heads + h) * p.chunk_keys;
  const T* kg = static_cast<const T*>(p.k) + kv_row0 * kDk;
  const T* vg = static_cast<const T*>(p.v) + kv_row0 * kDv;
  auto load_kv = [&](int it, int stage) {
    const T* ks = kg + (int64_t)it * kAttendKeys * kDk;
    const T* vs = vg + (int64_t)it * kAttendKeys * kDv;
    for (int c = tid; c < kAttendKeys * kQChunks; c += kAttendThreads) {
      const int row = c / kQChunks, ch = c % kQChunks;
      cp_async_16(sk + stage * (uint32_t)kAttendKTile + swz<kQChunks>(row, ch), ks + (int64_t)row * kDk + ch * 8, true);
    }
    for (int c = tid; c < kAttendKeys * kVChunks; c += kAttendThreads) {
      const int row = c / kVChunks, ch = c % kVChunks;
      cp_async_16(sv + stage * (uint32_t)kAttendVTile + swz<kVChunks>(row, ch), vs + (int64_t)row * kDv + ch * 8, true);
    }
  };
  load_kv(0, 0);
  cp_async_commit();
  load_q<T>(p, s, h, r_lo, r_hi, sq);
  __syncthreads();  // Q tile complete
  uint32_t qf[kQSteps][4];
#pragma unroll
  for (int kk = 0; kk < kQSteps; ++kk)
    ldmatrix_x4(qf[kk], sq + swz<kQChunks>(warp * 16 + lane % 16, 2 * kk + lane / 16));

  // This thread's two rows (g and g + 8 of its warp): visible keys and state.
  int64_t vis[2], pair[2];
  bool live[2];
  float m[2], l[2], o[kOTiles][4];
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const int64_t i = r_lo + warp * 16 + g + hh * 8;
    live[hh] = i < r_hi;
    vis[hh] = live[hh] ? mla_gpu::opb_visible(p.causal, s.s_q, s.s_k, i) : 0;
    pair[hh] = live[hh] ? mla_gpu::opb_state_pair(p, s.q_begin + i - r.row0, h) : 0;
    m[hh] = -INFINITY;
    l[hh] = 0.0f;
    if (r.chunk > 0 && live[hh]) {
      m[hh] = p.state_ml[2 * pair[hh]];
      l[hh] = p.state_ml[2 * pair[hh] + 1];
    }
  }
#pragma unroll
  for (int n = 0; n < kOTiles; ++n) {
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      float2 v = make_float2(0.0f, 0.0f);
      if (r.chunk > 0 && live[hh]) v = *reinterpret_cast<const float2*>(p.state_o + pair[hh] * kDv + n * 8 + 2 * tq);
      o[n][2 * hh] = v.x;
      o[n][2 * hh + 1] = v.y;
    }
  }

  const float scale_log2 = p.scale * kLog2e;
  for (int it = 0; it < n_tiles; ++it) {
    if (it + 1 < n_tiles) load_kv(it + 1, (it + 1) & 1);  // the stage tile it-1 used (freed below)
    cp_async_commit();
    cp_async_wait<1>();  // tile it has landed
    __syncthreads();
    const uint32_t ks = sk + (it & 1) * (uint32_t)kAttendKTile, vs = sv + (it & 1) * (uint32_t)kAttendVTile;

    // S = Q K^T: 16 rows x 64 keys per warp.
    float sc[kSTiles][4];
#pragma unroll
    for (int n = 0; n < kSTiles; ++n) sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kQSteps; ++kk) {
#pragma unroll
      for (int np = 0; np < kSTiles / 2; ++np) {
        uint32_t bf[4];
        ldmatrix_x4(bf, ks + swz<kQChunks>(np * 16 + lane % 8 + (lane / 16) * 8, 2 * kk + (lane / 8) % 2));
        mma_16816<T>(sc[2 * np], qf[kk], bf[0], bf[1]);
        mma_16816<T>(sc[2 * np + 1], qf[kk], bf[2], bf[3]);
      }
    }
    // Mask keys a row does not see (causal, or past the chunk's keys), log2 units.
    const int64_t key0 = (int64_t)sp.key_lo + (int64_t)it * kAttendKeys;
    float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < kSTiles; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int hh = e / 2;
        const int64_t key = key0 + n * 8 + 2 * tq + (e & 1);
        const float v = key < vis[hh] ? sc[n][e] * scale_log2 : -INFINITY;
        sc[n][e] = v;
        tmax[hh] = fmaxf(tmax[hh], v);
      }
    }
    float base[2], alpha[2];
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      tmax[hh] = fmaxf(tmax[hh], __shfl_xor_sync(0xffffffffu, tmax[hh], 1));
      tmax[hh] = fmaxf(tmax[hh], __shfl_xor_sync(0xffffffffu, tmax[hh], 2));
      const float mx = fmaxf(m[hh], tmax[hh]);
      base[hh] = mx == -INFINITY ? 0.0f : mx;  // a row with no key yet stays at 0
      alpha[hh] = exp2f(m[hh] - base[hh]);
      m[hh] = mx;
    }
    // P = exp2(S - max) as the A operand of P V (m16n8k16: keys 16kk..16kk+15).
    uint32_t pa[kAttendKeys / 16][4];
    float rs[2] = {0.0f, 0.0f};
#pragma unroll
    for (int n = 0; n < kSTiles; ++n) {
      const float p0 = exp2f(sc[n][0] - base[0]), p1 = exp2f(sc[n][1] - base[0]);
      const float p2 = exp2f(sc[n][2] - base[1]), p3 = exp2f(sc[n][3] - base[1]);
      rs[0] += p0 + p1;
      rs[1] += p2 + p3;
      pa[n / 2][(n % 2) * 2] = pack2<T>(p0, p1);
      pa[n / 2][(n % 2) * 2 + 1] = pack2<T>(p2, p3);
    }
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      rs[hh] += __shfl_xor_sync(0xffffffffu, rs[hh], 1);
      rs[hh] += __shfl_xor_sync(0xffffffffu, rs[hh], 2);
      l[hh] = l[hh] * alpha[hh] + rs[hh];
    }
#pragma unroll
    for (int n = 0; n < kOTiles; ++n) {
      o[n][0] *= alpha[0];
      o[n][1] *= alpha[0];
      o[n][2] *= alpha[1];
      o[n][3] *= alpha[1];
    }
    // O += P V: V rows are keys (k), read transposed.
#pragma unroll
    for (int kk = 0; kk < kAttendKeys / 16; ++kk) {
#pragma unroll
      for (int np = 0; np < kOTiles / 2; ++np) {
        uint32_t vf[4];
        ldmatrix_x4_trans(vf, vs + swz<kVChunks>(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, 2 * np + lane / 16));
        mma_16816<T>(o[2 * np], pa[kk], vf[0], vf[1]);
        mma_16816<T>(o[2 * np + 1], pa[kk], vf[2], vf[3]);
      }
    }
    __syncthreads();  // every warp is done with this stage before it is refilled
  }
  cp_async_wait_all();

#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    if (!live[hh]) continue;
#pragma unroll
    for (int n = 0; n < kOTiles; ++n)
      *reinterpret_cast<float2*>(p.state_o + pair[hh] * kDv + n * 8 + 2 * tq) =
          make_float2(o[n][2 * hh], o[n][2 * hh + 1]);
    if (tq == 0) {
      p.state_ml[2 * pair[hh]] = m[hh];
      p.state_ml[2 * pair[hh] + 1] = l[hh];
    }
  }
}

template <class T>
cudaError_t expand_typed(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  auto kernel = opb_expand_mma<T>;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)kExpandSmem);
  if (e != cudaSuccess) return e;
  kernel<<<dim3(p.chunk_keys / kExpandKeys, 2 * p.heads, p.group_seqs), kExpandThreads, kExpandSmem, stream>>>(p, r);
  return cudaGetLastError();
}

template <class T>
cudaError_t attend_typed(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  const int rows = p.max_seqlen_q < p.pass_rows ? p.max_seqlen_q : p.pass_rows;
  const int tiles = (rows + kAttendRows - 1) / kAttendRows;
  if (tiles == 0) return cudaSuccess;
  auto kernel = opb_attend_mma<T>;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)kAttendSmem);
  if (e != cudaSuccess) return e;
  kernel<<<dim3(tiles, p.heads, p.group_seqs), kAttendThreads, kAttendSmem, stream>>>(p, r);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_opb_expand_mma(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  return p.compute_dtype == mla_gpu::dtype_bf16 ? expand_typed<__nv_bfloat16>(p, r, stream)
                                                : expand_typed<__half>(p, r, stream);
}

cudaError_t launch_opb_attend_mma(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  return p.compute_dtype == mla_gpu::dtype_bf16 ? attend_typed<__nv_bfloat16>(p, r, stream)
                                                : attend_typed<__half>(p, r, stream);
}

}  // namespace mla_cuda
