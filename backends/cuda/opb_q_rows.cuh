// SPDX-License-Identifier: MIT
// How op B's tensor-core attention kernels (decompressed_mma.cu,
// decompressed_wgmma.cu) read a query row: 16-byte chunks of
// [q_nope | q_rope] in the compute type T, converted from any q dtype and
// stride; each kernel stores them in its own tile layout.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "../gpu/decompressed_common.cuh"
#include "mma_primitives.cuh"

namespace mla_cuda {

template <class T>
struct opb_dtype_tag;
template <>
struct opb_dtype_tag<__half> {
  static constexpr int value = mla_gpu::dtype_f16;
};
template <>
struct opb_dtype_tag<__nv_bfloat16> {
  static constexpr int value = mla_gpu::dtype_bf16;
};

// True when q can be read 8 elements at a time: it is T, with unit inner
// stride and 16-byte aligned rows.
template <class T>
__device__ __forceinline__ bool opb_q_vectorizable(const mla_gpu::opb_params& p) {
  return p.q_dtype == opb_dtype_tag<T>::value && p.q_stride[2] == 1 && p.q_stride[0] % 8 == 0 &&
         p.q_stride[1] % 8 == 0 && reinterpret_cast<uintptr_t>(p.q) % 16 == 0;
}

// Elements [8 ch, 8 ch + 8) of query row i (of sequence s, head h) as T;
// zeros when i >= r_hi.
template <class T>
__device__ __forceinline__ uint4 opb_q_chunk(const mla_gpu::opb_params& p, const mla_gpu::opb_seq& s, int h,
                                             int64_t i, int64_t r_hi, int ch, bool vec) {
  if (i >= r_hi) return make_uint4(0, 0, 0, 0);
  const int64_t at = (s.q_begin + i) * p.q_stride[0] + (int64_t)h * p.q_stride[1];
  if (vec) return *reinterpret_cast<const uint4*>(static_cast<const T*>(p.q) + at + ch * 8);
  float e[8];
#pragma unroll
  for (int k = 0; k < 8; ++k) e[k] = mla_gpu::load_element(p.q, at + (int64_t)(ch * 8 + k) * p.q_stride[2], p.q_dtype);
  return make_uint4(pack2<T>(e[0], e[1]), pack2<T>(e[2], e[3]), pack2<T>(e[4], e[5]), pack2<T>(e[6], e[7]));
}

}  // namespace mla_cuda
