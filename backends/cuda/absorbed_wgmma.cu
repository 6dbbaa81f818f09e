// SPDX-License-Identifier: MIT
// Op A on Hopper (sm_90a): wgmma tensor cores fed by TMA, warp-specialized.
// bf16 or f16 q and cache, Dl = 512, Dr = 64, f32 accumulation.
//
// A CTA owns a tile of 64 (query, head) rows of one sequence and streams the
// sequence's 64-key KV tiles through a 2-stage shared-memory ring:
//   - producer warpgroup (warps 8-11; setmaxnreg hands its registers to the
//     consumers): one lane walks the same pieces of the split plan as the
//     consumers, gathers each KV tile through the block table with
//     cp.async.bulk.tensor (TMA, 128-B swizzle) and signals a "full" mbarrier;
//   - two consumer warpgroups (warps 0-7) per KV tile:
//       1. S = Q K^T: warpgroup w computes the 64 rows x keys [32w, 32w + 32)
//          (36 wgmma m64n32k16, Q and K straight from shared memory);
//       2. the row maxima of both halves meet in shared memory; each
//          warpgroup rescales and writes its half of P = exp2(S - max) there;
//       3. O += P V: warpgroup w owns output dims [256w, 256w + 256) (4 wgmma
//          m64n256k16, V is the latent slice of the same K tile read
//          N-major), then releases the stage to the producer ("empty").
// Everything outside the tile loop (plan walk, masking, row sinks, invalid
// sequences) is shared with the other op-A kernels (absorbed_common.cuh).
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda/ptx>

#include "../gpu/absorbed_common.cuh"
#include "absorbed_wgmma.hpp"
#include "wgmma_config.hpp"
#include "mma_primitives.cuh"
#include "tensor_map.hpp"
#include "wgmma_primitives.cuh"

namespace mla_cuda {
namespace {

using mla_gpu::absorbed_params;
using mla_gpu::seq_plan;
namespace ptx = cuda::ptx;

using namespace wgmma_config;

// The device code below uses sm_90a instructions; other passes see only
// the (empty) kernel.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)

// Registers per thread after setmaxnreg: the producer gives most of its
// share to the consumers (O is 128 f32 per thread); 128 x 40 + 256 x 232
// fits the 64 K registers of an SM.
constexpr int kProducerRegisters = 40;
constexpr int kConsumerRegisters = 232;
constexpr int kConsumerBarrier = 1;            // named barrier id (0 is __syncthreads)
constexpr uint32_t kRowBytes = kBlocks * 128;  // one cache row as TMA delivers it

// Tiles [first, first + count) of a piece that row tile m must visit: the
// producer and the consumers derive the same range from the same inputs.
struct tile_range {
  int first, count;
};
__device__ __forceinline__ tile_range piece_tiles(const absorbed_params& p, const seq_plan& s, int m, int tile_begin,
                                                  int tile_end) {
  const int rows = s.s_q * p.heads;
  const int r0 = m * kRows;
  if (r0 >= rows) return {tile_begin, 0};
  const int keys_max = mla_gpu::visible_keys(p, s, min(r0 + kRows, rows) - 1);
  const int stop = min(tile_end, (keys_max + kKeys - 1) / kKeys);
  return {tile_begin, max(0, stop - tile_begin)};
}

__device__ __forceinline__ void wait_parity(uint64_t* bar, uint32_t parity) {
  while (!ptx::mbarrier_try_wait_parity(bar, parity)) {
  }
}

// ---- producer -------------------------------------------------------------

// The pages of one KV tile: a box is 64 columns x box_rows rows of one page
// (box_rows = min(page_size, 64)); pages holding no key of the sequence are
// not read (the consumers zero those rows).  A page index out of range (the
// table changed after the plan checked it) reads page 0 and sets bad.
struct tile_pages {
  static constexpr int kMaxChunks = kKeys / 8;  // page_size >= 8
  int32_t page[kMaxChunks];
  int chunks, box_rows, t0, bad;
};

__device__ tile_pages look_up_pages(const absorbed_params& p, int b, int s_k, int tile) {
  tile_pages t;
  t.t0 = tile * kKeys;
  t.box_rows = min(p.page_size, kKeys);
  t.chunks = min(kKeys / t.box_rows, (s_k - t.t0 + t.box_rows - 1) / t.box_rows);
  t.bad = 0;
#pragma unroll
  for (int c = 0; c < tile_pages::kMaxChunks; ++c) {
    if (c >= t.chunks) break;
    const int32_t page = p.block_table[(int64_t)b * p.block_table_stride + (t.t0 + c * t.box_rows) / p.page_size];
    const bool ok = page >= 0 && page < p.num_pages;
    t.bad |= !ok;
    t.page[c] = ok ? page : 0;
  }
  return t;
}

// Issues the TMA copies of a tile into stage `stage` and arms its "full"
// barrier with their byte count.  The tensor map views the cache as
// [num_pages][page_size][row elements].  stage_bad is written before the
// barrier's release, so the consumers see it once the stage is full.
__device__ void load_kv_tile(const CUtensorMap* map, const absorbed_params& p, const tile_pages& t, char* smem,
                             int stage) {
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + smem_layout::full) + stage;
  reinterpret_cast<int*>(smem + smem_layout::stage_bad)[stage] = t.bad;
  ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta, ptx::space_shared, full,
                                 (uint32_t)(t.chunks * t.box_rows) * kRowBytes);
  char* dst = smem + smem_layout::kv + stage * kTileBytes;
#pragma unroll
  for (int c = 0; c < tile_pages::kMaxChunks; ++c) {
    if (c >= t.chunks) break;
    const int in_page = (t.t0 + c * t.box_rows) % p.page_size;
#pragma unroll
    for (int j = 0; j < kBlocks; ++j) {
      const int col = j < kBlocks - 1 ? p.latent_offset + 64 * j : p.rope_offset;
      const int32_t coords[3] = {col, in_page, t.page[c]};
      ptx::cp_async_bulk_tensor(ptx::space_cluster, ptx::space_global, dst + j * kBlockBytes + c * t.box_rows * 128,
                                map, coords, full);
    }
  }
}

__device__ void produce(const CUtensorMap* map, const absorbed_params& p, char* smem) {
  uint64_t* empty = reinterpret_cast<uint64_t*>(smem + smem_layout::empty);
  const bool leader = threadIdx.x == kConsumers;
  uint32_t it = 0;  // KV tiles issued by this CTA so far (ring position)
  mla_gpu::for_each_piece(p, blockIdx.y, [&](int b, const seq_plan& s, int tile_begin, int tile_end, int) {
    if (!s.valid) {
      mla_gpu::fill_invalid_rows(p, s, blockIdx.x);
      return;
    }
    const tile_range r = piece_tiles(p, s, blockIdx.x, tile_begin, tile_end);
    if (!leader) return;
    for (int i = 0; i < r.count; ++i, ++it) {
      // The block-table reads go out before the wait for a free stage, so
      // their latency hides behind it.
      const tile_pages t = look_up_pages(p, b, s.s_k, r.first + i);
      const int stage = it % kStages;
      wait_parity(&empty[stage], ((it / kStages) & 1) ^ 1);  // first pass: free
      load_kv_tile(map, p, t, smem, stage);
    }
  });
}

// ---- consumers ------------------------------------------------------------

template <class T>
struct consumer {
  // Q rows [r0, r0 + 64) of the sequence into the swizzled Q tile; rows past
  // the sequence are zero.  cp.async (the rows are gathered per query).
  static __device__ void load_q(const absorbed_params& p, const seq_plan& s, int r0, int rows, uint32_t dst) {
    const T* q = static_cast<const T*>(p.q);
    for (int c = threadIdx.x; c < kRows * kBlocks * 8; c += kConsumers) {
      const int row = c / (kBlocks * 8), chunk = c % (kBlocks * 8);
      const int r = r0 + row;
      const bool valid = r < rows;
      const int64_t at = valid ? mla_gpu::q_row_offset(p, s, r) + chunk * 8 : 0;
      cp_async_16(dst + (chunk / 8) * kBlockBytes + sw128_offset(row, (chunk % 8) * 8), q + at, valid);
    }
    cp_async_wait_all();
  }

  // Latent columns of rows [valid, 64) of a stage become zero: past s_k they
  // hold whatever the page (or an older tile) had, and P = 0 times a NaN
  // there would still poison O.
  static __device__ void zero_tail_rows(char* stage, int valid) {
    const int per_row = (kBlocks - 1) * 8;  // 16-byte chunks of the latent part
    for (int c = threadIdx.x; c < (kKeys - valid) * per_row; c += kConsumers) {
      const int row = valid + c / per_row, chunk = c % per_row;
      *reinterpret_cast<uint4*>(stage + (chunk / 8) * kBlockBytes + row * 128 + (chunk % 8) * 16) =
          make_uint4(0, 0, 0, 0);
    }
  }

  static __device__ void attend_piece(const absorbed_params& p, char* smem, uint32_t& it, const seq_plan& s, int m,
                                      const tile_range& range, int slot) {
    const int rows = s.s_q * p.heads;
    const int r0 = m * kRows;
    const int wg = threadIdx.x / 128;
    const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    const int g = lane / 4, tq = lane % 4;
    uint64_t* full = reinterpret_cast<uint64_t*>(smem + smem_layout::full);
    uint64_t* empty = reinterpret_cast<uint64_t*>(smem + smem_layout::empty);
    const int* stage_bad = reinterpret_cast<const int*>(smem + smem_layout::stage_bad);
    int* piece_bad = reinterpret_cast<int*>(smem + smem_layout::piece_bad);
    float* red_max = reinterpret_cast<float*>(smem + smem_layout::red_max);
    float* red_sum = reinterpret_cast<float*>(smem + smem_layout::red_sum);
    char* sp = smem + smem_layout::p;
    const uint64_t q_desc = sw128_desc(smem_addr(smem + smem_layout::q), 16, 1024);
    const uint64_t p_desc = sw128_desc(smem_addr(sp), 16, 1024);

    named_barrier_sync(kConsumerBarrier, kConsumers);  // the last piece is done with Q, red_*, piece_bad
    if (threadIdx.x == 0) *piece_bad = 0;
    load_q(p, s, r0, rows, smem_addr(smem + smem_layout::q));
    ptx::fence_proxy_async(ptx::space_shared);  // Q (generic writes) -> wgmma (async proxy)
    named_barrier_sync(kConsumerBarrier, kConsumers);

    // This thread's two rows (g and g + 8 of its warp) and their visible keys.
    int row_of[2], keys[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      row_of[h] = warp * 16 + g + 8 * h;
      keys[h] = r0 + row_of[h] < rows ? mla_gpu::visible_keys(p, s, r0 + row_of[h]) : 0;
    }
    float o[128];
#pragma unroll
    for (int i = 0; i < 128; ++i) o[i] = 0.0f;
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};
    const float scale_log2 = p.scale * 1.4426950408889634f;
    bool bad = false;

    for (int i = 0; i < range.count; ++i, ++it) {
      const int stage = it % kStages;
      const int t0 = (range.first + i) * kKeys;
      char* kv = smem + smem_layout::kv + stage * kTileBytes;
      const uint32_t kv_addr = smem_addr(kv);
      wait_parity(&full[stage], (it / kStages) & 1);
      bad |= stage_bad[stage] != 0;
      if (s.s_k - t0 < kKeys) {  // the sequence's last tile (uniform across consumers)
        zero_tail_rows(kv, s.s_k - t0);
        ptx::fence_proxy_async(ptx::space_shared);
        named_barrier_sync(kConsumerBarrier, kConsumers);
      }

      // ---- 1. S = Q K^T over this warpgroup's 32 keys
      float sc[16];
      const uint64_t k_desc = sw128_desc(kv_addr + (uint32_t)(32 * wg) * 128, 16, 1024);
      wgmma_fence();
#pragma unroll
      for (int k = 0; k < kBlocks * 4; ++k) {
        const uint32_t at = (uint32_t)(k / 4) * kBlockBytes + (uint32_t)(k % 4) * 32;
        const uint64_t a = desc_advance(q_desc, at), b = desc_advance(k_desc, at);
        if (k == 0) wgmma_n32_ss_first<T>(sc, a, b);
        else wgmma_n32_ss<T>(sc, a, b);
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_accumulators(sc);

      // ---- 2. mask, row maxima across both halves, P, rescale O
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int e = 0; e < 16; ++e) {
        const int h = (e / 2) % 2;
        const int key = t0 + 32 * wg + 8 * (e / 4) + 2 * tq + (e % 2);
        sc[e] = key < keys[h] ? sc[e] * scale_log2 : -INFINITY;
        tile_max[h] = fmaxf(tile_max[h], sc[e]);
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
        if (tq == 0) red_max[wg * kRows + row_of[h]] = tile_max[h];
      }
      named_barrier_sync(kConsumerBarrier, kConsumers);
      float alpha[2], base[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float mx = fmaxf(row_max[h], fmaxf(red_max[row_of[h]], red_max[kRows + row_of[h]]));
        base[h] = mx == -INFINITY ? 0.0f : mx;  // a row with no key yet stays at 0
        alpha[h] = exp2f(row_max[h] - base[h]);
        row_max[h] = mx;
        row_sum[h] *= alpha[h];
      }
#pragma unroll
      for (int e = 0; e < 16; e += 2) {
        const int h = (e / 2) % 2;
        const float p0 = exp2f(sc[e] - base[h]), p1 = exp2f(sc[e + 1] - base[h]);
        row_sum[h] += p0 + p1;
        const int key = 32 * wg + 8 * (e / 4) + 2 * tq;
        *reinterpret_cast<uint32_t*>(sp + sw128_offset(row_of[h], key)) = pack2<T>(p0, p1);
      }
      if (__any_sync(0xffffffffu, alpha[0] != 1.0f || alpha[1] != 1.0f)) {  // most tiles keep the maxima
#pragma unroll
        for (int e = 0; e < 128; ++e) o[e] *= alpha[(e / 2) % 2];
      }
      ptx::fence_proxy_async(ptx::space_shared);  // P (generic writes) -> wgmma
      named_barrier_sync(kConsumerBarrier, kConsumers);

      // ---- 3. O += P V over this warpgroup's 256 output dims
      fence_accumulators(o);
      wgmma_fence();
      const uint64_t v_desc = sw128_desc(kv_addr + (uint32_t)(4 * wg) * kBlockBytes, kBlockBytes, 1024);
#pragma unroll
      for (int k = 0; k < kKeys / 16; ++k)
        wgmma_n256_ss<T>(o, desc_advance(p_desc, (uint32_t)k * 32), desc_advance(v_desc, (uint32_t)k * 16 * 128));
      wgmma_commit();
      wgmma_wait<0>();
      fence_accumulators(o);
      ptx::mbarrier_arrive(&empty[stage]);
    }

    // ---- epilogue: full row sums across both halves, then write
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 1);
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 2);
      if (tq == 0) red_sum[wg * kRows + row_of[h]] = row_sum[h];
    }
    if (bad) *piece_bad = 1;
    named_barrier_sync(kConsumerBarrier, kConsumers);
    const bool any_bad = *piece_bad != 0;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = r0 + row_of[h];
      if (r >= rows) continue;
      const float total = red_sum[row_of[h]] + red_sum[kRows + row_of[h]];
      const bool no_key = total == 0.0f;  // no visible key: out = 0, lse = -inf
      const float inv = any_bad ? NAN : (no_key ? 0.0f : 1.0f / total);
      const mla_gpu::row_sink sink = mla_gpu::make_row_sink(p, s, m, r, slot);
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        const int d = 256 * wg + 8 * j + 2 * tq;
        sink.store(d, o[4 * j + 2 * h] * inv);
        sink.store(d + 1, o[4 * j + 2 * h + 1] * inv);
      }
      if (wg == 0 && tq == 0)
        sink.store_lse(any_bad ? NAN : (no_key ? -INFINITY : (row_max[h] + log2f(total)) * 0.6931471805599453f));
    }
  }
};

#endif  // __CUDA_ARCH_FEAT_SM90_ALL

template <class T>
__global__ void __launch_bounds__(kThreads, 1)
    absorbed_wgmma_kernel(const __grid_constant__ CUtensorMap kv_map, absorbed_params p) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ char smem_raw[];
  char* smem = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  if (threadIdx.x == 0) {
    for (int i = 0; i < kStages; ++i) {
      ptx::mbarrier_init(reinterpret_cast<uint64_t*>(smem + smem_layout::full) + i, 1);
      ptx::mbarrier_init(reinterpret_cast<uint64_t*>(smem + smem_layout::empty) + i, kConsumers);
    }
    ptx::fence_mbarrier_init(ptx::sem_release, ptx::scope_cluster);
  }
  __syncthreads();
  if (threadIdx.x >= kConsumers) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegisters));
    produce(&kv_map, p, smem);
    return;
  }
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegisters));
  uint32_t it = 0;
  const int m = blockIdx.x;
  mla_gpu::for_each_piece(p, blockIdx.y, [&](int, const seq_plan& s, int tile_begin, int tile_end, int slot) {
    if (!s.valid) {
      mla_gpu::fill_invalid_rows(p, s, m);
      return;
    }
    const tile_range range = piece_tiles(p, s, m, tile_begin, tile_end);
    if (m * kRows >= s.s_q * p.heads) return;
    consumer<T>::attend_piece(p, smem, it, s, m, range, slot);
  });
#endif
}

// The cache as a 3-D tensor [num_pages][page_size][columns] with boxes of
// 64 columns x min(page_size, 64) rows of one page.
bool encode_kv_map(const absorbed_params& p, CUtensorMap* map) {
  const tensor_map_encode_fn encode = tensor_map_encoder();
  if (!encode) return false;
  const cuuint64_t cols = (cuuint64_t)max(p.latent_offset + kLatent, p.rope_offset + 64);
  const cuuint64_t dims[3] = {cols, (cuuint64_t)p.page_size, (cuuint64_t)p.num_pages};
  const cuuint64_t strides[2] = {(cuuint64_t)p.row_stride * 2, (cuuint64_t)p.page_stride * 2};  // bytes
  const cuuint32_t box[3] = {64, (cuuint32_t)min(p.page_size, kKeys), 1};
  const cuuint32_t unit[3] = {1, 1, 1};
  const CUtensorMapDataType type =
      p.kv_dtype == mla_gpu::dtype_bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  return encode(map, type, 3, const_cast<void*>(p.kv), dims, strides, box, unit, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

// True when the image carries sm_90a code for the kernel (not only sm_80).
// Asked on a compute capability 9.0 device (the caller checked), where the
// answer is the same for every such device.
bool kernel_built_for_sm90a() {
  static const bool built = [] {
    cudaFuncAttributes a{};
    return cudaFuncGetAttributes(&a, absorbed_wgmma_kernel<__nv_bfloat16>) == cudaSuccess && a.binaryVersion == 90;
  }();
  return built;
}

}  // namespace

bool wgmma_eligible(const mla_gpu::absorbed_params& p) {
  const int ps = p.page_size;
  const bool pages_ok = ps >= 64 ? ps % 64 == 0 : (ps >= 8 && 64 % ps == 0);
  return MLA_CUDA_SM90A && p.tile.rows == kRows && p.tile.block_n == kKeys && pages_ok &&
         (p.row_stride * 2) % 16 == 0 && (p.page_stride * 2) % 16 == 0 && p.num_pages <= (int64_t)UINT32_MAX &&
         kernel_built_for_sm90a();
}

cudaError_t launch_absorbed_wgmma(const mla_gpu::absorbed_params& p, cudaStream_t stream, bool* launched) {
  *launched = false;
  CUtensorMap map;
  if (!encode_kv_map(p, &map)) return cudaSuccess;
  auto kernel = p.q_dtype == mla_gpu::dtype_bf16 ? absorbed_wgmma_kernel<__nv_bfloat16> : absorbed_wgmma_kernel<__half>;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)kSmemBytes);
  if (e != cudaSuccess) return e;
  *launched = true;
  kernel<<<dim3(p.m_blocks, p.num_parts), kThreads, kSmemBytes, stream>>>(map, p);
  return cudaGetLastError();
}

}  // namespace mla_cuda
