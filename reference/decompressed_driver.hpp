// SPDX-License-Identifier: MIT
// Op B on the cpu: the entry points the plugin skeleton calls with
// validated arguments (indices included).
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <cstdint>

struct mla_context;

namespace mla_cpu {

// caps.decompressed_break_even_q of the cpu plugin: MLA_DECOMPRESSED_AUTO
// takes the decompressed form for sequences of at least this many queries.
// Measured (H 16, Dl 512, Dr 64, Dn = Dv = 128, bf16, one thread, CPU time
// per call, 2-core Xeon): with a cached prefix of 4096 keys the forms cross
// at s_q ~ 51 (32: 133 vs 88 ms, 64: 150 vs 181 ms), with 16384 keys at
// ~54 (48: 567 vs 485 ms, 56: 564 vs 586 ms).  Without a prefix (s_k =
// s_q) the decompressed form is faster from s_q = 8 on (0.6 vs 1.5 ms): the
// break-even matters where the prefix is long (chunked prefill, MTP).
constexpr int32_t kDecompressedBreakEvenQ = 56;

size_t decompressed_workspace(const mla_context& ctx, const mla_decompressed_args& a);
void decompressed_plan(const mla_context& ctx, const mla_decompressed_args& a);
mla_status decompressed_run(const mla_context& ctx, const mla_decompressed_args& a);

}  // namespace mla_cpu
