// SPDX-License-Identifier: MIT
#include "low_precision.hpp"

#include <mla/mla_plugin.h>

#include <cmath>
#include <cstring>

namespace conformance {
namespace {

// A binary float with `mant` fraction bits and `expo` exponent bits, encoded
// from a double in one rounding step (no intermediate float).
uint32_t encode(double x, int mant, int expo) {
  const int bias = (1 << (expo - 1)) - 1;
  const uint32_t sign = std::signbit(x) ? 1u << (mant + expo) : 0u;
  const uint32_t exp_all_ones = (1u << expo) - 1;
  if (std::isnan(x)) return sign | exp_all_ones << mant | 1u << (mant - 1);
  const double a = std::fabs(x);
  if (std::isinf(a)) return sign | exp_all_ones << mant;
  if (a == 0.0) return sign;
  int e = 0;
  std::frexp(a, &e);
  e -= 1;  // a in [2^e, 2^(e+1))
  const int min_normal_exp = 1 - bias;
  if (e < min_normal_exp) e = min_normal_exp;  // subnormals share the smallest binade's step
  // a / 2^(e - mant) is exact in double; nearbyint rounds ties to even.
  double q = std::nearbyint(std::ldexp(a, mant - e));
  const double hidden = std::ldexp(1.0, mant);
  if (q >= 2 * hidden) {  // rounding carried into the next binade
    q /= 2;
    e += 1;
  }
  uint32_t biased = 0, fraction = 0;
  if (q < hidden) {
    fraction = (uint32_t)q;  // subnormal (only when e == min_normal_exp)
  } else {
    biased = (uint32_t)(e + bias);
    fraction = (uint32_t)(q - hidden);
  }
  if (biased >= exp_all_ones) return sign | exp_all_ones << mant;  // overflow
  return sign | biased << mant | fraction;
}

double decode(uint32_t bits, int mant, int expo) {
  const int bias = (1 << (expo - 1)) - 1;
  const uint32_t exp_all_ones = (1u << expo) - 1;
  const bool negative = (bits >> (mant + expo)) & 1u;
  const uint32_t biased = (bits >> mant) & exp_all_ones;
  const uint32_t fraction = bits & ((1u << mant) - 1);
  double v;
  if (biased == exp_all_ones)
    v = fraction ? std::nan("") : INFINITY;
  else if (biased == 0)
    v = std::ldexp((double)fraction, 1 - bias - mant);
  else
    v = std::ldexp((double)(fraction | 1u << mant), (int)biased - bias - mant);
  return negative ? -v : v;
}

}  // namespace

uint16_t f16_bits_from_double(double x) { return (uint16_t)encode(x, 10, 5); }
uint16_t bf16_bits_from_double(double x) { return (uint16_t)encode(x, 7, 8); }
double double_from_f16_bits(uint16_t b) { return decode(b, 10, 5); }
double double_from_bf16_bits(uint16_t b) { return decode(b, 7, 8); }

int element_bytes(int32_t dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return 4;
    case MLA_DTYPE_F16: return 2;
    case MLA_DTYPE_BF16: return 2;
    default: return 0;
  }
}

const char* dtype_label(int32_t dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return "f32";
    case MLA_DTYPE_F16: return "f16";
    case MLA_DTYPE_BF16: return "bf16";
    case MLA_DTYPE_Q8_0: return "q8_0";
    case MLA_DTYPE_FP8_E4M3: return "fp8_e4m3";
    default: return "invalid";
  }
}

double round_to_dtype(int32_t dtype, double x) {
  switch (dtype) {
    case MLA_DTYPE_F32: return (double)(float)x;
    case MLA_DTYPE_F16: return double_from_f16_bits(f16_bits_from_double(x));
    case MLA_DTYPE_BF16: return double_from_bf16_bits(bf16_bits_from_double(x));
    default: return x;
  }
}

uint32_t load_bits(int32_t dtype, const void* base, int64_t index) {
  if (element_bytes(dtype) == 4) {
    uint32_t v;
    std::memcpy(&v, (const char*)base + index * 4, 4);
    return v;
  }
  uint16_t v;
  std::memcpy(&v, (const char*)base + index * 2, 2);
  return v;
}

void store_bits(int32_t dtype, void* base, int64_t index, uint32_t bits) {
  if (element_bytes(dtype) == 4) {
    std::memcpy((char*)base + index * 4, &bits, 4);
  } else {
    const uint16_t v = (uint16_t)bits;
    std::memcpy((char*)base + index * 2, &v, 2);
  }
}

void store_element(int32_t dtype, void* base, int64_t index, double value) {
  switch (dtype) {
    case MLA_DTYPE_F32: {
      const float f = (float)value;
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      store_bits(dtype, base, index, bits);
      break;
    }
    case MLA_DTYPE_F16: store_bits(dtype, base, index, f16_bits_from_double(value)); break;
    case MLA_DTYPE_BF16: store_bits(dtype, base, index, bf16_bits_from_double(value)); break;
    default: break;
  }
}

double load_element(int32_t dtype, const void* base, int64_t index) {
  const uint32_t bits = load_bits(dtype, base, index);
  switch (dtype) {
    case MLA_DTYPE_F32: {
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case MLA_DTYPE_F16: return double_from_f16_bits((uint16_t)bits);
    case MLA_DTYPE_BF16: return double_from_bf16_bits((uint16_t)bits);
    default: return std::nan("");
  }
}

uint32_t poison_bits(int32_t dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return 0x7FA5A5A5u;  // exponent all ones, quiet bit clear
    case MLA_DTYPE_F16: return 0x7D5Au;
    case MLA_DTYPE_BF16: return 0x7FA5u;
    default: return 0;
  }
}

}  // namespace conformance
