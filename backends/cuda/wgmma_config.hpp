// SPDX-License-Identifier: MIT
// The constants of the Hopper op-A kernel (absorbed_wgmma.cu), shared with
// the tile table (tile_table.hpp).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mla_cuda {
namespace wgmma_config {

constexpr int kRows = 64;         // (query, head) rows per CTA = wgmma M
constexpr int kKeys = 64;         // keys per KV tile
constexpr int kStages = 2;        // KV ring depth (2 x 72 KB + Q 72 KB fill 227 KB)
constexpr int kLatent = 512;
constexpr int kBlocks = 9;        // 64-column blocks of a 576-wide row (8 latent + rope)
constexpr int kConsumers = 256;   // warpgroups 0 and 1
constexpr int kThreads = kConsumers + 128;  // + the producer warpgroup (one warp issues)

constexpr uint32_t kBlockBytes = 64 * 128;  // one 64-column block of 64 rows
constexpr uint32_t kTileBytes = kBlocks * kBlockBytes;

struct smem_layout {
  static constexpr uint32_t q = 0;
  static constexpr uint32_t kv = q + kTileBytes;
  static constexpr uint32_t p = kv + kStages * kTileBytes;  // [64 rows x 64 keys]
  static constexpr uint32_t red_max = p + kBlockBytes;      // [2][64] f32
  static constexpr uint32_t red_sum = red_max + 2 * kRows * 4;
  static constexpr uint32_t full = red_sum + 2 * kRows * 4;  // kStages x u64
  static constexpr uint32_t empty = full + kStages * 8;
  static constexpr uint32_t stage_bad = empty + kStages * 8;  // kStages x int
  static constexpr uint32_t piece_bad = stage_bad + kStages * 4;
  static constexpr uint32_t bytes = piece_bad + 16;
};
// The dynamic allocation is aligned up to 1024 B in the kernel (TMA swizzle).
constexpr size_t kSmemBytes = smem_layout::bytes + 1024;

}  // namespace wgmma_config
}  // namespace mla_cuda
