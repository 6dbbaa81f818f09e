// SPDX-License-Identifier: MIT
// Op B's attention on Hopper through wgmma (decompressed_wgmma.cu): sm_90a
// only; the default attention of a context at level wgmma.
#pragma once
#include "../gpu/kernels.hpp"

namespace mla_cuda {

// True when this build carries the kernel's sm_90a code and the device runs it.
bool opb_wgmma_built();
// Attention of one round: grid (query tiles, H, group_seqs), 128 threads.
cudaError_t launch_opb_attend_wgmma(const mla_gpu::opb_params& p, const mla_gpu::opb_round& r, cudaStream_t stream);

}  // namespace mla_cuda
