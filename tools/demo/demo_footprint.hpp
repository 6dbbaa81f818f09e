// SPDX-License-Identifier: MIT
// What mla-demo will allocate, computed before it allocates anything, so
// that a run too large for the machine (say --heads 5000) is refused with a
// message instead of being killed by the OOM killer.
//
//   cache pool   : layers x num_pages x page_size x (Dl+Dr) x elem   backend
//   cache mirror : the same bytes                                    host (oracle checks)
//   q, out, lse  : layers x rows x H x ((Dl+Dr + Dl) x elem + 4)     backend, rows = largest step
//   q as sent    : layers x rows x H x (Dl+Dr) x elem, + one layer's f32 values   host
//   workspace    : the plugin's absorbed_workspace_size for the largest step      backend
//                  (+ its decompressed_workspace_size when the prefill runs op B)
//   weights      : op B's kv_b_proj per layer: layers x H x (Dn+Dv) x Dl x elem  backend, and a host copy
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <string>
#include <vector>

#include "paged_kv_cache.hpp"

namespace mla_tools {

struct demo_sizes {
  int seqs = 4, prompt = 512, steps = 32, layers = 4, heads = 16, page_size = 64;
  int latent_dim = 512, rope_dim = 64;
  int nope_dim = 128, v_dim = 128;  // op B's Dn, Dv
  bool op_b = false;                 // the prefill goes through op B (the plugin has it)
  mla_dtype dtype = MLA_DTYPE_BF16;
};

// Prompt tokens of sequence `seq` (prompt - 29*seq, at least 1), and the
// short prompt that takes sequence 0's slot halfway through the decode.
int demo_prompt_length(const demo_sizes& d, int seq);
int demo_refill_prompt(const demo_sizes& d);
// The paged cache that holds every sequence's longest life.
paged_kv_cache::shape demo_cache_shape(const demo_sizes& d);
// s_q per sequence of the step with the most query rows: the prefill.
std::vector<int> demo_largest_step(const demo_sizes& d);

struct demo_footprint {
  double cache_pool = 0, cache_mirror = 0, activations = 0, host_queries = 0, workspace = 0, weights = 0;
  double backend() const { return cache_pool + activations + workspace + weights; }
  double host() const { return cache_mirror + host_queries + weights; }
};
// `workspace_bytes`: the plugin's answer for demo_largest_step (0 if unknown).
demo_footprint estimate_demo_footprint(const demo_sizes& d, size_t workspace_bytes);

// "" when the run fits, else the refusal: what it needs, where, and what is
// available.  `host_backend`: backend memory is host memory (both counts add
// up there); an available count of 0 means unknown (never refused on it).
std::string check_demo_footprint(const demo_footprint& f, bool host_backend, size_t backend_available,
                                 size_t host_available);

}  // namespace mla_tools
