// SPDX-License-Identifier: MIT
// The HIP backend's side of backends/gpu/kernels.hpp: which gfx archs this
// build carries MFMA code for, and the MFMA kernel's launcher.
#pragma once
#include "kernels.hpp"

namespace mla_hip {

// True for the archs whose MFMA code object this build contains.
bool arch_has_mfma_build(const char* arch);

// absorbed_mfma.hip: op A on the matrix cores; p must be eligible
// (mfma_eligibility.hpp).  Grid (m_blocks, num_parts), 512 threads.
hipError_t launch_absorbed_mfma(const mla_gpu::absorbed_params& p, hipStream_t stream);

}  // namespace mla_hip
