// SPDX-License-Identifier: MIT
// f32 <-> f16/bf16 conversion of the tools: exhaustive round trips and
// round-to-nearest-even at every midpoint between neighbouring values.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "dtype_convert.hpp"

using namespace mla_tools;

namespace {
float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

TEST_CASE("every finite f16 and bf16 value survives a round trip through f32") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f16 = f16_to_float(uint16_t(h));
    if (!std::isnan(f16)) CHECK(float_to_f16(f16) == h);
    const float bf = bf16_to_float(uint16_t(h));
    if (!std::isnan(bf)) CHECK(float_to_bf16(bf) == h);
  }
}

TEST_CASE("known values") {
  CHECK(f16_to_float(0x3c00) == 1.0f);
  CHECK(f16_to_float(0xc000) == -2.0f);
  CHECK(f16_to_float(0x7bff) == 65504.0f);
  CHECK(f16_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(bf16_to_float(0x3f80) == 1.0f);
  CHECK(float_to_f16(65520.0f) == 0x7c00);  // the midpoint above the largest f16 rounds to inf
  CHECK(float_to_f16(65519.0f) == 0x7bff);
  CHECK(float_to_f16(std::ldexp(1.0f, -25)) == 0x0000);  // tie between 0 and the smallest subnormal: even
  CHECK(float_to_f16(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(float_to_f16(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(float_to_bf16(bits_to_float(0x7f7fffffu)) == 0x7f80);  // FLT_MAX rounds to inf in bf16
  CHECK(std::isnan(f16_to_float(float_to_f16(std::nanf("")))));
  CHECK(std::isnan(bf16_to_float(float_to_bf16(bits_to_float(0x7f800001u)))));  // signalling NaN stays NaN
  CHECK(float_to_f16(-0.0f) == 0x8000);
}

TEST_CASE("midpoints round to even, and just above a midpoint rounds up") {
  for (uint32_t h = 0; h < 0x7bff; ++h) {  // positive finite f16 pairs (h, h+1)
    const float lo = f16_to_float(uint16_t(h)), hi = f16_to_float(uint16_t(h + 1));
    const float mid = (lo + hi) / 2;  // exact in f32
    CHECK(float_to_f16(mid) == ((h & 1) ? h + 1 : h));
    CHECK(float_to_f16(std::nextafter(mid, std::numeric_limits<float>::infinity())) == h + 1);
    CHECK(float_to_f16(std::nextafter(mid, 0.0f)) == h);
  }
  for (uint32_t h = 0x0080; h < 0x7f7f; h += 7) {  // a sample of positive normal bf16 pairs
    const float lo = bf16_to_float(uint16_t(h)), hi = bf16_to_float(uint16_t(h + 1));
    const float mid = lo + (hi - lo) / 2;  // (lo + hi) / 2 would overflow near FLT_MAX
    CHECK(float_to_bf16(mid) == ((h & 1) ? h + 1 : h));
    CHECK(float_to_bf16(std::nextafter(mid, std::numeric_limits<float>::infinity())) == h + 1);
  }
}

TEST_CASE("encode and decode arrays by dtype") {
  const float in[3] = {1.0f, -0.333333f, 1000.5f};
  for (mla_dtype d : {MLA_DTYPE_F32, MLA_DTYPE_F16, MLA_DTYPE_BF16}) {
    unsigned char buf[12];
    float out[3];
    encode(d, in, buf, 3);
    decode(d, buf, out, 3);
    for (int i = 0; i < 3; ++i) CHECK(out[i] == round_to(d, in[i]));
  }
  CHECK(parse_dtype("bf16") == MLA_DTYPE_BF16);
  CHECK(parse_dtype("fp8") == MLA_DTYPE_INVALID);
  CHECK(element_bytes(MLA_DTYPE_F16) == 2);
  CHECK(element_bytes(MLA_DTYPE_Q8_0) == 0);
}
