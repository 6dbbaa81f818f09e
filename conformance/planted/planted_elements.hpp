// SPDX-License-Identifier: MIT
// Element access by dtype for the planted plugin's ops (planted_attention.cpp,
// planted_decompressed.cpp).  f16 through the compiler's _Float16, bf16 by
// truncating the float's bit pattern with round-to-nearest-even.
#pragma once
#include <mla/mla_plugin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace planted {

inline float load(const void* base, int32_t dtype, int64_t index) {
  switch (dtype) {
    case MLA_DTYPE_F32: return static_cast<const float*>(base)[index];
    case MLA_DTYPE_F16: return (float)static_cast<const _Float16*>(base)[index];
    default: {
      const uint32_t bits = (uint32_t) static_cast<const uint16_t*>(base)[index] << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
  }
}

inline void store(void* base, int32_t dtype, int64_t index, float v) {
  switch (dtype) {
    case MLA_DTYPE_F32: static_cast<float*>(base)[index] = v; break;
    case MLA_DTYPE_F16: static_cast<_Float16*>(base)[index] = (_Float16)v; break;
    default: {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      const uint16_t out = std::isnan(v) ? (uint16_t)0x7FC0 : (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
      static_cast<uint16_t*>(base)[index] = out;
    }
  }
}

}  // namespace planted
