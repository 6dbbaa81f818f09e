// SPDX-License-Identifier: MIT
// Op B on a GPU, host side (decompressed_host.hpp).  The round loop lives
// here: the host cannot read s_k (device memory, no synchronization), so it
// launches every round the batch description allows -- passes x groups x
// chunks of the longest sequence the block table can hold -- and a round
// with nothing to do exits on the device at once (docs/cuda.md, "Op B").
#include "decompressed_host.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>

#include "cache_params.hpp"

namespace mla_gpu {
namespace {

int rank_of(int dtype) { return dtype == dtype_bf16 ? 0 : dtype == dtype_f16 ? 1 : 2; }
// The less precise of two dtypes (bf16 < f16 < f32); anything else ranks as f32.
int least_precise(int a, int b) { return rank_of(a) <= rank_of(b) ? a : b; }
bool half_type(int dtype) { return dtype == dtype_bf16 || dtype == dtype_f16; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

// Keys of the longest sequence the block table can describe (the device
// checks that no sequence needs more pages than block_table_stride).
int64_t max_keys(const mla_paged_cache& kv) {
  if (kv.block_table_stride <= 0 || kv.page_size <= 0) return 0;
  if (kv.block_table_stride > INT32_MAX / kv.page_size) return INT32_MAX;
  return std::min<int64_t>(kv.block_table_stride * kv.page_size, INT32_MAX);
}

size_t take(size_t& at, size_t bytes) {
  const size_t here = at;
  at += align_up_256(bytes);
  return here;
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

// Test knobs (docs/cuda.md, "Op B on CUDA"): MLA_CUDA_OPB_CHUNK (keys per
// chunk, a multiple of 64), MLA_CUDA_OPB_GROUP (most sequences per round)
// and MLA_CUDA_OPB_PASS_ROWS (most query rows per pass) make small cases
// take the many-chunk, many-group and many-pass paths that only long
// prompts reach otherwise.  None changes a result's bits (the test checks
// that).  0 when unset or not a positive number; ignored in setuid processes.
int64_t knob(const char* name) {
  const char* v = secure_getenv(name);
  if (v == nullptr) return 0;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  return end != v && *end == 0 && n > 0 && n <= INT32_MAX ? n : 0;
}

// The tensor-core expansion reads weight rows directly when they are the
// compute dtype, rows of unit inner stride and 16-byte aligned.
bool weights_usable(const mla_tensor& w, int compute_dtype) {
  return w.dtype == compute_dtype && w.stride[2] == 1 && w.stride[1] % 8 == 0 && w.stride[0] % 8 == 0 &&
         aligned16(w.data);
}

opb_params params_of(const mla_decompressed_args& a, const opb_schedule& s) {
  opb_params p{};
  p.q = a.q.data;
  p.q_dtype = a.q.dtype;
  std::copy(a.q.stride, a.q.stride + 3, p.q_stride);
  p.w_uk = a.w_uk.data;
  p.w_uk_dtype = a.w_uk.dtype;
  std::copy(a.w_uk.stride, a.w_uk.stride + 3, p.w_uk_stride);
  p.w_uv = a.w_uv.data;
  p.w_uv_dtype = a.w_uv.dtype;
  std::copy(a.w_uv.stride, a.w_uv.stride + 3, p.w_uv_stride);
  p.out = a.out.data;
  p.out_dtype = a.out.dtype;
  std::copy(a.out.stride, a.out.stride + 3, p.out_stride);
  p.lse = static_cast<float*>(a.lse.data);
  std::copy(a.lse.stride, a.lse.stride + 2, p.lse_stride);
  copy_cache_params(p, a.kv);
  p.cu_seqlens_q = a.cu_seqlens_q;
  p.batch = a.batch;
  p.heads = a.num_heads;
  p.latent_dim = a.latent_dim;
  p.rope_dim = a.rope_dim;
  p.nope_dim = a.nope_dim;
  p.v_dim = a.v_dim;
  p.total_q = a.total_q;
  p.max_seqlen_q = a.max_seqlen_q;
  p.causal = a.causal;
  p.mode = a.mode;
  p.break_even = kOpbBreakEvenQ;
  p.scale = a.scale;
  p.compute_dtype = s.compute_dtype;
  p.chunk_keys = s.chunk_keys;
  p.group_seqs = s.group_seqs;
  p.pass_rows = s.pass_rows;
  p.abs_rows = s.abs_rows;
  p.abs_passes = s.abs_passes;
  p.wk = a.w_uk.data;
  p.wk_head_stride = a.w_uk.stride[0];
  p.wk_row_stride = a.w_uk.stride[1];
  p.wv = a.w_uv.data;
  p.wv_head_stride = a.w_uv.stride[0];
  p.wv_row_stride = a.w_uv.stride[1];
  char* ws = static_cast<char*>(a.workspace);
  const opb_layout& L = s.layout;
  auto at = [&](size_t off, bool present) -> char* { return present && ws ? ws + off : nullptr; };
  p.status = reinterpret_cast<int*>(at(L.status, true));
  p.seqs = reinterpret_cast<opb_seq*>(at(L.seqs, true));
  p.lat = at(L.lat, s.decompressed);
  p.k = at(L.k, s.decompressed);
  p.v = at(L.v, s.decompressed);
  p.state_o = reinterpret_cast<float*>(at(L.state_o, s.decompressed));
  p.state_ml = reinterpret_cast<float*>(at(L.state_ml, s.decompressed));
  const bool abs = s.abs_passes > 0;
  p.qa = at(L.qa, abs);
  p.qa_dtype = s.qa_dtype;
  p.oa = reinterpret_cast<float*>(at(L.oa, abs));
  p.la = reinterpret_cast<float*>(at(L.la, abs));
  p.owner = reinterpret_cast<int*>(at(L.owner, abs));
  return p;
}

// Op A's view of absorbed pass rows: q~ in, o_A and its lse out, the
// caller's cache, the pass's own plan (one piece per sequence, no partials).
absorbed_params absorbed_params_of(const device_info& dev, const mla_decompressed_args& a, const opb_schedule& s,
                                   const opb_params& p) {
  const int H = a.num_heads, Dl = a.latent_dim, D = a.latent_dim + a.rope_dim;
  absorbed_params ap{};
  ap.q = p.qa;
  ap.q_dtype = s.qa_dtype;
  ap.q_stride[0] = (int64_t)H * D;
  ap.q_stride[1] = D;
  ap.q_stride[2] = 1;
  ap.out = p.oa;
  ap.out_dtype = dtype_f32;
  ap.out_stride[0] = (int64_t)H * Dl;
  ap.out_stride[1] = Dl;
  ap.out_stride[2] = 1;
  ap.lse = p.la;
  ap.lse_stride[0] = H;
  ap.lse_stride[1] = 1;
  copy_cache_params(ap, a.kv);
  ap.cu_seqlens_q = a.cu_seqlens_q;
  ap.batch = a.batch;
  ap.heads = H;
  ap.latent_dim = Dl;
  ap.rope_dim = a.rope_dim;
  ap.total_q = s.abs_rows;
  ap.max_seqlen_q = s.abs_rows;
  ap.causal = a.causal;
  ap.scale = a.scale;
  ap.tile = s.a_tile;
  ap.num_parts = s.a_parts;
  ap.m_blocks = s.a_m_blocks;
  ap.batch_invariant = dev.batch_invariant ? 1 : 0;
  char* ws = static_cast<char*>(a.workspace);
  ap.plan.status = reinterpret_cast<int*>(ws + s.layout.a_status);
  ap.plan.seqs = reinterpret_cast<seq_plan*>(ws + s.layout.a_seqs);
  ap.plan.pieces = reinterpret_cast<piece_plan*>(ws + s.layout.a_pieces);
  ap.plan.parts = reinterpret_cast<part_plan*>(ws + s.layout.a_parts);
  ap.plan.partial_lse = nullptr;
  ap.plan.partial_out = nullptr;
  ap.plan.num_slots = 0;
  return ap;
}

}  // namespace

opb_schedule opb_schedule_for(const device_info& dev, const mla_decompressed_args& a) {
  opb_schedule s;
  const int64_t B = a.batch, H = a.num_heads, Dl = a.latent_dim, Dr = a.rope_dim;
  const int64_t Dk = (int64_t)a.nope_dim + a.rope_dim, Dv = a.v_dim, total_q = a.total_q;
  s.compute_dtype = least_precise(least_precise(a.q.dtype, a.kv.dtype), least_precise(a.w_uk.dtype, a.w_uv.dtype));
  if (!half_type(s.compute_dtype)) s.compute_dtype = dtype_f32;
  s.esize = half_type(s.compute_dtype) ? 2 : 4;
  s.decompressed = a.mode != MLA_DECOMPRESSED_FORCE_ABSORBED;
  s.absorbed = a.mode != MLA_DECOMPRESSED_FORCE;
  if (B == 0) return s;  // a no-op: no workspace

  if (s.decompressed) {
    // Chunk: the longest sequence's keys rounded up to a tile, at most
    // kOpbMaxChunk and what the K/V budget holds (never below kOpbMinChunk
    // for that, however large H makes a key).  Group: as many sequences as
    // the budget holds.
    const int64_t keys = max_keys(a.kv);
    const int64_t per_key = (H * (Dk + Dv) + Dl + Dr) * s.esize;
    const int64_t budget_keys = (int64_t)(kOpbKvBudget / (size_t)per_key) / kOpbKeyTile * kOpbKeyTile;
    const int64_t cap = std::max<int64_t>(kOpbMinChunk, std::min<int64_t>(kOpbMaxChunk, budget_keys));
    int64_t chunk = std::min(cap, std::max<int64_t>(kOpbKeyTile, round_up(keys, kOpbKeyTile)));
    if (const int64_t c = knob("MLA_CUDA_OPB_CHUNK"); c > 0 && c % kOpbKeyTile == 0 && c < chunk) chunk = c;
    s.chunk_keys = (int)chunk;
    s.n_chunks = (int)ceil_div(keys, chunk);
    // (grid.z of the round's kernels: at most 65535 sequences per group)
    s.group_seqs = (int)std::max<int64_t>(
        1, std::min<int64_t>(std::min<int64_t>(B, 65535), (int64_t)kOpbKvBudget / (chunk * per_key)));
    if (const int64_t g = knob("MLA_CUDA_OPB_GROUP"); g > 0) s.group_seqs = (int)std::min<int64_t>(s.group_seqs, g);
    s.n_groups = (int)ceil_div(B, s.group_seqs);
    // Passes of equal size: a last pass of a few rows would expand the
    // keys its rows see once more for little work.
    const int64_t per_row = H * (Dv + 2) * (int64_t)sizeof(float);
    const int64_t most = std::max<int64_t>(1, (int64_t)kOpbStateBudget / per_row);
    const int64_t passes = std::max<int64_t>(1, ceil_div(total_q, most));
    s.pass_rows = (int)std::max<int64_t>(1, ceil_div(total_q, passes));
    if (const int64_t r = knob("MLA_CUDA_OPB_PASS_ROWS"); r > 0) s.pass_rows = (int)std::min<int64_t>(s.pass_rows, r);
    s.n_passes = (int)ceil_div(total_q, s.pass_rows);
  } else {
    s.pass_rows = (int)std::max<int64_t>(total_q, 1);  // one finalize pass: NaN rows of invalid sequences
    s.n_passes = total_q > 0 ? 1 : 0;
  }

  if (s.absorbed) {
    const int64_t be = kOpbBreakEvenQ;
    const int64_t rows = a.mode == MLA_DECOMPRESSED_FORCE_ABSORBED ? total_q : std::min(total_q, B * (be - 1));
    if (rows > 0) {
      s.abs_rows = (int)std::min(rows, std::max(ceil_div(kOpbAbsorbedPairs, H), be));
      const int64_t n = ceil_div(rows, s.abs_rows);
      s.abs_passes = (int)std::min(n + B - 1, 2 * n + 1);  // next fit's bound (decompressed_schedule.hpp)
      s.qa_dtype = half_type(a.kv.dtype) ? a.kv.dtype : dtype_f32;
      const int64_t pairs = (int64_t)s.abs_rows * H;
      s.a_tile = fast_path_tile(dev, pairs, a.batch, a.latent_dim, a.rope_dim);
      s.a_m_blocks = (int)ceil_div(pairs, s.a_tile.rows);
      s.a_parts = (int)std::max<int64_t>(1, std::min<int64_t>(B, 2 * (int64_t)dev.multiprocessors / s.a_m_blocks));
    }
  }

  // The plan (status, seqs) first: its offsets depend on B alone.
  opb_layout& L = s.layout;
  size_t at = 0;
  L.status = take(at, 4 * sizeof(int));
  L.seqs = take(at, (size_t)B * sizeof(opb_seq));
  if (s.decompressed) {
    const size_t G = (size_t)s.group_seqs, C = (size_t)s.chunk_keys, e = (size_t)s.esize;
    L.lat = take(at, G * C * (size_t)(Dl + Dr) * e);
    L.k = take(at, G * (size_t)H * C * (size_t)Dk * e);
    L.v = take(at, G * (size_t)H * C * (size_t)Dv * e);
    L.w = take(at, s.esize == 2 ? (size_t)H * (size_t)(a.nope_dim + Dv) * (size_t)Dl * 2 : 0);
    L.state_o = take(at, (size_t)s.pass_rows * (size_t)H * (size_t)Dv * sizeof(float));
    L.state_ml = take(at, (size_t)s.pass_rows * (size_t)H * 2 * sizeof(float));
  }
  if (s.abs_passes > 0) {
    const size_t pairs = (size_t)s.abs_rows * (size_t)H;
    L.qa = take(at, pairs * (size_t)(Dl + Dr) * (half_type(s.qa_dtype) ? 2 : 4));
    L.oa = take(at, pairs * (size_t)Dl * sizeof(float));
    L.la = take(at, pairs * sizeof(float));
    L.owner = take(at, (size_t)s.abs_rows * sizeof(int));
    L.a_status = take(at, 4 * sizeof(int));
    L.a_seqs = take(at, (size_t)B * sizeof(seq_plan));
    L.a_pieces = take(at, (size_t)B * sizeof(piece_plan));
    L.a_parts = take(at, (size_t)s.a_parts * sizeof(part_plan));
  }
  L.total = at;
  return s;
}

cudaError_t opb_plan(const device_info& dev, const mla_decompressed_args& a, cudaStream_t stream) {
  if (a.batch == 0) return cudaSuccess;
  const opb_schedule s = opb_schedule_for(dev, a);
  return launch_opb_plan(params_of(a, s), stream);
}

cudaError_t opb_run(const device_info& dev, const mla_decompressed_args& a, cudaStream_t stream) {
  const opb_schedule s = opb_schedule_for(dev, a);
  opb_params p = params_of(a, s);
  cudaError_t e = cudaSuccess;
  const bool fast = s.decompressed && opb_fast_path(dev, p);
  if (fast && !(weights_usable(a.w_uk, s.compute_dtype) && weights_usable(a.w_uv, s.compute_dtype))) {
    // The tensor-core expansion wants weight rows of the compute dtype with
    // unit stride: a converted copy [H][Dn+Dv][Dl] in the workspace.
    char* w = static_cast<char*>(a.workspace) + s.layout.w;
    if ((e = launch_opb_convert_weights(p, w, stream)) != cudaSuccess) return e;
    p.wk = w;
    p.wv = w + (size_t)a.nope_dim * a.latent_dim * 2;
    p.wk_head_stride = p.wv_head_stride = (int64_t)(a.nope_dim + a.v_dim) * a.latent_dim;
    p.wk_row_stride = p.wv_row_stride = a.latent_dim;
  }
  for (int pass = 0; pass < s.n_passes; ++pass) {
    const int row0 = pass * s.pass_rows;
    if (s.decompressed) {
      for (int g = 0; g < s.n_groups; ++g) {
        for (int j = 0; j < s.n_chunks; ++j) {
          const opb_round r{row0, g, j};
          if ((e = launch_opb_gather(p, r, stream)) != cudaSuccess) return e;
          e = fast ? launch_opb_expand_fast(dev, p, r, stream) : launch_opb_expand_simt(p, r, stream);
          if (e != cudaSuccess) return e;
          e = fast ? launch_opb_attend_fast(dev, p, r, stream) : launch_opb_attend_simt(p, r, stream);
          if (e != cudaSuccess) return e;
        }
      }
    }
    if ((e = launch_opb_finalize(p, row0, stream)) != cudaSuccess) return e;
  }
  if (s.abs_passes > 0) {
    const absorbed_params ap = absorbed_params_of(dev, a, s, p);
    for (int k = 0; k < s.abs_passes; ++k) {
      if ((e = launch_opb_absorbed_pass_plan(p, ap, k, stream)) != cudaSuccess) return e;
      if ((e = launch_opb_project_q(p, k, stream)) != cudaSuccess) return e;
      if (!launch_fast_path(dev, ap, stream, &e)) e = launch_absorbed_simt(ap, stream);
      if (e != cudaSuccess) return e;
      if ((e = launch_opb_project_out(p, k, stream)) != cudaSuccess) return e;
    }
  }
  return cudaSuccess;
}

}  // namespace mla_gpu
