// SPDX-License-Identifier: MIT
// The plan's index check of one sequence, shared by op A's plan
// (split_plan.cu) and op B's (decompressed_plan.cu): their parameters name
// the index fields alike.  Every thread of the block calls it for the same
// sequence; it ends in a block-wide vote over the block-table entries.
#pragma once
#include <stdint.h>

namespace mla_gpu {

struct sequence_check {
  int64_t lo, hi;  // the sequence's query rows, clamped into [0, total_q] and ordered
  int s_k;         // seqlens_k[b] as read
  bool ok;         // the sequence is well-formed (below)
  bool cu_bad;     // cu_seqlens_q is non-monotone or misanchored here: every range is suspect
};

template <class Params>
__device__ sequence_check check_sequence(const Params& p, int b) {
  sequence_check c;
  const int64_t total_q = p.total_q;
  const int64_t cu_lo = p.cu_seqlens_q[b];
  const int64_t cu_hi = p.cu_seqlens_q[b + 1];
  c.s_k = p.seqlens_k[b];
  // A sequence is well-formed when its query range is ordered, inside
  // [0, total_q], no longer than max_seqlen_q, and its keys fit the table.
  bool ok = cu_lo >= 0 && cu_lo <= cu_hi && cu_hi <= total_q && cu_hi - cu_lo <= p.max_seqlen_q && c.s_k >= 0;
  const int64_t pages = ok ? ((int64_t)c.s_k + p.page_size - 1) / p.page_size : 0;
  ok = ok && pages <= p.block_table_stride;
  bool bad_page = false;
  if (ok) {
    const int32_t* row = p.block_table + (int64_t)b * p.block_table_stride;
    for (int64_t i = threadIdx.x; i < pages; i += blockDim.x) {
      const int32_t page = row[i];
      bad_page |= page < 0 || page >= p.num_pages;
    }
  }
  c.ok = !__syncthreads_or(bad_page) && ok;
  c.cu_bad = (b == 0 && cu_lo != 0) || (b == p.batch - 1 && cu_hi != total_q) || cu_hi < cu_lo;
  c.lo = cu_lo < 0 ? 0 : (cu_lo > total_q ? total_q : cu_lo);
  c.hi = cu_hi < c.lo ? c.lo : (cu_hi > total_q ? total_q : cu_hi);
  return c;
}

}  // namespace mla_gpu
