// SPDX-License-Identifier: MIT
// The softmax's exp for the cpu plugin's online softmax (ops A and B).
#pragma once
#include "half_convert.hpp"

#include <cmath>
#include <cstdint>

namespace mla_cpu {

// exp(x) for the softmax, where x = score - running max <= 0, written so a
// loop over it vectorizes (libm's expf does not without -ffast-math).
// x = k ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact k ln2);
// exp(r) by its degree-6 Taylor polynomial, truncation error < r^7/7! < 2e-7
// relative; 2^k built in the exponent bits.  Below -87.3 the result is 0
// (exp(-inf) = 0 exactly); NaN stays NaN.  static: each ISA build of a
// kernel file keeps its own copy (an inline function would be merged
// across builds by the linker).
static inline float exp_nonpositive(float x) {
  // Value selects, not std::min/max references: keeps the loop if-convertible.
  // Written so that NaN selects -87.3: the exponent k below is converted to
  // int, and (int)NaN is undefined (the NaN is returned at the end).
  float xc = x >= -87.3f ? x : -87.3f;
  xc = xc > 88.f ? 88.f : xc;
  const float k = std::floor(xc * 1.44269504f + 0.5f);
  const float r = (xc - k * 0.693145752f) - k * 1.42860677e-6f;
  float p = 1.f / 720;
  p = p * r + 1.f / 120;
  p = p * r + 1.f / 24;
  p = p * r + 1.f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  const float two_k = bits_float((uint32_t)((int32_t)k + 127) << 23);
  const float e = p * two_k;
  return x != x ? x : (x < -87.3f ? 0.f : e);
}

}  // namespace mla_cpu
