// SPDX-License-Identifier: MIT
// Element encodings of the harness: f32, f16 (IEEE binary16) and bf16,
// written here from the IEEE definitions and shared with no backend, so a
// conversion bug in a backend cannot hide behind the same bug in the checker.
#pragma once
#include <cstdint>

namespace conformance {

// Nearest representable value, ties to even; overflow gives +-inf; NaN stays NaN.
uint16_t f16_bits_from_double(double x);
uint16_t bf16_bits_from_double(double x);
double double_from_f16_bits(uint16_t bits);
double double_from_bf16_bits(uint16_t bits);

int element_bytes(int32_t dtype);           // 4, 2, 2; 0 for dtypes the harness cannot build
const char* dtype_label(int32_t dtype);     // "f32", "f16", "bf16", ...
double round_to_dtype(int32_t dtype, double x);  // the value after storing x as `dtype`
// Element `index` of an array of `dtype` elements.
void store_element(int32_t dtype, void* base, int64_t index, double value);
double load_element(int32_t dtype, const void* base, int64_t index);
// Raw bits, for poison patterns and bitwise comparisons.
uint32_t load_bits(int32_t dtype, const void* base, int64_t index);
void store_bits(int32_t dtype, void* base, int64_t index, uint32_t bits);
// A NaN bit pattern no arithmetic produces (a signalling NaN with a fixed
// payload): an output element that still holds it was never written.
uint32_t poison_bits(int32_t dtype);

}  // namespace conformance
