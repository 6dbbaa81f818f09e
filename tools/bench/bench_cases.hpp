// SPDX-License-Identifier: MIT
// The standard measurement shapes of docs/shapes.md (D1-D10,
// P1-P7, C1-C5) and the byte and FLOP counts every table reports.
// All cases: page size 64, causal, Dl = 512, Dr = 64, scale = 1/sqrt(192).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mla_bench {

enum class bench_op {
  absorbed,     // op A
  decompressed  // op B, decompressed prefill (ABI 1.1): skipped on plugins without it
};

struct bench_case {
  std::string name;
  bench_op op = bench_op::absorbed;
  int batch = 1;
  int s_q = 1;             // new query tokens per sequence
  int s_k = 0;             // keys per sequence (cached before + new), unless ragged
  int heads = 16;
  bool ragged_d10 = false;  // s_k per sequence from d10_seqlens()
  std::string note;
};

const std::vector<bench_case>& all_cases();
const bench_case* find_case(const std::string& name);  // nullptr if unknown

// A shape outside the catalogue, named "B<batch>xQ<s_q>xK<s_k>xH<heads>"
// (e.g. B16xQ1xK32768xH16: op A, page 64, causal like the D cases).  False,
// leaving `out` alone, when the name is not of that form or a field is out
// of range (batch, s_q, heads in [1, 65536]; s_k in [1, 1 << 24]).
bool parse_shape_name(const std::string& name, bench_case& out);

// D10's ragged s_k, the documented generator: splitmix64 seeded with 0, each
// s_k = round(8192 + 4096 * z) clipped to [1, 32768], z a standard normal from
// Box-Muller (cosine branch) of two consecutive uniforms (top 53 bits of a draw).
std::vector<int> d10_seqlens(int batch);

// s_k of every sequence of a case.
std::vector<int> case_seqlens(const bench_case& c);

// Keys query i of s_q sees among s_k: causal is bottom-right aligned.
int64_t visible_keys(int s_q, int s_k, int i, bool causal);

struct work_counts {
  int64_t total_q = 0;
  int64_t rows_read = 0;      // cache rows any query of the sequence sees
  int64_t visible_pairs = 0;  // (query, key) pairs inside the mask
  double bytes = 0;           // rows_read*(Dl+Dr)*cache_elem + q bytes + out bytes
  double flops = 0;           // op A: 2*H*pairs*(Dl+Dr + Dl); op B: see decompressed_work
  double absorbed_flops = 0;  // 2*H*pairs*(Dl+Dr + Dl): the absorbed form's work (ggml counts this)
};
work_counts absorbed_work(const std::vector<int>& s_q, const std::vector<int>& s_k, int heads, int latent_dim,
                          int rope_dim, bool causal, int q_elem, int cache_elem, int out_elem);
// Op B (docs/shapes.md): flops = 2*H*pairs*(Dn+Dr + Dv) + the decompression
// GEMMs 2*keys*Dl*H*(Dn+Dv) (every key of every sequence expanded once);
// bytes = rows read + q (Dn+Dr) + out (Dv) + the weights H*(Dn+Dv)*Dl.
work_counts decompressed_work(const std::vector<int>& s_q, const std::vector<int>& s_k, int heads, int latent_dim,
                              int rope_dim, int nope_dim, int v_dim, bool causal, int q_elem, int cache_elem,
                              int out_elem);

}  // namespace mla_bench
