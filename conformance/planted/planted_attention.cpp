// SPDX-License-Identifier: MIT
#include "planted_attention.hpp"

#include "planted_elements.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <thread>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace planted {
namespace {

float round_bf16(float v) {
  uint16_t bits = 0;
  store(&bits, MLA_DTYPE_BF16, 0, v);
  return load(&bits, MLA_DTYPE_BF16, 0);
}

}  // namespace

namespace {

struct scratch {
  std::vector<float> q, scores, acc;
};

// One (row, head) pair of sequence `seq`.
void attend_pair(const mla_absorbed_args& a, bug b, bool reverse_keys, int32_t seq, int32_t i, int h,
                 scratch& sc) {
  const int Dl = a.latent_dim, Dr = a.rope_dim, D = Dl + Dr, H = a.num_heads;
  const mla_paged_cache& kv = a.kv;
  const float scale = b == bug::wrong_scale ? 1.0f / std::sqrt((float)D) : a.scale;
  const bool dense = b == bug::ignore_strides;
  const int64_t qs0 = dense ? (int64_t)H * D : a.q.stride[0], qs1 = dense ? D : a.q.stride[1],
                qs2 = dense ? 1 : a.q.stride[2];
  const int64_t os0 = dense ? (int64_t)H * Dl : a.out.stride[0], os1 = dense ? Dl : a.out.stride[1],
                os2 = dense ? 1 : a.out.stride[2];
  const int32_t q0 = a.cu_seqlens_q[seq], s_q = a.cu_seqlens_q[seq + 1] - q0, s_k = kv.seqlens_k[seq];
  const int64_t pages = ((int64_t)s_k + kv.page_size - 1) / kv.page_size;
  auto row_of = [&](int64_t t) {
    const int64_t page = kv.block_table[seq * kv.block_table_stride + t / kv.page_size];
    return page * kv.page_stride + (t % kv.page_size) * kv.row_stride;
  };
  int64_t visible = a.causal ? std::max<int64_t>(0, std::min<int64_t>(s_k, (int64_t)s_k - s_q + i + 1)) : s_k;
  if (b == bug::drop_last_page && pages > 1) visible = std::min(visible, (pages - 1) * kv.page_size);
  if (b == bug::read_past_seqlen && visible > 0) visible += pages * kv.page_size - s_k;
  const int64_t row = q0 + i;
  std::vector<float>&q = sc.q, &scores = sc.scores, &acc = sc.acc;
  q.resize(D);
  acc.resize(Dl);
  for (int d = 0; d < D; ++d) q[d] = load(a.q.data, a.q.dtype, row * qs0 + h * qs1 + d * qs2);
  float m = -std::numeric_limits<float>::infinity();
  scores.assign((size_t)visible, 0.0f);
  for (int64_t t = 0; t < visible; ++t) {
    const int64_t base = row_of(t);
    float dot = 0;
    for (int d = 0; d < Dl; ++d) dot += q[d] * load(kv.data, kv.dtype, base + kv.latent_offset + d);
    for (int d = 0; d < Dr; ++d) dot += q[Dl + d] * load(kv.data, kv.dtype, base + kv.rope_offset + d);
    scores[(size_t)t] = scale * dot;
    m = std::max(m, scores[(size_t)t]);
  }
  float sum = 0;
  std::fill(acc.begin(), acc.end(), 0.0f);
  for (int64_t k = 0; k < visible; ++k) {
    const int64_t t = reverse_keys ? visible - 1 - k : k;
    float p = std::exp(scores[(size_t)t] - m);
    sum += p;
    if (b == bug::bf16_weights) p = round_bf16(p);
    const int64_t base = row_of(t) + kv.latent_offset;
    for (int d = 0; d < Dl; ++d) acc[d] += p * load(kv.data, kv.dtype, base + d);
  }
  const int64_t o = row * os0 + h * os1;
  const int last = b == bug::write_past_output ? Dl : Dl - 1;  // the off-by-one
  for (int d = 0; d <= last; ++d) store(a.out.data, a.out.dtype, o + d * os2, visible && d < Dl ? acc[d] / sum : 0.0f);
  if (a.lse.data) {
    float lse = visible ? m + std::log(sum) : -std::numeric_limits<float>::infinity();
    if (b == bug::wrong_lse) lse /= std::log(2.0f);
    static_cast<float*>(a.lse.data)[row * a.lse.stride[0] + h * a.lse.stride[1]] = lse;
  }
}

}  // namespace

void absorbed_attention(const mla_absorbed_args& a, bug b, bool reverse_keys, int threads) {
  // Every (sequence, query, head) pair, in order; worker w takes pairs w, w + T, ...
  std::vector<std::array<int32_t, 3>> pairs;
  for (int32_t seq = 0; seq < a.batch; ++seq)
    for (int32_t i = 0; i < a.cu_seqlens_q[seq + 1] - a.cu_seqlens_q[seq]; ++i)
      for (int h = 0; h < a.num_heads; ++h) pairs.push_back({seq, i, h});
  const int T = std::max(1, std::min<int>(threads, (int)pairs.size()));
  std::vector<scratch> own(T);
  scratch shared;
  auto work = [&](int w) {
    scratch& sc = b == bug::data_race ? shared : own[w];  // the bug: one scratch for every worker
    for (size_t k = (size_t)w; k < pairs.size(); k += (size_t)T) attend_pair(a, b, reverse_keys, pairs[k][0], pairs[k][1], pairs[k][2], sc);
  };
  if (b == bug::data_race) {  // sized once up front, so the race corrupts values, never frees memory in use
    int64_t most_keys = 0;
    for (int32_t seq = 0; seq < a.batch; ++seq) most_keys = std::max<int64_t>(most_keys, a.kv.seqlens_k[seq]);
    shared.q.resize((size_t)a.latent_dim + a.rope_dim);
    shared.acc.resize((size_t)a.latent_dim);
    shared.scores.reserve((size_t)most_keys);
  }
  std::vector<std::thread> workers;
  for (int w = 1; w < T; ++w) workers.emplace_back(work, w);
  work(0);
  for (std::thread& t : workers) t.join();
}

void merge_states(const mla_merge_args& a) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  std::vector<float> acc(a.head_dim);
  for (int64_t r = 0; r < a.num_rows; ++r)
    for (int h = 0; h < a.num_heads; ++h) {
      auto part_lse = [&](int p) {
        return static_cast<const float*>(a.parts_lse.data)[p * a.parts_lse.stride[0] + r * a.parts_lse.stride[1] +
                                                           h * a.parts_lse.stride[2]];
      };
      float m = neg_inf;
      for (int p = 0; p < a.num_parts; ++p) m = std::max(m, part_lse(p));
      float lse = neg_inf;
      std::fill(acc.begin(), acc.end(), 0.0f);
      if (m != neg_inf) {
        float sum = 0;
        for (int p = 0; p < a.num_parts; ++p) sum += std::exp(part_lse(p) - m);
        lse = m + std::log(sum);
        for (int p = 0; p < a.num_parts; ++p) {
          const float w = std::exp(part_lse(p) - lse);
          if (w == 0.0f) continue;  // an empty part contributes nothing (and may hold anything)
          const int64_t base = p * a.parts_out.stride[0] + r * a.parts_out.stride[1] + h * a.parts_out.stride[2];
          for (int d = 0; d < a.head_dim; ++d)
            acc[d] += w * load(a.parts_out.data, a.parts_out.dtype, base + d * a.parts_out.stride[3]);
        }
      }
      const int64_t o = r * a.out.stride[0] + h * a.out.stride[1];
      for (int d = 0; d < a.head_dim; ++d) store(a.out.data, a.out.dtype, o + d * a.out.stride[2], acc[d]);
      if (a.lse.data) static_cast<float*>(a.lse.data)[r * a.lse.stride[0] + h * a.lse.stride[1]] = lse;
    }
}

}  // namespace planted
