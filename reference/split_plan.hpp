// SPDX-License-Identifier: MIT
// The schedule of op A on the cpu and the workspace that holds it.
//
// Work item = (sequence, tile of query rows, range of keys).  Each item reads
// its cache rows once and uses every row for all heads and all query rows of
// its tile.  Long sequences are split over keys so that every thread has work
// even for one sequence (B = 1); split items leave a partial (o, lse) in the
// workspace, and the thread that finishes a tile's last split merges them by
// LSE (a per-tile counter, no barrier between the two phases).  Nothing here depends on
// the context length: the item count is bounded by tiles + splits_target.
//
// Workspace (256-byte aligned, every part 64-byte aligned):
//   [plan_header][work_item x max_items][split_group x max_groups]
//   [split counters x max_groups][thread scratch x threads][partial slots x max_split_items]
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <cstdint>

namespace mla_cpu {

constexpr int kRowBlock = 32;          // cache rows converted and scored together
constexpr int kPairsPerTile = 1024;    // (query row, head) pairs one item keeps in flight
constexpr int kItemsPerThread = 4;     // split target, for load balance
constexpr int kMinSplitRows = 128;     // smallest key range worth a split
// MLA_CONTEXT_BATCH_INVARIANT: split points depend on the sequence alone.
// Sequences of at most kInvariantSplitQueries queries are split over keys
// at multiples of max(kInvariantChunk, s_k / kInvariantMaxSplits) (rounded
// to row blocks); longer ones (prefill: tiles enough) are not split.
constexpr int kInvariantChunk = 2048;
constexpr int kInvariantMaxSplits = 8;
constexpr int kInvariantSplitQueries = 8;

struct workspace_layout {
  int32_t q_tile = 1;               // query rows per work item
  int64_t max_items = 0;
  int64_t max_groups = 0;           // tiles split over keys
  int64_t max_split_items = 0;      // partial slots
  size_t items_offset = 0, groups_offset = 0, counters_offset = 0;
  size_t scratch_offset = 0, scratch_bytes = 0;  // per thread
  size_t partials_offset = 0, slot_floats = 0;   // per split item: o [q_tile*H*Dl] then lse [q_tile*H]
  size_t total_bytes = 0;
};

// Layout for this batch description, thread count and context flags
// (scalars only).
workspace_layout compute_layout(const mla_absorbed_args& a, int threads, uint32_t flags);

struct work_item {
  int32_t seq, q_begin, q_count;  // query rows [q_begin, q_begin+q_count) of the sequence
  int32_t key_begin, key_end;     // keys [key_begin, key_end)
  int32_t slot;                   // partial slot, or -1: write out/lse directly
  int32_t group;                  // split_group of the slot, or -1
};

struct split_group {  // one query tile split over keys into num_slots items
  int32_t seq, q_begin, q_count, first_slot, num_slots;
};

// Per-thread scratch, carved from the workspace (sizes in floats).
struct thread_scratch {
  float* q;       // [q_tile][H][Dl+Dr], scaled, f32
  float* acc;     // [q_tile][H][Dl]
  float* row_max; // [q_tile][H]
  float* row_sum; // [q_tile][H]
  float* rows;    // [kRowBlock][Dl+Dr] converted cache rows
  float* scores;  // [2][kRowBlock]: scores of two heads
};
thread_scratch scratch_for_thread(const mla_absorbed_args& a, const workspace_layout& L, void* workspace,
                                  int thread);

struct plan_header {
  uint64_t magic;
  const void* ctx;
  int32_t threads;
  uint32_t flags;
  int32_t batch, num_heads, latent_dim, rope_dim, max_seqlen_q, causal, page_size;
  int64_t total_q, block_table_stride;
  const void* cu_seqlens_q;
  const void* seqlens_k;
  uint64_t index_digest;  // of the contents of cu_seqlens_q and seqlens_k
  int64_t num_items, num_groups;
  workspace_layout layout;
};

// Writes the schedule into a->workspace.  Arguments and indices already valid.
void build_plan(const mla_absorbed_args& a, const void* ctx, int threads, uint32_t flags);

// nullptr when a->workspace holds the plan of this call; otherwise writes
// what differs into `why` and returns it.
const char* plan_mismatch(const mla_absorbed_args& a, const void* ctx, int threads, uint32_t flags, char* why,
                          size_t why_size);

inline const plan_header& plan_of(const mla_absorbed_args& a) {
  return *static_cast<const plan_header*>(a.workspace);
}
inline const work_item* items_of(const mla_absorbed_args& a) {
  return reinterpret_cast<const work_item*>(static_cast<const char*>(a.workspace) + plan_of(a).layout.items_offset);
}
inline const split_group* groups_of(const mla_absorbed_args& a) {
  return reinterpret_cast<const split_group*>(static_cast<const char*>(a.workspace) +
                                              plan_of(a).layout.groups_offset);
}
// Finished splits per group; absorbed_run zeroes them before the items run.
inline int32_t* split_counters_of(const mla_absorbed_args& a) {
  return reinterpret_cast<int32_t*>(static_cast<char*>(a.workspace) + plan_of(a).layout.counters_offset);
}
inline float* partial_slot(const mla_absorbed_args& a, int32_t slot) {
  const workspace_layout& L = plan_of(a).layout;
  return reinterpret_cast<float*>(static_cast<char*>(a.workspace) + L.partials_offset) + (size_t)slot * L.slot_floats;
}

}  // namespace mla_cpu
