// SPDX-License-Identifier: MIT
// Device helpers every op-B kernel shares (the SIMT kernels here and the
// vendors' tensor-core kernels); the schedule's index math itself is in
// decompressed_schedule.hpp (host-tested).
#pragma once
#include <math.h>
#include <stdint.h>

#include "decompressed_params.hpp"
#include "decompressed_schedule.hpp"
#include "element.cuh"
#include "vendor.h"

namespace mla_gpu {

// What round (row0, chunk) covers of sequence s (decompressed_schedule.hpp).
__device__ __forceinline__ bool opb_round_span(const opb_params& p, const opb_seq& s, int row0, int chunk,
                                               opb_span& sp) {
  return opb_round_span(p.pass_rows, p.chunk_keys, p.causal, s, row0, chunk, sp);
}

// Element offset of the cache row of key t of sequence b; a page index
// outside [0, num_pages) (the table changed after the plan) gives -1.
__device__ __forceinline__ int64_t opb_cache_row(const opb_params& p, int b, int64_t t) {
  const int32_t page = p.block_table[(int64_t)b * p.block_table_stride + t / p.page_size];
  if (page < 0 || page >= p.num_pages) return -1;
  return (int64_t)page * p.page_stride + (t % p.page_size) * p.row_stride;
}

// Index of (pass-local row, head) in the running state.
__device__ __forceinline__ int64_t opb_state_pair(const opb_params& p, int64_t pass_row, int head) {
  return pass_row * p.heads + head;
}

// The first sequence of a round's group and the sequence of its slot.
__device__ __forceinline__ int opb_round_seq(const opb_params& p, const opb_round& r, int slot) {
  return r.group * p.group_seqs + slot;
}

// The sequence b of a round's group slot and what the round covers of it;
// false: the slot is past the batch or the round holds nothing of it.
__device__ __forceinline__ bool opb_slot_span(const opb_params& p, const opb_round& r, int slot, int& b, opb_seq& s,
                                              opb_span& sp) {
  b = opb_round_seq(p, r, slot);
  if (b >= p.batch) return false;
  s = p.seqs[b];
  return opb_round_span(p, s, r.row0, r.chunk, sp);
}

// The 64-key tiles of the round's chunk that query row i of s sees (a
// tile's last row sees the most); 0 when none.
__device__ __forceinline__ int opb_tiles_seen(const opb_params& p, const opb_seq& s, const opb_span& sp, int64_t i) {
  const int64_t kmax = min(opb_visible(p.causal, s.s_q, s.s_k, i), (int64_t)sp.key_hi);
  return kmax > sp.key_lo ? (int)((kmax - sp.key_lo + kOpbKeyTile - 1) / kOpbKeyTile) : 0;
}

}  // namespace mla_gpu
