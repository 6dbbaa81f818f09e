// SPDX-License-Identifier: MIT
// Hopper (sm_90a) primitives of the wgmma path: shared-memory matrix
// descriptors for 128-byte-swizzled tiles, the two wgmma shapes the kernel
// issues, their fences, and a named barrier for the consumer warpgroups.
//
// Tile layout (what TMA writes with CU_TENSOR_MAP_SWIZZLE_128B, and what the
// kernel writes itself for Q and P): a tile of R rows x 64 bf16/f16 columns
// is R rows of 128 bytes; the 16-byte chunk c of row r sits at chunk
// c ^ (r % 8).  Wider rows are stored as consecutive such column blocks.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace mla_cuda {

// Byte offset of element (row, col) of a 64-column block with 128-B swizzle.
__host__ __device__ constexpr uint32_t sw128_offset(int row, int col) {
  return (uint32_t)(row * 128 + ((((col / 8) ^ (row % 8)) & 7) << 4) + (col % 8) * 2);
}

// wgmma shared-memory descriptor (PTX ISA "matrix descriptor"): start
// address, leading and stride byte offsets (all >> 4), 128-B swizzle mode.
//  - K-major operand (rows of 128 B, k along the row): the stride offset is
//    the step between 8-row groups (1024 B); the leading offset is unused.
//    A k16 step inside the 128-B row advances the start address by 32 B.
//  - MN-major operand (rows = k, 64 elements of m/n per 128-B row): the
//    leading offset steps to the next 64 m/n elements (next column block),
//    the stride offset steps to the next 8 k rows (1024 B).
__device__ __forceinline__ uint64_t sw128_desc(uint32_t smem_addr, uint32_t leading_bytes, uint32_t stride_bytes) {
  return (uint64_t)((smem_addr & 0x3FFFF) >> 4) | ((uint64_t)(leading_bytes >> 4) << 16) |
         ((uint64_t)(stride_bytes >> 4) << 32) | (1ull << 62);
}
// The same descriptor `bytes` further on (16-B multiple; shared memory is
// small enough that the 14-bit address field never carries).
__device__ __forceinline__ uint64_t desc_advance(uint64_t desc, uint32_t bytes) { return desc + (bytes >> 4); }

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Keeps the compiler from moving accumulator reads/writes across a wgmma
// issue or wait (the registers are in flight in between).
template <int N>
__device__ __forceinline__ void fence_accumulators(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// bar.sync on a named barrier for `threads` threads only (the producer
// warpgroup never joins the consumers' barriers).
__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// Accumulator operand lists: d[i] of a thread is row 16 * warp + lane / 4
// + 8 * ((i / 2) % 2), column 8 * (i / 4) + 2 * (lane % 4) + i % 2.
#define MLA_WGMMA_D16 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15"
#define MLA_WGMMA_D16_OUT \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
#define MLA_WGMMA_D16_DEF \
  "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3]), "=f"(d[4]), "=f"(d[5]), "=f"(d[6]), "=f"(d[7]), \
  "=f"(d[8]), "=f"(d[9]), "=f"(d[10]), "=f"(d[11]), "=f"(d[12]), "=f"(d[13]), "=f"(d[14]), "=f"(d[15])
#define MLA_WGMMA_D128 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, " \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, " \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
#define MLA_WGMMA_D128_OUT \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
  "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
  "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
  "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
  "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
  "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), \
  "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), \
  "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), \
  "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), \
  "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), \
  "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), \
  "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), \
  "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), \
  "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

// D[64 x 32] = A[64 x 16] B[16 x 32] (first k step: D's old values are not
// read, so they are not live before it) and D += A B; A and B K-major.
#define MLA_WGMMA_N32_SS_FIRST(TYPE)                                                   \
  asm volatile("wgmma.mma_async.sync.aligned.m64n32k16.f32." TYPE "." TYPE " {" MLA_WGMMA_D16 \
               "}, %16, %17, 0, 1, 1, 0, 0;\n"                                         \
               : MLA_WGMMA_D16_DEF                                                      \
               : "l"(a), "l"(b))
#define MLA_WGMMA_N32_SS(TYPE)                                                         \
  asm volatile("wgmma.mma_async.sync.aligned.m64n32k16.f32." TYPE "." TYPE " {" MLA_WGMMA_D16 \
               "}, %16, %17, 1, 1, 1, 0, 0;\n"                                         \
               : MLA_WGMMA_D16_OUT                                                      \
               : "l"(a), "l"(b))
// D[64 x 256] += A[64 x 16] B[16 x 256]: A K-major, B N-major (transposed).
#define MLA_WGMMA_N256_SS(TYPE)                                                        \
  asm volatile("wgmma.mma_async.sync.aligned.m64n256k16.f32." TYPE "." TYPE " {" MLA_WGMMA_D128 \
               "}, %128, %129, 1, 1, 1, 0, 1;\n"                                       \
               : MLA_WGMMA_D128_OUT                                                     \
               : "l"(a), "l"(b))

#define MLA_WGMMA_BOTH_TYPES(NAME, PARAMS, MACRO)                                \
  template <class T>                                                             \
  __device__ __forceinline__ void NAME PARAMS;                                  \
  template <>                                                                    \
  __device__ __forceinline__ void NAME<__nv_bfloat16> PARAMS { MACRO("bf16"); } \
  template <>                                                                    \
  __device__ __forceinline__ void NAME<__half> PARAMS { MACRO("f16"); }

MLA_WGMMA_BOTH_TYPES(wgmma_n32_ss_first, (float (&d)[16], uint64_t a, uint64_t b), MLA_WGMMA_N32_SS_FIRST)
MLA_WGMMA_BOTH_TYPES(wgmma_n32_ss, (float (&d)[16], uint64_t a, uint64_t b), MLA_WGMMA_N32_SS)
MLA_WGMMA_BOTH_TYPES(wgmma_n256_ss, (float (&d)[128], uint64_t a, uint64_t b), MLA_WGMMA_N256_SS)

#undef MLA_WGMMA_BOTH_TYPES
#undef MLA_WGMMA_N32_SS_FIRST
#undef MLA_WGMMA_N32_SS
#undef MLA_WGMMA_N256_SS
#undef MLA_WGMMA_D16
#undef MLA_WGMMA_D16_OUT
#undef MLA_WGMMA_D16_DEF
#undef MLA_WGMMA_D128
#undef MLA_WGMMA_D128_OUT

}  // namespace mla_cuda
