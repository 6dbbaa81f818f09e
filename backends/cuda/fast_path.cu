// The CUDA side of the vendor fast-path interface (backends/gpu/kernels.hpp):
// tile shape per device, and the choice for each call between the Hopper
// kernel (wgmma + TMA), the portable tensor-core kernel (mma.sync) and the
// shared SIMT kernel.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../gpu/kernels.hpp"
#include "absorbed_mma.hpp"
#include "absorbed_wgmma.hpp"

namespace mla_gpu {
namespace {

// MLA_CUDA_KERNEL=mma or =simt caps the fastest kernel tried (to cross-check
// the paths, or compare them, on one GPU); unset or anything else: all.
// Ignored in setuid processes, like every MLA_ variable.
enum kernel_level { level_simt = 0, level_mma = 1, level_wgmma = 2 };
kernel_level kernel_cap() {
  static const kernel_level cap = [] {
    const char* v = secure_getenv("MLA_CUDA_KERNEL");
    if (v && strcmp(v, "simt") == 0) return level_simt;
    if (v && strcmp(v, "mma") == 0) return level_mma;
    return level_wgmma;
  }();
  return cap;
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

// Both tensor-core kernels read 16-byte chunks of q and of cache rows.
bool tensor_core_eligible(const device_info& dev, const absorbed_params& p) {
  const bool half_types = (p.q_dtype == dtype_bf16 || p.q_dtype == dtype_f16) && p.kv_dtype == p.q_dtype;
  return dev.cc_major >= 8 && half_types && p.latent_dim == 512 && p.rope_dim == 64 && p.q_stride[2] == 1 &&
         p.q_stride[0] % 8 == 0 && p.q_stride[1] % 8 == 0 && aligned16(p.q) && aligned16(p.kv) &&
         p.row_stride % 8 == 0 && p.page_stride % 8 == 0 && p.latent_offset % 8 == 0 && p.rope_offset % 8 == 0;
}

bool mma_eligible(const device_info& dev, const absorbed_params& p) {
  return mla_cuda::mma_smem_bytes(p.tile) > 0 && mla_cuda::mma_smem_bytes(p.tile) <= dev.smem_per_block_optin;
}

// sm_90a code runs on compute capability 9.0 only.
bool wgmma_device(const device_info& dev) {
  return dev.cc_major == 9 && dev.cc_minor == 0 && kernel_cap() >= level_wgmma;
}

}  // namespace

tile_config fast_path_tile(const device_info& dev, int64_t rows_per_seq, int batch, int /*latent_dim*/,
                           int /*rope_dim*/) {
  tile_config t;
  // Hopper with the wgmma kernel: 64-row x 64-key tiles (wgmma M = 64),
  // except for few sequences of <= 16 rows (batch <= SMs / 8): each is split
  // over many CTAs, the per-piece costs (Q load, partial rows, combine) of
  // 64-row tiles dominate, and 16-row mma.sync tiles measured faster there
  // (H = 16, s_q = 1: faster up to 16 sequences, slower from 32; NOTES.md
  // v17).  mma.sync on Hopper (227 KB of shared memory): 16-row tiles (few
  // rows per sequence, memory-bound decode) or 64-row tiles, both with two
  // 64-key KV tiles; smaller or deeper-ringed KV tiles measured slower there
  // (NOTES.md v3, v4).  Elsewhere: 64-row tiles of 32 keys where they fit
  // (153 KB: A100), else 16-row tiles of 32 keys (94 KB, two CTAs per SM).
  const bool few_narrow_sequences = rows_per_seq <= 16 && (int64_t)batch * 8 <= dev.multiprocessors;
  t.rows = rows_per_seq > 16 || (wgmma_device(dev) && !few_narrow_sequences) ? 64 : 16;
  t.block_n = dev.cc_major >= 9 ? 64 : 32;
  if (mla_cuda::mma_smem_bytes(t) > dev.smem_per_block_optin) {
    t.rows = 16;
    t.block_n = 32;
  }
  return t;
}

int fast_path_parts(const device_info& dev, const tile_config& tile, int m_blocks) {
  // As many CTAs as fit on the GPU at once (two per SM for 16x32 tiles),
  // over all row tiles; at least one column of CTAs.
  const int per_sm = tile.rows == 16 && tile.block_n == 32 ? 2 : 1;
  const int parts = per_sm * dev.multiprocessors / (m_blocks > 0 ? m_blocks : 1);
  return parts > 0 ? parts : 1;
}

bool launch_fast_path(const device_info& dev, const absorbed_params& p, cudaStream_t stream, cudaError_t* err) {
  if (kernel_cap() < level_mma || !tensor_core_eligible(dev, p)) return false;
  if (wgmma_device(dev) && mla_cuda::wgmma_eligible(p)) {
    bool launched = false;
    *err = mla_cuda::launch_absorbed_wgmma(p, stream, &launched);
    if (launched || *err != cudaSuccess) return true;
  }
  if (!mma_eligible(dev, p)) return false;
  *err = mla_cuda::launch_absorbed_mma(p, stream);
  return true;
}

}  // namespace mla_gpu
