// SPDX-License-Identifier: MIT
// The plugin's f16/bf16 converters (half_convert.hpp) against independent
// references: the compiler's _Float16 and bf16 rounding in double math.
#include "half_convert.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace mla_cpu;

namespace {
uint16_t f16_reference_bits(float f) {
  const _Float16 h = (_Float16)f;
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float f16_reference_value(uint16_t bits) {
  _Float16 h;
  std::memcpy(&h, &bits, 2);
  return (float)h;
}
// bf16 by rounding the significand to 8 bits in double, ties to even.
// Below 2^-126 (f32 subnormals) the bf16 quantum is fixed at 2^-133.
uint16_t bf16_reference_bits(float f) {
  int e;
  const double m = std::frexp((double)f, &e);
  const float r = std::fabs(f) < 0x1p-126f ? (float)(std::nearbyint((double)f * 0x1p133) * 0x1p-133)
                                           : (float)std::ldexp(std::nearbyint(m * 256.0) / 256.0, e);
  uint32_t u;
  std::memcpy(&u, &r, 4);
  return (uint16_t)(u >> 16);
}
}  // namespace

TEST_CASE("f16 decode: all 65536 bit patterns") {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float want = f16_reference_value((uint16_t)b), got = f16_to_f32((uint16_t)b);
    INFO("bits=", b);
    if (std::isnan(want))
      CHECK(std::isnan(got));
    else
      CHECK(float_bits(got) == float_bits(want));  // also tells -0 from +0
  }
}

TEST_CASE("f16 encode: round to nearest even, over/underflow, every f16 boundary") {
  // Each f16 value, the midpoints to its neighbours and one f32 ulp either side.
  for (uint32_t b = 0; b < 0x7c00; ++b) {
    const float lo = f16_reference_value((uint16_t)b), hi = f16_reference_value((uint16_t)(b + 1));
    const float mid = (float)(((double)lo + (double)hi) / 2);
    for (float f : {lo, mid, std::nextafter(mid, 0.f), std::nextafter(mid, 1e9f), -mid, -lo}) {
      INFO("f=", f);
      CHECK(f32_to_f16(f) == f16_reference_bits(f));
    }
  }
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t u = any(rng);
    float f;
    std::memcpy(&f, &u, 4);
    if (std::isnan(f)) {
      CHECK((f32_to_f16(f) & 0x7c00u) == 0x7c00u);
      CHECK((f32_to_f16(f) & 0x03ffu) != 0u);
      continue;
    }
    INFO("bits=", u);
    CHECK(f32_to_f16(f) == f16_reference_bits(f));
  }
}

TEST_CASE("bf16: decode is exact, encode rounds to nearest even, NaN stays NaN") {
  std::mt19937 rng(6);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 400000; ++i) {
    const uint32_t u = i < 65536 ? (uint32_t)i << 16 | (uint32_t)(i * 7919) % 65536 : any(rng);
    float f;
    std::memcpy(&f, &u, 4);
    if (std::isnan(f)) {
      CHECK(std::isnan(bf16_to_f32(f32_to_bf16(f))));
      continue;
    }
    INFO("bits=", u);
    const uint16_t want = std::isinf(f) ? (uint16_t)(u >> 16) : bf16_reference_bits(f);
    CHECK(f32_to_bf16(f) == want);
    CHECK(float_bits(bf16_to_f32(want)) == (uint32_t)want << 16);
  }
  CHECK(f32_to_bf16(3.4028235e38f) == 0x7f80u);  // max f32 rounds up to inf
}
