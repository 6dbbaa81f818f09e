// SPDX-License-Identifier: MIT
// Op B on tensor cores through mma.sync (decompressed_mma.cu).
#pragma once
#include "../gpu/kernels.hpp"

namespace mla_cuda {

// K/V expansion of one round: grid (chunk / 64, 2 H, group_seqs).
cudaError_t launch_opb_expand_mma(const mla_gpu::opb_params& p, const mla_gpu::opb_round& r, cudaStream_t stream);
// Attention of one round: grid (query tiles, H, group_seqs).
cudaError_t launch_opb_attend_mma(const mla_gpu::opb_params& p, const mla_gpu::opb_round& r, cudaStream_t stream);

}  // namespace mla_cuda
