// SPDX-License-Identifier: MIT
// The mma.sync op-A kernel (absorbed_mma.cu): bf16/f16, Dl = 512, Dr = 64.
#pragma once
#include <cuda_runtime.h>

#include "../gpu/absorbed_params.hpp"

namespace mla_cuda {

// Enqueues the kernel for p.tile, an mma.sync entry of the tile table
// (tile_table.hpp); the caller checked eligibility (fast_path.cu).
cudaError_t launch_absorbed_mma(const mla_gpu::absorbed_params& p, cudaStream_t stream);

}  // namespace mla_cuda
