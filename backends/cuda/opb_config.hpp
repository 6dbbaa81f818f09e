// SPDX-License-Identifier: MIT
// The constants of the op-B tensor-core kernels (decompressed_mma.cu,
// decompressed_wgmma.cu), shared with the tile table (tile_table.hpp) so
// that no number is restated.
#pragma once
#include <stddef.h>

namespace mla_cuda {
namespace opb_config {

// The only dims the tensor-core kernels take (DeepSeek's): K = [k_nope | kR]
// of 128 + 64, V of 128; the latent dim in steps of 64.
constexpr int kNope = 128, kRope = 64, kDk = kNope + kRope, kDv = 128, kLatentStep = 64;

// Expansion: a CTA computes 64 keys x 128 outputs (one head's K_nope or V)
// over the latent dim in steps of 64, 4 warps of 16 keys x 128 outputs,
// A (latent rows) and B (weight rows) tiles in a 2-stage cp.async ring.
constexpr int kExpandThreads = 128;
constexpr int kExpandKeys = 64, kExpandOut = 128;
constexpr int kExpandStages = 2;
constexpr size_t kExpandATile = (size_t)kExpandKeys * kLatentStep * 2;
constexpr size_t kExpandBTile = (size_t)kExpandOut * kLatentStep * 2;
constexpr size_t kExpandSmem = kExpandStages * (kExpandATile + kExpandBTile);  // 48 KB

// Attention: a CTA owns 64 query rows of one head (4 warps x 16 rows, Q
// held in registers) and walks 64-key tiles of the chunk's K and V in a
// 2-stage cp.async ring.
constexpr int kAttendThreads = 128;
constexpr int kAttendRows = 64, kAttendKeys = 64;
constexpr int kAttendStages = 2;
constexpr size_t kAttendQTile = (size_t)kAttendRows * kDk * 2;
constexpr size_t kAttendKTile = (size_t)kAttendKeys * kDk * 2;
constexpr size_t kAttendVTile = (size_t)kAttendKeys * kDv * 2;
constexpr size_t kAttendSmem = kAttendQTile + kAttendStages * (kAttendKTile + kAttendVTile);  // 104 KB

// The Hopper attention (decompressed_wgmma.cu): 128 query rows per CTA in
// two consumer warpgroups and a producer warpgroup; the tiles in
// 128-byte-swizzled 64-column blocks: Q of both warpgroups, a 3-stage K/V
// ring, 6 mbarriers, and 1024 bytes to align the tiles.
constexpr int kAttendWgmmaRows = 128, kAttendWgmmaThreads = 384, kAttendWgmmaStages = 3;
constexpr size_t kAttendWgmmaSmem = 2 * (size_t)64 * kDk * 2 + kAttendWgmmaStages * (kAttendKTile + kAttendVTile) +
                                    2 * kAttendWgmmaStages * 8 + 1024;  // 169 KB

}  // namespace opb_config
}  // namespace mla_cuda
