// SPDX-License-Identifier: MIT
// The CUDA side of the vendor interface (backends/gpu/kernels.hpp): the
// device description, the kernel variants, the tile per batch description
// (from the tile table, tile_table.hpp) and the choice for each call between
// the Hopper kernel (wgmma + TMA), the portable tensor-core kernel (mma.sync)
// and the shared SIMT kernel.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../gpu/kernels.hpp"
#include "absorbed_mma.hpp"
#include "absorbed_wgmma.hpp"
#include "decompressed_mma.hpp"
#include "decompressed_wgmma.hpp"
#include "tile_table.hpp"

namespace mla_gpu {
namespace {

using mla_cuda::find_tile;
using mla_cuda::kLevelNames;
using mla_cuda::level_mma;
using mla_cuda::level_simt;
using mla_cuda::level_wgmma;

// The fastest variant this device can run: sm_90a code runs on compute
// capability 9.0 only (and only where this build carries it).
int device_level(const device_info& dev) {
  if (dev.cc_major == 9 && dev.cc_minor == 0 && MLA_CUDA_SM90A) return level_wgmma;
  return dev.cc_major >= 8 ? level_mma : level_simt;
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

// Both tensor-core kernels read 16-byte chunks of q and of cache rows.
bool tensor_core_eligible(const absorbed_params& p) {
  const bool half_types = (p.q_dtype == dtype_bf16 || p.q_dtype == dtype_f16) && p.kv_dtype == p.q_dtype;
  return half_types && p.latent_dim == 512 && p.rope_dim == 64 && p.q_stride[2] == 1 && p.q_stride[0] % 8 == 0 &&
         p.q_stride[1] % 8 == 0 && aligned16(p.q) && aligned16(p.kv) && p.row_stride % 8 == 0 &&
         p.page_stride % 8 == 0 && p.latent_offset % 8 == 0 && p.rope_offset % 8 == 0;
}

// A tile of `level` that fits this device's shared memory, or nullptr.
const mla_cuda::tile_entry* fitting_tile(const device_info& dev, int level, int rows, int block_n) {
  const mla_cuda::tile_entry* t = find_tile(level, rows, block_n);
  return t && t->smem_bytes <= dev.smem_per_block ? t : nullptr;
}

}  // namespace

cudaError_t read_device_info(int ordinal, device_info& dev) {
  cudaDeviceProp prop;
  const cudaError_t e = cudaGetDeviceProperties(&prop, ordinal);
  if (e != cudaSuccess) return e;
  dev.ordinal = ordinal;
  dev.multiprocessors = prop.multiProcessorCount;
  dev.warp_size = prop.warpSize;
  dev.smem_per_block = prop.sharedMemPerBlockOptin;
  dev.cc_major = prop.major;
  dev.cc_minor = prop.minor;
  snprintf(dev.arch, sizeof dev.arch, "sm_%d%d", prop.major, prop.minor);
  snprintf(dev.name, sizeof dev.name, "%s (cc %d.%d, %d SMs)", prop.name, prop.major, prop.minor,
           prop.multiProcessorCount);
  return cudaSuccess;
}

const char* fast_path_kernels(const device_info& dev) {
  switch (device_level(dev)) {
    case level_wgmma: return "wgmma,mma,simt";
    case level_mma: return "mma,simt";
    default: return "simt";
  }
}

bool select_kernel(device_info& dev, const char* name) {
  const int top = device_level(dev);
  if (name == nullptr) {
    // MLA_CUDA_KERNEL caps the variant without asking through the ABI (to
    // compare the paths on one GPU); ignored in setuid processes and when
    // it names no variant of this device.
    dev.kernel_level = top;
    const char* env = secure_getenv("MLA_CUDA_KERNEL");
    for (int level = 0; env && level <= top; ++level)
      if (strcmp(env, kLevelNames[level]) == 0) dev.kernel_level = level;
    return true;
  }
  for (int level = 0; level <= top; ++level)
    if (strcmp(name, kLevelNames[level]) == 0) {
      dev.kernel_level = level;
      return true;
    }
  return false;
}

tile_config fast_path_tile(const device_info& dev, int64_t rows_per_seq, int batch, int /*latent_dim*/,
                           int /*rope_dim*/) {
  // Hopper with the wgmma kernel: its 64-row x 64-key tile (wgmma M = 64),
  // except for few sequences of <= 16 rows (batch <= SMs / 8): each is split
  // over many CTAs, the per-piece costs (Q load, partial rows, combine) of
  // 64-row tiles dominate, and 16-row mma.sync tiles measured faster there
  // (H = 16, s_q = 1: faster up to 16 sequences, slower from 32; NOTES.md
  // v17).  mma.sync: 16-row tiles for few rows per sequence (memory-bound
  // decode), else 64-row tiles, with 64-key KV tiles where they fit (H100,
  // H200), else 32-key ones (A100); devices with less shared memory take
  // 16 x 32.  Batch-invariant contexts choose from the device alone.
  const bool wgmma = dev.kernel_level >= level_wgmma;
  const bool narrow = !dev.batch_invariant && rows_per_seq <= 16;
  const bool few_sequences = (int64_t)batch * 8 <= dev.multiprocessors;
  const int rows = narrow && (!wgmma || few_sequences) ? 16 : 64;
  const int block_n = dev.cc_major >= 9 ? 64 : 32;
  tile_config t;
  t.rows = 16;
  t.block_n = 32;
  if (wgmma && rows == 64 && fitting_tile(dev, level_wgmma, rows, block_n)) {
    t.rows = 64;
    t.block_n = 64;
  } else if (fitting_tile(dev, level_mma, rows, block_n)) {
    t.rows = rows;
    t.block_n = block_n;
  }
  return t;
}

int fast_path_parts(const device_info& dev, const tile_config& tile, int m_blocks) {
  // As many CTAs as fit on the GPU at once over all row tiles (the tile
  // table's CTAs per SM); at least one column of CTAs.
  const mla_cuda::tile_entry* t = find_tile(level_mma, tile.rows, tile.block_n);
  const int per_sm = t ? t->ctas_per_sm : 1;
  const int parts = per_sm * dev.multiprocessors / (m_blocks > 0 ? m_blocks : 1);
  return parts > 0 ? parts : 1;
}

bool launch_fast_path(const device_info& dev, const absorbed_params& p, cudaStream_t stream, cudaError_t* err) {
  if (dev.kernel_level < level_mma || !tensor_core_eligible(p)) return false;
  if (dev.kernel_level >= level_wgmma && mla_cuda::wgmma_eligible(p)) {
    bool launched = false;
    *err = mla_cuda::launch_absorbed_wgmma(p, stream, &launched);
    if (launched || *err != cudaSuccess) return true;
  }
  if (!fitting_tile(dev, level_mma, p.tile.rows, p.tile.block_n)) return false;
  *err = mla_cuda::launch_absorbed_mma(p, stream);
  return true;
}

// Op B: the mma.sync kernels (there is no wgmma variant yet, so a context
// at the wgmma level runs them too) for bf16/f16 compute with DeepSeek's
// dims; everything else takes the SIMT kernels.
bool opb_fast_path(const device_info& dev, const opb_params& p) {
  using namespace mla_cuda::opb_config;
  if (dev.kernel_level < level_mma) return false;
  if (p.compute_dtype != dtype_bf16 && p.compute_dtype != dtype_f16) return false;
  if (p.nope_dim != kNope || p.rope_dim != kRope || p.v_dim != kDv || p.latent_dim % kLatentStep != 0) return false;
  if (p.chunk_keys % kAttendKeys != 0 || p.chunk_keys % kExpandKeys != 0) return false;
  for (int kernel : {mla_cuda::opb_expand, mla_cuda::opb_attend}) {
    const mla_cuda::opb_tile_entry* t = mla_cuda::find_opb_tile(level_mma, kernel);
    if (t == nullptr || t->smem_bytes > dev.smem_per_block) return false;
  }
  return true;
}

cudaError_t launch_opb_expand_fast(const device_info&, const opb_params& p, const opb_round& r, cudaStream_t stream) {
  return mla_cuda::launch_opb_expand_mma(p, r, stream);
}

// The Hopper attention variant runs where the context may use wgmma, the
// image carries it and its tile-table entry fits; a context at level mma
// (MLA_CUDA_KERNEL=mma) takes the mma.sync kernel.
cudaError_t launch_opb_attend_fast(const device_info& dev, const opb_params& p, const opb_round& r,
                                   cudaStream_t stream) {
  const mla_cuda::opb_tile_entry* t = mla_cuda::find_opb_tile(level_wgmma, mla_cuda::opb_attend);
  if (dev.kernel_level >= level_wgmma && t != nullptr && t->smem_bytes <= dev.smem_per_block &&
      mla_cuda::opb_wgmma_built()) {
    bool launched = false;
    const cudaError_t e = mla_cuda::launch_opb_attend_wgmma(p, r, stream, &launched);
    if (e != cudaSuccess || launched) return e;
  }
  return mla_cuda::launch_opb_attend_mma(p, r, stream);
}

}  // namespace mla_gpu
