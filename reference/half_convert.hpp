// SPDX-License-Identifier: MIT
// f16 / bf16 <-> f32 conversion for the cpu plugin, written with integer bit
// operations only (no F16C needed), so it runs on any x86-64 and the
// decoders vectorize.  Encoders round to nearest, ties to even.
#pragma once
#include <cstdint>

namespace mla_cpu {

// __builtin_bit_cast (GCC >= 11, clang): unlike memcpy it keeps loops that
// use it vectorizable.
inline uint32_t float_bits(float f) { return __builtin_bit_cast(uint32_t, f); }
inline float bits_float(uint32_t u) { return __builtin_bit_cast(float, u); }

// bf16 is the upper half of an f32.
inline float bf16_to_f32(uint16_t h) { return bits_float((uint32_t)h << 16); }

inline uint16_t f32_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x0040u);  // NaN stays a (quiet) NaN
  const uint32_t round = 0x7fffu + ((x >> 16) & 1u);  // ties go to the even neighbour
  return (uint16_t)((x + round) >> 16);                // a carry into the exponent is correct rounding (up to inf)
}

// Branch-free so that a loop over it vectorizes: every case is computed and
// the right one selected.
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t magnitude = h & 0x7fffu;
  const uint32_t normal = (magnitude << 13) + (112u << 23);        // exponent bias 15 -> 127
  const uint32_t inf_nan = (magnitude << 13) | 0x7f800000u;
  const uint32_t subnormal = float_bits((float)(int32_t)magnitude * 0x1p-24f);  // m * 2^-24, exact
  const uint32_t r = magnitude >= 0x7c00u ? inf_nan : (magnitude < 0x0400u ? subnormal : normal);
  return bits_float(r | sign);
}

inline uint16_t f32_to_f16(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x01ffu));  // NaN, quiet
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // >= 65520 rounds to inf (ties to even)
  if (ax >= 0x38800000u) {  // normal f16: |f| >= 2^-14
    uint32_t base = (ax - (112u << 23)) >> 13;
    const uint32_t rest = ax & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (base & 1u))) ++base;
    return (uint16_t)(sign | base);
  }
  // Subnormal f16 or zero: value = mantissa * 2^(e - 150), in units of 2^-24.
  const uint32_t e = ax >> 23;
  if (e < 102) return sign;  // below 2^-25: rounds to zero
  const uint32_t mantissa = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;  // 14..24
  uint32_t q = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (q & 1u))) ++q;
  return (uint16_t)(sign | q);
}

}  // namespace mla_cpu
