// SPDX-License-Identifier: MIT
#include "oracle.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace oracle {

void absorbed(const absorbed_problem& p, std::vector<double>& out, std::vector<double>& lse,
              const rounding& round_p, const rounding& round_out) {
  const int D = p.latent_dim + p.rope_dim;
  const int total_q = p.cu_seqlens_q[p.batch];
  out.assign((size_t)total_q * p.heads * p.latent_dim, 0.0);
  lse.assign((size_t)total_q * p.heads, -std::numeric_limits<double>::infinity());
  for (int b = 0; b < p.batch; ++b) {
    const int s_q = p.cu_seqlens_q[b + 1] - p.cu_seqlens_q[b], s_k = p.seqlens_k[b];
    for (int i = 0; i < s_q; ++i) {
      const int row = p.cu_seqlens_q[b] + i;
      const int visible = p.causal ? std::min(s_k, std::max(0, s_k - s_q + i + 1)) : s_k;
      for (int h = 0; h < p.heads; ++h) {
        if (visible == 0) continue;  // out = 0, lse = -inf
        const double* q = &p.q[((size_t)row * p.heads + h) * D];
        std::vector<double> s(visible);
        double m = -std::numeric_limits<double>::infinity();
        for (int t = 0; t < visible; ++t) {
          double dot = 0;
          for (int d = 0; d < D; ++d) dot += q[d] * p.rows[b][(size_t)t * D + d];
          s[t] = p.scale * dot;
          m = std::max(m, s[t]);
        }
        double sum = 0;
        for (int t = 0; t < visible; ++t) sum += std::exp(s[t] - m);
        double* o = &out[((size_t)row * p.heads + h) * p.latent_dim];
        for (int t = 0; t < visible; ++t) {
          double w = std::exp(s[t] - m) / sum;
          if (round_p) w = round_p(w);
          for (int d = 0; d < p.latent_dim; ++d) o[d] += w * p.rows[b][(size_t)t * D + d];
        }
        if (round_out)
          for (int d = 0; d < p.latent_dim; ++d) o[d] = round_out(o[d]);
        lse[(size_t)row * p.heads + h] = m + std::log(sum);
      }
    }
  }
}

void decompressed(const decompressed_problem& p, std::vector<double>& out, std::vector<double>& lse,
                  const rounding& round_kv, const rounding& round_p, const rounding& round_out, double* max_abs_v) {
  const int Dl = p.latent_dim, Dr = p.rope_dim, Dn = p.nope_dim, Dv = p.v_dim, Dq = Dn + Dr, H = p.heads;
  const int total_q = p.cu_seqlens_q[p.batch];
  out.assign((size_t)total_q * H * Dv, 0.0);
  lse.assign((size_t)total_q * H, -std::numeric_limits<double>::infinity());
  if (max_abs_v) *max_abs_v = 0;
  for (int b = 0; b < p.batch; ++b) {
    const int s_q = p.cu_seqlens_q[b + 1] - p.cu_seqlens_q[b], s_k = p.seqlens_k[b];
    const std::vector<double>& r = p.rows[b];
    for (int h = 0; h < H; ++h) {
      // Every key and value of this head, decompressed.
      std::vector<double> k((size_t)s_k * Dq), v((size_t)s_k * Dv);
      for (int t = 0; t < s_k; ++t) {
        const double* c = &r[(size_t)t * (Dl + Dr)];
        for (int n = 0; n < Dn; ++n) {
          double dot = 0;
          for (int d = 0; d < Dl; ++d) dot += p.w_uk[((size_t)h * Dn + n) * Dl + d] * c[d];
          k[(size_t)t * Dq + n] = round_kv ? round_kv(dot) : dot;
        }
        for (int d = 0; d < Dr; ++d) k[(size_t)t * Dq + Dn + d] = c[Dl + d];
        for (int j = 0; j < Dv; ++j) {
          double dot = 0;
          for (int d = 0; d < Dl; ++d) dot += p.w_uv[((size_t)h * Dv + j) * Dl + d] * c[d];
          v[(size_t)t * Dv + j] = round_kv ? round_kv(dot) : dot;
          if (max_abs_v) *max_abs_v = std::max(*max_abs_v, std::fabs(v[(size_t)t * Dv + j]));
        }
      }
      for (int i = 0; i < s_q; ++i) {
        const int row = p.cu_seqlens_q[b] + i;
        const int visible = p.causal ? std::min(s_k, std::max(0, s_k - s_q + i + 1)) : s_k;
        if (visible == 0) continue;  // out = 0, lse = -inf
        const double* q = &p.q[((size_t)row * H + h) * Dq];
        std::vector<double> s(visible);
        double m = -std::numeric_limits<double>::infinity();
        for (int t = 0; t < visible; ++t) {
          double dot = 0;
          for (int d = 0; d < Dq; ++d) dot += q[d] * k[(size_t)t * Dq + d];
          s[t] = p.scale * dot;
          m = std::max(m, s[t]);
        }
        double sum = 0;
        for (int t = 0; t < visible; ++t) sum += std::exp(s[t] - m);
        double* o = &out[((size_t)row * H + h) * Dv];
        for (int t = 0; t < visible; ++t) {
          double w = std::exp(s[t] - m) / sum;
          if (round_p) w = round_p(w);
          for (int j = 0; j < Dv; ++j) o[j] += w * v[(size_t)t * Dv + j];
        }
        if (round_out)
          for (int j = 0; j < Dv; ++j) o[j] = round_out(o[j]);
        lse[(size_t)row * H + h] = m + std::log(sum);
      }
    }
  }
}

void merge(int parts, long rows_heads, int dim, const std::vector<double>& parts_out,
           const std::vector<double>& parts_lse, std::vector<double>& out, std::vector<double>& lse) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  out.assign((size_t)rows_heads * dim, 0.0);
  lse.assign((size_t)rows_heads, neg_inf);
  for (long r = 0; r < rows_heads; ++r) {
    double m = neg_inf;
    for (int p = 0; p < parts; ++p) m = std::max(m, parts_lse[(size_t)p * rows_heads + r]);
    if (m == neg_inf) continue;  // every part empty
    double sum = 0;
    for (int p = 0; p < parts; ++p) sum += std::exp(parts_lse[(size_t)p * rows_heads + r] - m);
    lse[r] = m + std::log(sum);
    for (int p = 0; p < parts; ++p) {
      const double w = std::exp(parts_lse[(size_t)p * rows_heads + r] - lse[r]);
      for (int d = 0; d < dim; ++d) out[(size_t)r * dim + d] += w * parts_out[((size_t)p * rows_heads + r) * dim + d];
    }
  }
}

}  // namespace oracle
