// SPDX-License-Identifier: MIT
// What the op A and op B test cases share: host encoding of test values in
// the API's dtypes, and device buffers.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace cuda_test {

// Throws std::runtime_error("<what>: <CUDA error>") unless e is cudaSuccess.
void check(cudaError_t e, const char* what);
int elem_size(int dtype);  // bytes of one element of an MLA_DTYPE_* (f32, f16, bf16)
// Host encoding of one value in `dtype` at dst, and its decoded (rounded) value.
double encode(int dtype, double v, unsigned char* dst);
double decode(int dtype, const unsigned char* src);
// cudaMalloc of at least 256 bytes (a zero-sized tensor still gets an address).
void* device_alloc(size_t bytes);

}  // namespace cuda_test
