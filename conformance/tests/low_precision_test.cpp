// SPDX-License-Identifier: MIT
// The harness's own f16/bf16 encodings against the IEEE definitions.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "low_precision.hpp"

#include <mla/mla_plugin.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace conformance;

TEST_CASE("f16 encodes exact values, ties to even, subnormals and overflow") {
  CHECK(f16_bits_from_double(1.0) == 0x3C00);
  CHECK(f16_bits_from_double(-2.0) == 0xC000);
  CHECK(f16_bits_from_double(65504.0) == 0x7BFF);
  CHECK(f16_bits_from_double(65519.99) == 0x7BFF);
  CHECK(f16_bits_from_double(65520.0) == 0x7C00);  // halfway to 2^16 rounds to even = inf
  CHECK(f16_bits_from_double(std::ldexp(1.0, -24)) == 0x0001);
  CHECK(f16_bits_from_double(std::ldexp(1.0, -25)) == 0x0000);      // tie to even (0)
  CHECK(f16_bits_from_double(3 * std::ldexp(1.0, -25)) == 0x0002);  // tie to even (2)
  CHECK(f16_bits_from_double(1.0 + std::ldexp(1.0, -11)) == 0x3C00);
  CHECK(f16_bits_from_double(1.0 + 3 * std::ldexp(1.0, -11)) == 0x3C02);
  CHECK(f16_bits_from_double(std::ldexp(1023.0, -24)) == 0x03FF);  // largest subnormal
  CHECK(f16_bits_from_double(std::ldexp(2047.5, -25)) == 0x0400);  // rounds up into the normals
  CHECK(f16_bits_from_double(-0.0) == 0x8000);
  CHECK(std::isnan(double_from_f16_bits(f16_bits_from_double(std::nan("")))));
  CHECK(double_from_f16_bits(0x7C00) == INFINITY);
}

TEST_CASE("bf16 encodes exact values, ties to even and overflow") {
  CHECK(bf16_bits_from_double(1.0) == 0x3F80);
  CHECK(bf16_bits_from_double(1.0 + std::ldexp(1.0, -8)) == 0x3F80);
  CHECK(bf16_bits_from_double(1.0 + 3 * std::ldexp(1.0, -8)) == 0x3F82);
  CHECK(bf16_bits_from_double(-3.0) == 0xC040);
  CHECK(bf16_bits_from_double(std::ldexp(1.0, 128)) == 0x7F80);
  CHECK(bf16_bits_from_double(std::ldexp(1.0, -133)) == 0x0001);
}

TEST_CASE("every finite f16 and bf16 bit pattern round-trips") {
  for (uint32_t b = 0; b < 65536; ++b) {
    const double h = double_from_f16_bits((uint16_t)b);
    if (!std::isnan(h)) REQUIRE(f16_bits_from_double(h) == b);
    const double bf = double_from_bf16_bits((uint16_t)b);
    if (!std::isnan(bf)) REQUIRE(bf16_bits_from_double(bf) == b);
  }
}

TEST_CASE("rounding picks the nearest representable value") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n(0.0, 100.0);
  for (int i = 0; i < 20000; ++i) {
    const double x = n(rng);
    for (int32_t dt : {MLA_DTYPE_F16, MLA_DTYPE_BF16}) {
      const double r = round_to_dtype(dt, x);
      // Neighbours one unit in the last place away are not closer.
      const uint16_t bits = dt == MLA_DTYPE_F16 ? f16_bits_from_double(x) : bf16_bits_from_double(x);
      const auto dec = [&](uint16_t b) { return dt == MLA_DTYPE_F16 ? double_from_f16_bits(b) : double_from_bf16_bits(b); };
      REQUIRE(std::fabs(dec((uint16_t)(bits + 1)) - x) >= std::fabs(r - x));
      if ((bits & 0x7FFF) != 0) REQUIRE(std::fabs(dec((uint16_t)(bits - 1)) - x) >= std::fabs(r - x));
    }
    REQUIRE(round_to_dtype(MLA_DTYPE_F32, x) == (double)(float)x);
  }
}

TEST_CASE("poison patterns are NaNs that a store of NaN does not produce") {
  for (int32_t dt : {MLA_DTYPE_F32, MLA_DTYPE_F16, MLA_DTYPE_BF16}) {
    unsigned char buf[8] = {};
    store_bits(dt, buf, 0, poison_bits(dt));
    CHECK(std::isnan(load_element(dt, buf, 0)));
    store_element(dt, buf, 1, std::nan(""));
    CHECK(load_bits(dt, buf, 1) != poison_bits(dt));
    store_element(dt, buf, 1, 0.25);
    CHECK(load_element(dt, buf, 1) == 0.25);
  }
}
