// SPDX-License-Identifier: MIT
// A random op-A problem on the CUDA plugin, checked against the fp64 oracle.
// Host side: seeded data rounded to the input dtype, a paged cache with a
// permuted block table and NaN in every row no sequence owns, outputs
// poisoned before the call and padded so that stray writes are seen.
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_values.hpp"

namespace cuda_test {

// The plugin under test (dlopen of the built libmla_backend_cuda.so).
const mla_api* plugin();
// Exits with 77 ("SKIPPED: no CUDA device") when the plugin sees no device.
void skip_without_device();

struct case_desc {
  std::vector<int> s_q, s_k;  // per sequence
  int heads = 16, latent_dim = 512, rope_dim = 64;
  int page_size = 64;
  int q_dtype = MLA_DTYPE_BF16, kv_dtype = MLA_DTYPE_BF16, out_dtype = MLA_DTYPE_BF16;
  bool causal = true;
  bool rope_first = false;  // row = [rope | latent] instead of [latent | rope]
  bool want_lse = true;
  uint64_t seed = 1;
};

using case_result = output_check;

// Tolerance on max|out - ref| / max|ref| for an output / P dtype.
double tolerance(int dtype);

// One device problem: allocate, upload, plan, run (or replay a graph), check.
class device_case {
 public:
  explicit device_case(const case_desc& d);
  ~device_case();
  device_case(const device_case&) = delete;
  device_case& operator=(const device_case&) = delete;

  // Workspace bytes the plugin asked for.
  size_t workspace_bytes() const { return ws_bytes_; }
  // plan + run on the context's stream, then download and check.
  case_result run_and_check();
  // Capture plan + run into a CUDA graph, then for each of `replays`: new q
  // uploaded outside the graph, replay, check.  Returns the worst result.
  case_result graph_replay_and_check(int replays);
  // Corrupts sequence b's index data on the device (seqlens_k past the
  // table); its rows must come out NaN, the other rows still correct.
  void corrupt_sequence(int b);

 private:
  struct impl;
  impl* m_;
  size_t ws_bytes_ = 0;
};

}  // namespace cuda_test
