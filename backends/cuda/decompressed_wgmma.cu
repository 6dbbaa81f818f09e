// SPDX-License-Identifier: MIT
// Op B's attention on Hopper (sm_90a only), warp-specialized: a CTA owns
// 128 query rows of one head (two consumer warpgroups of 64 rows, wgmma's
// M) and walks the chunk's 64-key tiles, merging into the running state as
// the mma.sync kernel does (decompressed_mma.cu).
//   - producer warpgroup (setmaxnreg hands its registers to the consumers):
//     one thread copies each K tile (64 x 192) and V tile (64 x 128) with
//     TMA (cp.async.bulk.tensor, 128-byte swizzle) into a 3-stage ring and
//     arms its "full" mbarrier; both consumers read the same stage, so a
//     key tile crosses L2 once per 128 rows;
//   - consumer warpgroup w (rows 64w..64w+63): S = Q K^T by wgmma.m64n64k16
//     (Q and K from shared memory), online softmax in registers, O += P V
//     by wgmma.m64n128k16 with P from registers (the S accumulators are
//     already in the A fragment's order) and V read N-major from shared
//     memory, then it releases the stage ("empty").  The two warpgroups run unsynchronised,
//     so one's softmax overlaps the other's wgmma.
// Tiles are laid out as op A's Hopper kernel lays them (absorbed_wgmma.cu):
// 64-column blocks of 64 rows, 128-byte swizzle.
//
// Taken on a context at level wgmma where the build and the tile table
// allow it (fast_path.cu); a context at level mma runs the mma.sync kernel.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include <cuda/ptx>

#include "../gpu/decompressed_common.cuh"
#include "decompressed_wgmma.hpp"
#include "mma_primitives.cuh"
#include "opb_config.hpp"
#include "opb_q_rows.cuh"
#include "tensor_map.hpp"
#include "wgmma_primitives.cuh"

namespace mla_cuda {
namespace {

using mla_gpu::opb_params;
using mla_gpu::opb_round;
using mla_gpu::opb_seq;
using mla_gpu::opb_span;
using namespace opb_config;
namespace ptx = cuda::ptx;

constexpr int kConsumers = 256;                  // two warpgroups of 64 query rows each
constexpr int kThreads = kAttendWgmmaThreads;     // + the producer warpgroup
constexpr int kStages = kAttendWgmmaStages;       // K/V ring depth
static_assert(kThreads == kConsumers + 128 && kAttendWgmmaRows == 128, "two consumer warpgroups of 64 rows");
constexpr uint32_t kBlock = 64 * 128;            // a 64-column block of 64 rows (8 KB)
constexpr int kQBlocks = kDk / 64;               // 3
constexpr int kVBlocks = kDv / 64;               // 2
constexpr uint32_t kQBytes = kQBlocks * kBlock;  // one warpgroup's Q, also one K stage
constexpr uint32_t kVBytes = kVBlocks * kBlock;

// Shared memory (offsets from a 1024-byte aligned base).
constexpr uint32_t kSmQ = 0;                           // [2 warpgroups]
constexpr uint32_t kSmK = kSmQ + 2 * kQBytes;          // [kStages]
constexpr uint32_t kSmV = kSmK + kStages * kQBytes;    // [kStages]
constexpr uint32_t kSmBar = kSmV + kStages * kVBytes;  // full[kStages], empty[kStages]
constexpr uint32_t kSmEnd = kSmBar + 2 * kStages * 8;
static_assert(kSmEnd + 1024 == kAttendWgmmaSmem, "opb_config.hpp's size is this layout plus the alignment slack");

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kProducerRegisters = 40;            // setmaxnreg: 128 x 40 + 256 x 232 <= 64 K
constexpr int kConsumerRegisters = 232;

// wgmma with 32 (n64) and 64 (n128) f32 accumulators per thread; both
// operands from shared memory; scale-d 1 (accumulate), scales 1, A
// K-major; B K-major (S = Q K^T, K rows are keys) or N-major (P V).
#define OPB_D32                                                            \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define OPB_D32_OUT                                                                                           \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), \
      "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),  \
      "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), \
      "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define OPB_D64                                                                            \
  OPB_D32                                                                                  \
      ", %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define OPB_D64_OUT                                                                                                    \
  OPB_D32_OUT, "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
      "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),          \
      "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),          \
      "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

template <class T>
__device__ __forceinline__ void wgmma_s(float (&d)[32], uint64_t a, uint64_t b);
template <>
__device__ __forceinline__ void wgmma_s<__nv_bfloat16>(float (&d)[32], uint64_t a, uint64_t b) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {" OPB_D32 "}, %32, %33, 1, 1, 1, 0, 0;\n"
               : OPB_D32_OUT
               : "l"(a), "l"(b));
}
template <>
__device__ __forceinline__ void wgmma_s<__half>(float (&d)[32], uint64_t a, uint64_t b) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {" OPB_D32 "}, %32, %33, 1, 1, 1, 0, 0;\n"
               : OPB_D32_OUT
               : "l"(a), "l"(b));
}
// O += P V with P from registers (the A fragment: a[0..3] = rows g, g + 8
// at keys 2tq, 2tq + 1 and 8 + 2tq, 9 + 2tq of the k16 step), V from shared
// memory N-major.
template <class T>
__device__ __forceinline__ void wgmma_pv(float (&d)[64], const uint32_t (&a)[4], uint64_t b);
template <>
__device__ __forceinline__ void wgmma_pv<__nv_bfloat16>(float (&d)[64], const uint32_t (&a)[4], uint64_t b) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {" OPB_D64
               "}, {%64, %65, %66, %67}, %68, 1, 1, 1, 1;\n"
               : OPB_D64_OUT
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}
template <>
__device__ __forceinline__ void wgmma_pv<__half>(float (&d)[64], const uint32_t (&a)[4], uint64_t b) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {" OPB_D64
               "}, {%64, %65, %66, %67}, %68, 1, 1, 1, 1;\n"
               : OPB_D64_OUT
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}
#undef OPB_D32
#undef OPB_D32_OUT
#undef OPB_D64
#undef OPB_D64_OUT

// Byte offset of element (row, col) of a [64 rows][cols] tile in 64-column
// swizzled blocks.
__device__ __forceinline__ uint32_t tile_offset(int row, int col) {
  return (uint32_t)(col / 64) * kBlock + sw128_offset(row, col % 64);
}

template <class T>
__device__ void load_q(const opb_params& p, const opb_seq& s, int h, int64_t r_lo, int64_t r_hi, char* sq, int tid) {
  const bool vec = opb_q_vectorizable<T>(p);
  for (int c = tid; c < 64 * (kDk / 8); c += 128) {
    const int row = c / (kDk / 8), ch = c % (kDk / 8);
    *reinterpret_cast<uint4*>(sq + tile_offset(row, ch * 8)) = opb_q_chunk<T>(p, s, h, r_lo + row, r_hi, ch, vec);
  }
}

__device__ __forceinline__ void wait_parity(uint64_t* bar, uint32_t parity) {
  while (!ptx::mbarrier_try_wait_parity(bar, parity)) {
  }
}

// What a CTA of the round covers: 128 query rows [r_lo, r_hi) of head h of
// sequence b, and the chunk's 64-key tiles its last row sees.
struct cta_work {
  opb_seq s;
  opb_span sp;
  int h, slot;
  int64_t r_lo, r_hi;
  int n_tiles;
};

__device__ bool cta_work_of(const opb_params& p, const opb_round& r, cta_work& w) {
  w.slot = blockIdx.z;
  w.h = blockIdx.y;
  int b;
  if (!mla_gpu::opb_slot_span(p, r, w.slot, b, w.s, w.sp)) return false;
  w.r_lo = w.sp.q_lo + (int64_t)blockIdx.x * kAttendWgmmaRows;
  if (w.r_lo >= w.sp.q_hi) return false;
  w.r_hi = min(w.r_lo + kAttendWgmmaRows, (int64_t)w.sp.q_hi);
  w.n_tiles = mla_gpu::opb_tiles_seen(p, w.s, w.sp, w.r_hi - 1);
  return w.n_tiles > 0;
}

// The producer's one thread: K and V tiles of the chunk into the ring by
// TMA.  The maps view the round's K and V as [G H C][Dk] and [G H C][Dv].
__device__ void produce(const CUtensorMap* k_map, const CUtensorMap* v_map, const opb_params& p, const cta_work& w,
                        char* smem) {
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kSmBar);
  uint64_t* empty = full + kStages;
  const int32_t row0 = (int32_t)(((int64_t)w.slot * p.heads + w.h) * p.chunk_keys);
  for (int it = 0; it < w.n_tiles; ++it) {
    const int stage = it % kStages;
    if (it >= kStages) wait_parity(&empty[stage], (uint32_t)(it / kStages - 1) & 1);
    ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta, ptx::space_shared, &full[stage],
                                   kQBytes + kVBytes);
    const int32_t row = row0 + it * 64;
#pragma unroll
    for (int j = 0; j < kQBlocks; ++j) {
      const int32_t c[2] = {64 * j, row};
      ptx::cp_async_bulk_tensor(ptx::space_cluster, ptx::space_global, smem + kSmK + stage * kQBytes + j * kBlock,
                                k_map, c, &full[stage]);
    }
#pragma unroll
    for (int j = 0; j < kVBlocks; ++j) {
      const int32_t c[2] = {64 * j, row};
      ptx::cp_async_bulk_tensor(ptx::space_cluster, ptx::space_global, smem + kSmV + stage * kVBytes + j * kBlock,
                                v_map, c, &full[stage]);
    }
  }
}

// One consumer warpgroup: its 64 rows against every tile of the ring.  A
// tile past the warpgroup's own last visible key is skipped (it would be an
// exact no-op: every score -inf); the stage is released all the same.
template <class T>
__device__ void consume(const opb_params& p, const opb_round& r, const cta_work& w, char* smem) {
  const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
  const int warp = tid / 32, lane = tid % 32, g = lane / 4, tq = lane % 4;
  const int bar = 1 + wg;  // named barrier of this warpgroup (0 is __syncthreads)
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kSmBar);
  uint64_t* empty = full + kStages;
  const uint32_t base = smem_addr(smem);
  const int64_t r_lo = w.r_lo + 64 * wg, r_hi = w.r_hi;
  const int my_tiles = r_lo < r_hi ? mla_gpu::opb_tiles_seen(p, w.s, w.sp, min(r_lo + 64, r_hi) - 1) : 0;
  char* sq = smem + kSmQ + wg * kQBytes;
  if (my_tiles > 0) {
    load_q<T>(p, w.s, w.h, r_lo, r_hi, sq, tid);
    ptx::fence_proxy_async(ptx::space_shared);  // Q (generic writes) -> wgmma (async proxy)
    named_barrier_sync(bar, 128);
  }

  int64_t vis[2], pair[2];
  bool live[2];
  float m[2], l[2];
  float o[64];
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const int64_t i = r_lo + warp * 16 + g + hh * 8;
    live[hh] = i < r_hi;
    vis[hh] = live[hh] ? mla_gpu::opb_visible(p.causal, w.s.s_q, w.s.s_k, i) : 0;
    pair[hh] = live[hh] ? mla_gpu::opb_state_pair(p, w.s.q_begin + i - r.row0, w.h) : 0;
    m[hh] = -INFINITY;
    l[hh] = 0.0f;
    if (r.chunk > 0 && live[hh]) {
      m[hh] = p.state_ml[2 * pair[hh]];
      l[hh] = p.state_ml[2 * pair[hh] + 1];
    }
  }
  // Accumulator d[4j + e]: rows g (e < 2) and g + 8 (e >= 2), columns 8j + 2tq + e % 2.
#pragma unroll
  for (int j = 0; j < 16; ++j) {
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      float2 v = make_float2(0.0f, 0.0f);
      if (r.chunk > 0 && live[hh]) v = *reinterpret_cast<const float2*>(p.state_o + pair[hh] * kDv + j * 8 + 2 * tq);
      o[4 * j + 2 * hh] = v.x;
      o[4 * j + 2 * hh + 1] = v.y;
    }
  }

  const uint64_t q_desc = sw128_desc(smem_addr(sq), 16, 1024);
  const float scale_log2 = p.scale * kLog2e;
  for (int it = 0; it < w.n_tiles; ++it) {
    const int stage = it % kStages;
    wait_parity(&full[stage], (uint32_t)(it / kStages) & 1);
    if (it < my_tiles) {
      const uint32_t ks = base + kSmK + stage * kQBytes, vs = base + kSmV + stage * kVBytes;

      // S = Q K^T (64 x 64): 12 k16 steps, 4 per 64-column block.
      float sc[32];
#pragma unroll
      for (int e = 0; e < 32; ++e) sc[e] = 0.0f;
      const uint64_t k_desc = sw128_desc(ks, 16, 1024);
      wgmma_fence();
#pragma unroll
      for (int k = 0; k < kDk / 16; ++k) {
        const uint32_t at = (uint32_t)(k / 4) * kBlock + (uint32_t)(k % 4) * 32;
        wgmma_s<T>(sc, desc_advance(q_desc, at), desc_advance(k_desc, at));
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_accumulators(sc);

      const int64_t key0 = (int64_t)w.sp.key_lo + (int64_t)it * 64;
      float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int e = 0; e < 32; ++e) {
        const int hh = (e / 2) % 2;
        const int64_t key = key0 + 8 * (e / 4) + 2 * tq + (e % 2);
        sc[e] = key < vis[hh] ? sc[e] * scale_log2 : -INFINITY;
        tmax[hh] = fmaxf(tmax[hh], sc[e]);
      }
      float bse[2], alpha[2];
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        tmax[hh] = fmaxf(tmax[hh], __shfl_xor_sync(0xffffffffu, tmax[hh], 1));
        tmax[hh] = fmaxf(tmax[hh], __shfl_xor_sync(0xffffffffu, tmax[hh], 2));
        const float mx = fmaxf(m[hh], tmax[hh]);
        bse[hh] = mx == -INFINITY ? 0.0f : mx;
        alpha[hh] = exp2f(m[hh] - bse[hh]);
        m[hh] = mx;
      }
      // P in the A-fragment order of the P V wgmma: pk[4k + i] is a[i] of
      // k16 step k (the S accumulator pairs, in order).
      float rs[2] = {0.0f, 0.0f};
      uint32_t pk[16];
#pragma unroll
      for (int e = 0; e < 32; e += 2) {
        const int hh = (e / 2) % 2;
        const float p0 = exp2f(sc[e] - bse[hh]), p1 = exp2f(sc[e + 1] - bse[hh]);
        rs[hh] += p0 + p1;
        pk[e / 2] = pack2<T>(p0, p1);
      }
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        rs[hh] += __shfl_xor_sync(0xffffffffu, rs[hh], 1);
        rs[hh] += __shfl_xor_sync(0xffffffffu, rs[hh], 2);
        l[hh] = l[hh] * alpha[hh] + rs[hh];
      }
#pragma unroll
      for (int e = 0; e < 64; ++e) o[e] *= alpha[(e / 2) % 2];

      // O += P V (64 x 128): 4 k16 steps of 16 keys; V N-major (blocks of 64 dims).
      fence_accumulators(o);
      wgmma_fence();
      const uint64_t v_desc = sw128_desc(vs, kBlock, 1024);
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint32_t a[4] = {pk[4 * k], pk[4 * k + 1], pk[4 * k + 2], pk[4 * k + 3]};
        wgmma_pv<T>(o, a, desc_advance(v_desc, (uint32_t)k * 16 * 128));
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_accumulators(o);
    }
    ptx::mbarrier_arrive(&empty[stage]);  // this thread is done with the stage
  }
  if (my_tiles == 0) return;

#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    if (!live[hh]) continue;
#pragma unroll
    for (int j = 0; j < 16; ++j)
      *reinterpret_cast<float2*>(p.state_o + pair[hh] * kDv + j * 8 + 2 * tq) =
          make_float2(o[4 * j + 2 * hh], o[4 * j + 2 * hh + 1]);
    if (tq == 0) {
      p.state_ml[2 * pair[hh]] = m[hh];
      p.state_ml[2 * pair[hh] + 1] = l[hh];
    }
  }
}

#endif  // __CUDA_ARCH_FEAT_SM90_ALL

template <class T>
__global__ void __launch_bounds__(kThreads, 1)
    opb_attend_wgmma_kernel(const __grid_constant__ CUtensorMap k_map, const __grid_constant__ CUtensorMap v_map,
                            opb_params p, opb_round r) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ char raw[];
  // 128-byte swizzle atoms want 1024-byte aligned tiles.
  char* smem = raw + ((1024 - (smem_addr(raw) & 1023)) & 1023);
  cta_work w;
  if (!cta_work_of(p, r, w)) return;  // the same answer for every thread of the CTA
  if (threadIdx.x == 0) {
    for (int i = 0; i < kStages; ++i) {
      ptx::mbarrier_init(reinterpret_cast<uint64_t*>(smem + kSmBar) + i, 1);
      ptx::mbarrier_init(reinterpret_cast<uint64_t*>(smem + kSmBar) + kStages + i, kConsumers);
    }
    ptx::fence_mbarrier_init(ptx::sem_release, ptx::scope_cluster);
  }
  __syncthreads();
  if (threadIdx.x >= kConsumers) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegisters));
    if (threadIdx.x == kConsumers) produce(&k_map, &v_map, p, w, smem);
    return;
  }
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegisters));
  consume<T>(p, r, w, smem);
#else
  (void)k_map;
  (void)v_map;
  (void)p;
  (void)r;
#endif
}

// True when the image carries sm_90a code for the kernel.
bool built_for_sm90a() {
  static const bool built = [] {
    cudaFuncAttributes a{};
    return cudaFuncGetAttributes(&a, opb_attend_wgmma_kernel<__nv_bfloat16>) == cudaSuccess && a.binaryVersion == 90;
  }();
  return built;
}

// A round's K or V as a 2-D tensor [G H C rows][cols] with boxes of 64
// columns x 64 rows, 128-byte swizzle (the tile layout above).
bool encode_rows_map(CUtensorMap* map, const opb_params& p, const void* base, int cols) {
  const tensor_map_encode_fn encode = tensor_map_encoder();
  if (!encode) return false;
  const cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)p.group_seqs * p.heads * p.chunk_keys};
  const cuuint64_t strides[1] = {(cuuint64_t)cols * 2};  // bytes
  const cuuint32_t box[2] = {64, 64};
  const cuuint32_t unit[2] = {1, 1};
  const CUtensorMapDataType type =
      p.compute_dtype == mla_gpu::dtype_bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  return encode(map, type, 2, const_cast<void*>(base), dims, strides, box, unit, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <class T>
cudaError_t launch_typed(const opb_params& p, const opb_round& r, cudaStream_t stream, bool* launched) {
  *launched = false;
  const int rows = p.max_seqlen_q < p.pass_rows ? p.max_seqlen_q : p.pass_rows;
  const int tiles = (rows + kAttendWgmmaRows - 1) / kAttendWgmmaRows;
  if (tiles == 0) {
    *launched = true;
    return cudaSuccess;
  }
  CUtensorMap k_map, v_map;
  if (!encode_rows_map(&k_map, p, p.k, kDk) || !encode_rows_map(&v_map, p, p.v, kDv)) return cudaSuccess;
  auto kernel = opb_attend_wgmma_kernel<T>;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)kAttendWgmmaSmem);
  if (e != cudaSuccess) return e;
  *launched = true;
  kernel<<<dim3(tiles, p.heads, p.group_seqs), kThreads, kAttendWgmmaSmem, stream>>>(k_map, v_map, p, r);
  return cudaGetLastError();
}

}  // namespace

bool opb_wgmma_built() { return MLA_CUDA_SM90A && built_for_sm90a(); }

cudaError_t launch_opb_attend_wgmma(const opb_params& p, const opb_round& r, cudaStream_t stream, bool* launched) {
  return p.compute_dtype == mla_gpu::dtype_bf16 ? launch_typed<__nv_bfloat16>(p, r, stream, launched)
                                                : launch_typed<__half>(p, r, stream, launched);
}

}  // namespace mla_cuda
