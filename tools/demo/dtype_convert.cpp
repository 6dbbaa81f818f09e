// SPDX-License-Identifier: MIT
#include "dtype_convert.hpp"

#include <cstring>

namespace mla_tools {
namespace {

uint32_t bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
float float_of(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

}  // namespace

uint16_t float_to_bf16(float x) {
  const uint32_t u = bits_of(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x0040u);  // quiet NaN
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into
  // the exponent correctly rounds up to the next binade or to infinity.
  const uint32_t lsb = (u >> 16) & 1u;
  return uint16_t((u + 0x7fffu + lsb) >> 16);
}

float bf16_to_float(uint16_t h) { return float_of(uint32_t(h) << 16); }

uint16_t float_to_f16(float x) {
  const uint32_t u = bits_of(x);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t mag = u & 0x7fffffffu;
  if (mag > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (mag >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65520: inf
  const int exp = int(mag >> 23) - 127;
  uint32_t mant = (mag & 0x7fffffu) | 0x800000u;  // 24-bit significand with the implicit 1
  int shift;                                        // bits dropped from `mant`
  uint32_t biased;
  if (exp >= -14) {  // normal f16
    shift = 13;
    biased = uint32_t(exp + 15);
  } else {  // subnormal f16 (or zero): value = m * 2^-24
    if (mag == 0 || exp < -25) return sign;  // below half the smallest subnormal
    shift = 13 + (-14 - exp);
    biased = 0;
  }
  const uint32_t kept = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  uint32_t result = (biased << 10) + (biased ? (kept & 0x3ffu) : kept);
  if (rest > half || (rest == half && (kept & 1u))) ++result;  // carries into the exponent correctly
  return uint16_t(sign | result);
}

float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return float_of(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return float_of(sign);
    // Subnormal: mant * 2^-24, exact in f32.
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return float_of(sign | ((exp + 112u) << 23) | (mant << 13));
}

size_t element_bytes(mla_dtype dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return 4;
    case MLA_DTYPE_F16:
    case MLA_DTYPE_BF16: return 2;
    default: return 0;
  }
}

void encode(mla_dtype dtype, const float* src, void* dst, size_t n) {
  if (dtype == MLA_DTYPE_F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  uint16_t* out = static_cast<uint16_t*>(dst);
  if (dtype == MLA_DTYPE_BF16)
    for (size_t i = 0; i < n; ++i) out[i] = float_to_bf16(src[i]);
  else
    for (size_t i = 0; i < n; ++i) out[i] = float_to_f16(src[i]);
}

void decode(mla_dtype dtype, const void* src, float* dst, size_t n) {
  if (dtype == MLA_DTYPE_F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  const uint16_t* in = static_cast<const uint16_t*>(src);
  if (dtype == MLA_DTYPE_BF16)
    for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(in[i]);
  else
    for (size_t i = 0; i < n; ++i) dst[i] = f16_to_float(in[i]);
}

float round_to(mla_dtype dtype, float x) {
  switch (dtype) {
    case MLA_DTYPE_BF16: return bf16_to_float(float_to_bf16(x));
    case MLA_DTYPE_F16: return f16_to_float(float_to_f16(x));
    default: return x;
  }
}

mla_dtype parse_dtype(const std::string& name) {
  if (name == "f32") return MLA_DTYPE_F32;
  if (name == "f16") return MLA_DTYPE_F16;
  if (name == "bf16") return MLA_DTYPE_BF16;
  return MLA_DTYPE_INVALID;
}

const char* dtype_label(mla_dtype dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return "f32";
    case MLA_DTYPE_F16: return "f16";
    case MLA_DTYPE_BF16: return "bf16";
    default: return "?";
  }
}

}  // namespace mla_tools
