// SPDX-License-Identifier: MIT
// Op B on a GPU, host side: the schedule of a call (from its batch
// description and the device only), its workspace, the plan and the run.
// Nothing here allocates or synchronizes; everything is enqueued on the
// call's stream (graph-capturable).
#pragma once
#include <mla/mla_plugin.h>

#include "kernels.hpp"

namespace mla_gpu {

struct opb_schedule {
  int compute_dtype = dtype_f32, esize = 4;
  bool decompressed = false, absorbed = false;  // forms the mode may take
  int chunk_keys = kOpbMinChunk, n_chunks = 0;  // keys per chunk, chunks of the longest possible sequence
  int group_seqs = 1, n_groups = 0;             // sequences per round, groups
  int pass_rows = 1, n_passes = 0;              // decompressed-form passes over the query rows
  int abs_rows = 0, abs_passes = 0;             // absorbed passes (a bound)
  int qa_dtype = dtype_f32;                     // of q~ (op A's q)
  tile_config a_tile;                           // op A's tile in an absorbed pass
  int a_m_blocks = 0, a_parts = 1;
  opb_layout layout;
};

// The schedule and workspace of a batch description (args passed the shape
// check; data pointers may be NULL).  layout.total is the workspace size.
opb_schedule opb_schedule_for(const device_info& dev, const mla_decompressed_args& a);

// Enqueues the plan (index checks, forms, absorbed packing) into a.workspace.
cudaError_t opb_plan(const device_info& dev, const mla_decompressed_args& a, cudaStream_t stream);

// Enqueues the run.  Arguments fully validated, the workspace planned.
cudaError_t opb_run(const device_info& dev, const mla_decompressed_args& a, cudaStream_t stream);

}  // namespace mla_gpu
