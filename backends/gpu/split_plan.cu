// The plan step of op A, on the device (FlashMLA's "metadata" idea): read
// cu_seqlens_q / seqlens_k / block_table where they live, check them, and
// split the KV work of all sequences into num_parts balanced runs, one per
// CTA column, so that every layer of a step reuses the same schedule.
//
//   check_sequences  one block per sequence: index checks, seq_plan[b]
//   partition_work   one thread: the greedy walk over sequences (O(B + parts))
#include "kernels.hpp"

namespace mla_gpu {
namespace {

// Tiles a piece of work costs beyond its KV tiles (Q load, output, combine).
constexpr int kPieceOverheadTiles = 4;

__global__ void check_sequences(absorbed_params p) {
  for (int b = blockIdx.x; b < p.batch; b += gridDim.x) {
    const int64_t total_q = p.total_q;
    const int64_t cu_lo = p.cu_seqlens_q[b];
    const int64_t cu_hi = p.cu_seqlens_q[b + 1];
    const int s_k = p.seqlens_k[b];
    // A sequence is well-formed when its query range is ordered, inside
    // [0, total_q], no longer than max_seqlen_q, and its keys fit the table.
    bool ok = cu_lo >= 0 && cu_lo <= cu_hi && cu_hi <= total_q && cu_hi - cu_lo <= p.max_seqlen_q && s_k >= 0;
    const int64_t pages = ok ? ((int64_t)s_k + p.page_size - 1) / p.page_size : 0;
    ok = ok && pages <= p.block_table_stride;
    bool bad_page = false;
    if (ok) {
      const int32_t* row = p.block_table + (int64_t)b * p.block_table_stride;
      for (int64_t i = threadIdx.x; i < pages; i += blockDim.x) {
        const int32_t page = row[i];
        bad_page |= page < 0 || page >= p.num_pages;
      }
    }
    ok = !__syncthreads_or(bad_page) && ok;
    if (threadIdx.x == 0) {
      // Non-monotone or misanchored cu_seqlens_q makes every range suspect.
      if ((b == 0 && cu_lo != 0) || (b == p.batch - 1 && cu_hi != total_q) || cu_hi < cu_lo)
        atomicOr(p.plan.status, 1);
      const int64_t lo = cu_lo < 0 ? 0 : (cu_lo > total_q ? total_q : cu_lo);
      int64_t hi = cu_hi < lo ? lo : (cu_hi > total_q ? total_q : cu_hi);
      seq_plan s;
      s.q_begin = (int)lo;
      s.s_q = (int)(hi - lo);
      s.s_k = ok ? s_k : 0;
      s.n_blocks = ok ? (s_k + p.tile.block_n - 1) / p.tile.block_n : 0;
      s.valid = ok ? 1 : 0;
      s.slot_base = -1;
      s.pieces = 0;
      s.reserved = 0;
      p.plan.seqs[b] = s;
    }
  }
}

__global__ void partition_work(absorbed_params p) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  seq_plan* seqs = p.plan.seqs;
  if (p.plan.status[0] != 0) {
    for (int b = 0; b < p.batch; ++b) {
      seqs[b].valid = 0;
      seqs[b].n_blocks = 0;
    }
  }
  int64_t total = 0;
  for (int b = 0; b < p.batch; ++b) total += seqs[b].n_blocks + kPieceOverheadTiles;
  // Each part pays the overhead of its own first piece on top of its share
  // (splitting a sequence adds a piece), so it can always take a tile.
  const int64_t per_part = (total + p.num_parts - 1) / p.num_parts + kPieceOverheadTiles;

  int b = 0, n = 0;
  for (int part = 0; part < p.num_parts; ++part) {
    part_plan pp;
    pp.b0 = b;
    pp.n0 = n;
    pp.first_piece = b < p.batch ? seqs[b].pieces : 0;
    pp.reserved[0] = pp.reserved[1] = pp.reserved[2] = 0;
    const bool last = part == p.num_parts - 1;
    int64_t room = per_part;
    while (b < p.batch) {
      const int left = seqs[b].n_blocks - n;
      const int64_t cost = left + kPieceOverheadTiles;
      if (last || cost <= room) {
        room -= cost;
        seqs[b].pieces += 1;
        ++b;
        n = 0;
        continue;
      }
      const int64_t take = room - kPieceOverheadTiles;
      if (take >= 1) {  // take < left here, so the sequence is split
        seqs[b].pieces += 1;
        n += (int)take;
      }
      break;
    }
    pp.b1 = b;
    pp.n1 = n;
    p.plan.parts[part] = pp;
  }
  int slot = 0;
  for (int s = 0; s < p.batch; ++s) {
    if (seqs[s].pieces > 1) {
      seqs[s].slot_base = slot;
      slot += seqs[s].pieces;
    }
  }
  p.plan.status[1] = slot;  // slots used (<= num_slots by construction)
}

}  // namespace

cudaError_t launch_split_plan(const absorbed_params& p, cudaStream_t stream) {
  if (p.batch == 0) return cudaSuccess;
  cudaError_t e = cudaMemsetAsync(p.plan.status, 0, 4 * sizeof(int), stream);
  if (e != cudaSuccess) return e;
  const int grid = p.batch < 4096 ? p.batch : 4096;
  check_sequences<<<grid, 128, 0, stream>>>(p);
  partition_work<<<1, 64, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace mla_gpu
