// SPDX-License-Identifier: MIT
// The one plan-identity rule of every plugin (docs/abi.md, section 9): a run
// needs a plan made on the same context, into the same workspace, for the
// same batch description.  The context remembers the last kCapacity
// workspaces it planned, each with the batch description it was planned
// for, so a host may plan and run any number of workspaces in any order
// (double buffering, several batches in flight).  The contents of the index
// arrays are not part of the description: GPU plugins cannot read them on
// the host; changing them means planning again (the cpu plugin also checks).
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <cstdint>

namespace mla {

// What a plan depends on: scalars, index-array pointers, cache geometry.
struct batch_key {
  int32_t op = -1;  // mla_op
  int32_t batch = 0, num_heads = 0, latent_dim = 0, rope_dim = 0, nope_dim = 0, v_dim = 0;
  int64_t total_q = 0;
  int32_t max_seqlen_q = 0, causal = 0, mode = 0, page_size = 0;
  int64_t num_pages = 0, block_table_stride = 0;
  const void* cu_seqlens_q = nullptr;
  const void* seqlens_k = nullptr;
  const void* block_table = nullptr;
};
batch_key key_of(const mla_absorbed_args& a);
batch_key key_of(const mla_decompressed_args& a);

class plan_registry {
 public:
  static constexpr int kCapacity = 64;

  // Remembers that `workspace` holds the plan of `key` (replacing what it
  // held, or the least recently planned workspace when all slots are used).
  void record(const void* workspace, const batch_key& key);
  // MLA_OK when `workspace` was planned for `key`; else MLA_ERR_NOT_PLANNED
  // with a message naming the first field that differs (of the args struct
  // `op`) and the entry point to call (`plan`).
  mla_status check(const void* workspace, const batch_key& key, const char* op, const char* plan) const;

 private:
  struct entry {
    const void* workspace = nullptr;
    batch_key key;
    uint64_t planned_at = 0;  // 0: free
  };
  entry entries_[kCapacity];
  uint64_t clock_ = 0;
};

}  // namespace mla
