// SPDX-License-Identifier: MIT
#include "absorbed_problem.hpp"

#include "low_precision.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace conformance {

double oracle_cost(const absorbed_case& c) {
  double pairs = 0;
  for (size_t b = 0; b < c.s_q.size(); ++b) pairs += (double)c.s_q[b] * c.s_k[b];
  return pairs * c.heads * (2.0 * c.latent_dim + c.rope_dim);
}

absorbed_images build_absorbed(const absorbed_case& spec) {
  absorbed_images im;
  im.spec = spec;
  std::mt19937_64 rng(spec.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int B = (int)spec.s_q.size(), H = spec.heads, Dl = spec.latent_dim, Dr = spec.rope_dim, D = Dl + Dr;
  const double nan = std::nan("");

  // Ragged queries.
  im.cu_seqlens_q.assign(B + 1, 0);
  for (int b = 0; b < B; ++b) {
    im.cu_seqlens_q[b + 1] = im.cu_seqlens_q[b] + spec.s_q[b];
    im.max_seqlen_q = std::max(im.max_seqlen_q, spec.s_q[b]);
  }
  im.total_q = im.cu_seqlens_q[B];
  im.seqlens_k.assign(spec.s_k.begin(), spec.s_k.end());

  // Logical problem in double, rounded to the dtypes the backend will see.
  oracle::absorbed_problem& p = im.logical;
  p.batch = B;
  p.heads = H;
  p.latent_dim = Dl;
  p.rope_dim = Dr;
  p.causal = spec.causal;
  p.scale = (double)(float)spec.scale;  // the backend receives a float
  p.cu_seqlens_q.assign(im.cu_seqlens_q.begin(), im.cu_seqlens_q.end());
  p.seqlens_k.assign(spec.s_k.begin(), spec.s_k.end());
  p.q.resize((size_t)im.total_q * H * D);
  for (double& v : p.q) v = round_to_dtype(spec.q_dtype, spec.q_magnitude * normal(rng));
  p.rows.resize(B);
  for (int b = 0; b < B; ++b) {
    p.rows[b].resize((size_t)spec.s_k[b] * D);
    for (double& v : p.rows[b]) v = round_to_dtype(spec.cache_dtype, normal(rng));
  }

  // Queries: NaN everywhere, including gaps and guards, then the elements.
  {
    const int64_t ext[3] = {im.total_q, H, D};
    const strided_layout lay = make_layout(3, ext, spec.q_layout, guard_elements, spec.seed ^ 0x51ull);
    im.q.allocate(spec.q_dtype, lay, 0);
    for (int64_t i = 0; i < lay.buffer_elements(); ++i) store_element(spec.q_dtype, im.q.bytes.data(), i, nan);
    for (int64_t i = 0; i < (int64_t)p.q.size(); ++i)
      store_element(spec.q_dtype, im.q.bytes.data(), im.q.buffer_index(i), p.q[(size_t)i]);
  }
  // Outputs: the poison pattern everywhere.
  {
    const int64_t ext[3] = {im.total_q, H, Dl};
    im.out.allocate(spec.out_dtype, make_layout(3, ext, spec.out_layout, guard_elements, spec.seed ^ 0x0aull),
                    poison_bits(spec.out_dtype));
    if (spec.want_lse) {
      const int64_t lext[2] = {im.total_q, H};
      im.lse.allocate(1 /*f32*/, make_layout(2, lext, spec.out_layout, guard_elements, spec.seed ^ 0x15ull),
                      poison_bits(1));
    }
  }

  // Paged cache: a shuffled pool; every slot starts as NaN.
  const int ps = spec.page_size;
  std::vector<int64_t> pages_needed(B);
  int64_t total_pages = 0, max_pages = 0;
  for (int b = 0; b < B; ++b) {
    pages_needed[b] = ((int64_t)spec.s_k[b] + ps - 1) / ps;
    total_pages += pages_needed[b];
    max_pages = std::max(max_pages, pages_needed[b]);
  }
  im.num_pages = total_pages + std::max(1, spec.extra_pages);
  std::vector<int32_t> pool((size_t)im.num_pages);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), rng);
  im.unused_page = pool.back();  // never handed to a sequence
  im.row_stride = D + spec.row_pad;
  im.page_stride = (int64_t)ps * im.row_stride + (spec.row_pad ? 3 : 0);
  im.latent_offset = spec.rope_first ? Dr : 0;
  im.rope_offset = spec.rope_first ? 0 : Dl;
  const int32_t cdt = spec.cache_dtype;
  im.cache.assign((size_t)(im.num_pages * im.page_stride) * element_bytes(cdt), 0);
  for (int64_t i = 0; i < im.num_pages * im.page_stride; ++i) store_element(cdt, im.cache.data(), i, nan);

  im.block_table_stride = std::max<int64_t>(1, max_pages + (int64_t)(rng() % 3));
  im.block_table.assign((size_t)(B * im.block_table_stride), im.unused_page);
  size_t next = 0;
  for (int b = 0; b < B; ++b) {
    for (int64_t pg = 0; pg < pages_needed[b]; ++pg)
      im.block_table[(size_t)(b * im.block_table_stride + pg)] = pool[next++];
    for (int t = 0; t < spec.s_k[b]; ++t) {
      const int64_t page = im.block_table[(size_t)(b * im.block_table_stride + t / ps)];
      const int64_t row = page * im.page_stride + (int64_t)(t % ps) * im.row_stride;
      const double* r = &p.rows[b][(size_t)t * D];
      for (int d = 0; d < Dl; ++d) store_element(cdt, im.cache.data(), row + im.latent_offset + d, r[d]);
      for (int d = 0; d < Dr; ++d) store_element(cdt, im.cache.data(), row + im.rope_offset + d, r[Dl + d]);
    }
  }
  return im;
}

}  // namespace conformance
