// SPDX-License-Identifier: MIT
// Test-side element types, written independently of the plugin's own
// converters: f16 through the compiler's _Float16, bf16 rounding through
// double arithmetic.  Poison values are NaN patterns no correct result has.
#pragma once
#include <mla/mla_plugin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace cpu_test {

inline int elem_size(int dtype) { return dtype == MLA_DTYPE_F32 ? 4 : 2; }

inline double round_to(int dtype, double v) {
  if (dtype == MLA_DTYPE_F16) return (double)(float)(_Float16)(float)v;
  float f = (float)v;
  if (dtype == MLA_DTYPE_BF16) {  // 8 significant bits, ties to even
    int e;
    const double m = std::frexp((double)f, &e);
    return std::ldexp(std::nearbyint(m * 256.0) / 256.0, e);
  }
  return (double)f;
}

// Stores v (already representable in dtype) at element i.
inline void put(void* base, int dtype, int64_t i, double v) {
  if (dtype == MLA_DTYPE_F32) {
    static_cast<float*>(base)[i] = (float)v;
  } else if (dtype == MLA_DTYPE_F16) {
    const _Float16 h = (_Float16)(float)v;
    std::memcpy(static_cast<uint16_t*>(base) + i, &h, 2);
  } else {
    const float f = (float)v;
    uint32_t u;
    std::memcpy(&u, &f, 4);
    static_cast<uint16_t*>(base)[i] = (uint16_t)(u >> 16);  // exact: v has 8 significant bits
  }
}

inline double get(const void* base, int dtype, int64_t i) {
  if (dtype == MLA_DTYPE_F32) return static_cast<const float*>(base)[i];
  uint16_t bits = static_cast<const uint16_t*>(base)[i];
  if (dtype == MLA_DTYPE_F16) {
    _Float16 h;
    std::memcpy(&h, &bits, 2);
    return (double)(float)h;
  }
  const uint32_t u = (uint32_t)bits << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Byte patterns: a NaN per dtype, repeated.
inline void fill_poison(void* base, int dtype, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == MLA_DTYPE_F32) {
      const uint32_t p = 0x7fa5a5a5u;
      std::memcpy(static_cast<char*>(base) + 4 * i, &p, 4);
    } else {
      static_cast<uint16_t*>(base)[i] = dtype == MLA_DTYPE_F16 ? 0x7e5au : 0x7fa5u;
    }
  }
}

inline bool is_poison(const void* base, int dtype, int64_t i) {
  if (dtype == MLA_DTYPE_F32) {
    uint32_t u;
    std::memcpy(&u, static_cast<const char*>(base) + 4 * i, 4);
    return u == 0x7fa5a5a5u;
  }
  return static_cast<const uint16_t*>(base)[i] == (dtype == MLA_DTYPE_F16 ? 0x7e5au : 0x7fa5u);
}

inline const char* dtype_name(int dtype) {
  return dtype == MLA_DTYPE_F32 ? "f32" : dtype == MLA_DTYPE_F16 ? "f16" : dtype == MLA_DTYPE_BF16 ? "bf16" : "?";
}

}  // namespace cpu_test
