// SPDX-License-Identifier: MIT
#include "test_values.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mla/mla_plugin.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace cuda_test {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

int elem_size(int dtype) { return dtype == MLA_DTYPE_F32 ? 4 : 2; }

double encode(int dtype, double v, unsigned char* dst) {
  if (dtype == MLA_DTYPE_F32) {
    const float f = (float)v;
    std::memcpy(dst, &f, 4);
    return f;
  }
  if (dtype == MLA_DTYPE_F16) {
    const __half h = __float2half_rn((float)v);
    std::memcpy(dst, &h, 2);
    return __half2float(h);
  }
  const __nv_bfloat16 h = __float2bfloat16_rn((float)v);
  std::memcpy(dst, &h, 2);
  return __bfloat162float(h);
}

double decode(int dtype, const unsigned char* src) {
  if (dtype == MLA_DTYPE_F32) {
    float f;
    std::memcpy(&f, src, 4);
    return f;
  }
  if (dtype == MLA_DTYPE_F16) {
    __half h;
    std::memcpy(&h, src, 2);
    return __half2float(h);
  }
  __nv_bfloat16 h;
  std::memcpy(&h, src, 2);
  return __bfloat162float(h);
}

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, std::max<size_t>(bytes, 256)), "cudaMalloc");
  return p;
}

}  // namespace cuda_test
