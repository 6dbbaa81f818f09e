// SPDX-License-Identifier: MIT
// The plan step of op B, on the device: check every sequence's indices
// (as op A's plan does), pick its form (the mode; AUTO: s_q against the
// break-even), and pack the rows of absorbed-form sequences into absorbed
// passes.  Per absorbed pass, at run time: the op-A plan of that pass (one
// piece per sequence, never split, so no partials and no combine) and the
// owner of every row of the pass.
#include "decompressed_common.cuh"
#include "kernels.hpp"
#include "sequence_check.cuh"

namespace mla_gpu {
namespace {

__global__ void opb_check_sequences(opb_params p) {
  for (int b = blockIdx.x; b < p.batch; b += gridDim.x) {
    const sequence_check c = check_sequence(p, b);
    if (threadIdx.x == 0) {
      if (c.cu_bad) atomicOr(p.status, 1);
      opb_seq s;
      s.q_begin = (int)c.lo;
      s.s_q = (int)(c.hi - c.lo);
      s.s_k = c.ok ? c.s_k : 0;
      s.valid = c.ok ? 1 : 0;
      const bool decompressed = p.mode == opb_mode_force || (p.mode == opb_mode_auto && s.s_q >= p.break_even);
      s.form = decompressed ? opb_form_decompressed : opb_form_absorbed;
      s.abs_pass = -1;
      s.abs_row = 0;
      s.reserved = 0;
      p.seqs[b] = s;
    }
  }
}

// One thread: a bad cu_seqlens_q invalidates every sequence; then the
// absorbed-form rows are packed into passes (opb_pack_absorbed).
__global__ void opb_finish_plan(opb_params p) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  if (p.status[0] != 0) {
    for (int b = 0; b < p.batch; ++b) {
      p.seqs[b].valid = 0;
      p.seqs[b].s_k = 0;
    }
  }
  p.status[1] = opb_pack_absorbed(p.seqs, p.batch, p.abs_rows, p.abs_passes);
}

// Op A's plan for absorbed pass `pass` (one block): for each sequence, its
// item of this pass (if any) as a seq_plan over the pass's rows, with keys
// chosen so that op A's bottom-right causal alignment is the item's place
// in its sequence; one piece per sequence with rows in the pass (none for
// the others, so an empty pass -- AUTO launches a bound -- gives op A's
// CTAs nothing to walk); parts of whole pieces; and the owner of every row
// of the pass.
__global__ void opb_absorbed_pass_plan(opb_params p, absorbed_params ap, int pass) {
  for (int r = threadIdx.x; r < p.abs_rows; r += blockDim.x) p.owner[r] = -1;
  __syncthreads();
  for (int b = threadIdx.x; b < p.batch; b += blockDim.x) {
    const opb_seq s = p.seqs[b];
    seq_plan sp;
    sp.q_begin = 0;
    sp.s_q = 0;
    sp.s_k = 0;
    sp.n_blocks = 0;
    sp.valid = 1;
    sp.slot_base = -1;
    sp.pieces = 1;
    sp.reserved = 0;
    opb_item it;
    if (opb_absorbed_item(s, pass, p.abs_rows, p.causal, it)) {
      sp.q_begin = it.dst;
      sp.s_q = it.n;
      sp.s_k = it.keys;
      sp.n_blocks = (int)(((int64_t)it.keys + ap.tile.block_n - 1) / ap.tile.block_n);
      for (int i = 0; i < it.n; ++i) p.owner[it.dst + i] = b;
    }
    ap.plan.seqs[b] = sp;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int pieces = 0;
    for (int b = 0; b < p.batch; ++b)
      if (ap.plan.seqs[b].s_q > 0) ap.plan.pieces[pieces++] = piece_plan{b, 0, ap.plan.seqs[b].n_blocks, -1};
    for (int part = 0; part < ap.num_parts; ++part) {
      ap.plan.parts[part].first_piece = (int)((int64_t)part * pieces / ap.num_parts);
      ap.plan.parts[part].end_piece = (int)((int64_t)(part + 1) * pieces / ap.num_parts);
    }
    ap.plan.status[0] = 0;
  }
}

}  // namespace

cudaError_t launch_opb_plan(const opb_params& p, cudaStream_t stream) {
  if (p.batch == 0) return cudaSuccess;
  cudaError_t e = cudaMemsetAsync(p.status, 0, 4 * sizeof(int), stream);
  if (e != cudaSuccess) return e;
  const int grid = p.batch < 4096 ? p.batch : 4096;
  opb_check_sequences<<<grid, 128, 0, stream>>>(p);
  opb_finish_plan<<<1, 32, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_opb_absorbed_pass_plan(const opb_params& p, const absorbed_params& ap, int pass,
                                          cudaStream_t stream) {
  opb_absorbed_pass_plan<<<1, 256, 0, stream>>>(p, ap, pass);
  return cudaGetLastError();
}

}  // namespace mla_gpu
