// SPDX-License-Identifier: MIT
// The fp64 oracle: docs/design.md section 2 written out plainly, sharing no code
// with any backend.  Inputs are logical, dense, already-decoded values; the
// harness does the gathering from paged caches and strided tensors.
#pragma once
#include <functional>
#include <vector>

namespace oracle {

// Rounds a value to the precision of a low-precision pipeline; identity for
// the exact oracle.  Used to estimate the error a correct kernel may have.
using rounding = std::function<double(double)>;

struct absorbed_problem {
  int batch = 0, heads = 0, latent_dim = 0, rope_dim = 0;
  bool causal = false;
  double scale = 1.0;
  std::vector<int> cu_seqlens_q;             // [batch+1]
  std::vector<int> seqlens_k;                // [batch]
  std::vector<double> q;                     // [total_q][heads][latent+rope], latent first
  std::vector<std::vector<double>> rows;     // per sequence: [s_k][latent+rope], latent first
};

// out: [total_q][heads][latent], lse: [total_q][heads] (-inf for a row that sees no key).
// `round_p` is applied to each softmax weight and `round_out` to each output.
void absorbed(const absorbed_problem& p, std::vector<double>& out, std::vector<double>& lse,
              const rounding& round_p = nullptr, const rounding& round_out = nullptr);

// Op B, decompressed prefill (docs/design.md section 2, op B), per head h:
//   k_t = [W_UK[h] c_t | kR_t],  v_t = W_UV[h] c_t,  out = softmax(scale q.k) v
// written without reference to op A (the harness checks the A<->B identity
// on the backends, not here).
struct decompressed_problem {
  int batch = 0, heads = 0, latent_dim = 0, rope_dim = 0, nope_dim = 0, v_dim = 0;
  bool causal = false;
  double scale = 1.0;
  std::vector<int> cu_seqlens_q;             // [batch+1]
  std::vector<int> seqlens_k;                // [batch]
  std::vector<double> q;                     // [total_q][heads][nope+rope], nope first
  std::vector<double> w_uk;                  // [heads][nope][latent]
  std::vector<double> w_uv;                  // [heads][v][latent]
  std::vector<std::vector<double>> rows;     // per sequence: [s_k][latent+rope], latent first
};

// out: [total_q][heads][v], lse: [total_q][heads].  `round_kv` is applied to
// each decompressed k and v element (a pipeline that stores them in a low
// precision), `round_p` to each softmax weight, `round_out` to each output.
// `max_abs_v` (optional) receives max |v| over every decompressed value.
void decompressed(const decompressed_problem& p, std::vector<double>& out, std::vector<double>& lse,
                  const rounding& round_kv = nullptr, const rounding& round_p = nullptr,
                  const rounding& round_out = nullptr, double* max_abs_v = nullptr);

// Merge of partial states. parts_out: [parts][rows*heads][dim], parts_lse: [parts][rows*heads].
void merge(int parts, long rows_heads, int dim, const std::vector<double>& parts_out,
           const std::vector<double>& parts_lse, std::vector<double>& out, std::vector<double>& lse);

}  // namespace oracle
