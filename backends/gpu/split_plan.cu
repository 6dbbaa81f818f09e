// SPDX-License-Identifier: MIT
// The plan step of op A, on the device (FlashMLA's "metadata" idea): read
// cu_seqlens_q / seqlens_k / block_table where they live, check them, cut
// the KV work of every sequence into pieces and hand each CTA column a
// contiguous, balanced run of pieces, so that every layer of a step reuses
// the same schedule.
//
//   check_sequences  one block per sequence: index checks, seq_plan[b]
//   partition_work   one thread: pieces and parts (O(B + parts), or
//                    O(B * kInvariantMaxPieces) for the batch-invariant plan)
//
// Default plan: the greedy walk cuts sequences where a part's share of the
// whole batch's tiles ends (balanced, but a sequence's split points depend
// on the other sequences).  Batch-invariant plan: each sequence is cut by
// its own length alone, and parts take whole pieces.
#include "kernels.hpp"
#include "sequence_check.cuh"

namespace mla_gpu {
namespace {

// Tiles a piece of work costs beyond its KV tiles (Q load, output, combine).
constexpr int kPieceOverheadTiles = 4;

__global__ void check_sequences(absorbed_params p) {
  for (int b = blockIdx.x; b < p.batch; b += gridDim.x) {
    const sequence_check c = check_sequence(p, b);
    if (threadIdx.x == 0) {
      if (c.cu_bad) atomicOr(p.plan.status, 1);
      seq_plan s;
      s.q_begin = (int)c.lo;
      s.s_q = (int)(c.hi - c.lo);
      s.s_k = c.ok ? c.s_k : 0;
      s.n_blocks = c.ok ? (c.s_k + p.tile.block_n - 1) / p.tile.block_n : 0;
      s.valid = c.ok ? 1 : 0;
      s.slot_base = -1;
      s.pieces = 0;
      s.reserved = 0;
      p.plan.seqs[b] = s;
    }
  }
}

// Pieces of sequence s in the batch-invariant plan.
__device__ int invariant_pieces(const seq_plan& s) {
  if (s.n_blocks <= 0) return 1;
  const int n = (s.n_blocks + kInvariantMinPieceTiles - 1) / kInvariantMinPieceTiles;
  return n < kInvariantMaxPieces ? n : kInvariantMaxPieces;
}

// Default: the greedy walk over the batch's tiles (see the file comment).
__device__ void cut_greedy(const absorbed_params& p, int* emitted) {
  seq_plan* seqs = p.plan.seqs;
  int64_t total = 0;
  for (int b = 0; b < p.batch; ++b) total += seqs[b].n_blocks + kPieceOverheadTiles;
  // Each part pays the overhead of its own first piece on top of its share
  // (splitting a sequence adds a piece), so it can always take a tile.
  const int64_t per_part = (total + p.num_parts - 1) / p.num_parts + kPieceOverheadTiles;
  int n_pieces = 0, b = 0, n = 0;
  for (int part = 0; part < p.num_parts; ++part) {
    p.plan.parts[part].first_piece = n_pieces;
    const bool last = part == p.num_parts - 1;
    int64_t room = per_part;
    while (b < p.batch) {
      const int left = seqs[b].n_blocks - n;
      const int64_t cost = left + kPieceOverheadTiles;
      if (last || cost <= room) {
        room -= cost;
        p.plan.pieces[n_pieces++] = piece_plan{b, n, seqs[b].n_blocks, -1};
        seqs[b].pieces += 1;
        ++b;
        n = 0;
        continue;
      }
      const int64_t take = room - kPieceOverheadTiles;
      if (take >= 1) {  // take < left here, so the sequence is split
        p.plan.pieces[n_pieces++] = piece_plan{b, n, n + (int)take, -1};
        seqs[b].pieces += 1;
        n += (int)take;
      }
      break;
    }
    p.plan.parts[part].end_piece = n_pieces;
  }
  *emitted = n_pieces;
}

// Batch-invariant: each sequence's pieces from its own length, then parts
// of whole pieces balanced over the batch.
__device__ void cut_invariant(const absorbed_params& p, int* emitted) {
  seq_plan* seqs = p.plan.seqs;
  int n_pieces = 0;
  int64_t total = 0;
  for (int b = 0; b < p.batch; ++b) {
    const int n = seqs[b].n_blocks, pieces = invariant_pieces(seqs[b]);
    for (int j = 0; j < pieces; ++j)
      p.plan.pieces[n_pieces++] = piece_plan{b, (int)((int64_t)j * n / pieces), (int)((int64_t)(j + 1) * n / pieces), -1};
    seqs[b].pieces = pieces;
    total += n + (int64_t)pieces * kPieceOverheadTiles;
  }
  // A piece goes to the part whose share of the total cost holds its
  // midpoint: balanced, and no leftover for the last part (a greedy cut of
  // whole pieces left it ~100 pieces on D1; NOTES.md v20).
  int k = 0;
  int64_t done = 0;
  for (int part = 0; part < p.num_parts; ++part) {
    p.plan.parts[part].first_piece = k;
    const int64_t end = (int64_t)(part + 1) * total / p.num_parts;
    while (k < n_pieces) {
      const piece_plan& piece = p.plan.pieces[k];
      const int64_t cost = piece.tile_end - piece.tile_begin + kPieceOverheadTiles;
      if (part != p.num_parts - 1 && done + cost / 2 >= end) break;
      done += cost;
      ++k;
    }
    p.plan.parts[part].end_piece = k;
  }
  *emitted = n_pieces;
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
  int n_pieces = 0;
  if (p.batch_invariant) cut_invariant(p, &n_pieces);
  else cut_greedy(p, &n_pieces);
  // Slots of split sequences, then each piece's: a sequence's pieces are
  // consecutive and in order, and the combine merges them in that order.
  int slot = 0;
  for (int b = 0; b < p.batch; ++b) {
    if (seqs[b].pieces > 1) {
      seqs[b].slot_base = p.batch_invariant ? b * kInvariantMaxPieces : slot;
      slot += seqs[b].pieces;
    }
  }
  for (int k = 0, j = 0; k < n_pieces; ++k) {
    piece_plan& piece = p.plan.pieces[k];
    j = k > 0 && p.plan.pieces[k - 1].b == piece.b ? j + 1 : 0;
    piece.slot = seqs[piece.b].pieces > 1 ? seqs[piece.b].slot_base + j : -1;
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
