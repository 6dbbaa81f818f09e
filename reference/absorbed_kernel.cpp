// SPDX-License-Identifier: MIT
// Op A, one work item: tiled online softmax over a key range, f32 math.
//
// Built twice (see CMakeLists.txt): MLA_CPU_ISA names the namespace,
// isa_baseline (any x86-64) or isa_avx2 (-mavx2 -mfma -mf16c).
//
// Loop order, chosen because decode is memory-bound: for each block of
// kRowBlock cache rows, gather (f32 cache) or convert (f16/bf16) the rows
// once, then for every query row of the tile and every head: scores for the
// block, online-softmax rescale, accumulate the latent slice.  The block
// stays in L1/L2 while all heads use it; the cache is read from memory once.
//
// Versions (CPU ms per call of C3 = B 4, H 128, s_k 4096, bf16, one AVX2
// thread on the 2-core EPYC dev box, noisy +-10%; bench/cpu_bench.cpp):
//   v1 one head per pass, dot products four rows at a time      ~140-170
//   v2 two heads x four rows per pass (8 FMA chains, shared row loads) ~130
//   v3 softmax exp as a vectorizable polynomial instead of expf ~115
#include "absorbed_kernel.hpp"

#include "element_access.hpp"
#include "softmax_exp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#ifndef MLA_CPU_ISA
#error "MLA_CPU_ISA must name the build (isa_baseline or isa_avx2)"
#endif

namespace mla_cpu {
namespace MLA_CPU_ISA {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Four dot products sharing q: four independent vector accumulation chains.
inline void dot4(const float* __restrict q, const float* __restrict r0, const float* __restrict r1,
                 const float* __restrict r2, const float* __restrict r3, int n, float* sums) {
  float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
  for (int d = 0; d < n; ++d) {
    const float x = q[d];
    a0 += x * r0[d];
    a1 += x * r1[d];
    a2 += x * r2[d];
    a3 += x * r3[d];
  }
  sums[0] += a0;
  sums[1] += a1;
  sums[2] += a2;
  sums[3] += a3;
}

inline float dot1(const float* __restrict q, const float* __restrict r, int n) {
  float a = 0.f;
#pragma omp simd reduction(+ : a)
  for (int d = 0; d < n; ++d) a += q[d] * r[d];
  return a;
}

// Two heads x four rows: eight independent accumulation chains, enough to
// hide the FMA latency; each row load feeds two heads.
inline void dot2x4(const float* __restrict qa, const float* __restrict qb, const float* __restrict r0,
                   const float* __restrict r1, const float* __restrict r2, const float* __restrict r3, int n,
                   float* sa, float* sb) {
  float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f, b0 = 0.f, b1 = 0.f, b2 = 0.f, b3 = 0.f;
#pragma omp simd reduction(+ : a0, a1, a2, a3, b0, b1, b2, b3)
  for (int d = 0; d < n; ++d) {
    const float x = qa[d], y = qb[d], v0 = r0[d], v1 = r1[d], v2 = r2[d], v3 = r3[d];
    a0 += x * v0;
    a1 += x * v1;
    a2 += x * v2;
    a3 += x * v3;
    b0 += y * v0;
    b1 += y * v1;
    b2 += y * v2;
    b3 += y * v3;
  }
  sa[0] += a0;
  sa[1] += a1;
  sa[2] += a2;
  sa[3] += a3;
  sb[0] += b0;
  sb[1] += b1;
  sb[2] += b2;
  sb[3] += b3;
}

// scores[t] = q_latent . lat[t] + q_rope . rope[t]   (q already scaled)
void score_rows(const float* __restrict q, const float* const* lat, const float* const* rope, int n, int Dl,
                int Dr, float* __restrict scores) {
  int t = 0;
  for (; t + 4 <= n; t += 4) {
    float s[4] = {0.f, 0.f, 0.f, 0.f};
    dot4(q, lat[t], lat[t + 1], lat[t + 2], lat[t + 3], Dl, s);
    if (Dr > 0) dot4(q + Dl, rope[t], rope[t + 1], rope[t + 2], rope[t + 3], Dr, s);
    for (int k = 0; k < 4; ++k) scores[t + k] = s[k];
  }
  for (; t < n; ++t) scores[t] = dot1(q, lat[t], Dl) + (Dr > 0 ? dot1(q + Dl, rope[t], Dr) : 0.f);
}

// The same for two heads (queries qa, qb) at once.
void score_rows_2heads(const float* __restrict qa, const float* __restrict qb, const float* const* lat,
                       const float* const* rope, int n, int Dl, int Dr, float* __restrict sa, float* __restrict sb) {
  int t = 0;
  for (; t + 4 <= n; t += 4) {
    float a[4] = {0.f, 0.f, 0.f, 0.f}, b[4] = {0.f, 0.f, 0.f, 0.f};
    dot2x4(qa, qb, lat[t], lat[t + 1], lat[t + 2], lat[t + 3], Dl, a, b);
    if (Dr > 0) dot2x4(qa + Dl, qb + Dl, rope[t], rope[t + 1], rope[t + 2], rope[t + 3], Dr, a, b);
    for (int k = 0; k < 4; ++k) sa[t + k] = a[k], sb[t + k] = b[k];
  }
  for (; t < n; ++t) {
    sa[t] = dot1(qa, lat[t], Dl) + (Dr > 0 ? dot1(qa + Dl, rope[t], Dr) : 0.f);
    sb[t] = dot1(qb, lat[t], Dl) + (Dr > 0 ? dot1(qb + Dl, rope[t], Dr) : 0.f);
  }
}

// acc = acc * alpha + sum_t p[t] * c[t], four rows per pass over acc.
template <bool Rescale>
inline void axpy4(float* __restrict acc, float alpha, const float* p, const float* __restrict c0,
                  const float* __restrict c1, const float* __restrict c2, const float* __restrict c3, int n) {
  const float p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
#pragma omp simd
  for (int d = 0; d < n; ++d) {
    const float base = Rescale ? acc[d] * alpha : acc[d];
    acc[d] = base + p0 * c0[d] + p1 * c1[d] + p2 * c2[d] + p3 * c3[d];
  }
}

template <bool Rescale>
inline void axpy1(float* __restrict acc, float alpha, float p, const float* __restrict c, int n) {
#pragma omp simd
  for (int d = 0; d < n; ++d) acc[d] = (Rescale ? acc[d] * alpha : acc[d]) + p * c[d];
}

template <bool Rescale>
void accumulate_rows(float* __restrict acc, float alpha, const float* p, const float* const* lat, int n, int Dl) {
  int t = 0;
  if (n >= 4) {
    axpy4<Rescale>(acc, alpha, p, lat[0], lat[1], lat[2], lat[3], Dl);
    t = 4;
  } else {
    axpy1<Rescale>(acc, alpha, p[0], lat[0], Dl);
    t = 1;
  }
  for (; t + 4 <= n; t += 4) axpy4<false>(acc, 1.f, p + t, lat[t], lat[t + 1], lat[t + 2], lat[t + 3], Dl);
  for (; t < n; ++t) axpy1<false>(acc, 1.f, p[t], lat[t], Dl);
}

// Two heads at once: each cache row load feeds both accumulators.
template <bool Rescale>
inline void axpy2x4(float* __restrict acc_a, float alpha_a, const float* pa, float* __restrict acc_b, float alpha_b,
                    const float* pb, const float* __restrict c0, const float* __restrict c1,
                    const float* __restrict c2, const float* __restrict c3, int n) {
  const float a0 = pa[0], a1 = pa[1], a2 = pa[2], a3 = pa[3], b0 = pb[0], b1 = pb[1], b2 = pb[2], b3 = pb[3];
#pragma omp simd
  for (int d = 0; d < n; ++d) {
    const float v0 = c0[d], v1 = c1[d], v2 = c2[d], v3 = c3[d];
    const float base_a = Rescale ? acc_a[d] * alpha_a : acc_a[d];
    const float base_b = Rescale ? acc_b[d] * alpha_b : acc_b[d];
    acc_a[d] = base_a + a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3;
    acc_b[d] = base_b + b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3;
  }
}

template <bool Rescale>
void accumulate_rows_2heads(float* __restrict acc_a, float alpha_a, const float* pa, float* __restrict acc_b,
                            float alpha_b, const float* pb, const float* const* lat, int n, int Dl) {
  int t = 0;
  if (n >= 4) {
    axpy2x4<Rescale>(acc_a, alpha_a, pa, acc_b, alpha_b, pb, lat[0], lat[1], lat[2], lat[3], Dl);
    t = 4;
  } else {
    axpy1<Rescale>(acc_a, alpha_a, pa[0], lat[0], Dl);
    axpy1<Rescale>(acc_b, alpha_b, pb[0], lat[0], Dl);
    t = 1;
  }
  for (; t + 4 <= n; t += 4)
    axpy2x4<false>(acc_a, 1.f, pa + t, acc_b, 1.f, pb + t, lat[t], lat[t + 1], lat[t + 2], lat[t + 3], Dl);
  for (; t < n; ++t) {
    axpy1<false>(acc_a, 1.f, pa[t], lat[t], Dl);
    axpy1<false>(acc_b, 1.f, pb[t], lat[t], Dl);
  }
}

// Online-softmax bookkeeping for one (query row, head) over n scores:
// updates max and sum, turns scores into unnormalized weights, returns the
// factor the accumulator must be rescaled by.
float softmax_weights(float& row_max, float& row_sum, float* __restrict scores, int n) {
  float block_max = kNegInf;
  for (int t = 0; t < n; ++t) block_max = std::max(block_max, scores[t]);
  const float new_max = std::max(row_max, block_max);
  // All scores -inf (or NaN): nothing to rescale against; NaN flows on through sum.
  const float shift = new_max == kNegInf ? 0.f : new_max;
  const float alpha = exp_nonpositive(row_max - shift);
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int t = 0; t < n; ++t) {
    scores[t] = exp_nonpositive(scores[t] - shift);
    sum += scores[t];
  }
  row_sum = row_sum * alpha + sum;
  row_max = new_max;
  return alpha;
}

// One online-softmax step for one (query row, head) over n scored rows.
void online_softmax_step(float* __restrict acc, float& row_max, float& row_sum, float* __restrict scores,
                         const float* const* lat, int n, int Dl) {
  const float alpha = softmax_weights(row_max, row_sum, scores, n);
  if (alpha == 1.f)
    accumulate_rows<false>(acc, alpha, scores, lat, n, Dl);
  else
    accumulate_rows<true>(acc, alpha, scores, lat, n, Dl);
}

// The same for two heads (accumulators acc_a, acc_b) sharing the rows.
void online_softmax_step_2heads(float* __restrict acc_a, float& max_a, float& sum_a, float* __restrict scores_a,
                                float* __restrict acc_b, float& max_b, float& sum_b, float* __restrict scores_b,
                                const float* const* lat, int n, int Dl) {
  const float alpha_a = softmax_weights(max_a, sum_a, scores_a, n);
  const float alpha_b = softmax_weights(max_b, sum_b, scores_b, n);
  if (alpha_a == 1.f && alpha_b == 1.f)
    accumulate_rows_2heads<false>(acc_a, alpha_a, scores_a, acc_b, alpha_b, scores_b, lat, n, Dl);
  else
    accumulate_rows_2heads<true>(acc_a, alpha_a, scores_a, acc_b, alpha_b, scores_b, lat, n, Dl);
}

// Row pointers for the cache rows [t0, t0+n) of sequence `seq`: straight
// into the cache for f32, else into `buffer` after conversion.
void gather_rows(const mla_absorbed_args& a, int32_t seq, int32_t t0, int n, float* __restrict buffer,
                 const float** lat, const float** rope) {
  const mla_paged_cache& kv = a.kv;
  const int Dl = a.latent_dim, Dr = a.rope_dim, D = Dl + Dr;
  const int32_t* pages = kv.block_table + (int64_t)seq * kv.block_table_stride;
  int64_t page_index = t0 / kv.page_size;
  int32_t slot = t0 % kv.page_size;
  for (int t = 0; t < n; ++t) {
    const int64_t row = (int64_t)pages[page_index] * kv.page_stride + (int64_t)slot * kv.row_stride;
    if (kv.dtype == MLA_DTYPE_F32) {
      const float* r = static_cast<const float*>(kv.data) + row;
      lat[t] = r + kv.latent_offset;
      rope[t] = r + kv.rope_offset;
    } else {
      float* dst = buffer + (size_t)t * D;
      load_run(kv.data, kv.dtype, row + kv.latent_offset, 1, Dl, dst);
      load_run(kv.data, kv.dtype, row + kv.rope_offset, 1, Dr, dst + Dl);
      lat[t] = dst;
      rope[t] = dst + Dl;
    }
    if (++slot == kv.page_size) slot = 0, ++page_index;
  }
}

int32_t visible_keys(const mla_absorbed_args& a, int32_t s_q, int32_t s_k, int32_t row) {
  if (!a.causal) return s_k;
  return (int32_t)std::min<int64_t>(s_k, std::max<int64_t>(0, (int64_t)s_k - s_q + row + 1));
}

}  // namespace

void run_work_item(const mla_absorbed_args& a, const work_item& item, const thread_scratch& s, float* slot) {
  const int H = a.num_heads, Dl = a.latent_dim, Dr = a.rope_dim, D = Dl + Dr;
  // Rows whose RoPE part directly follows the latent (converted rows always;
  // f32 rows in the usual layout) are scored as one dot product of Dl + Dr.
  const bool rope_follows = a.kv.dtype != MLA_DTYPE_F32 || a.kv.rope_offset == a.kv.latent_offset + Dl;
  const int score_dim = rope_follows ? D : Dl, score_rope = rope_follows ? 0 : Dr;
  const int32_t first_row = a.cu_seqlens_q[item.seq];
  const int32_t s_q = a.cu_seqlens_q[item.seq + 1] - first_row, s_k = a.kv.seqlens_k[item.seq];
  const int pairs = item.q_count * H;

  // Queries of the tile to f32, scale folded in.
  for (int i = 0; i < item.q_count; ++i)
    for (int h = 0; h < H; ++h) {
      const int64_t at = (int64_t)(first_row + item.q_begin + i) * a.q.stride[0] + (int64_t)h * a.q.stride[1];
      float* dst = s.q + ((size_t)i * H + h) * D;
      load_run(a.q.data, a.q.dtype, at, a.q.stride[2], D, dst);
      for (int d = 0; d < D; ++d) dst[d] *= a.scale;
    }
  std::fill(s.acc, s.acc + (size_t)pairs * Dl, 0.f);
  std::fill(s.row_max, s.row_max + pairs, kNegInf);
  std::fill(s.row_sum, s.row_sum + pairs, 0.f);

  const float* lat[kRowBlock];
  const float* rope[kRowBlock];
  // t0 in int64: the last block of a range ending near INT32_MAX keys must
  // not overflow the step (key_end <= s_k <= INT32_MAX, so t0 fits int32).
  for (int64_t t0 = item.key_begin; t0 < item.key_end; t0 += kRowBlock) {
    const int n = (int)std::min<int64_t>(kRowBlock, item.key_end - t0);
    gather_rows(a, item.seq, (int32_t)t0, n, s.rows, lat, rope);
    for (int i = 0; i < item.q_count; ++i) {
      const int32_t visible = visible_keys(a, s_q, s_k, item.q_begin + i);
      const int nv = (int)std::min<int64_t>(n, std::max<int64_t>(0, visible - t0));
      if (nv == 0) continue;  // causal: this row sees none of the block
      int h = 0;
      for (; h + 2 <= H; h += 2) {
        const size_t pair = (size_t)i * H + h;
        float* scores_b = s.scores + kRowBlock;
        score_rows_2heads(s.q + pair * D, s.q + (pair + 1) * D, lat, rope, nv, score_dim, score_rope, s.scores,
                          scores_b);
        online_softmax_step_2heads(s.acc + pair * Dl, s.row_max[pair], s.row_sum[pair], s.scores,
                                   s.acc + (pair + 1) * Dl, s.row_max[pair + 1], s.row_sum[pair + 1], scores_b, lat,
                                   nv, Dl);
      }
      for (; h < H; ++h) {
        const size_t pair = (size_t)i * H + h;
        score_rows(s.q + pair * D, lat, rope, nv, score_dim, score_rope, s.scores);
        online_softmax_step(s.acc + pair * Dl, s.row_max[pair], s.row_sum[pair], s.scores, lat, nv, Dl);
      }
    }
  }

  // Normalize; a row that saw no key of this item gets o = 0, lse = -inf.
  for (int i = 0; i < item.q_count; ++i) {
    const int32_t visible = visible_keys(a, s_q, s_k, item.q_begin + i);
    const bool empty = std::min(visible, item.key_end) <= item.key_begin;
    const int64_t row = first_row + item.q_begin + i;
    for (int h = 0; h < H; ++h) {
      const size_t pair = (size_t)i * H + h;
      float* acc = s.acc + pair * Dl;
      const float inv = empty ? 0.f : 1.f / s.row_sum[pair];
      const float lse = empty ? kNegInf : s.row_max[pair] + std::log(s.row_sum[pair]);
      if (slot) {
        float* o = slot + pair * Dl;
        for (int d = 0; d < Dl; ++d) o[d] = empty ? 0.f : acc[d] * inv;
        slot[(size_t)pairs * Dl + pair] = lse;
        continue;
      }
      const int64_t at = row * a.out.stride[0] + (int64_t)h * a.out.stride[1];
      for (int d = 0; d < Dl; ++d)
        store_element(a.out.data, a.out.dtype, at + (int64_t)d * a.out.stride[2], empty ? 0.f : acc[d] * inv);
      if (a.lse.data) static_cast<float*>(a.lse.data)[row * a.lse.stride[0] + (int64_t)h * a.lse.stride[1]] = lse;
    }
  }
}

}  // namespace MLA_CPU_ISA
}  // namespace mla_cpu
