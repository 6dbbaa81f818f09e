// SPDX-License-Identifier: MIT
// The one table of tile configurations of the CUDA op-A kernels.  Dispatch
// (launch_absorbed_mma), shared-memory size, CTAs per SM and eligibility
// (fast_path.cu) all read it; a tile that is not in it is a hard error.
#pragma once
#include <stddef.h>

#include "mma_config.hpp"
#include "opb_config.hpp"
#include "wgmma_config.hpp"

namespace mla_cuda {

// Kernel variants, slowest first: the index is the variant's level
// (device_info::kernel_level caps it) and caps.kernels lists them reversed.
enum kernel_level { level_simt = 0, level_mma = 1, level_wgmma = 2 };
constexpr const char* kLevelNames[] = {"simt", "mma", "wgmma"};

struct tile_entry {
  int level;          // kernel_level of the kernel that runs this tile
  int rows, block_n;  // (query, head) rows x keys of a CTA's tiles
  int ctas_per_sm;    // CTAs the split plan counts per SM
  size_t smem_bytes;  // dynamic shared memory of one CTA
};

template <int ROWS, int BN>
constexpr tile_entry mma_entry() {
  using S = mma_config::shape<ROWS, BN>;
  return {level_mma, ROWS, BN, S::ctas_per_sm, S::smem_bytes};
}

constexpr tile_entry kTiles[] = {
    {level_wgmma, wgmma_config::kRows, wgmma_config::kKeys, 1, wgmma_config::kSmemBytes},
    mma_entry<64, 64>(),  // Hopper, > 16 rows per sequence
    mma_entry<64, 32>(),  // A100 (164 KB)
    mma_entry<16, 64>(),  // Hopper, <= 16 rows per sequence
    mma_entry<16, 32>(),  // devices with < 100 KB of shared memory per block
};
constexpr int kNumTiles = sizeof(kTiles) / sizeof(kTiles[0]);

// The entry of `level` with this tile, or nullptr.
inline const tile_entry* find_tile(int level, int rows, int block_n) {
  for (const tile_entry& t : kTiles)
    if (t.level == level && t.rows == rows && t.block_n == block_n) return &t;
  return nullptr;
}

// Op B (decompressed form) on tensor cores: one entry per kernel of a
// round.  rows x block_n: keys x outputs of the expansion GEMM, query rows
// x keys of the attention tile.  Both kernels take the same dims (Dn = Dv =
// 128, Dr = 64); a device whose shared memory holds neither runs the SIMT
// kernels.
enum opb_kernel { opb_expand = 0, opb_attend = 1 };
struct opb_tile_entry {
  int level;
  int kernel;  // opb_kernel
  int rows, block_n;
  int threads;
  size_t smem_bytes;
};
constexpr opb_tile_entry kOpbTiles[] = {
    {level_mma, opb_expand, opb_config::kExpandKeys, opb_config::kExpandOut, opb_config::kExpandThreads,
     opb_config::kExpandSmem},
    {level_mma, opb_attend, opb_config::kAttendRows, opb_config::kAttendKeys, opb_config::kAttendThreads,
     opb_config::kAttendSmem},
    // Hopper: the attention by wgmma
    {level_wgmma, opb_attend, opb_config::kAttendWgmmaRows, opb_config::kAttendKeys, opb_config::kAttendWgmmaThreads,
     opb_config::kAttendWgmmaSmem},
};

// The op-B entry of `kernel` at `level`, or nullptr.
inline const opb_tile_entry* find_opb_tile(int level, int kernel) {
  for (const opb_tile_entry& t : kOpbTiles)
    if (t.level == level && t.kernel == kernel) return &t;
  return nullptr;
}

}  // namespace mla_cuda
