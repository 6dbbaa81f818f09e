// SPDX-License-Identifier: MIT
// Host-side element conversion for the tools: f32 <-> f16 / bf16 with
// round-to-nearest-even, as a host engine does when it writes q and the
// cache.  The tools' own code, shared by mla-demo and mla-bench; no backend
// or the conformance harness uses it.
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mla_tools {

uint16_t float_to_bf16(float x);   // round to nearest even; NaN stays NaN
float bf16_to_float(uint16_t h);
uint16_t float_to_f16(float x);    // round to nearest even, subnormals, overflow -> inf
float f16_to_float(uint16_t h);

// Bytes per element of f32/f16/bf16; 0 for anything else.
size_t element_bytes(mla_dtype dtype);

// Writes n values of `src` as `dtype` into `dst` (element_bytes(dtype)*n bytes).
void encode(mla_dtype dtype, const float* src, void* dst, size_t n);
// Reads n elements of `dtype` at `src` as floats.
void decode(mla_dtype dtype, const void* src, float* dst, size_t n);
// The value a float becomes after a round trip through `dtype`.
float round_to(mla_dtype dtype, float x);

// "f32", "f16", "bf16" <-> dtype; parse returns MLA_DTYPE_INVALID when unknown.
mla_dtype parse_dtype(const std::string& name);
const char* dtype_label(mla_dtype dtype);

}  // namespace mla_tools
