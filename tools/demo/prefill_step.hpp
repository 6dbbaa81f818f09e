// SPDX-License-Identifier: MIT
// The demo engine's prefill through op B, as an engine with DeepSeek's
// weights runs it: each layer's unabsorbed queries and its kv_b_proj weights
// (W_UK and W_UV of every head, one [H*(Dn+Dv), Dl] matrix passed without a
// copy), one decompressed_plan for the step in MLA_DECOMPRESSED_AUTO (the
// plugin picks the form per sequence by its break-even), then
// decompressed_run per layer on the same workspace.
//
//   q[layer]       : [total_q, H, Dn+Dr]   backend memory, dtype, non-RoPE then RoPE
//   kv_b_proj[l]   : [H, Dn+Dv, Dl]        backend memory, dtype (w_uk / w_uv views)
//   out[layer]     : [total_q, H, Dv]      backend memory, dtype
//   lse[layer]     : [total_q, H]          backend memory, f32
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attention_step.hpp"
#include "backend_session.hpp"
#include "oracle_sample.hpp"
#include "paged_kv_cache.hpp"
#include "random_fill.hpp"

namespace mla_tools {

class prefill_step : public layer_step {
 public:
  // Dn = Dv = 128 (DeepSeek); the weights are drawn once from `seed`.
  prefill_step(backend_session& session, const model_shape& model, uint64_t seed);

  // As attention_step::run, through op B in AUTO mode.
  bool run(const std::vector<int>& s_q, const paged_kv_cache& cache, splitmix64& rng, std::string& error);

  // Every query row of sequence `seq` in `layer`, heads 0 and H-1, against
  // the fp64 oracle (the tolerance of oracle_sample.hpp, relative to the
  // head's values).
  sample_result check(int layer, int seq, const paged_kv_cache& cache) const;

  int break_even() const;  // caps.decompressed_break_even_q (0: the plugin has no op B)

  static constexpr int kNopeDim = 128, kVDim = 128;

 private:
  std::vector<std::vector<uint8_t>> w_host_;  // per layer, encoded as sent
  std::vector<device_buffer> w_;
};

}  // namespace mla_tools
