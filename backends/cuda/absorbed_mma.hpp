// The mma.sync op-A kernel (absorbed_mma.cu): bf16/f16, Dl = 512, Dr = 64.
#pragma once
#include <cuda_runtime.h>

#include "../gpu/absorbed_params.hpp"

namespace mla_cuda {

// Dynamic shared memory the kernel needs for a tile shape (0: not built).
size_t mma_smem_bytes(const mla_gpu::tile_config& tile);

// Enqueues the kernel; the caller checked eligibility (fast_path.cu).
cudaError_t launch_absorbed_mma(const mla_gpu::absorbed_params& p, cudaStream_t stream);

}  // namespace mla_cuda
