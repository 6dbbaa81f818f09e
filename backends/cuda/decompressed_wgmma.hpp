// SPDX-License-Identifier: MIT
// Op B's attention on Hopper through wgmma (decompressed_wgmma.cu): sm_90a
// only; the default attention of a context at level wgmma.
#pragma once
#include "../gpu/kernels.hpp"

namespace mla_cuda {

// True when this build carries the kernel's sm_90a code and the device runs it.
bool opb_wgmma_built();
// Attention of one round: grid (128-row query tiles, H, group_seqs), 384
// threads.  Sets *launched = false (and enqueues nothing) when the round's
// K or V cannot be described as a TMA tensor map, so that the caller can
// take the mma.sync kernel.
cudaError_t launch_opb_attend_wgmma(const mla_gpu::opb_params& p, const mla_gpu::opb_round& r, cudaStream_t stream,
                                    bool* launched);

}  // namespace mla_cuda
