// SPDX-License-Identifier: MIT
// Op B kernels shared by every GPU path (decompressed_params.hpp has the
// schedule):
//   opb_gather          a round's latent rows (and RoPE parts) into the
//                       latent buffer, in the compute dtype; the rest of a
//                       sequence's last 64-key tile is zeroed, so K and V are
//                       finite there (P = 0 must not meet a NaN)
//   opb_expand_simt     K = [c W_UK^T | kR] and V = c W_UV^T per head, f32 sums
//   opb_attend_simt     one warp per (query row, head): the chunk's keys,
//                       online softmax, merged into the running state
//   opb_finalize        a pass's rows: out = O / sum, lse; NaN rows of invalid
//                       sequences; rows that see no key: 0 and -inf
//   opb_convert_weights W_UK / W_UV as [H][Dn+Dv][Dl] in the compute dtype
//                       (for a tensor-core path whose weights are not usable
//                       as given)
//   opb_project_q       absorbed form: q~ = [W_UK^T q_nope | q_rope]
//   opb_project_out     absorbed form: out = W_UV o_A, lse = op A's
// Every reduction has a fixed order; nothing uses atomics.
#include "decompressed_common.cuh"
#include "kernels.hpp"

namespace mla_gpu {
namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ float warp_sum_lane0(float v) {
#pragma unroll
  for (int m = 16; m > 0; m /= 2) v += __shfl_xor_sync(0xffffffffu, v, m);
  return __shfl_sync(0xffffffffu, v, 0);  // every lane takes lane 0's bits
}

__global__ void opb_gather(opb_params p, opb_round r) {
  const int slot = blockIdx.y;
  int b;
  opb_seq s;
  opb_span sp;
  if (!opb_slot_span(p, r, slot, b, s, sp)) return;
  const int t0 = blockIdx.x * kOpbKeyTile;  // chunk-relative
  const int64_t key0 = (int64_t)sp.key_lo + t0;
  if (key0 >= sp.key_hi) return;
  const int n = (int)min((int64_t)kOpbKeyTile, sp.key_hi - key0);
  __shared__ int64_t row_at[kOpbKeyTile];  // -1: bad page (NaN), -2: past the keys (0)
  if (threadIdx.x < kOpbKeyTile)
    row_at[threadIdx.x] = (int)threadIdx.x < n ? opb_cache_row(p, b, key0 + threadIdx.x) : -2;
  __syncthreads();
  const int Dl = p.latent_dim, W = p.latent_dim + p.rope_dim;
  const int64_t base = ((int64_t)slot * p.chunk_keys + t0) * W;
  for (int e = threadIdx.x; e < kOpbKeyTile * W; e += blockDim.x) {
    const int t = e / W, c = e % W;
    const int64_t at = row_at[t];
    float v = 0.0f;
    if (at == -1)
      v = NAN;
    else if (at >= 0)
      v = load_element(p.kv, at + (c < Dl ? p.latent_offset + c : p.rope_offset + (c - Dl)), p.kv_dtype);
    store_element(p.lat, base + e, p.compute_dtype, v);
  }
}

__global__ void opb_expand_simt(opb_params p, opb_round r) {
  const int slot = blockIdx.z, h = blockIdx.y;
  int b;
  opb_seq s;
  opb_span sp;
  if (!opb_slot_span(p, r, slot, b, s, sp)) return;
  const int t0 = blockIdx.x * kOpbKeyTile;
  if ((int64_t)sp.key_lo + t0 >= sp.key_hi) return;
  const int Dl = p.latent_dim, Dr = p.rope_dim, Dn = p.nope_dim, Dv = p.v_dim, W = Dl + Dr, Dk = Dn + Dr;
  const int64_t lat0 = ((int64_t)slot * p.chunk_keys + t0) * W;
  const int64_t kv_row0 = ((int64_t)slot * p.heads + h) * p.chunk_keys + t0;
  for (int e = threadIdx.x; e < kOpbKeyTile * (Dn + Dv); e += blockDim.x) {
    const int t = e / (Dn + Dv), o = e % (Dn + Dv);
    const bool is_k = o < Dn;
    const void* w = is_k ? p.w_uk : p.w_uv;
    const int w_dtype = is_k ? p.w_uk_dtype : p.w_uv_dtype;
    const int64_t* ws = is_k ? p.w_uk_stride : p.w_uv_stride;
    const int64_t w0 = (int64_t)h * ws[0] + (int64_t)(is_k ? o : o - Dn) * ws[1];
    float acc = 0.0f;
    for (int l = 0; l < Dl; ++l)
      acc += load_element(p.lat, lat0 + (int64_t)t * W + l, p.compute_dtype) * load_element(w, w0 + l * ws[2], w_dtype);
    if (is_k)
      store_element(p.k, (kv_row0 + t) * Dk + o, p.compute_dtype, acc);
    else
      store_element(p.v, (kv_row0 + t) * Dv + (o - Dn), p.compute_dtype, acc);
  }
  for (int e = threadIdx.x; e < kOpbKeyTile * Dr; e += blockDim.x) {
    const int t = e / Dr, c = e % Dr;
    store_element(p.k, (kv_row0 + t) * Dk + Dn + c, p.compute_dtype,
                  load_element(p.lat, lat0 + (int64_t)t * W + Dl + c, p.compute_dtype));
  }
}

constexpr int kSimtRows = 8;  // query rows (warps) per block
constexpr int kQPerLane = kOpbSimtMaxDk / 32, kVPerLane = kOpbSimtMaxDv / 32;

__global__ void __launch_bounds__(kSimtRows * 32) opb_attend_simt(opb_params p, opb_round r) {
  const int slot = blockIdx.z, h = blockIdx.y;
  int b;
  opb_seq s;
  opb_span sp;
  if (!opb_slot_span(p, r, slot, b, s, sp)) return;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t i = (int64_t)sp.q_lo + (int64_t)blockIdx.x * kSimtRows + warp;
  if (i >= sp.q_hi) return;
  const int64_t kend = min(opb_visible(p.causal, s.s_q, s.s_k, i), (int64_t)sp.key_hi);
  const int n = (int)(kend - sp.key_lo);
  if (n <= 0) return;  // the row sees nothing of this chunk: its state stays
  const int Dn = p.nope_dim, Dr = p.rope_dim, Dv = p.v_dim, Dk = Dn + Dr;
  const int64_t grow = s.q_begin + i;
  const int64_t pair = opb_state_pair(p, grow - r.row0, h);
  float q[kQPerLane], o[kVPerLane];
#pragma unroll
  for (int j = 0; j < kQPerLane; ++j) {
    const int d = lane + 32 * j;
    q[j] = d < Dk ? load_element(p.q, grow * p.q_stride[0] + (int64_t)h * p.q_stride[1] + (int64_t)d * p.q_stride[2],
                                 p.q_dtype)
                  : 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  if (r.chunk > 0) {
    m = p.state_ml[2 * pair];
    l = p.state_ml[2 * pair + 1];
  }
#pragma unroll
  for (int j = 0; j < kVPerLane; ++j) {
    const int d = lane + 32 * j;
    o[j] = (r.chunk > 0 && d < Dv) ? p.state_o[pair * Dv + d] : 0.0f;
  }
  const float scale_log2 = p.scale * kLog2e;
  const int64_t row0 = ((int64_t)slot * p.heads + h) * p.chunk_keys;
  for (int t = 0; t < n; ++t) {
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < kQPerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < Dk) dot += q[j] * load_element(p.k, (row0 + t) * Dk + d, p.compute_dtype);
    }
    const float x = warp_sum_lane0(dot) * scale_log2;
    const float m_new = fmaxf(m, x);
    const float alpha = exp2f(m - m_new), w = exp2f(x - m_new);
    l = l * alpha + w;
#pragma unroll
    for (int j = 0; j < kVPerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < Dv) o[j] = o[j] * alpha + w * load_element(p.v, (row0 + t) * Dv + d, p.compute_dtype);
    }
    m = m_new;
  }
#pragma unroll
  for (int j = 0; j < kVPerLane; ++j) {
    const int d = lane + 32 * j;
    if (d < Dv) p.state_o[pair * Dv + d] = o[j];
  }
  if (lane == 0) {
    p.state_ml[2 * pair] = m;
    p.state_ml[2 * pair + 1] = l;
  }
}

constexpr int kFinalizeWarps = 8;

__global__ void __launch_bounds__(kFinalizeWarps * 32) opb_finalize(opb_params p, int row0) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int H = p.heads, Dv = p.v_dim;
  for (int b = blockIdx.y; b < p.batch; b += gridDim.y) {
    const opb_seq s = p.seqs[b];
    if (s.valid && s.form != opb_form_decompressed) continue;  // the absorbed form writes these rows
    const int64_t lo = max((int64_t)s.q_begin, (int64_t)row0);
    const int64_t hi = min((int64_t)s.q_begin + s.s_q, (int64_t)row0 + p.pass_rows);
    const int64_t pairs = (hi - lo) * H;
    for (int64_t e = (int64_t)blockIdx.x * kFinalizeWarps + warp; e < pairs; e += (int64_t)gridDim.x * kFinalizeWarps) {
      const int64_t grow = lo + e / H;
      const int h = (int)(e % H);
      const int64_t at = grow * p.out_stride[0] + (int64_t)h * p.out_stride[1];
      float inv, lse;
      int64_t pair = -1;
      if (!s.valid) {
        inv = NAN;
        lse = NAN;
      } else if (opb_visible(p.causal, s.s_q, s.s_k, grow - s.q_begin) == 0) {
        inv = 0.0f;
        lse = -INFINITY;
      } else {
        pair = opb_state_pair(p, grow - row0, h);
        const float m = p.state_ml[2 * pair], l = p.state_ml[2 * pair + 1];
        inv = 1.0f / l;
        lse = (m + log2f(l)) * kLn2;
      }
      for (int d = lane; d < Dv; d += 32) {
        const float v = pair >= 0 ? p.state_o[pair * Dv + d] * inv : (s.valid ? 0.0f : NAN);
        store_element(p.out, at + (int64_t)d * p.out_stride[2], p.out_dtype, v);
      }
      if (lane == 0 && p.lse) p.lse[grow * p.lse_stride[0] + (int64_t)h * p.lse_stride[1]] = lse;
    }
  }
}

__global__ void opb_convert_weights(opb_params p, void* dst) {
  const int Dn = p.nope_dim, Dl = p.latent_dim;
  const int64_t rows = (int64_t)p.heads * (Dn + p.v_dim);
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int h = (int)(row / (Dn + p.v_dim)), o = (int)(row % (Dn + p.v_dim));
    const bool is_k = o < Dn;
    const void* w = is_k ? p.w_uk : p.w_uv;
    const int w_dtype = is_k ? p.w_uk_dtype : p.w_uv_dtype;
    const int64_t* ws = is_k ? p.w_uk_stride : p.w_uv_stride;
    const int64_t w0 = (int64_t)h * ws[0] + (int64_t)(is_k ? o : o - Dn) * ws[1];
    for (int l = threadIdx.x; l < Dl; l += blockDim.x)
      store_element(dst, row * Dl + l, p.compute_dtype, load_element(w, w0 + (int64_t)l * ws[2], w_dtype));
  }
}

// Row r of absorbed pass `pass`: its sequence (owner), the row's index in
// that sequence and its global row.  false: the row holds nothing.
__device__ __forceinline__ bool absorbed_row(const opb_params& p, int pass, int r, opb_seq& s, int64_t& grow) {
  const int b = p.owner[r];
  if (b < 0) return false;
  s = p.seqs[b];
  opb_item it;
  if (!opb_absorbed_item(s, pass, p.abs_rows, p.causal, it)) return false;  // (cannot happen: b owns row r)
  grow = s.q_begin + it.i0 + (r - it.dst);
  return true;
}

constexpr int kProjectThreads = 128;

// The projections walk the pass's (row, head) pairs with a bounded grid: in
// AUTO most passes are empty (the host launches a bound), and a block per
// pair would cost a launch of abs_rows x H blocks for nothing.
constexpr int kProjectBlocks = 1024;

__global__ void __launch_bounds__(kProjectThreads) opb_project_q(opb_params p, int pass) {
  __shared__ float qn[kOpbMaxNope];
  const int H = p.heads, Dn = p.nope_dim, Dl = p.latent_dim, Dr = p.rope_dim, D = Dl + Dr;
  for (int64_t e = blockIdx.x; e < (int64_t)p.abs_rows * H; e += gridDim.x) {
    const int r = (int)(e / H), h = (int)(e % H);
    opb_seq s;
    int64_t grow;
    if (!absorbed_row(p, pass, r, s, grow)) continue;
    __syncthreads();  // qn of the previous pair is consumed
    const int64_t q0 = grow * p.q_stride[0] + (int64_t)h * p.q_stride[1];
    for (int n = threadIdx.x; n < Dn; n += blockDim.x)
      qn[n] = load_element(p.q, q0 + (int64_t)n * p.q_stride[2], p.q_dtype);
    __syncthreads();
    const int64_t dst = ((int64_t)r * H + h) * D;
    const int64_t w0 = (int64_t)h * p.w_uk_stride[0];
    for (int l = threadIdx.x; l < Dl; l += blockDim.x) {
      float acc = 0.0f;
      for (int n = 0; n < Dn; ++n)
        acc += qn[n] *
               load_element(p.w_uk, w0 + (int64_t)n * p.w_uk_stride[1] + (int64_t)l * p.w_uk_stride[2], p.w_uk_dtype);
      store_element(p.qa, dst + l, p.qa_dtype, acc);
    }
    for (int c = threadIdx.x; c < Dr; c += blockDim.x)
      store_element(p.qa, dst + Dl + c, p.qa_dtype,
                    load_element(p.q, q0 + (int64_t)(Dn + c) * p.q_stride[2], p.q_dtype));
  }
}

__global__ void __launch_bounds__(kProjectThreads) opb_project_out(opb_params p, int pass) {
  extern __shared__ float oa[];  // [Dl]
  const int H = p.heads, Dl = p.latent_dim, Dv = p.v_dim;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (int64_t e = blockIdx.x; e < (int64_t)p.abs_rows * H; e += gridDim.x) {
    const int r = (int)(e / H), h = (int)(e % H);
    opb_seq s;
    int64_t grow;
    if (!absorbed_row(p, pass, r, s, grow)) continue;
    __syncthreads();  // oa of the previous pair is consumed
    const int64_t pair = (int64_t)r * H + h;
    for (int l = threadIdx.x; l < Dl; l += blockDim.x) oa[l] = p.oa[pair * Dl + l];
    __syncthreads();
    const int64_t out0 = grow * p.out_stride[0] + (int64_t)h * p.out_stride[1];
    for (int d = warp; d < Dv; d += warps) {
      const int64_t w0 = (int64_t)h * p.w_uv_stride[0] + (int64_t)d * p.w_uv_stride[1];
      float acc = 0.0f;
      for (int l = lane; l < Dl; l += 32)
        acc += oa[l] * load_element(p.w_uv, w0 + (int64_t)l * p.w_uv_stride[2], p.w_uv_dtype);
      acc = warp_sum_lane0(acc);
      if (lane == 0) store_element(p.out, out0 + (int64_t)d * p.out_stride[2], p.out_dtype, acc);
    }
    if (threadIdx.x == 0 && p.lse) p.lse[grow * p.lse_stride[0] + (int64_t)h * p.lse_stride[1]] = p.la[pair];
  }
}

int tiles_per_chunk(const opb_params& p) { return p.chunk_keys / kOpbKeyTile; }

}  // namespace

cudaError_t launch_opb_gather(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  opb_gather<<<dim3(tiles_per_chunk(p), p.group_seqs), 256, 0, stream>>>(p, r);
  return cudaGetLastError();
}

cudaError_t launch_opb_expand_simt(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  opb_expand_simt<<<dim3(tiles_per_chunk(p), p.heads, p.group_seqs), 256, 0, stream>>>(p, r);
  return cudaGetLastError();
}

cudaError_t launch_opb_attend_simt(const opb_params& p, const opb_round& r, cudaStream_t stream) {
  const int rows = p.max_seqlen_q < p.pass_rows ? p.max_seqlen_q : p.pass_rows;
  const int blocks = (rows + kSimtRows - 1) / kSimtRows;
  if (blocks == 0) return cudaSuccess;
  opb_attend_simt<<<dim3(blocks, p.heads, p.group_seqs), kSimtRows * 32, 0, stream>>>(p, r);
  return cudaGetLastError();
}

cudaError_t launch_opb_finalize(const opb_params& p, int row0, cudaStream_t stream) {
  const int64_t rows = p.max_seqlen_q < p.pass_rows ? p.max_seqlen_q : p.pass_rows;
  int64_t x = (rows * p.heads + kFinalizeWarps - 1) / kFinalizeWarps;
  x = x < 1 ? 1 : (x > 65535 ? 65535 : x);
  const int y = p.batch < 65535 ? p.batch : 65535;
  opb_finalize<<<dim3((unsigned)x, y), kFinalizeWarps * 32, 0, stream>>>(p, row0);
  return cudaGetLastError();
}

cudaError_t launch_opb_convert_weights(const opb_params& p, void* dst, cudaStream_t stream) {
  const int64_t rows = (int64_t)p.heads * (p.nope_dim + p.v_dim);
  opb_convert_weights<<<(unsigned)(rows < 65535 ? rows : 65535), 256, 0, stream>>>(p, dst);
  return cudaGetLastError();
}

static unsigned project_blocks(const opb_params& p) {
  const int64_t pairs = (int64_t)p.abs_rows * p.heads;
  return (unsigned)(pairs < kProjectBlocks ? (pairs > 0 ? pairs : 1) : kProjectBlocks);
}

cudaError_t launch_opb_project_q(const opb_params& p, int pass, cudaStream_t stream) {
  opb_project_q<<<project_blocks(p), kProjectThreads, 0, stream>>>(p, pass);
  return cudaGetLastError();
}

cudaError_t launch_opb_project_out(const opb_params& p, int pass, cudaStream_t stream) {
  const size_t smem = (size_t)p.latent_dim * sizeof(float);
  opb_project_out<<<project_blocks(p), kProjectThreads, smem, stream>>>(p, pass);
  return cudaGetLastError();
}

}  // namespace mla_gpu
