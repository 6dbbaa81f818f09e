// SPDX-License-Identifier: MIT
// Element loads and stores by run-time dtype (f32 / f16 / bf16), for the
// generic kernels.  bf16 goes through its bits so that no vendor bf16 type is
// needed (ROCm 5.2 and CUDA spell it differently).
#pragma once
#include <math.h>
#include <stdint.h>

#include "absorbed_params.hpp"
#include "vendor.h"

namespace mla_gpu {

__device__ __forceinline__ float bf16_bits_to_float(uint16_t bits) {
  return __uint_as_float((uint32_t)bits << 16);
}

// Round to nearest even; NaN stays NaN (quiet).
__device__ __forceinline__ uint16_t float_to_bf16_bits(float v) {
  uint32_t u = __float_as_uint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

// max() that propagates NaN (fmaxf drops it, which would hide a bad part).
__device__ __forceinline__ float max_keep_nan(float a, float b) { return (a != a || b != b) ? NAN : fmaxf(a, b); }

__device__ __forceinline__ float load_element(const void* base, int64_t index, int dtype) {
  if (dtype == dtype_f32) return static_cast<const float*>(base)[index];
  if (dtype == dtype_f16) return __half2float(static_cast<const __half*>(base)[index]);
  return bf16_bits_to_float(static_cast<const uint16_t*>(base)[index]);
}

__device__ __forceinline__ void store_element(void* base, int64_t index, int dtype, float v) {
  if (dtype == dtype_f32) {
    static_cast<float*>(base)[index] = v;
  } else if (dtype == dtype_f16) {
    static_cast<__half*>(base)[index] = __float2half_rn(v);
  } else {
    static_cast<uint16_t*>(base)[index] = float_to_bf16_bits(v);
  }
}

}  // namespace mla_gpu
