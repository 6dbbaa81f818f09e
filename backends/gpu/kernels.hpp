// Launchers of the shared GPU kernels (each defined beside its kernel) and
// the interface a vendor's fast path implements (see README.md).
// All launchers enqueue on `stream`, allocate nothing, never synchronize,
// and return the launch error (cudaSuccess when there is nothing to do).
#pragma once
#include "absorbed_params.hpp"
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

// ---- implemented by each vendor backend (backends/cuda, backends/hip) ----

// What the shared glue knows of the device a context runs on.
struct device_info {
  int ordinal = 0;
  int multiprocessors = 1;
  int cc_major = 0, cc_minor = 0;  // CUDA compute capability (HIP: gcnArch major/minor)
  size_t smem_per_block_optin = 0; // bytes
  char name[128] = {0};
};

// Tile shape the vendor's fast path wants for this batch description; the
// plan and the SIMT kernel follow it, so it may depend only on the device,
// the rows per sequence (max_seqlen_q * H), the number of sequences and the
// dims.  rows must be a multiple of 16 and <= 64; block_n >= 1.
tile_config fast_path_tile(const device_info& dev, int64_t rows_per_seq, int batch, int latent_dim, int rope_dim);

// CTA columns (num_parts) of the split plan for a grid of m_blocks row tiles.
int fast_path_parts(const device_info& dev, const tile_config& tile, int m_blocks);

// Enqueues op A on the vendor's tensor cores when p is eligible (dtypes,
// dims, alignment) and returns true with *err set to the launch status;
// returns false, enqueuing nothing, when p must go to the SIMT kernel.  The
// combine kernel runs afterwards either way.
bool launch_fast_path(const device_info& dev, const absorbed_params& p, cudaStream_t stream, cudaError_t* err);

}  // namespace mla_gpu
