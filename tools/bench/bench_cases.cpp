// SPDX-License-Identifier: MIT
#include "bench_cases.hpp"

#include <algorithm>
#include <cmath>

#include "random_fill.hpp"

namespace mla_bench {

const std::vector<bench_case>& all_cases() {
  using o = bench_op;
  static const std::vector<bench_case> cases = {
      {"D1", o::absorbed, 128, 1, 4096, 16, false, "memory-bound"},
      {"D2", o::absorbed, 128, 1, 16384, 16, false, "memory-bound"},
      {"D3", o::absorbed, 128, 1, 4096, 128, false, "compute-bound"},
      {"D4", o::absorbed, 128, 1, 16384, 128, false, "compute-bound"},
      {"D5", o::absorbed, 1, 1, 32768, 16, false, "one long sequence"},
      {"D6", o::absorbed, 1, 1, 32768, 128, false, ""},
      {"D7", o::absorbed, 16, 1, 8192, 128, false, ""},
      {"D8", o::absorbed, 128, 2, 8192, 128, false, "multi-token prediction"},
      {"D9", o::absorbed, 64, 8, 8192, 16, false, ""},
      {"D10", o::absorbed, 128, 1, 0, 16, true, "ragged batch, s_k ~ N(8192, 4096)"},
      {"P1", o::decompressed, 1, 512, 512, 16, false, ""},
      {"P2", o::decompressed, 1, 2048, 2048, 16, false, ""},
      {"P3", o::decompressed, 1, 8192, 8192, 16, false, ""},
      {"P4", o::decompressed, 1, 16384, 16384, 16, false, ""},
      {"P5", o::decompressed, 1, 4096, 4096, 128, false, ""},
      {"P6", o::decompressed, 1, 512, 512 + 16384, 16, false, "chunked prefill"},
      {"P7", o::decompressed, 4, 2048, 2048 + 8192, 128, false, "chunked prefill, batch"},
      {"C1", o::absorbed, 1, 1, 4096, 16, false, "cpu"},
      {"C2", o::absorbed, 1, 1, 16384, 16, false, "cpu"},
      {"C3", o::absorbed, 4, 1, 4096, 128, false, "cpu"},
      {"C4", o::decompressed, 1, 512, 512, 16, false, "cpu prefill"},
      {"C5", o::decompressed, 1, 2048, 2048, 16, false, "cpu prefill"},
  };
  return cases;
}

const bench_case* find_case(const std::string& name) {
  for (const auto& c : all_cases())
    if (c.name == name) return &c;
  return nullptr;
}

bool parse_shape_name(const std::string& name, bench_case& out) {
  const char tags[4] = {'B', 'Q', 'K', 'H'};
  const long limits[4] = {65536, 65536, 1L << 24, 65536};
  long value[4] = {0, 0, 0, 0};
  size_t at = 0;
  for (int f = 0; f < 4; ++f) {
    if (f > 0 && (at >= name.size() || name[at++] != 'x')) return false;
    if (at >= name.size() || name[at++] != tags[f]) return false;
    const size_t digits_at = at;
    while (at < name.size() && name[at] >= '0' && name[at] <= '9' && at - digits_at < 9)
      value[f] = value[f] * 10 + (name[at++] - '0');
    if (at == digits_at || value[f] < 1 || value[f] > limits[f]) return false;
  }
  if (at != name.size()) return false;
  out = bench_case{name, bench_op::absorbed, (int)value[0], (int)value[1], (int)value[2], (int)value[3], false,
                   "custom shape"};
  return true;
}

std::vector<int> d10_seqlens(int batch) {
  mla_tools::splitmix64 g(0);
  std::vector<int> s(batch);
  for (int b = 0; b < batch; ++b) {
    const double v = std::round(8192.0 + 4096.0 * g.normal());
    s[b] = (int)std::min(32768.0, std::max(1.0, v));
  }
  return s;
}

std::vector<int> case_seqlens(const bench_case& c) {
  return c.ragged_d10 ? d10_seqlens(c.batch) : std::vector<int>(c.batch, c.s_k);
}

int64_t visible_keys(int s_q, int s_k, int i, bool causal) {
  if (!causal) return s_k;
  return std::min<int64_t>(s_k, std::max<int64_t>(0, (int64_t)s_k - s_q + i + 1));
}

work_counts absorbed_work(const std::vector<int>& s_q, const std::vector<int>& s_k, int heads, int latent_dim,
                          int rope_dim, bool causal, int q_elem, int cache_elem, int out_elem) {
  work_counts w;
  for (size_t b = 0; b < s_q.size(); ++b) {
    w.total_q += s_q[b];
    int64_t most = 0;
    for (int i = 0; i < s_q[b]; ++i) {
      const int64_t v = visible_keys(s_q[b], s_k[b], i, causal);
      w.visible_pairs += v;
      most = std::max(most, v);
    }
    w.rows_read += most;
  }
  const double row = latent_dim + rope_dim;
  w.bytes = double(w.rows_read) * row * cache_elem + double(w.total_q) * heads * (row * q_elem + latent_dim * out_elem);
  w.flops = 2.0 * heads * double(w.visible_pairs) * (row + latent_dim);
  w.absorbed_flops = w.flops;
  return w;
}

work_counts decompressed_work(const std::vector<int>& s_q, const std::vector<int>& s_k, int heads, int latent_dim,
                              int rope_dim, int nope_dim, int v_dim, bool causal, int q_elem, int cache_elem,
                              int out_elem) {
  work_counts w = absorbed_work(s_q, s_k, heads, latent_dim, rope_dim, causal, q_elem, cache_elem, out_elem);
  double keys = 0;
  for (int v : s_k) keys += v;
  const double row = latent_dim + rope_dim;
  w.bytes = double(w.rows_read) * row * cache_elem +
            double(w.total_q) * heads * ((nope_dim + rope_dim) * q_elem + v_dim * out_elem) +
            double(heads) * (nope_dim + v_dim) * latent_dim * q_elem;
  w.flops = 2.0 * heads * double(w.visible_pairs) * (nope_dim + rope_dim + v_dim) +
            2.0 * keys * latent_dim * heads * (nope_dim + v_dim);
  return w;
}

}  // namespace mla_bench
