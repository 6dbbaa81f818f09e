// The HIP vendor hooks of backends/gpu/kernels.hpp: tile choice, split
// width and the MFMA fast path, decided from what the runtime reports about
// the device (hipDeviceProp_t::warpSize and gcnArchName), never from the
// compile-time wave size of some device pass.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <mutex>

#include "hip_fast_path.hpp"
#include "mfma_eligibility.hpp"

namespace mla_hip {
namespace {

constexpr int kMaxCachedDevices = 64;

// MLA_HIP_FAST_PATH=0 forces the portable kernel (to cross-check the two
// paths on hardware); ignored in setuid processes like every MLA_ variable.
bool fast_path_allowed() {
  static const bool allowed = [] {
    const char* v = secure_getenv("MLA_HIP_FAST_PATH");
    return v == nullptr || strcmp(v, "0") != 0;
  }();
  return allowed;
}

device_traits read_traits(int ordinal) {
  device_traits t;
  hipDeviceProp_t prop;
  if (hipGetDeviceProperties(&prop, ordinal) != hipSuccess) {
    (void)hipGetLastError();
    return t;
  }
  t.known = true;
  t.warp_size = prop.warpSize;
  snprintf(t.arch, sizeof t.arch, "%s", prop.gcnArchName);
  if (char* colon = strchr(t.arch, ':')) *colon = '\0';  // "gfx90a:sramecc+:xnack-" -> "gfx90a"
  t.mfma = arch_has_mfma_build(t.arch);
  return t;
}

}  // namespace

bool arch_has_mfma_build(const char* arch) {
  // gfx90a (MI200) and gfx940 (MI300 early) code objects are built with the
  // MFMA kernel; gfx941/gfx942 would need a newer ROCm than Debian's 5.2.
  return strcmp(arch, "gfx90a") == 0 || strcmp(arch, "gfx940") == 0;
}

device_traits traits_of(int ordinal) {
  static std::once_flag once[kMaxCachedDevices];
  static device_traits cached[kMaxCachedDevices];
  if (ordinal < 0 || ordinal >= kMaxCachedDevices) return read_traits(ordinal);
  std::call_once(once[ordinal], [ordinal] { cached[ordinal] = read_traits(ordinal); });
  return cached[ordinal];
}

}  // namespace mla_hip

namespace mla_gpu {

tile_config fast_path_tile(const device_info& dev, int64_t rows_per_seq, int /*batch*/, int latent_dim, int rope_dim) {
  (void)rows_per_seq;
  const mla_hip::device_traits t = mla_hip::traits_of(dev.ordinal);
  tile_config tile;
  if (t.mfma && t.warp_size == 64 && latent_dim == mla_hip::kMfmaLatent && rope_dim == mla_hip::kMfmaRope) {
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
  if (!mla_hip::fast_path_allowed()) return false;
  const mla_hip::device_traits t = mla_hip::traits_of(dev.ordinal);
  if (mla_hip::mfma_ineligible_reason(p, t.mfma, t.warp_size) != nullptr) return false;
  *err = mla_hip::launch_absorbed_mfma(p, stream);
  return true;
}

}  // namespace mla_gpu
