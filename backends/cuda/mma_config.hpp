// SPDX-License-Identifier: MIT
// The constants of the mma.sync op-A kernel (absorbed_mma.cu), shared with
// the tile table (tile_table.hpp) so that no number is restated.
#pragma once
#include <stddef.h>

namespace mla_cuda {
namespace mma_config {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kLatent = 512;
constexpr int kDims = 576;          // latent + rope
constexpr int kChunks = kDims / 8;  // 16-byte chunks per row
constexpr int kRowBytes = kDims * 2;

// A CTA of ROWS (query, head) rows and KV tiles of BN keys.
template <int ROWS, int BN>
struct shape {
  static constexpr int row_warps = ROWS / 16;
  static constexpr int col_warps = kWarps / row_warps;
  // Phase 1: n8 tiles of S per warp (warps past BN/8 tiles idle there).
  static constexpr int s_tiles = (BN / 8) / col_warps > 0 ? (BN / 8) / col_warps : 1;
  static constexpr int s_active_warps = (BN / 8) / s_tiles;  // column warps with S work
  // Phase 2: output dims per warp and their n8 tiles.
  static constexpr int o_dims = kLatent / col_warps;
  static constexpr int o_tiles = o_dims / 8;
  static constexpr int p_stride = BN + 8;  // padded P row (elements)
  static constexpr int stages = 2;         // KV ring depth (deeper rings measured slower: NOTES.md v3, v4)
  // 16-row tiles of 32 keys (94 KB): two CTAs per SM (<= 128 registers).
  static constexpr int ctas_per_sm = (ROWS == 16 && BN == 32) ? 2 : 1;
  static constexpr size_t q_bytes = (size_t)ROWS * kRowBytes;
  static constexpr size_t k_bytes = (size_t)BN * kRowBytes;
  static constexpr size_t p_bytes = (size_t)ROWS * p_stride * 2;
  static constexpr size_t red_bytes = (size_t)col_warps * ROWS * sizeof(float);
  static constexpr size_t smem_bytes = q_bytes + stages * k_bytes + p_bytes + red_bytes;
  static_assert(s_tiles == 1 || s_tiles % 2 == 0, "S tiles are loaded in pairs");
  static_assert(o_tiles % 2 == 0, "V tiles are loaded in pairs");
};

}  // namespace mma_config
}  // namespace mla_cuda
