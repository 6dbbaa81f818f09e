// SPDX-License-Identifier: MIT
// The one host-side validator shared by every backend.  Backends only run
// what it accepted.  Messages name the argument: "absorbed_args.kv.page_size".
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>

namespace mla {

// The largest element offset any tensor, the cache or the block table may
// reach (docs/abi.md, 7.1): sum over dimensions of (extent - 1) * stride,
// plus the cache's row and field offsets.  2^56 - 1 elements is more than
// any 64-bit address space maps, and leaves kernels 7 bits of int64 headroom
// (an offset times an element size, or a sum of a few offsets, never
// overflows).  The validator computes every span with overflow checks and
// refuses a call past it.
constexpr int64_t kMaxElementOffset = (int64_t(1) << 56) - 1;

// The largest softmax scale accepted (docs/abi.md, 7.3).  Kernels compute in
// f32 and may fold the scale into q: with scale <= 2^16 and every q and cache
// element below 2^48 in magnitude (any f16 value; any activation a model
// makes), no f32 intermediate of op A can overflow (|score| < 2^16 * 2^13
// products * 2^96 = 2^125), so a result is never NaN unless an input is.
// Op B, whose weights multiply the cache first, needs elements below 2^24.
constexpr float kMaxScale = 65536.0f;

// What a backend accepts; the same numbers fill its caps.
struct backend_limits {
  uint32_t q_dtypes = 0;
  uint32_t cache_dtypes = 0;
  uint32_t out_dtypes = 0;
  int32_t max_heads = 0;
  int32_t max_latent_dim = 0;
  int32_t max_rope_dim = 0;
  int32_t latent_dim_multiple = 1;
  int32_t max_page_size = 0;
  // op B (max_nope_dim 0: no op B)
  uint32_t weight_dtypes = 0;
  int32_t max_nope_dim = 0;
  int32_t max_v_dim = 0;
};

// mla_context_desc as a plugin sees it: 1.1 fields defaulted for a 1.0 desc.
struct context_config {
  int32_t device_ordinal = 0;
  void* stream = nullptr;
  int32_t num_threads = 0;
  uint32_t flags = 0;
  const char* kernel = nullptr;  // NULL: the plugin picks (an empty string reads as NULL)
  mla_parallel_for_fn parallel_for = nullptr;
  void* parallel_for_pool = nullptr;
};

enum class check_level {
  shape,  // workspace-size query: scalars only, data pointers may be NULL
  full    // plan / run: every pointer, dtype, stride and the workspace
};

// Scalars, tensors and cache description of op A.  `workspace_needed` is
// checked against args->workspace at check_level::full.
mla_status validate_absorbed(const mla_absorbed_args* args, const backend_limits& limits,
                             check_level level, size_t workspace_needed);
// The same for op B (weights, Dn, Dv, mode).
mla_status validate_decompressed(const mla_decompressed_args* args, const backend_limits& limits,
                                 check_level level, size_t workspace_needed);

// Contents of cu_seqlens_q, seqlens_k and block_table, for backends whose
// memory is host memory (the cpu plugin).  Call after the full check.
mla_status validate_absorbed_indices_host(const mla_absorbed_args* args);
mla_status validate_decompressed_indices_host(const mla_decompressed_args* args);

mla_status validate_merge(const mla_merge_args* args, const backend_limits& limits);

// Checks desc (NULL, struct_size, reserved fields, num_threads, flags
// within `supported_flags`, parallel_for) and reads it into `cfg`.
mla_status read_context_desc(const mla_context_desc* desc, uint32_t supported_flags, context_config& cfg);

// Checks probe's result argument: not NULL, struct_size large enough.
mla_status validate_probe_result(const mla_probe_result* r);

// Bytes per element of f32/f16/bf16 (0 for others).
int dtype_size(int32_t dtype);

}  // namespace mla
