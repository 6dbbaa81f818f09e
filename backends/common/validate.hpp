// The one host-side validator shared by every backend.  Backends only run
// what it accepted.  Messages name the argument: "absorbed_args.kv.page_size".
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>

namespace mla {

// What a backend accepts; filled from its capabilities.
struct backend_limits {
  uint32_t q_dtypes = 0;
  uint32_t cache_dtypes = 0;
  uint32_t out_dtypes = 0;
  int32_t max_heads = 0;
  int32_t max_latent_dim = 0;
  int32_t max_rope_dim = 0;
  int32_t latent_dim_multiple = 1;
  int32_t max_page_size = 0;
};

enum class check_level {
  shape,  // workspace-size query: scalars only, data pointers may be NULL
  full    // plan / run: every pointer, dtype, stride and the workspace
};

// Scalars, tensors and cache description of op A.  `workspace_needed` is
// checked against args->workspace at check_level::full.
mla_status validate_absorbed(const mla_absorbed_args* args, const backend_limits& limits,
                             check_level level, size_t workspace_needed);

// Contents of cu_seqlens_q, seqlens_k and block_table, for backends whose
// memory is host memory (the cpu plugin).  Call after validate_absorbed.
mla_status validate_absorbed_indices_host(const mla_absorbed_args* args);

mla_status validate_merge(const mla_merge_args* args, const backend_limits& limits);

// Checks desc->struct_size and reserved fields (NULL desc is invalid).
mla_status validate_context_desc(const mla_context_desc* desc);

// Checks probe's result argument: not NULL, struct_size large enough.
mla_status validate_probe_result(const mla_probe_result* r);

// Bytes per element of f32/f16/bf16 (0 for others).
int dtype_size(int32_t dtype);

}  // namespace mla
