// SPDX-License-Identifier: MIT
// A kernel that needs scratch memory on purpose (a private array indexed at
// run time), so the code-object check can be shown to fail on one.
#include <hip/hip_runtime.h>

__global__ void scratch_kernel(const int* index, float* out) {
  float local[256];
  for (int i = 0; i < 256; ++i) local[i] = out[i * blockDim.x + threadIdx.x];
  out[threadIdx.x] = local[index[threadIdx.x] & 255];
}
