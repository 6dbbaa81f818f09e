// SPDX-License-Identifier: MIT
// Launchers of the shared GPU kernels (each defined beside its kernel) and
// the interface a vendor's fast path implements (see README.md).
// All launchers enqueue on `stream`, allocate nothing, never synchronize,
// and return the launch error (cudaSuccess when there is nothing to do).
#pragma once
#include "absorbed_params.hpp"
#include "decompressed_params.hpp"
#include "vendor.h"

namespace mla_gpu {

// Largest dims the SIMT kernel keeps in registers.
constexpr int kSimtMaxLatent = 1024;
constexpr int kSimtMaxRope = 128;

// Op C arguments as the device sees them (strides in elements).
struct merge_params {
  int num_parts, head_dim, num_heads;
  int64_t num_rows;
  const void* parts_out;
  int parts_out_dtype;
  int64_t parts_out_stride[4];
  const float* parts_lse;
  int64_t parts_lse_stride[3];
  void* out;
  int out_dtype;
  int64_t out_stride[3];
  float* lse;  // may be NULL
  int64_t lse_stride[2];
};

// split_plan.cu: index checks + schedule into p.plan (the workspace).
cudaError_t launch_split_plan(const absorbed_params& p, cudaStream_t stream);
// absorbed_simt.cu: op A for any dtype / stride / page size.
cudaError_t launch_absorbed_simt(const absorbed_params& p, cudaStream_t stream);
// combine.cu: merge split partials into out / lse (after either op-A kernel).
cudaError_t launch_combine(const absorbed_params& p, cudaStream_t stream);
// merge_states.cu: op C.
cudaError_t launch_merge_states(const merge_params& p, cudaStream_t stream);

// Op B (decompressed_plan.cu, decompressed_kernels.cu; the schedule is in
// decompressed_params.hpp).
cudaError_t launch_opb_plan(const opb_params& p, cudaStream_t stream);
cudaError_t launch_opb_absorbed_pass_plan(const opb_params& p, const absorbed_params& ap, int pass,
                                          cudaStream_t stream);
cudaError_t launch_opb_gather(const opb_params& p, const opb_round& r, cudaStream_t stream);
cudaError_t launch_opb_expand_simt(const opb_params& p, const opb_round& r, cudaStream_t stream);
cudaError_t launch_opb_attend_simt(const opb_params& p, const opb_round& r, cudaStream_t stream);
cudaError_t launch_opb_finalize(const opb_params& p, int row0, cudaStream_t stream);
cudaError_t launch_opb_convert_weights(const opb_params& p, void* dst, cudaStream_t stream);
cudaError_t launch_opb_project_q(const opb_params& p, int pass, cudaStream_t stream);
cudaError_t launch_opb_project_out(const opb_params& p, int pass, cudaStream_t stream);

// ---- implemented by each vendor backend (backends/cuda, backends/hip) ----

// What the shared glue knows of the device a context runs on, read once at
// context creation by the vendor (read_device_info), never re-read.
struct device_info {
  int ordinal = 0;
  int multiprocessors = 1;      // SMs / CUs
  int warp_size = 32;           // from the runtime: 32 on NVIDIA and RDNA, 64 on CDNA
  size_t smem_per_block = 0;    // bytes one block may use (CUDA: the opt-in maximum)
  int cc_major = 0, cc_minor = 0;  // CUDA compute capability (0 on HIP)
  char arch[32] = {0};          // "sm_90" / "gfx90a"
  char name[128] = {0};         // caps.device_name
  int kernel_level = 0;         // the fastest kernel variant allowed (index into fast_path_kernels, from the end)
  bool batch_invariant = false; // MLA_CONTEXT_BATCH_INVARIANT: schedule from each sequence alone
};

// Fills everything but kernel_level / batch_invariant; a runtime error as is.
cudaError_t read_device_info(int ordinal, device_info& dev);

// The kernel variants this device can run, fastest first, comma-separated
// (caps.kernels), e.g. "wgmma,mma,simt".
const char* fast_path_kernels(const device_info& dev);

// Sets dev.kernel_level from a name of fast_path_kernels (NULL: the
// vendor's environment override, else the fastest); false for another name.
bool select_kernel(device_info& dev, const char* name);

// Tile shape the vendor's fast path wants for this batch description; the
// plan and the SIMT kernel follow it, so it may depend only on the device,
// the rows per sequence (max_seqlen_q * H), the number of sequences and the
// dims -- and, with dev.batch_invariant, on the device and dims alone.
// rows must be a multiple of 16 and <= 64; block_n >= 1.
tile_config fast_path_tile(const device_info& dev, int64_t rows_per_seq, int batch, int latent_dim, int rope_dim);

// CTA columns (num_parts) of the split plan for a grid of m_blocks row tiles.
int fast_path_parts(const device_info& dev, const tile_config& tile, int m_blocks);

// Enqueues op A on the vendor's tensor cores when p is eligible (dtypes,
// dims, alignment, dev.kernel_level) and returns true with *err set to the
// launch status; returns false, enqueuing nothing, when p must go to the
// SIMT kernel.  The combine kernel runs afterwards either way.
bool launch_fast_path(const device_info& dev, const absorbed_params& p, cudaStream_t stream, cudaError_t* err);

// Op B: true when the vendor's tensor-core kernels take this call's
// decompressed form (dims, compute dtype, dev.kernel_level, shared memory);
// p's weights need not be usable as given (the glue converts them).
bool opb_fast_path(const device_info& dev, const opb_params& p);
// Expansion and attention of one round on the vendor's tensor cores (only
// when opb_fast_path said yes).
cudaError_t launch_opb_expand_fast(const device_info& dev, const opb_params& p, const opb_round& r,
                                   cudaStream_t stream);
cudaError_t launch_opb_attend_fast(const device_info& dev, const opb_params& p, const opb_round& r,
                                   cudaStream_t stream);

}  // namespace mla_gpu
