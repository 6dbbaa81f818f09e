// SPDX-License-Identifier: MIT
// The planted plugin's op B, its own small host implementation (f32
// accumulation; not the cpu plugin's code), with the op B bug switches.
#include "planted_attention.hpp"

#include "planted_elements.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

namespace planted {
namespace {

struct view {
  const mla_decompressed_args& a;
  int Dl, Dr, Dn, Dv;
  // Head h of a weight tensor as f32 [rows][Dl].
  std::vector<float> weights(const mla_tensor& t, int h, int rows) const {
    std::vector<float> w((size_t)rows * Dl);
    for (int r = 0; r < rows; ++r)
      for (int d = 0; d < Dl; ++d)
        w[(size_t)r * Dl + d] = load(t.data, t.dtype, h * t.stride[0] + r * t.stride[1] + d * t.stride[2]);
    return w;
  }
  float q(int64_t row, int h, int d) const {
    return load(a.q.data, a.q.dtype, row * a.q.stride[0] + h * a.q.stride[1] + d * a.q.stride[2]);
  }
  int64_t row_at(int32_t seq, int64_t t) const {
    const mla_paged_cache& kv = a.kv;
    const int64_t page = kv.block_table[seq * kv.block_table_stride + t / kv.page_size];
    return page * kv.page_stride + (t % kv.page_size) * kv.row_stride;
  }
  float c(int32_t seq, int64_t t, int d) const { return load(a.kv.data, a.kv.dtype, row_at(seq, t) + a.kv.latent_offset + d); }
  float r(int32_t seq, int64_t t, int d) const { return load(a.kv.data, a.kv.dtype, row_at(seq, t) + a.kv.rope_offset + d); }
  void put(int64_t row, int h, const std::vector<float>& o, float lse) const {
    for (int d = 0; d < Dv; ++d)
      store(a.out.data, a.out.dtype, row * a.out.stride[0] + h * a.out.stride[1] + d * a.out.stride[2], o[d]);
    if (a.lse.data) static_cast<float*>(a.lse.data)[row * a.lse.stride[0] + h * a.lse.stride[1]] = lse;
  }
};

// a . b over n elements in eight partial sums (vectorizes without fast-math).
float dot(const float* a, const float* b, int n) {
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int d = 0;
  for (; d + 8 <= n; d += 8)
    for (int j = 0; j < 8; ++j) part[j] += a[d + j] * b[d + j];
  float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; d < n; ++d) sum += a[d] * b[d];
  return sum;
}

// Softmax over `scores`, weighting rows of `values` (n x dim): o, and the lse.
float attend(const std::vector<float>& scores, const std::vector<float>& values, int dim, std::vector<float>& o) {
  o.assign(dim, 0.f);
  if (scores.empty()) return -std::numeric_limits<float>::infinity();
  const float m = *std::max_element(scores.begin(), scores.end());
  float sum = 0;
  for (size_t t = 0; t < scores.size(); ++t) {
    const float p = std::exp(scores[t] - m);
    sum += p;
    for (int d = 0; d < dim; ++d) o[d] += p * values[t * dim + d];
  }
  for (float& x : o) x /= sum;
  return m + std::log(sum);
}

// Decompressed form of (seq, head): every key's k and v, then each row.
void decompressed_head(const view& v, bug b, int32_t seq, int h) {
  const mla_decompressed_args& a = v.a;
  const int Dq = v.Dn + v.Dr;
  const int32_t q0 = a.cu_seqlens_q[seq], s_q = a.cu_seqlens_q[seq + 1] - q0, s_k = a.kv.seqlens_k[seq];
  std::vector<float> k((size_t)s_k * Dq), val((size_t)s_k * v.Dv), c(v.Dl);
  const std::vector<float> w_uk = v.weights(a.w_uk, h, v.Dn), w_uv = v.weights(a.w_uv, h, v.Dv);
  for (int32_t t = 0; t < s_k; ++t) {
    for (int d = 0; d < v.Dl; ++d) c[d] = v.c(seq, t, d);
    for (int n = 0; n < v.Dn; ++n) k[(size_t)t * Dq + n] = dot(&w_uk[(size_t)n * v.Dl], c.data(), v.Dl);
    for (int d = 0; d < v.Dr; ++d) k[(size_t)t * Dq + v.Dn + d] = v.r(seq, t, d);
    for (int j = 0; j < v.Dv; ++j) val[(size_t)t * v.Dv + j] = dot(&w_uv[(size_t)j * v.Dl], c.data(), v.Dl);
  }
  const int scored = b == bug::opb_no_rope ? v.Dn : Dq;  // the bug: RoPE left out
  std::vector<float> q(Dq), scores, o;
  for (int32_t i = 0; i < s_q; ++i) {
    const int32_t visible = a.causal ? std::max(0, std::min(s_k, s_k - s_q + i + 1)) : s_k;
    for (int d = 0; d < Dq; ++d) q[d] = v.q(q0 + i, h, d);
    scores.assign((size_t)visible, 0.f);
    for (int32_t t = 0; t < visible; ++t) scores[t] = a.scale * dot(q.data(), &k[(size_t)t * Dq], scored);
    const float lse = attend(scores, val, v.Dv, o);
    v.put(q0 + i, h, o, lse);
  }
}

// Absorbed form of (seq, head): per row, q~ = [W_UK^T q_nope | q_rope],
// attention over the latent rows, then W_UV.
void absorbed_head(const view& v, int32_t seq, int h) {
  const mla_decompressed_args& a = v.a;
  const int D = v.Dl + v.Dr;
  const int32_t q0 = a.cu_seqlens_q[seq], s_q = a.cu_seqlens_q[seq + 1] - q0, s_k = a.kv.seqlens_k[seq];
  std::vector<float> rows((size_t)s_k * D), lat((size_t)s_k * v.Dl);
  for (int32_t t = 0; t < s_k; ++t) {
    for (int d = 0; d < v.Dl; ++d) rows[(size_t)t * D + d] = lat[(size_t)t * v.Dl + d] = v.c(seq, t, d);
    for (int d = 0; d < v.Dr; ++d) rows[(size_t)t * D + v.Dl + d] = v.r(seq, t, d);
  }
  std::vector<float> qa(D), scores, oa, o(v.Dv);
  const std::vector<float> w_uk = v.weights(a.w_uk, h, v.Dn), w_uv = v.weights(a.w_uv, h, v.Dv);
  for (int32_t i = 0; i < s_q; ++i) {
    const int32_t visible = a.causal ? std::max(0, std::min(s_k, s_k - s_q + i + 1)) : s_k;
    std::fill(qa.begin(), qa.end(), 0.f);
    for (int n = 0; n < v.Dn; ++n) {
      const float x = v.q(q0 + i, h, n);
      for (int d = 0; d < v.Dl; ++d) qa[d] += w_uk[(size_t)n * v.Dl + d] * x;
    }
    for (int d = 0; d < v.Dr; ++d) qa[v.Dl + d] = v.q(q0 + i, h, v.Dn + d);
    scores.assign((size_t)visible, 0.f);
    for (int32_t t = 0; t < visible; ++t) scores[t] = a.scale * dot(qa.data(), &rows[(size_t)t * D], D);
    const float lse = attend(scores, lat, v.Dl, oa);
    for (int j = 0; j < v.Dv; ++j) o[j] = dot(&w_uv[(size_t)j * v.Dl], oa.data(), v.Dl);
    v.put(q0 + i, h, o, lse);
  }
}

}  // namespace

void decompressed_attention(const mla_decompressed_args& a, bug b, int threads, int32_t break_even) {
  const view v{a, a.latent_dim, a.rope_dim, a.nope_dim, a.v_dim};
  std::vector<std::pair<int32_t, int>> units;  // (sequence, head)
  for (int32_t seq = 0; seq < a.batch; ++seq)
    if (a.cu_seqlens_q[seq + 1] > a.cu_seqlens_q[seq])
      for (int h = 0; h < a.num_heads; ++h) units.push_back({seq, h});
  auto decompressed = [&](int32_t seq) {
    const int32_t s_q = a.cu_seqlens_q[seq + 1] - a.cu_seqlens_q[seq];
    if (a.mode == MLA_DECOMPRESSED_FORCE) return true;
    if (a.mode == MLA_DECOMPRESSED_FORCE_ABSORBED) return false;
    const bool above = s_q >= break_even;
    return b == bug::opb_auto_inverted ? !above : above;  // the bug: the rule inverted
  };
  const int T = std::max(1, std::min<int>(threads, (int)units.size()));
  auto work = [&](int w) {
    for (size_t k = (size_t)w; k < units.size(); k += (size_t)T) {
      if (decompressed(units[k].first)) decompressed_head(v, b, units[k].first, units[k].second);
      else absorbed_head(v, units[k].first, units[k].second);
    }
  };
  std::vector<std::thread> workers;
  for (int w = 1; w < T; ++w) workers.emplace_back(work, w);
  work(0);
  for (std::thread& t : workers) t.join();
}

}  // namespace planted
