// SPDX-License-Identifier: MIT
#include "prefill_step.hpp"

#include <algorithm>
#include <cmath>

#include <oracle.hpp>

#include "dtype_convert.hpp"
#include "tensor_desc.hpp"

namespace mla_tools {

prefill_step::prefill_step(backend_session& session, const model_shape& model, uint64_t seed)
    : layer_step(session, model, kNopeDim + model.rope_dim, kVDim), w_host_(model.layers), w_(model.layers) {
  // kv_b_proj per layer: [H][Dn+Dv][Dl], uniform scaled to variance 1/Dl (k and v of the latent's scale).
  const size_t n = (size_t)m_.heads * (kNopeDim + kVDim) * m_.latent_dim;
  std::vector<float> w(n);
  const float scale = std::sqrt(3.0f / (float)m_.latent_dim);
  for (int l = 0; l < m_.layers; ++l) {
    fill_uniform(w.data(), n, seed ^ (0x6b765f622070ull + (uint64_t)l));
    for (float& v : w) v *= scale;
    w_host_[l].resize(n * element_bytes(m_.dtype));
    encode(m_.dtype, w.data(), w_host_[l].data(), n);
    w_[l] = device_buffer(s_.memory(), w_host_[l].size());
    s_.memory().upload(w_[l].get(), w_host_[l].data(), w_host_[l].size());
  }
}

int prefill_step::break_even() const {
  const mla_caps& c = s_.caps();
  if (c.struct_size < MLA_CAPS_SIZE_1_1 || !(c.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED))) return 0;
  return c.decompressed_break_even_q;
}

bool prefill_step::run(const std::vector<int>& s_q, const paged_kv_cache& cache, splitmix64& rng,
                       std::string& error) {
  const mla_api& api = s_.api();
  if (api.struct_size < MLA_API_SIZE_1_1 || break_even() == 0)
    return error = "the " + s_.name() + " plugin has no op B (caps.ops lacks MLA_OP_DECOMPRESSED)", false;
  const int64_t total_q = begin_step(s_q, rng);
  const size_t dq = (size_t)kNopeDim + m_.rope_dim, elem = element_bytes(m_.dtype);

  mla_decompressed_args a{};
  set_batch_args(a, total_q, cache);
  a.nope_dim = kNopeDim;
  a.v_dim = kVDim;
  a.mode = MLA_DECOMPRESSED_AUTO;

  const mla_status st = api.decompressed_workspace_size(s_.context(), &a, &workspace_needed_);
  if (st != MLA_OK) return error = s_.describe_failure("decompressed_workspace_size", st), false;
  use_workspace(a);

  const int64_t head_stride = (int64_t)(kNopeDim + kVDim) * m_.latent_dim;
  auto set_layer = [&](int l) {
    a.q = make_tensor(q_[l].get(), m_.dtype, m_.heads * (int64_t)dq, (int64_t)dq, 1);
    a.w_uk = make_tensor(w_[l].get(), m_.dtype, head_stride, m_.latent_dim, 1);  // kv_b_proj, no copy
    a.w_uv = make_tensor(static_cast<uint8_t*>(w_[l].get()) + (size_t)kNopeDim * m_.latent_dim * elem, m_.dtype,
                         head_stride, m_.latent_dim, 1);
    a.out = make_tensor(out_[l].get(), m_.dtype, (int64_t)m_.heads * kVDim, kVDim, 1);
    a.lse = make_tensor(lse_[l].get(), MLA_DTYPE_F32, m_.heads, 1, 0);
    a.kv = cache.view(l, m_.latent_dim);
  };
  return plan_and_run_layers(
      "decompressed", set_layer, [&] { return api.decompressed_plan(s_.context(), &a); },
      [&] { return api.decompressed_run(s_.context(), &a); }, error);
}

sample_result prefill_step::check(int layer, int seq, const paged_kv_cache& cache) const {
  const int d = m_.latent_dim + m_.rope_dim, dq = kNopeDim + m_.rope_dim;
  const int s_q = s_q_[seq], s_k = cache.seqlen(seq);
  const size_t elem = element_bytes(m_.dtype);
  const std::vector<int> heads = m_.heads > 1 ? std::vector<int>{0, m_.heads - 1} : std::vector<int>{0};
  oracle::decompressed_problem p;
  p.batch = 1, p.heads = (int)heads.size(), p.latent_dim = m_.latent_dim, p.rope_dim = m_.rope_dim;
  p.nope_dim = kNopeDim, p.v_dim = kVDim, p.causal = true, p.scale = m_.scale;
  p.cu_seqlens_q = {0, s_q};
  p.seqlens_k = {s_k};
  std::vector<float> f(std::max<size_t>((size_t)m_.heads * dq, (size_t)(kNopeDim + kVDim) * m_.latent_dim));
  for (int i = 0; i < s_q; ++i) {
    decode(m_.dtype, q_host_[layer].data() + (size_t)(cu_[seq] + i) * m_.heads * dq * elem, f.data(),
           (size_t)m_.heads * dq);
    for (int h : heads) p.q.insert(p.q.end(), f.begin() + (size_t)h * dq, f.begin() + (size_t)(h + 1) * dq);
  }
  const size_t head_elems = (size_t)(kNopeDim + kVDim) * m_.latent_dim, nope = (size_t)kNopeDim * m_.latent_dim;
  for (int h : heads) {
    decode(m_.dtype, w_host_[layer].data() + h * head_elems * elem, f.data(), head_elems);
    p.w_uk.insert(p.w_uk.end(), f.begin(), f.begin() + nope);
    p.w_uv.insert(p.w_uv.end(), f.begin() + nope, f.begin() + head_elems);
  }
  p.rows.assign(1, std::vector<double>((size_t)s_k * d));
  for (int t = 0; t < s_k; ++t) cache.read_row(layer, seq, t, &p.rows[0][(size_t)t * d]);
  std::vector<double> want, want_lse;
  oracle::decompressed(p, want, want_lse);

  sample_result r;
  const double u = unit_roundoff(m_.dtype, m_.dtype);
  std::vector<uint8_t> raw((size_t)m_.heads * kVDim * elem);
  std::vector<float> out((size_t)m_.heads * kVDim), lse(m_.heads);
  for (int i = 0; i < s_q; ++i) {
    const int64_t row = cu_[seq] + i;
    s_.memory().download(raw.data(), static_cast<const uint8_t*>(out_[layer].get()) + row * raw.size(), raw.size());
    decode(m_.dtype, raw.data(), out.data(), out.size());
    s_.memory().download(lse.data(), static_cast<const float*>(lse_[layer].get()) + row * m_.heads,
                         lse.size() * sizeof(float));
    for (size_t k = 0; k < heads.size(); ++k) {
      const double* ref = &want[((size_t)i * heads.size() + k) * kVDim];
      double rms = 0;
      for (int v = 0; v < kVDim; ++v) rms += ref[v] * ref[v];
      rms = std::sqrt(rms / kVDim);
      for (int v = 0; v < kVDim; ++v) {
        const double got = out[(size_t)heads[k] * kVDim + v], allowed = 2 * u * (std::fabs(ref[v]) + rms) + 1e-6;
        const double ratio = std::fabs(got - ref[v]) / allowed;
        if (!(ratio <= 1.0)) {
          if (r.ok)
            r.detail = "query " + std::to_string(i) + " head " + std::to_string(heads[k]) + " element " +
                       std::to_string(v) + ": " + std::to_string(got) + " vs oracle " + std::to_string(ref[v]);
          r.ok = false;
        }
        r.worst_ratio = std::max(r.worst_ratio, std::isnan(ratio) ? INFINITY : ratio);
      }
      const double lref = want_lse[(size_t)i * heads.size() + k], lgot = lse[heads[k]];
      if (!(std::fabs(lgot - lref) <= 1e-3 * (1 + std::fabs(lref)))) {
        if (r.ok) r.detail = "query " + std::to_string(i) + " head " + std::to_string(heads[k]) + ": lse " +
                             std::to_string(lgot) + " vs oracle " + std::to_string(lref);
        r.ok = false;
      }
    }
  }
  return r;
}

}  // namespace mla_tools
