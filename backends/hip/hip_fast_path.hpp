// The HIP backend's side of backends/gpu/kernels.hpp: device traits read
// from the runtime (wavefront size, gfx arch) and the MFMA kernel's launcher.
#pragma once
#include "kernels.hpp"

namespace mla_hip {

// What the host knows about a device; read once per ordinal and cached.
struct device_traits {
  bool known = false;      // properties could be read
  int warp_size = 0;       // hipDeviceProp_t::warpSize: 64 on CDNA, 32 on RDNA
  bool mfma = false;       // gfx90a / gfx940, the MFMA archs this build carries
  char arch[64] = {0};     // gcnArchName up to the first ':' ("gfx90a")
};

device_traits traits_of(int ordinal);

// True for the archs whose MFMA code object this build contains.
bool arch_has_mfma_build(const char* arch);

// absorbed_mfma.hip: op A on the matrix cores; p must be eligible
// (mfma_eligibility.hpp).  Grid (m_blocks, num_parts), 512 threads.
hipError_t launch_absorbed_mfma(const mla_gpu::absorbed_params& p, hipStream_t stream);

}  // namespace mla_hip
