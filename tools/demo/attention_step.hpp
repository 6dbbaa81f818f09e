// SPDX-License-Identifier: MIT
// One attention step of the demo engine for every layer: the engine's query
// rows for each layer (random here, as if produced by the q projection and
// W_UK absorption), one absorbed_plan for the step, then absorbed_run per
// layer on the same workspace.  Keeps host copies of q to check samples.
//
//   q[layer]   : [total_q, H, Dl+Dr]  backend memory, dtype, latent then rope
//   out[layer] : [total_q, H, Dl]     backend memory, dtype
//   lse[layer] : [total_q, H]         backend memory, f32
#pragma once
#include <mla/mla_plugin.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backend_session.hpp"
#include "oracle_sample.hpp"
#include "paged_kv_cache.hpp"
#include "random_fill.hpp"

namespace mla_tools {

struct model_shape {
  int layers = 4, heads = 16, latent_dim = 512, rope_dim = 64;
  mla_dtype dtype = MLA_DTYPE_BF16;  // q, cache and out
  double scale = 0;                  // softmax scale
};

// What attention_step (op A) and prefill_step (op B) share: each layer's
// q (kept on the host as sent, for the checks), out and lse in backend
// memory, sized for the largest batch so far; the step's query offsets; one
// workspace; the wall time of the last step.
class layer_step {
 public:
  double last_ms() const { return last_ms_; }          // plan + runs + synchronize
  size_t workspace_bytes() const { return workspace_needed_; }

 protected:
  // q rows of q_dim values per head, out rows of out_dim.
  layer_step(backend_session& session, const model_shape& model, int q_dim, int out_dim);
  // The step's batch: s_q_, cu_ and cu_dev_ for s_q, the buffers grown to its
  // rows, each layer's queries drawn from `rng` and uploaded; returns total_q.
  int64_t begin_step(const std::vector<int>& s_q, splitmix64& rng);
  // The fields both args structs have: batch, heads, the latent cache's
  // dims, total_q, the longest s_q, causal, scale, cu_seqlens_q and layer 0's cache.
  template <class Args>  // mla_absorbed_args, mla_decompressed_args
  void set_batch_args(Args& a, int64_t total_q, const paged_kv_cache& cache) const {
    const int batch = (int)s_q_.size();
    a.struct_size = sizeof(a);
    a.batch = batch;
    a.num_heads = m_.heads;
    a.latent_dim = m_.latent_dim;
    a.rope_dim = m_.rope_dim;
    a.total_q = total_q;
    a.max_seqlen_q = batch ? *std::max_element(s_q_.begin(), s_q_.end()) : 0;
    a.causal = 1;
    a.scale = (float)m_.scale;
    a.cu_seqlens_q = static_cast<const int32_t*>(cu_dev_.get());
    a.kv = cache.view(0, m_.latent_dim);
  }
  // The workspace grown to workspace_needed_ bytes (set by the caller's
  // <op>_workspace_size), and named in `a`.
  template <class Args>
  void use_workspace(Args& a) {
    if (workspace_needed_ > workspace_.bytes()) workspace_ = device_buffer(s_.memory(), workspace_needed_);
    a.workspace = workspace_.get();
    a.workspace_bytes = workspace_.bytes();
  }
  // The timed part: set_layer(0), one `op`_plan (the batch is the same for
  // every layer), then set_layer(l) and `op`_run for every layer, a
  // synchronize; last_ms_ its wall time.  false with `error` where a call fails.
  bool plan_and_run_layers(const std::string& op, const std::function<void(int)>& set_layer,
                           const std::function<mla_status()>& plan, const std::function<mla_status()>& run,
                           std::string& error);

  backend_session& s_;
  model_shape m_;
  int q_dim_, out_dim_;
  std::vector<int> s_q_, cu_;
  int64_t capacity_rows_ = 0;
  std::vector<std::vector<uint8_t>> q_host_;  // per layer, encoded as sent
  std::vector<device_buffer> q_, out_, lse_;
  device_buffer cu_dev_, workspace_;
  size_t workspace_needed_ = 0;
  double last_ms_ = 0;

 private:
  void reserve_rows(int64_t total_q);
};

class attention_step : public layer_step {
 public:
  attention_step(backend_session& session, const model_shape& model);

  // Queries of this step: s_q[b] new tokens for sequence slot b (the last
  // s_q[b] tokens of its cache).  Fills q for every layer from `rng`,
  // uploads it, then times plan + every layer's run + synchronize.
  // Returns false with `error` (the plugin's last_error()) on a failed call.
  bool run(const std::vector<int>& s_q, const paged_kv_cache& cache, splitmix64& rng, std::string& error);

  // Compares query `i` of sequence `seq` in `layer` with the fp64 oracle.
  sample_result check(int layer, int seq, int i, const paged_kv_cache& cache) const;
};

}  // namespace mla_tools
