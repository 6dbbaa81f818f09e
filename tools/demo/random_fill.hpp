// SPDX-License-Identifier: MIT
// Deterministic random numbers for the tools, identical on every platform
// (std:: distributions are not), so a seed printed by a tool replays exactly.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace mla_tools {

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, full period.
struct splitmix64 {
  uint64_t state;
  explicit splitmix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform01() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  // Standard normal by Box-Muller from two uniforms (the cosine branch only).
  double normal() {
    const double u1 = uniform01(), u2 = uniform01();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
  }
};

// n floats uniform in [-1, 1), from stream `seed`.
inline void fill_uniform(float* dst, size_t n, uint64_t seed) {
  splitmix64 g(seed);
  for (size_t i = 0; i < n; ++i) dst[i] = float(g.uniform01() * 2.0 - 1.0);
}

}  // namespace mla_tools
