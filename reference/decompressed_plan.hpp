// SPDX-License-Identifier: MIT
// The schedule of op B on the cpu and the workspace that holds it.
//
// Two kinds of work item, chosen per sequence by the mode (AUTO: by s_q
// against the break-even reported in caps):
//   decompressed form: (sequence, head, range of query rows).  It walks the
//     keys the range sees in chunks of kKeyChunk: gathers the chunk's latent
//     rows, decompresses K = [c W_UK^T | kR] and V = c W_UV^T for its head
//     (two GEMMs), then for every tile of kQueryTile rows: S = scale Q K^T,
//     online softmax, acc += P V (two GEMMs).  Only one chunk of K/V exists
//     at a time; partial results are merged by the online softmax (running
//     max and sum), so memory never grows with s_k.
//   absorbed form: (sequence, tile of query rows, all heads).  q~ = [W_UK^T
//     q_nope | q_rope], op A's kernel over the latent cache, out = W_UV o_A.
// Chunk and tile boundaries sit at multiples of kKeyChunk / kQueryTile from
// the start of the sequence, and every GEMM of a chunk covers the whole
// chunk, whatever the item: a row's bits depend on its sequence alone (not
// on the batch, the ranges or the thread count), which is what
// MLA_CONTEXT_BATCH_INVARIANT asks for.
//
// Workspace (256-byte aligned, every part 64-byte aligned):
//   [plan header][items x max_items][thread scratch x threads]
// The scratch depends on the dims, H, the mode, min(max_seqlen_q,
// kMaxRangeQueries) and the threads, never on the context length.
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <cstdint>

namespace mla_cpu {

constexpr int kKeyChunk = 512;          // keys decompressed at a time (GEMM M of the decompression)
constexpr int kQueryTile = 128;         // query rows of one score tile (GEMM M of Q K^T and P V)
constexpr int kMaxRangeQueries = 4096;  // query rows one decompressed-form item accumulates
constexpr int kAbsorbedPairs = 512;     // (query row, head) pairs of one absorbed-form item
constexpr int kMinItemsPerThread = 2;   // ranges are shortened until there are this many items per thread

struct decompressed_item {
  int32_t seq;
  int32_t head;  // >= 0: decompressed form of this head; -1: absorbed form, all heads
  int32_t q_begin, q_count;
};

struct decompressed_layout {
  int32_t range_queries = 0;  // most query rows of a decompressed-form item (0: the mode has none)
  int32_t absorbed_tile = 0;  // query rows of an absorbed-form item (0: the mode has none)
  int64_t max_items = 0;
  size_t items_offset = 0;
  size_t scratch_offset = 0, scratch_bytes = 0;  // per thread
  size_t total_bytes = 0;                        // SIZE_MAX when the batch description cannot be served
};

// The layout for this batch description, mode, thread count and break-even.
decompressed_layout decompressed_layout_for(const mla_decompressed_args& a, int threads, int32_t break_even);

// Does sequence b (s_q queries) take the decompressed form?
bool takes_decompressed_form(int32_t mode, int32_t s_q, int32_t break_even);

// Pointers into one thread's scratch (floats).
struct decompressed_scratch {
  // decompressed form
  float* w;    // [Dn + Dv][Dl] the head's weights as f32 (when not usable in place)
  float* lat;  // [kKeyChunk][Dl] the chunk's latent rows
  float* kv;   // [kKeyChunk][Dn + Dr + Dv] k = [k_nope | kR], then v
  float* q;    // [kQueryTile][Dn + Dr] a query tile as f32 (when not usable in place)
  float* s;    // [kQueryTile][kKeyChunk] scores, then softmax weights
  float* acc;  // [range_queries][Dv]
  float* m;    // [range_queries] running max
  float* l;    // [range_queries] running sum
  // absorbed form (P = absorbed_tile * H pairs, D = Dl + Dr)
  float* qn;   // [P][Dn + Dr] the queries as f32
  float* qa;   // [P][D] q~
  float* oa;   // [P][Dl] op A's output
  float* la;   // [P] op A's lse
  float* wa;   // [max(Dn, Dv)][Dl] one head's W_UK or W_UV as f32 (when not usable in place)
  float* po;   // [absorbed_tile][Dv] one head's projected outputs
  float* opa;  // op A kernel scratch (split_plan.hpp thread_scratch), carved by the kernel
};
decompressed_scratch decompressed_scratch_for(const mla_decompressed_args& a, const decompressed_layout& L,
                                              void* workspace, int thread);

struct decompressed_plan_header {
  uint64_t magic;
  const void* ctx;
  int32_t threads;
  uint32_t flags;
  int32_t mode, break_even;
  int32_t batch, num_heads, latent_dim, rope_dim, nope_dim, v_dim, max_seqlen_q, causal, page_size;
  int64_t total_q, block_table_stride;
  const void* cu_seqlens_q;
  const void* seqlens_k;
  uint64_t index_digest;  // of the contents of cu_seqlens_q and seqlens_k
  int64_t num_items;
  decompressed_layout layout;
};

// Writes the schedule into a->workspace.  Arguments and indices already valid.
void build_decompressed_plan(const mla_decompressed_args& a, const void* ctx, int threads, uint32_t flags,
                             int32_t break_even);

// nullptr when a->workspace holds the plan of this call; else writes what
// differs into `why` and returns it.
const char* decompressed_plan_mismatch(const mla_decompressed_args& a, const void* ctx, int threads, uint32_t flags,
                                       int32_t break_even, char* why, size_t why_size);

inline const decompressed_plan_header& decompressed_plan_of(const mla_decompressed_args& a) {
  return *static_cast<const decompressed_plan_header*>(a.workspace);
}
inline const decompressed_item* decompressed_items_of(const mla_decompressed_args& a) {
  return reinterpret_cast<const decompressed_item*>(static_cast<const char*>(a.workspace) +
                                                    decompressed_plan_of(a).layout.items_offset);
}

// Keys seen by query row `row` of a sequence (bottom-right aligned when causal).
inline int32_t visible_keys_b(int32_t causal, int32_t s_q, int32_t s_k, int32_t row) {
  if (!causal) return s_k;
  const int64_t end = (int64_t)s_k - s_q + row + 1;
  return (int32_t)(end < 0 ? 0 : end > s_k ? s_k : end);
}

}  // namespace mla_cpu
