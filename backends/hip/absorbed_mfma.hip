// SPDX-License-Identifier: MIT
// Op A on CDNA matrix cores (gfx90a, gfx940): FlashMLA's absorbed attention
// with v_mfma_f32_32x32x8{bf16_1k,f16}, f32 accumulation, online softmax.
//
// Build: part of libmla_backend_hip (backends/hip/CMakeLists.txt); the device
// pass for gfx1030 (RDNA, wave32, no MFMA) compiles an empty body and the
// host never launches it there (launch_fast_path checks the device).
//
// One workgroup = 8 waves of 64 = one tile of 64 (query, head) rows of one
// sequence, walking its share of the split plan in KV tiles of 64 cache rows:
//   S  = Q · Kᵀ  (64 x 64, K = 576): wave w computes the 32 x 32 quadrant
//        w%4 (row half, key half) over the dim half w/4 (288 dims, 36 MFMAs);
//        its Q part stays in registers (36 x 4 values per lane) for the whole
//        piece; K comes straight from the paged cache as 64-bit words.  The
//        two dim halves land in two LDS score buffers.
//   softmax: 8 threads per row sum the halves, mask, and run the online
//        softmax in the log2 domain (running max / sum in registers); P
//        (16-bit) and the rescale factor go through LDS.
//   O += P · V  (64 x 512, K = 64): wave w owns latent columns
//        [64w, 64w + 64): 2 x 2 accumulator tiles, 32 MFMAs per KV tile.
// Registers per lane: 72 (Q) + 16 (S) + 64 (O) + loads, under 256: no spills
// (checked on the built code objects by check_hip_code_objects.cmake).
// Finished rows go to out/lse, or to a partial slot that combine.cu merges.
// Fragment placement comes from mfma_layout.hpp (host-tested).
#include <stdint.h>

#include "absorbed_common.cuh"
#include "hip_fast_path.hpp"
#include "mfma_eligibility.hpp"
#include "mfma_layout.hpp"

#if defined(__gfx90a__) || defined(__gfx940__) || defined(__gfx941__) || defined(__gfx942__)
#define MLA_HIP_DEVICE_HAS_MFMA 1
#endif

namespace mla_hip {
namespace {

using mla_gpu::absorbed_params;
using mla_gpu::seq_plan;
using L = mfma::shape_32x32x8;

constexpr int kWaves = 8;
constexpr int kWave = mfma::wave_size;
constexpr int kThreads = kWaves * kWave;
constexpr int kDimSplit = 2;                     // waves sharing one S quadrant, each over half of the dims
constexpr int kRows = kMfmaTileRows;
constexpr int kKeys = kMfmaTileKeys;
constexpr int kLatent = kMfmaLatent;
constexpr int kDims = kMfmaLatent + kMfmaRope;
constexpr int kSteps = kDims / L::k;             // 72 k-steps of S = Q·Kᵀ
constexpr int kHalfSteps = kSteps / kDimSplit;   // 36 k-steps per wave
constexpr int kLatentSteps = kLatent / L::k;     // the first 64 read the latent part
constexpr int kColsPerWave = kLatent / kWaves;   // 64
constexpr int kColTiles = kColsPerWave / L::n;   // 2
constexpr int kRowThreads = kThreads / kMfmaTileRows;  // 8 softmax threads per row
constexpr int kKeysPerThread = kMfmaTileKeys / kRowThreads;  // 8
constexpr int kRowTiles = kRows / L::m;          // 2
constexpr int kPvSteps = kKeys / L::k;           // 8 k-steps of O += P·V
constexpr int kLoadGroup = 12;                   // K loads in flight per wave, in 64-bit words
constexpr int kSPitch = kKeys + 1;               // f32 scores, padded against bank conflicts
constexpr int kPPitch = kKeys + 4;               // 16-bit probabilities, rows stay 8-byte aligned
static_assert(kRows == 2 * L::m && kKeys == 2 * L::n, "S = 2 x 2 quadrants of 32 x 32");
static_assert(kWaves == 4 * kDimSplit && kSteps % kDimSplit == 0, "8 waves = 4 quadrants x 2 dim halves");

// The kernel loads a lane's 4 operand values as one 64-bit word: they must
// be 4 consecutive k of one row (A) / one column (B).
constexpr bool operands_are_k_contiguous() {
  for (int lane = 0; lane < kWave; ++lane)
    for (int v = 0; v < mfma::operand_elements; ++v) {
      const mfma::coord a0 = L::a_element(lane, 0), a = L::a_element(lane, v);
      const mfma::coord b0 = L::b_element(lane, 0), b = L::b_element(lane, v);
      if (a.row != a0.row || a.col != a0.col + v || b.col != b0.col || b.row != b0.row + v) return false;
      if (a0.col % mfma::operand_elements != 0 || b0.row % mfma::operand_elements != 0) return false;
    }
  return true;
}
static_assert(operands_are_k_contiguous(), "mfma_layout.hpp: A/B lanes must hold 4 consecutive k");

typedef short v4i16 __attribute__((ext_vector_type(4)));
typedef _Float16 v4f16 __attribute__((ext_vector_type(4)));
typedef float v16f32 __attribute__((ext_vector_type(16)));

struct shared_tiles {
  float s[kDimSplit][kRows][kSPitch];          // scaled scores of each dim half (log2 domain)
  alignas(16) uint16_t p[kRows][kPPitch];      // probabilities in the input's 16-bit type
  int64_t key_offset[2][kKeys];                // cache element offset of each key's row (by tile parity);
                                               // keys past s_k point at the tile's first row (finite data)
  int key_state[2][kKeys];                     // 0: past s_k, 1: ok, 2: bad page (scores NaN)
  float alpha[kRows];                          // rescale of the running output, this tile
  int visible[kRows];                          // keys row r sees (causal), 0 past the sequence
  float final_max[kRows], final_sum[kRows];
  int64_t out_base[kRows];                     // where row r's output starts (out elements or partial floats)
};

#if defined(MLA_HIP_DEVICE_HAS_MFMA)

template <int DT>
__device__ __forceinline__ v16f32 mfma_32x32x8(uint64_t a, uint64_t b, v16f32 c) {
  if constexpr (DT == mla_gpu::dtype_bf16) {
    return __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(__builtin_bit_cast(v4i16, a), __builtin_bit_cast(v4i16, b), c,
                                                    0, 0, 0);
  } else {
    return __builtin_amdgcn_mfma_f32_32x32x8f16(__builtin_bit_cast(v4f16, a), __builtin_bit_cast(v4f16, b), c, 0, 0,
                                                0);
  }
}

template <int DT>
__device__ __forceinline__ uint16_t to_bits(float v) {
  if constexpr (DT == mla_gpu::dtype_bf16) {
    return mla_gpu::float_to_bf16_bits(v);
  } else {
    return __builtin_bit_cast(uint16_t, static_cast<_Float16>(v));
  }
}

__device__ __forceinline__ uint64_t load64(const uint16_t* p) { return *reinterpret_cast<const uint64_t*>(p); }

// The kernel argument, re-read where it is used.  The compiler loads every
// field at kernel entry and keeps it in SGPRs across the whole piece loop,
// which spills; reading through a kernarg-segment pointer it cannot prove
// unchanged (the empty asm) keeps the scalar loads where they are written.
// The absorbed_params argument is the kernel's first and only one, so it
// starts at offset 0 of the kernarg segment.  Used for what only the
// prologue and epilogue of a piece need.
typedef const __attribute__((address_space(4))) absorbed_params* kernarg_ptr;
__device__ __forceinline__ const absorbed_params& reread() {
  kernarg_ptr at = (kernarg_ptr)__builtin_amdgcn_kernarg_segment_ptr();
  asm volatile("" : "+s"(at));
  return *(const absorbed_params*)at;
}

// One dim half of a lane's S quadrant: q_frag holds the A operands of k-steps
// HALF*36 .. +35; `latent` / `rope` point at the lane's key row (+ its k offset).
// HALF is a template parameter so every load's offset is a constant.
template <int DT, int HALF>
__device__ __forceinline__ v16f32 scores_half(const uint64_t (&q_frag)[kHalfSteps], const uint16_t* latent,
                                              const uint16_t* rope) {
  v16f32 acc = v16f32{};
#pragma unroll
  for (int i = 0; i < kHalfSteps; ++i) {
    const int st = HALF * kHalfSteps + i;
    const uint16_t* at = st < kLatentSteps ? latent + st * L::k : rope + (st - kLatentSteps) * L::k;
    acc = mfma_32x32x8<DT>(q_frag[i], load64(at), acc);
    // Keep the scheduler from hoisting all 36 K loads (72 registers) at once.
    if (i % kLoadGroup == kLoadGroup - 1) __builtin_amdgcn_sched_barrier(0);
  }
  return acc;
}

// Rows [r0, r0 + 64) of sequence b (rows = s_q * H of them), KV tiles
// [tile_begin, tile_end), result to `slot` (or out/lse when slot < 0).
template <int DT>
__device__ __forceinline__ void attend_tile(const absorbed_params& p, const seq_plan& s, shared_tiles& sm, int b,
                                            int m, int r0, int rows, int tile_begin, int tile_end, int slot) {
  const int tid = threadIdx.x;
  const int lane = tid % kWave;
  const int wave = tid / kWave;
  const int row_half = (wave % 4) / 2, key_half = wave % 2, dim_half = wave / 4;
  const float scale_log2 = p.scale * 1.4426950408889634f;
  const uint16_t* cache = static_cast<const uint16_t*>(p.kv);

  if (tid < kRows) sm.visible[tid] = r0 + tid < rows ? mla_gpu::visible_keys(p, s, r0 + tid) : 0;

  // This wave's part of Q as A operands: row qa.row of its row half, dims
  // 8*step + qa.col .. +3 of its dim half (q rows are [latent | rope]).
  const mfma::coord qa = L::a_element(lane, 0);
  uint64_t q_frag[kHalfSteps];
  {
    // A row past the sequence loads row r0's q (no branch): its scores are
    // masked anyway and its output is not stored.
    const int q_row = r0 + row_half * L::m + qa.row < rows ? r0 + row_half * L::m + qa.row : r0;
    const int heads = reread().heads;
    const int64_t query = s.q_begin + q_row / heads;
    const int head = q_row % heads;
    const uint16_t* q = static_cast<const uint16_t*>(reread().q) + query * reread().q_stride[0] +
                        head * reread().q_stride[1] + dim_half * kHalfSteps * L::k + qa.col;
#pragma unroll
    for (int st = 0; st < kHalfSteps; ++st) q_frag[st] = load64(q + st * L::k);
  }

  v16f32 o[kRowTiles][kColTiles];
#pragma unroll
  for (int rt = 0; rt < kRowTiles; ++rt)
#pragma unroll
    for (int ct = 0; ct < kColTiles; ++ct) o[rt][ct] = v16f32{};

  // Softmax role: row tid/8, keys 8*(tid%8) .. +7; running max and sum are
  // kept (identically) by the row's 8 threads.
  const int sm_row = tid / kRowThreads, sm_part = tid % kRowThreads;
  float run_max = -INFINITY, run_sum = 0.0f;

  for (int n = tile_begin; n < tile_end; ++n) {
    const int buf = n & 1;  // double-buffered so slow waves may still read tile n-1's keys
    const int t0 = n * kKeys;
    if (tid < kKeys) {
      // A key past s_k reads the tile's first row instead (t0 < s_k since the
      // tile exists): its scores are masked and its P is 0, and that row's
      // data is finite where the row past s_k may be NaN (0 * NaN != 0).
      // So no load below needs a branch.
      const int t = t0 + tid < s.s_k ? t0 + tid : t0;
      bool bad = false;
      sm.key_offset[buf][tid] = mla_gpu::cache_row_offset(p, b, t, &bad);
      sm.key_state[buf][tid] = t0 + tid >= s.s_k ? 0 : (bad ? 2 : 1);
    }
    __syncthreads();

    // ---- S quadrant, one dim half: lane holds key kb.col of the key half,
    // dims 8*step + kb.row .. +3
    {
      const mfma::coord kb = L::b_element(lane, 0);
      const int key = key_half * L::n + kb.col;
      const uint16_t* row = cache + sm.key_offset[buf][key];
      const uint16_t* latent = row + p.latent_offset + kb.row;
      const uint16_t* rope = row + p.rope_offset + kb.row;
      const v16f32 acc = dim_half == 0 ? scores_half<DT, 0>(q_frag, latent, rope)
                                       : scores_half<DT, 1>(q_frag, latent, rope);
#pragma unroll
      for (int i = 0; i < L::c_elements; ++i) {
        const mfma::coord c = L::c_element(lane, i);
        sm.s[dim_half][row_half * L::m + c.row][key_half * L::n + c.col] = acc[i] * scale_log2;
      }
    }
    __syncthreads();

    // ---- online softmax over the tile's 64 keys of each row: masked keys
    // (causal, past s_k) get -inf, keys on a bad page NaN
    {
      float v[kKeysPerThread];
      float tile_max = -INFINITY;
      const int visible = sm.visible[sm_row];
#pragma unroll
      for (int j = 0; j < kKeysPerThread; ++j) {
        const int k = sm_part * kKeysPerThread + j;
        const float score = sm.s[0][sm_row][k] + sm.s[1][sm_row][k];
        v[j] = t0 + k >= visible ? -INFINITY : (sm.key_state[buf][k] == 2 ? NAN : score);
        tile_max = fmaxf(tile_max, v[j]);
      }
#pragma unroll
      for (int x = 1; x < kRowThreads; x *= 2) tile_max = fmaxf(tile_max, mla_shfl_xor(tile_max, x));
      const float new_max = fmaxf(run_max, tile_max);
      const float base = new_max == -INFINITY ? 0.0f : new_max;  // no key yet: avoid inf - inf
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < kKeysPerThread; ++j) {
        const float e = exp2f(v[j] - base);  // NaN score stays NaN through sum and P
        sum += e;
        sm.p[sm_row][sm_part * kKeysPerThread + j] = to_bits<DT>(e);
      }
#pragma unroll
      for (int x = 1; x < kRowThreads; x *= 2) sum += mla_shfl_xor(sum, x);
      const float alpha = exp2f(run_max - base);
      run_sum = run_sum * alpha + sum;
      run_max = new_max;
      if (sm_part == 0) sm.alpha[sm_row] = alpha;
    }
    __syncthreads();

    // ---- O (this wave's 64 columns) = O * alpha + P · V
    {
#pragma unroll
      for (int rt = 0; rt < kRowTiles; ++rt)
#pragma unroll
        for (int i = 0; i < L::c_elements; ++i) {
          const float a = sm.alpha[rt * L::m + L::c_element(lane, i).row];
#pragma unroll
          for (int ct = 0; ct < kColTiles; ++ct) o[rt][ct][i] *= a;
        }
      const mfma::coord pa = L::a_element(lane, 0);  // P row, first key of the lane's 4
      const mfma::coord vb = L::b_element(lane, 0);  // first key of the lane's 4, latent column
      const uint16_t* v_col = cache + p.latent_offset + wave * kColsPerWave + vb.col;
#pragma unroll 1  // unrolled, the hoisted V loads of all 8 steps would spill
      for (int ks = 0; ks < kPvSteps; ++ks) {
        uint64_t p_frag[kRowTiles];
#pragma unroll
        for (int rt = 0; rt < kRowTiles; ++rt) p_frag[rt] = load64(&sm.p[rt * L::m + pa.row][ks * L::k + pa.col]);
        int64_t key_row[mfma::operand_elements];
#pragma unroll
        for (int e = 0; e < mfma::operand_elements; ++e) key_row[e] = sm.key_offset[buf][ks * L::k + vb.row + e];
#pragma unroll
        for (int ct = 0; ct < kColTiles; ++ct) {
          uint64_t v_frag = 0;
#pragma unroll
          for (int e = 0; e < mfma::operand_elements; ++e) {
            v_frag |= (uint64_t)v_col[key_row[e] + ct * L::n] << (16 * e);
          }
#pragma unroll
          for (int rt = 0; rt < kRowTiles; ++rt) o[rt][ct] = mfma_32x32x8<DT>(p_frag[rt], v_frag, o[rt][ct]);
        }
      }
    }
  }

  if (sm_part == 0) {
    sm.final_max[sm_row] = run_max;
    sm.final_sum[sm_row] = run_sum;
    // Row sm_row's first output element: partial slot row or out[query, head, 0].
    const int r = r0 + sm_row;
    const int heads = reread().heads;
    if (slot >= 0) {
      sm.out_base[sm_row] =
          (((int64_t)slot * reread().m_blocks + m) * kRows + sm_row) * mla_gpu::partial_row_stride(kLatent);
    } else if (r < rows) {
      sm.out_base[sm_row] =
          (s.q_begin + r / heads) * reread().out_stride[0] + (int64_t)(r % heads) * reread().out_stride[1];
    }
  }
  __syncthreads();

  // The normalized tile: every (row, column) this lane holds, through `put`.
  const auto for_each_result = [&](auto put) {
#pragma unroll
    for (int rt = 0; rt < kRowTiles; ++rt)
#pragma unroll
      for (int i = 0; i < L::c_elements; ++i) {
        const mfma::coord c = L::c_element(lane, i);
        const int r = rt * L::m + c.row;
        if (r0 + r >= rows) continue;
        const float sum = sm.final_sum[r];
        const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;  // no visible key: out = 0
        const int64_t base = sm.out_base[r];
#pragma unroll
        for (int ct = 0; ct < kColTiles; ++ct) put(base, wave * kColsPerWave + ct * L::n + c.col, o[rt][ct][i] * inv);
      }
  };
  if (slot >= 0) {
    float* partial = reread().plan.partial_out;
    for_each_result([&](int64_t base, int col, float v) { partial[base + col] = v; });
  } else {
    const int64_t cs = reread().out_stride[2];
    const int out_dtype = reread().out_dtype;
    if (out_dtype == mla_gpu::dtype_f32) {
      float* out = static_cast<float*>(reread().out);
      for_each_result([&](int64_t base, int col, float v) { out[base + col * cs] = v; });
    } else if (out_dtype == mla_gpu::dtype_f16) {
      uint16_t* out = static_cast<uint16_t*>(reread().out);
      for_each_result([&](int64_t base, int col, float v) { out[base + col * cs] = to_bits<mla_gpu::dtype_f16>(v); });
    } else {
      uint16_t* out = static_cast<uint16_t*>(reread().out);
      for_each_result([&](int64_t base, int col, float v) { out[base + col * cs] = to_bits<mla_gpu::dtype_bf16>(v); });
    }
  }
  if (sm_part == 0 && r0 + sm_row < rows) {
    const float sum = sm.final_sum[sm_row];
    const float lse = sum == 0.0f ? -INFINITY : (sm.final_max[sm_row] + log2f(sum)) * 0.6931471805599453f;
    mla_gpu::make_row_sink(reread(), s, m, r0 + sm_row, slot).store_lse(lse);
  }
  __syncthreads();  // the next piece rewrites the shared tiles
}

#endif  // MLA_HIP_DEVICE_HAS_MFMA

template <int DT>
__global__ void __launch_bounds__(kThreads) absorbed_mfma_kernel(absorbed_params p) {
#if defined(MLA_HIP_DEVICE_HAS_MFMA)
  __shared__ shared_tiles sm;
  const int m = blockIdx.x;
  mla_gpu::for_each_piece(p, blockIdx.y, [&](int b, const seq_plan& s, int tile_begin, int tile_end, int slot) {
    if (!s.valid) {
      mla_gpu::fill_invalid_rows(reread(), s, m);
      return;
    }
    const int rows = s.s_q * reread().heads;
    const int r0 = m * kRows;
    if (r0 < rows) attend_tile<DT>(p, s, sm, b, m, r0, rows, tile_begin, tile_end, slot);
  });
#endif
}

}  // namespace

hipError_t launch_absorbed_mfma(const absorbed_params& p, hipStream_t stream) {
  if (p.batch == 0 || p.m_blocks == 0) return hipSuccess;
  const dim3 grid(p.m_blocks, p.num_parts);
  if (p.q_dtype == mla_gpu::dtype_bf16) {
    absorbed_mfma_kernel<mla_gpu::dtype_bf16><<<grid, kThreads, 0, stream>>>(p);
  } else {
    absorbed_mfma_kernel<mla_gpu::dtype_f16><<<grid, kThreads, 0, stream>>>(p);
  }
  return hipGetLastError();
}

}  // namespace mla_hip
