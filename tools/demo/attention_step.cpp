// SPDX-License-Identifier: MIT
#include "attention_step.hpp"

#include <algorithm>
#include <chrono>

#include "dtype_convert.hpp"
#include "tensor_desc.hpp"

namespace mla_tools {

layer_step::layer_step(backend_session& session, const model_shape& model, int q_dim, int out_dim)
    : s_(session), m_(model), q_dim_(q_dim), out_dim_(out_dim), q_host_(model.layers), q_(model.layers),
      out_(model.layers), lse_(model.layers) {}

void layer_step::reserve_rows(int64_t total_q) {
  if (total_q <= capacity_rows_) return;
  // Allocation happens here, outside the timed part, as an engine sizes its
  // activation buffers for the largest batch it will run.
  const size_t elem = element_bytes(m_.dtype);
  for (int l = 0; l < m_.layers; ++l) {
    q_[l] = device_buffer(s_.memory(), (size_t)total_q * m_.heads * q_dim_ * elem);
    out_[l] = device_buffer(s_.memory(), (size_t)total_q * m_.heads * out_dim_ * elem);
    lse_[l] = device_buffer(s_.memory(), (size_t)total_q * m_.heads * sizeof(float));
  }
  capacity_rows_ = total_q;
}

int64_t layer_step::begin_step(const std::vector<int>& s_q, splitmix64& rng) {
  const int batch = (int)s_q.size();
  s_q_ = s_q;
  cu_.assign(batch + 1, 0);
  for (int b = 0; b < batch; ++b) cu_[b + 1] = cu_[b] + s_q[b];
  const int64_t total_q = cu_[batch];
  reserve_rows(std::max<int64_t>(total_q, 1));
  if (!cu_dev_.get() || cu_dev_.bytes() < cu_.size() * sizeof(int32_t))
    cu_dev_ = device_buffer(s_.memory(), cu_.size() * sizeof(int32_t));
  s_.memory().upload(cu_dev_.get(), cu_.data(), cu_.size() * sizeof(int32_t));

  const size_t q_elems = (size_t)total_q * m_.heads * q_dim_;
  std::vector<float> values(q_elems);
  for (int l = 0; l < m_.layers; ++l) {
    fill_uniform(values.data(), q_elems, rng.next());
    q_host_[l].resize(q_elems * element_bytes(m_.dtype));
    encode(m_.dtype, values.data(), q_host_[l].data(), q_elems);
    s_.memory().upload(q_[l].get(), q_host_[l].data(), q_host_[l].size());
  }
  return total_q;
}

bool layer_step::plan_and_run_layers(const std::string& op, const std::function<void(int)>& set_layer,
                                     const std::function<mla_status()>& plan, const std::function<mla_status()>& run,
                                     std::string& error) {
  set_layer(0);  // the plan is made with layer 0's tensors (it validates every argument)
  const auto t0 = std::chrono::steady_clock::now();
  mla_status st = plan();
  if (st != MLA_OK) return error = s_.describe_failure((op + "_plan").c_str(), st), false;
  for (int l = 0; l < m_.layers; ++l) {
    set_layer(l);
    st = run();
    if (st != MLA_OK) return error = s_.describe_failure((op + "_run").c_str(), st), false;
  }
  try {
    s_.memory().synchronize();
  } catch (const std::exception& e) {
    return error = "synchronize after " + op + "_run: " + e.what(), false;
  }
  last_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return true;
}

attention_step::attention_step(backend_session& session, const model_shape& model)
    : layer_step(session, model, model.latent_dim + model.rope_dim, model.latent_dim) {}

bool attention_step::run(const std::vector<int>& s_q, const paged_kv_cache& cache, splitmix64& rng,
                         std::string& error) {
  const int64_t total_q = begin_step(s_q, rng);
  const size_t d = (size_t)m_.latent_dim + m_.rope_dim;

  mla_absorbed_args a{};
  set_batch_args(a, total_q, cache);

  const mla_api& api = s_.api();
  const mla_status st = api.absorbed_workspace_size(s_.context(), &a, &workspace_needed_);
  if (st != MLA_OK) return error = s_.describe_failure("absorbed_workspace_size", st), false;
  use_workspace(a);

  // Layer l's tensors.
  auto set_layer = [&](int l) {
    a.q = make_tensor(q_[l].get(), m_.dtype, m_.heads * (int64_t)d, (int64_t)d, 1);
    a.out = make_tensor(out_[l].get(), m_.dtype, (int64_t)m_.heads * m_.latent_dim, m_.latent_dim, 1);
    a.lse = make_tensor(lse_[l].get(), MLA_DTYPE_F32, m_.heads, 1, 0);
    a.kv = cache.view(l, m_.latent_dim);
  };
  return plan_and_run_layers(
      "absorbed", set_layer, [&] { return api.absorbed_plan(s_.context(), &a); },
      [&] { return api.absorbed_run(s_.context(), &a); }, error);
}

sample_result attention_step::check(int layer, int seq, int i, const paged_kv_cache& cache) const {
  const int d = m_.latent_dim + m_.rope_dim;
  const int s_q = s_q_[seq], s_k = cache.seqlen(seq);
  const int visible = std::min(s_k, std::max(0, s_k - s_q + i + 1));  // causal, bottom-right aligned
  const int64_t row = cu_[seq] + i;
  const size_t elem = element_bytes(m_.dtype);

  std::vector<float> qf((size_t)m_.heads * d);
  decode(m_.dtype, q_host_[layer].data() + (size_t)row * m_.heads * d * elem, qf.data(), qf.size());
  std::vector<double> q(qf.begin(), qf.end());
  std::vector<double> keys((size_t)visible * d);
  for (int t = 0; t < visible; ++t) cache.read_row(layer, seq, t, &keys[(size_t)t * d]);

  std::vector<uint8_t> raw((size_t)m_.heads * m_.latent_dim * elem);
  s_.memory().download(raw.data(), static_cast<const uint8_t*>(out_[layer].get()) + row * raw.size(), raw.size());
  std::vector<float> out((size_t)m_.heads * m_.latent_dim), lse(m_.heads);
  decode(m_.dtype, raw.data(), out.data(), out.size());
  s_.memory().download(lse.data(), static_cast<const float*>(lse_[layer].get()) + row * m_.heads,
                       lse.size() * sizeof(float));
  return check_query_row(m_.heads, m_.latent_dim, m_.rope_dim, m_.scale, q, keys, visible, out.data(), lse.data(),
                         m_.dtype, m_.dtype);
}

}  // namespace mla_tools
