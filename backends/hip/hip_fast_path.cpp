// SPDX-License-Identifier: MIT
// The HIP vendor hooks of backends/gpu/kernels.hpp: the device description
// (wavefront size and gfx arch, as the runtime reports them, never the
// compile-time wave size of some device pass), the kernel variants, tile
// choice, split width and the MFMA fast path.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "hip_fast_path.hpp"
#include "mfma_eligibility.hpp"

namespace mla_hip {

bool arch_has_mfma_build(const char* arch) {
  // gfx90a (MI200) and gfx940 (MI300 early) code objects are built with the
  // MFMA kernel; gfx941/gfx942 would need a newer ROCm than Debian's 5.2.
  return strcmp(arch, "gfx90a") == 0 || strcmp(arch, "gfx940") == 0;
}

namespace {

enum kernel_level { level_simt = 0, level_mfma = 1 };
constexpr const char* kLevelNames[] = {"simt", "mfma"};

int device_level(const mla_gpu::device_info& dev) {
  return arch_has_mfma_build(dev.arch) && dev.warp_size == 64 ? level_mfma : level_simt;
}

}  // namespace
}  // namespace mla_hip

namespace mla_gpu {

cudaError_t read_device_info(int ordinal, device_info& dev) {
  hipDeviceProp_t prop;
  const hipError_t e = hipGetDeviceProperties(&prop, ordinal);
  if (e != hipSuccess) return e;
  dev.ordinal = ordinal;
  dev.multiprocessors = prop.multiProcessorCount;
  dev.warp_size = prop.warpSize;
  dev.smem_per_block = prop.sharedMemPerBlock;  // AMD needs no opt-in: the LDS limit itself
  snprintf(dev.arch, sizeof dev.arch, "%s", prop.gcnArchName);
  if (char* colon = strchr(dev.arch, ':')) *colon = '\0';  // "gfx90a:sramecc+:xnack-" -> "gfx90a"
  snprintf(dev.name, sizeof dev.name, "%s (%s, %d CUs, wave%d)", prop.name, dev.arch, prop.multiProcessorCount,
           prop.warpSize);
  return hipSuccess;
}

const char* fast_path_kernels(const device_info& dev) {
  return mla_hip::device_level(dev) == mla_hip::level_mfma ? "mfma,simt" : "simt";
}

bool select_kernel(device_info& dev, const char* name) {
  const int top = mla_hip::device_level(dev);
  if (name == nullptr) {
    // MLA_HIP_FAST_PATH=0 forces the portable kernel (to cross-check the two
    // paths on hardware); ignored in setuid processes like every MLA_ variable.
    const char* env = secure_getenv("MLA_HIP_FAST_PATH");
    dev.kernel_level = env && strcmp(env, "0") == 0 ? mla_hip::level_simt : top;
    return true;
  }
  for (int level = 0; level <= top; ++level)
    if (strcmp(name, mla_hip::kLevelNames[level]) == 0) {
      dev.kernel_level = level;
      return true;
    }
  return false;
}

tile_config fast_path_tile(const device_info& dev, int64_t /*rows_per_seq*/, int /*batch*/, int latent_dim,
                           int rope_dim) {
  tile_config tile;
  if (dev.kernel_level >= mla_hip::level_mfma && latent_dim == mla_hip::kMfmaLatent && rope_dim == mla_hip::kMfmaRope) {
    tile.rows = mla_hip::kMfmaTileRows;  // the MFMA kernel's tile; the SIMT fallback follows it
    tile.block_n = mla_hip::kMfmaTileKeys;
  } else {
    tile.rows = 16;
    tile.block_n = 64;
  }
  return tile;
}

int fast_path_parts(const device_info& dev, const tile_config& tile, int m_blocks) {
  // Workgroups resident per CU: the MFMA tile fills a CU's register file with
  // one 512-thread group; the 16-row SIMT tile fits about four.
  const int per_cu = tile.rows == mla_hip::kMfmaTileRows ? 1 : 4;
  return std::max(1, dev.multiprocessors * per_cu / std::max(1, m_blocks));
}

bool launch_fast_path(const device_info& dev, const absorbed_params& p, cudaStream_t stream, cudaError_t* err) {
  if (dev.kernel_level < mla_hip::level_mfma) return false;
  if (mla_hip::mfma_ineligible_reason(p, true, dev.warp_size) != nullptr) return false;
  *err = mla_hip::launch_absorbed_mfma(p, stream);
  return true;
}

}  // namespace mla_gpu
