// SPDX-License-Identifier: MIT
// Op B, one work item (decompressed_plan.hpp), f32 math, GEMMs by oneDNN.
//
// Built twice (see CMakeLists.txt): MLA_CPU_ISA names the namespace,
// isa_baseline (any x86-64) or isa_avx2 (-mavx2 -mfma -mf16c): the softmax,
// the conversions and the absorbed form's weight loops vectorize with it.
//
// Decompressed form, per chunk of kKeyChunk keys (docs/design.md section 2, op B):
//   lat = c rows of the chunk (f32)                       [n][Dl]
//   kv[:, 0:Dn]      = lat W_UK[h]^T   (GEMM n x Dn x Dl)
//   kv[:, Dn:Dn+Dr]  = kR rows
//   kv[:, Dn+Dr:]    = lat W_UV[h]^T   (GEMM n x Dv x Dl)
//   per query tile:  S = scale Q kv[:, :Dn+Dr]^T  (GEMM m x ne x (Dn+Dr), ne = keys of the chunk
//                    the tile's last row sees), online softmax of S's visible part,
//                    acc = acc * alpha + P V (GEMM m x Dv x ne)
// Absorbed form (op A inside the call), per tile of T query rows, all heads:
//   q~ = [W_UK[h]^T q_nope | q_rope]  (GEMM T x Dl x Dn per head)
//   o_A, lse = op A's kernel over the latent cache
//   out = W_UV[h] o_A                 (GEMM T x Dv x Dl per head)
#include "decompressed_kernel.hpp"

#include "element_access.hpp"
#include "onednn_gemm.hpp"
#include "softmax_exp.hpp"
#include "split_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#ifndef MLA_CPU_ISA
#error "MLA_CPU_ISA must name the build (isa_baseline or isa_avx2)"
#endif

namespace mla_cpu {
namespace MLA_CPU_ISA {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

size_t pad_floats(size_t n) { return (n + 15) / 16 * 16; }

// n elements of `dtype` from base+offset (unit stride) to f32.
void copy_run(const void* base, int32_t dtype, int64_t offset, int n, float* __restrict dst) {
  if (dtype == MLA_DTYPE_F32) std::memcpy(dst, static_cast<const float*>(base) + offset, sizeof(float) * (size_t)n);
  else load_run(base, dtype, offset, 1, n, dst);
}

// n f32 values to out elements at offset, offset + step, ... (vectorized
// for a contiguous bf16 or f32 row: the other cases go element by element).
void store_run(void* base, int32_t dtype, int64_t offset, int64_t step, int n, const float* __restrict src) {
  if (step == 1 && dtype == MLA_DTYPE_BF16) {
    uint16_t* __restrict dst = static_cast<uint16_t*>(base) + offset;
#pragma omp simd
    for (int i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
  } else if (step == 1 && dtype == MLA_DTYPE_F32) {
    std::memcpy(static_cast<float*>(base) + offset, src, sizeof(float) * (size_t)n);
  } else {
    for (int i = 0; i < n; ++i) store_element(base, dtype, offset + (int64_t)i * step, src[i]);
  }
}

// Rows [0, rows) of head h of a weight tensor [H][rows][Dl] as f32 rows:
// in place when they are f32 with unit inner stride, else converted to buf.
const float* weight_rows(const mla_tensor& w, int h, int rows, int Dl, float* buf, int64_t* ld) {
  const int64_t head_at = (int64_t)h * w.stride[0];
  if (w.dtype == MLA_DTYPE_F32 && w.stride[2] == 1 && w.stride[1] >= Dl) {
    *ld = w.stride[1];
    return static_cast<const float*>(w.data) + head_at;
  }
  for (int r = 0; r < rows; ++r)
    load_run(w.data, w.dtype, head_at + (int64_t)r * w.stride[1], w.stride[2], Dl, buf + (size_t)r * Dl);
  *ld = Dl;
  return buf;
}

// Latent rows of keys [k0, k0+n) of sequence `seq` into lat [n][Dl], their
// RoPE parts into rope (row stride ld_rope).
void gather_chunk(const mla_decompressed_args& a, int32_t seq, int32_t k0, int n, float* __restrict lat,
                  float* __restrict rope, int ld_rope) {
  const mla_paged_cache& kv = a.kv;
  const int Dl = a.latent_dim, Dr = a.rope_dim;
  const int32_t* pages = kv.block_table + (int64_t)seq * kv.block_table_stride;
  int64_t page_index = k0 / kv.page_size;
  int32_t slot = k0 % kv.page_size;
  for (int t = 0; t < n; ++t) {
    const int64_t row = (int64_t)pages[page_index] * kv.page_stride + (int64_t)slot * kv.row_stride;
    copy_run(kv.data, kv.dtype, row + kv.latent_offset, Dl, lat + (size_t)t * Dl);
    if (Dr > 0) copy_run(kv.data, kv.dtype, row + kv.rope_offset, Dr, rope + (size_t)t * ld_rope);
    if (++slot == kv.page_size) slot = 0, ++page_index;
  }
}

// Online softmax of one score row: the first nv of n scores are visible.
// Turns s into the weights P (0 past nv), updates max and sum, returns the
// factor the row's accumulator must be scaled by.
float softmax_row(float* __restrict s, int nv, int n, float& row_max, float& row_sum) {
  float block_max = kNegInf;
#pragma omp simd reduction(max : block_max)
  for (int j = 0; j < nv; ++j) block_max = s[j] > block_max ? s[j] : block_max;
  const float new_max = std::max(row_max, block_max);
  const float shift = new_max == kNegInf ? 0.f : new_max;
  const float alpha = exp_nonpositive(row_max - shift);
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int j = 0; j < nv; ++j) {
    s[j] = exp_nonpositive(s[j] - shift);
    sum += s[j];
  }
  for (int j = nv; j < n; ++j) s[j] = 0.f;
  row_sum = row_sum * alpha + sum;
  row_max = new_max;
  return alpha;
}

bool run_decompressed_form(const mla_decompressed_args& a, const decompressed_item& it, const decompressed_scratch& s) {
  const int Dl = a.latent_dim, Dr = a.rope_dim, Dn = a.nope_dim, Dv = a.v_dim, Dq = Dn + Dr, KVW = Dq + Dv;
  const int h = it.head;
  const int32_t first_row = a.cu_seqlens_q[it.seq];
  const int32_t s_q = a.cu_seqlens_q[it.seq + 1] - first_row, s_k = a.kv.seqlens_k[it.seq];
  int64_t ld_uk = 0, ld_uv = 0;
  const float* w_uk = weight_rows(a.w_uk, h, Dn, Dl, s.w, &ld_uk);
  const float* w_uv = weight_rows(a.w_uv, h, Dv, Dl, s.w + (size_t)Dn * Dl, &ld_uv);
  std::fill(s.acc, s.acc + (size_t)it.q_count * Dv, 0.f);
  std::fill(s.m, s.m + it.q_count, kNegInf);
  std::fill(s.l, s.l + it.q_count, 0.f);
  // q in place: f32 rows with unit inner stride (the GEMM's lda is stride[0]).
  const bool q_in_place = a.q.dtype == MLA_DTYPE_F32 && a.q.stride[2] == 1 && a.q.stride[0] >= Dq;

  const int32_t q_end = it.q_begin + it.q_count;
  const int32_t key_end = visible_keys_b(a.causal, s_q, s_k, q_end - 1);
  for (int32_t k0 = 0; k0 < key_end; k0 += kKeyChunk) {
    // The whole chunk, whatever the item sees of it: a chunk's K/V bits do
    // not depend on the item (batch invariance, see decompressed_plan.hpp).
    const int n = std::min(kKeyChunk, s_k - k0);
    gather_chunk(a, it.seq, k0, n, s.lat, s.kv + Dn, KVW);
    if (!sgemm('N', 'T', n, Dn, Dl, 1.f, s.lat, Dl, w_uk, ld_uk, 0.f, s.kv, KVW)) return false;
    if (!sgemm('N', 'T', n, Dv, Dl, 1.f, s.lat, Dl, w_uv, ld_uv, 0.f, s.kv + Dq, KVW)) return false;
    for (int32_t t0 = it.q_begin; t0 < q_end; t0 += kQueryTile) {
      const int m = std::min<int32_t>(kQueryTile, q_end - t0);
      // Keys of the chunk the tile's last row sees (causal: fewer on the
      // diagonal); the tile's GEMMs stop there.  A function of the tile's
      // place in its sequence only, like every other shape here.
      const int ne = std::min(n, visible_keys_b(a.causal, s_q, s_k, t0 + m - 1) - k0);
      if (ne <= 0) continue;  // no row of the tile sees the chunk
      const float* Q;
      int64_t ldq;
      if (q_in_place) {
        Q = static_cast<const float*>(a.q.data) + (int64_t)(first_row + t0) * a.q.stride[0] + (int64_t)h * a.q.stride[1];
        ldq = a.q.stride[0];
      } else {
        for (int i = 0; i < m; ++i)
          load_run(a.q.data, a.q.dtype, (int64_t)(first_row + t0 + i) * a.q.stride[0] + (int64_t)h * a.q.stride[1],
                   a.q.stride[2], Dq, s.q + (size_t)i * Dq);
        Q = s.q;
        ldq = Dq;
      }
      if (!sgemm('N', 'T', m, ne, Dq, a.scale, Q, ldq, s.kv, KVW, 0.f, s.s, kKeyChunk)) return false;
      const int r0 = t0 - it.q_begin;
      for (int i = 0; i < m; ++i) {
        const int nv = std::max(0, std::min(ne, visible_keys_b(a.causal, s_q, s_k, t0 + i) - k0));
        float* srow = s.s + (size_t)i * kKeyChunk;
        if (nv == 0) {
          std::fill(srow, srow + ne, 0.f);
          continue;
        }
        const float alpha = softmax_row(srow, nv, ne, s.m[r0 + i], s.l[r0 + i]);
        if (alpha != 1.f) {
          float* acc = s.acc + (size_t)(r0 + i) * Dv;
#pragma omp simd
          for (int d = 0; d < Dv; ++d) acc[d] *= alpha;
        }
      }
      if (!sgemm('N', 'N', m, Dv, ne, 1.f, s.s, kKeyChunk, s.kv + Dq, KVW, 1.f, s.acc + (size_t)r0 * Dv, Dv))
        return false;
    }
  }
  // Normalize; a row that saw no key gets out = 0, lse = -inf.
  for (int i = 0; i < it.q_count; ++i) {
    const int64_t row = first_row + it.q_begin + i;
    const bool empty = s.l[i] == 0.f;
    const float inv = empty ? 0.f : 1.f / s.l[i];
    float* acc = s.acc + (size_t)i * Dv;
#pragma omp simd
    for (int d = 0; d < Dv; ++d) acc[d] *= inv;
    store_run(a.out.data, a.out.dtype, row * a.out.stride[0] + (int64_t)h * a.out.stride[1], a.out.stride[2], Dv, acc);
    if (a.lse.data)
      static_cast<float*>(a.lse.data)[row * a.lse.stride[0] + (int64_t)h * a.lse.stride[1]] =
          empty ? kNegInf : s.m[i] + std::log(s.l[i]);
  }
  return true;
}

bool run_absorbed_form(const mla_decompressed_args& a, const decompressed_item& it, const decompressed_scratch& s,
                       run_item_fn absorbed) {
  const int H = a.num_heads, Dl = a.latent_dim, Dr = a.rope_dim, Dn = a.nope_dim, Dv = a.v_dim, Dq = Dn + Dr;
  const int D = Dl + Dr, T = it.q_count;
  const size_t P = (size_t)T * H;
  const int32_t first_row = a.cu_seqlens_q[it.seq];
  const int32_t s_q = a.cu_seqlens_q[it.seq + 1] - first_row, s_k = a.kv.seqlens_k[it.seq];
  const int32_t seen = visible_keys_b(a.causal, s_q, s_k, it.q_begin + T - 1);  // by the tile's last row
  auto row_of = [&](int i) { return (int64_t)first_row + it.q_begin + i; };
  if (seen == 0) {  // no row of the tile sees a key
    for (int i = 0; i < T; ++i)
      for (int h = 0; h < H; ++h) {
        const int64_t at = row_of(i) * a.out.stride[0] + (int64_t)h * a.out.stride[1];
        for (int d = 0; d < Dv; ++d) store_element(a.out.data, a.out.dtype, at + (int64_t)d * a.out.stride[2], 0.f);
        if (a.lse.data) static_cast<float*>(a.lse.data)[row_of(i) * a.lse.stride[0] + (int64_t)h * a.lse.stride[1]] = kNegInf;
      }
    return true;
  }
  // The tile's queries as f32: qn [i][h][Dq].
  for (int i = 0; i < T; ++i)
    for (int h = 0; h < H; ++h)
      load_run(a.q.data, a.q.dtype, row_of(i) * a.q.stride[0] + (int64_t)h * a.q.stride[1], a.q.stride[2], Dq,
               s.qn + ((size_t)i * H + h) * Dq);
  // q~ = [W_UK[h]^T q_nope | q_rope]: per head, q~[:, :Dl] = q_nope W_UK[h] (GEMM T x Dl x Dn).
  for (int h = 0; h < H; ++h) {
    int64_t ld = 0;
    const float* w = weight_rows(a.w_uk, h, Dn, Dl, s.wa, &ld);
    if (!sgemm('N', 'N', T, Dl, Dn, 1.f, s.qn + (size_t)h * Dq, (int64_t)H * Dq, w, ld, 0.f, s.qa + (size_t)h * D,
               (int64_t)H * D))
      return false;
    for (int i = 0; i < T; ++i) {
      const size_t pair = (size_t)i * H + h;
      std::memcpy(s.qa + pair * D + Dl, s.qn + pair * Dq + Dn, sizeof(float) * (size_t)Dr);
    }
  }
  // Op A over the latent cache: this sequence alone, the tile as its
  // queries, seen keys chosen so that the causal alignment is the tile's.
  int32_t cu[2] = {0, T};
  int32_t keys = a.causal ? seen : s_k;
  mla_absorbed_args fa{};
  fa.struct_size = sizeof fa;
  fa.batch = 1;
  fa.num_heads = H;
  fa.latent_dim = Dl;
  fa.rope_dim = Dr;
  fa.total_q = T;
  fa.max_seqlen_q = T;
  fa.causal = a.causal;
  fa.scale = a.scale;
  fa.cu_seqlens_q = cu;
  fa.q = mla_tensor{sizeof(mla_tensor), s.qa, MLA_DTYPE_F32, 0, {(int64_t)H * D, D, 1, 0}};
  fa.out = mla_tensor{sizeof(mla_tensor), s.oa, MLA_DTYPE_F32, 0, {(int64_t)H * Dl, Dl, 1, 0}};
  fa.lse = mla_tensor{sizeof(mla_tensor), s.la, MLA_DTYPE_F32, 0, {H, 1, 0, 0}};
  fa.kv = a.kv;
  fa.kv.seqlens_k = &keys;
  fa.kv.block_table = a.kv.block_table + (int64_t)it.seq * a.kv.block_table_stride;
  thread_scratch ts;
  float* p = s.opa;
  ts.q = p, p += pad_floats(P * D);
  ts.acc = p, p += pad_floats(P * Dl);
  ts.row_max = p, p += pad_floats(P);
  ts.row_sum = p, p += pad_floats(P);
  ts.rows = p, p += pad_floats((size_t)kRowBlock * D);
  ts.scores = p;
  absorbed(fa, work_item{0, 0, T, 0, keys, -1, -1}, ts, nullptr);
  // out = W_UV[h] o_A: per head, o_A W_UV[h]^T (GEMM T x Dv x Dl).
  for (int h = 0; h < H; ++h) {
    int64_t ld = 0;
    const float* w = weight_rows(a.w_uv, h, Dv, Dl, s.wa, &ld);
    if (!sgemm('N', 'T', T, Dv, Dl, 1.f, s.oa + (size_t)h * Dl, (int64_t)H * Dl, w, ld, 0.f, s.po, Dv)) return false;
    for (int i = 0; i < T; ++i)
      store_run(a.out.data, a.out.dtype, row_of(i) * a.out.stride[0] + (int64_t)h * a.out.stride[1], a.out.stride[2],
                Dv, s.po + (size_t)i * Dv);
  }
  if (a.lse.data)
    for (int i = 0; i < T; ++i)
      for (int h = 0; h < H; ++h)
        static_cast<float*>(a.lse.data)[row_of(i) * a.lse.stride[0] + (int64_t)h * a.lse.stride[1]] =
            s.la[(size_t)i * H + h];
  return true;
}

}  // namespace

bool run_decompressed_item(const mla_decompressed_args& a, const decompressed_item& item, const decompressed_layout&,
                           const decompressed_scratch& s, run_item_fn absorbed) {
  return item.head >= 0 ? run_decompressed_form(a, item, s) : run_absorbed_form(a, item, s, absorbed);
}

}  // namespace MLA_CPU_ISA
}  // namespace mla_cpu
