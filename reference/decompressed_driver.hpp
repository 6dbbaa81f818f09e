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
// Measured with mla-bench's seed table (docs/perf, reference/README.md).
constexpr int32_t kDecompressedBreakEvenQ = 256;

size_t decompressed_workspace(const mla_context& ctx, const mla_decompressed_args& a);
void decompressed_plan(const mla_context& ctx, const mla_decompressed_args& a);
mla_status decompressed_run(const mla_context& ctx, const mla_decompressed_args& a);

}  // namespace mla_cpu
