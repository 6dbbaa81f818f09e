// SPDX-License-Identifier: MIT
// When op A may take the CDNA MFMA path (absorbed_mfma.hip) instead of the
// portable SIMT kernel: the device has MFMA and runs wave64, the tile is the
// 64 x 64 the kernel is written for, the dims are DeepSeek's 512 + 64, q and
// cache share one 16-bit type, and every 4-element group the kernel loads as
// one 64-bit word is 8-byte aligned.  Plain C++ so the host test covers it.
#pragma once
#include <stdint.h>

#include "absorbed_params.hpp"

namespace mla_hip {

constexpr int kMfmaTileRows = 64;   // (query, head) rows per workgroup
constexpr int kMfmaTileKeys = 64;   // cache rows per KV tile
constexpr int kMfmaLatent = 512;
constexpr int kMfmaRope = 64;

// nullptr when eligible, else why not (for logs and tests).
inline const char* mfma_ineligible_reason(const mla_gpu::absorbed_params& p, bool device_has_mfma,
                                          int device_warp_size) {
  constexpr int f16 = 2, bf16 = 3;  // mla_dtype values
  if (!device_has_mfma) return "device has no MFMA (or its code object was not built)";
  if (device_warp_size != 64) return "device wavefront is not 64 lanes";
  if (p.tile.rows != kMfmaTileRows || p.tile.block_n != kMfmaTileKeys) return "tile is not 64 x 64";
  if (p.latent_dim != kMfmaLatent || p.rope_dim != kMfmaRope) return "dims are not 512 + 64";
  if (p.q_dtype != p.kv_dtype || (p.q_dtype != f16 && p.q_dtype != bf16))
    return "q and cache are not the same 16-bit type";
  if (p.q_stride[2] != 1) return "q elements are not contiguous";
  if (p.q_stride[0] % 4 != 0 || p.q_stride[1] % 4 != 0 || reinterpret_cast<uintptr_t>(p.q) % 8 != 0)
    return "q rows are not 8-byte aligned";
  if (reinterpret_cast<uintptr_t>(p.kv) % 8 != 0 || p.page_stride % 4 != 0 || p.row_stride % 4 != 0 ||
      p.latent_offset % 4 != 0 || p.rope_offset % 4 != 0)
    return "cache rows are not 8-byte aligned";
  return nullptr;
}

}  // namespace mla_hip
