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

#include <cstdint>
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

class attention_step {
 public:
  attention_step(backend_session& session, const model_shape& model);

  // Queries of this step: s_q[b] new tokens for sequence slot b (the last
  // s_q[b] tokens of its cache).  Fills q for every layer from `rng`,
  // uploads it, then times plan + every layer's run + synchronize.
  // Returns false with `error` (the plugin's last_error()) on a failed call.
  bool run(const std::vector<int>& s_q, const paged_kv_cache& cache, splitmix64& rng, std::string& error);

  // Compares query `i` of sequence `seq` in `layer` with the fp64 oracle.
  sample_result check(int layer, int seq, int i, const paged_kv_cache& cache) const;

  double last_ms() const { return last_ms_; }          // plan + runs + synchronize
  size_t workspace_bytes() const { return workspace_needed_; }

 private:
  void reserve_rows(int64_t total_q);
  backend_session& s_;
  model_shape m_;
  std::vector<int> s_q_, cu_;
  int64_t capacity_rows_ = 0;
  std::vector<std::vector<uint8_t>> q_host_;  // per layer, encoded as sent
  std::vector<device_buffer> q_, out_, lse_;
  device_buffer cu_dev_, workspace_;
  size_t workspace_needed_ = 0;
  double last_ms_ = 0;
};

}  // namespace mla_tools
