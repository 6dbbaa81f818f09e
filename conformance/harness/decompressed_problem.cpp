// SPDX-License-Identifier: MIT
#include "decompressed_problem.hpp"

#include "low_precision.hpp"

#include <mla/mla_plugin.h>

#include <cmath>
#include <random>

namespace conformance {

const char* weight_layout_label(weight_layout w) {
  switch (w) {
    case weight_layout::per_head: return "perhead";
    case weight_layout::kv_b_proj: return "kvbproj";
    case weight_layout::transposed: return "transposed";
  }
  return "?";
}

double oracle_cost(const decompressed_case& c) {
  const absorbed_case& a = c.attention;
  double pairs = 0, keys = 0;
  for (size_t b = 0; b < a.s_q.size(); ++b) pairs += (double)a.s_q[b] * a.s_k[b], keys += a.s_k[b];
  return a.heads * (keys * a.latent_dim * (c.nope_dim + c.v_dim) +
                    pairs * (2.0 * (c.nope_dim + a.rope_dim) + c.v_dim));
}

decompressed_images build_decompressed(const decompressed_case& spec) {
  decompressed_images im;
  im.spec = spec;
  im.base = build_absorbed(spec.attention);
  const absorbed_case& c = spec.attention;
  std::mt19937_64 rng(spec.seed ^ 0xb0b0b0b0ull);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int H = c.heads, Dl = c.latent_dim, Dr = c.rope_dim, Dn = spec.nope_dim, Dv = spec.v_dim, Dq = Dn + Dr;
  const int64_t total_q = im.base.total_q;
  const double nan = std::nan("");

  oracle::decompressed_problem& p = im.logical;
  p.batch = im.base.logical.batch;
  p.heads = H;
  p.latent_dim = Dl;
  p.rope_dim = Dr;
  p.nope_dim = Dn;
  p.v_dim = Dv;
  p.causal = c.causal;
  p.scale = im.base.logical.scale;
  p.cu_seqlens_q = im.base.logical.cu_seqlens_q;
  p.seqlens_k = im.base.logical.seqlens_k;
  p.rows = im.base.logical.rows;
  p.q.resize((size_t)total_q * H * Dq);
  for (double& v : p.q) v = round_to_dtype(c.q_dtype, c.q_magnitude * normal(rng));
  // Weights of trained scale: |k|, |v| ~ |c| (N(0, 1/Dl) entries).
  const double w_scale = 1.0 / std::sqrt((double)Dl);
  p.w_uk.resize((size_t)H * Dn * Dl);
  p.w_uv.resize((size_t)H * Dv * Dl);
  for (double& v : p.w_uk) v = round_to_dtype(spec.weight_dtype, w_scale * normal(rng));
  for (double& v : p.w_uv) v = round_to_dtype(spec.weight_dtype, w_scale * normal(rng));

  // q: NaN in gaps and guards, then the elements.
  {
    const int64_t ext[3] = {total_q, H, Dq};
    const strided_layout lay = make_layout(3, ext, c.q_layout, guard_elements, spec.seed ^ 0x51ull);
    im.q.allocate(c.q_dtype, lay, 0);
    for (int64_t i = 0; i < lay.buffer_elements(); ++i) store_element(c.q_dtype, im.q.bytes.data(), i, nan);
    for (int64_t i = 0; i < (int64_t)p.q.size(); ++i)
      store_element(c.q_dtype, im.q.bytes.data(), im.q.buffer_index(i), p.q[(size_t)i]);
  }
  // out and lse: the poison pattern.
  {
    const int64_t ext[3] = {total_q, H, Dv};
    im.out.allocate(c.out_dtype, make_layout(3, ext, c.out_layout, guard_elements, spec.seed ^ 0x0aull),
                    poison_bits(c.out_dtype));
    if (c.want_lse) {
      const int64_t lext[2] = {total_q, H};
      im.lse.allocate(1 /*f32*/, make_layout(2, lext, c.out_layout, guard_elements, spec.seed ^ 0x15ull),
                      poison_bits(1));
    }
  }
  // Weights: one buffer, NaN everywhere, then the elements where the layout puts them.
  const int64_t g = guard_elements;
  int64_t span = 0;
  switch (spec.weights) {
    case weight_layout::per_head:
      im.w_uk_stride[0] = (int64_t)Dn * Dl, im.w_uk_stride[1] = Dl, im.w_uk_stride[2] = 1;
      im.w_uv_stride[0] = (int64_t)Dv * Dl, im.w_uv_stride[1] = Dl, im.w_uv_stride[2] = 1;
      im.w_uk_offset = g;
      im.w_uv_offset = g + (int64_t)H * Dn * Dl + 7;  // a NaN gap between the two
      span = im.w_uv_offset + (int64_t)H * Dv * Dl - g;
      break;
    case weight_layout::kv_b_proj:
      im.w_uk_stride[0] = im.w_uv_stride[0] = (int64_t)(Dn + Dv) * Dl;
      im.w_uk_stride[1] = im.w_uv_stride[1] = Dl;
      im.w_uk_stride[2] = im.w_uv_stride[2] = 1;
      im.w_uk_offset = g;
      im.w_uv_offset = g + (int64_t)Dn * Dl;
      span = (int64_t)H * (Dn + Dv) * Dl;
      break;
    case weight_layout::transposed:
      im.w_uk_stride[0] = (int64_t)Dl * Dn, im.w_uk_stride[1] = 1, im.w_uk_stride[2] = Dn;
      im.w_uv_stride[0] = (int64_t)Dl * Dv, im.w_uv_stride[1] = 1, im.w_uv_stride[2] = Dv;
      im.w_uk_offset = g;
      im.w_uv_offset = g + (int64_t)H * Dn * Dl;
      span = (int64_t)H * (Dn + Dv) * Dl;
      break;
  }
  const int32_t wdt = spec.weight_dtype;
  const int64_t elements = span + 2 * g;
  im.weights.assign((size_t)elements * element_bytes(wdt), 0);
  for (int64_t i = 0; i < elements; ++i) store_element(wdt, im.weights.data(), i, nan);
  for (int h = 0; h < H; ++h)
    for (int d = 0; d < Dl; ++d) {
      for (int n = 0; n < Dn; ++n)
        store_element(wdt, im.weights.data(),
                      im.w_uk_offset + h * im.w_uk_stride[0] + n * im.w_uk_stride[1] + d * im.w_uk_stride[2],
                      p.w_uk[((size_t)h * Dn + n) * Dl + d]);
      for (int v = 0; v < Dv; ++v)
        store_element(wdt, im.weights.data(),
                      im.w_uv_offset + h * im.w_uv_stride[0] + v * im.w_uv_stride[1] + d * im.w_uv_stride[2],
                      p.w_uv[((size_t)h * Dv + v) * Dl + d]);
    }
  return im;
}

absorbed_images identity_images(const decompressed_images& im) {
  absorbed_images a = im.base;
  const absorbed_case& c = im.spec.attention;
  const int H = c.heads, Dl = c.latent_dim, Dr = c.rope_dim, Dn = im.spec.nope_dim, Dq = Dn + Dr, D = Dl + Dr;
  const int64_t total_q = im.base.total_q;
  a.spec.q_dtype = a.spec.out_dtype = MLA_DTYPE_F32;
  a.spec.q_layout = a.spec.out_layout = layout_mode::contiguous;
  a.spec.want_lse = true;
  const oracle::decompressed_problem& p = im.logical;
  a.logical.q.assign((size_t)total_q * H * D, 0.0);
  for (int64_t t = 0; t < total_q; ++t)
    for (int h = 0; h < H; ++h) {
      const double* q = &p.q[((size_t)t * H + h) * Dq];
      double* qa = &a.logical.q[((size_t)t * H + h) * D];
      for (int n = 0; n < Dn; ++n)
        for (int d = 0; d < Dl; ++d) qa[d] += p.w_uk[((size_t)h * Dn + n) * Dl + d] * q[n];
      for (int d = 0; d < Dr; ++d) qa[Dl + d] = q[Dn + d];
    }
  {
    const int64_t ext[3] = {total_q, H, D};
    a.q.allocate(MLA_DTYPE_F32, make_layout(3, ext, layout_mode::contiguous, guard_elements, 0), 0);
    for (int64_t i = 0; i < (int64_t)a.logical.q.size(); ++i) {
      a.logical.q[(size_t)i] = round_to_dtype(MLA_DTYPE_F32, a.logical.q[(size_t)i]);
      store_element(MLA_DTYPE_F32, a.q.bytes.data(), a.q.buffer_index(i), a.logical.q[(size_t)i]);
    }
    const int64_t oext[3] = {total_q, H, Dl};
    a.out.allocate(MLA_DTYPE_F32, make_layout(3, oext, layout_mode::contiguous, guard_elements, 0), poison_bits(1));
    const int64_t lext[2] = {total_q, H};
    a.lse.allocate(MLA_DTYPE_F32, make_layout(2, lext, layout_mode::contiguous, guard_elements, 0), poison_bits(1));
  }
  return a;
}

}  // namespace conformance
