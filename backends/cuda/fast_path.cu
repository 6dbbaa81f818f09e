// The CUDA side of the vendor fast-path interface (backends/gpu/kernels.hpp):
// tile shape per device, and the choice between the tensor-core kernel and
// the shared SIMT kernel for each call.
#include <stdint.h>

#include "../gpu/kernels.hpp"
#include "absorbed_mma.hpp"

namespace mla_gpu {
namespace {

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

// The tensor-core kernel reads 16-byte chunks of q and of cache rows.
bool mma_eligible(const device_info& dev, const absorbed_params& p) {
  const bool half_types = (p.q_dtype == dtype_bf16 || p.q_dtype == dtype_f16) && p.kv_dtype == p.q_dtype;
  return dev.cc_major >= 8 && half_types && p.latent_dim == 512 && p.rope_dim == 64 && p.q_stride[2] == 1 &&
         p.q_stride[0] % 8 == 0 && p.q_stride[1] % 8 == 0 && aligned16(p.q) && aligned16(p.kv) &&
         p.row_stride % 8 == 0 && p.page_stride % 8 == 0 && p.latent_offset % 8 == 0 && p.rope_offset % 8 == 0 &&
         mla_cuda::mma_smem_bytes(p.tile) > 0 && mla_cuda::mma_smem_bytes(p.tile) <= dev.smem_per_block_optin;
}

}  // namespace

tile_config fast_path_tile(const device_info& dev, int64_t rows_per_seq, int /*latent_dim*/, int /*rope_dim*/) {
  tile_config t;
  // Hopper (227 KB of shared memory): 16-row tiles (few rows per sequence,
  // memory-bound decode) or 64-row tiles, both with two 64-key KV tiles.
  // Smaller or deeper-ringed KV tiles measured slower there (NOTES.md v3,
  // v4: the per-tile work, not the refill, bounds it).  Elsewhere: 64-row
  // tiles of 32 keys where they fit (153 KB: A100), else 16-row tiles of 32
  // keys (94 KB, two CTAs per SM).
  t.rows = rows_per_seq > 16 ? 64 : 16;
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
  if (!mma_eligible(dev, p)) return false;
  *err = mla_cuda::launch_absorbed_mma(p, stream);
  return true;
}

}  // namespace mla_gpu
