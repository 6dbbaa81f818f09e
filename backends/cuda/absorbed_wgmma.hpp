// SPDX-License-Identifier: MIT
// The Hopper op-A kernel (absorbed_wgmma.cu): wgmma + TMA, sm_90a only,
// bf16/f16, Dl = 512, Dr = 64, 64-row x 64-key tiles.
#pragma once
#include <cuda_runtime.h>

#include "../gpu/absorbed_params.hpp"

namespace mla_cuda {

// True when the kernel was built (sm_90a in the image) and takes p's tile
// shape, page size and cache strides; the caller checked the device
// (compute capability 9.0), dtypes, dims and q's layout.
bool wgmma_eligible(const mla_gpu::absorbed_params& p);

// Enqueues the kernel.  Sets *launched = false (and returns cudaSuccess,
// enqueuing nothing) when the cache cannot be described as a TMA tensor
// map, so that the caller can take another path.
cudaError_t launch_absorbed_wgmma(const mla_gpu::absorbed_params& p, cudaStream_t stream, bool* launched);

}  // namespace mla_cuda
