// SPDX-License-Identifier: MIT
// Reading and writing one element of an f32/f16/bf16 tensor at an element
// offset; the strided loops of the cpu plugin go through these.
#pragma once
#include "half_convert.hpp"

#include <mla/mla_plugin.h>

#include <cstdint>

namespace mla_cpu {

inline float load_element(const void* base, int32_t dtype, int64_t offset) {
  switch (dtype) {
    case MLA_DTYPE_F16: return f16_to_f32(static_cast<const uint16_t*>(base)[offset]);
    case MLA_DTYPE_BF16: return bf16_to_f32(static_cast<const uint16_t*>(base)[offset]);
    default: return static_cast<const float*>(base)[offset];
  }
}

inline void store_element(void* base, int32_t dtype, int64_t offset, float v) {
  switch (dtype) {
    case MLA_DTYPE_F16: static_cast<uint16_t*>(base)[offset] = f32_to_f16(v); break;
    case MLA_DTYPE_BF16: static_cast<uint16_t*>(base)[offset] = f32_to_bf16(v); break;
    default: static_cast<float*>(base)[offset] = v; break;
  }
}

// n contiguous-in-the-source elements (element stride `step`) to f32.
inline void load_run(const void* base, int32_t dtype, int64_t offset, int64_t step, int n, float* __restrict dst) {
  if (dtype == MLA_DTYPE_BF16 && step == 1) {
    const uint16_t* __restrict src = static_cast<const uint16_t*>(base) + offset;
#pragma omp simd
    for (int i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
  } else if (dtype == MLA_DTYPE_F16 && step == 1) {
    const uint16_t* __restrict src = static_cast<const uint16_t*>(base) + offset;
#pragma omp simd
    for (int i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
  } else {
    for (int i = 0; i < n; ++i) dst[i] = load_element(base, dtype, offset + (int64_t)i * step);
  }
}

}  // namespace mla_cpu
