// SPDX-License-Identifier: MIT
#include "demo_footprint.hpp"

#include <algorithm>
#include <cstdio>

#include "dtype_convert.hpp"

namespace mla_tools {
namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(1ull << 30));
  return buf;
}

}  // namespace

int demo_prompt_length(const demo_sizes& d, int seq) { return std::max(1, d.prompt - 29 * seq); }

int demo_refill_prompt(const demo_sizes& d) { return std::max(1, d.prompt / 4); }

paged_kv_cache::shape demo_cache_shape(const demo_sizes& d) {
  paged_kv_cache::shape cs;
  cs.layers = d.layers;
  cs.page_size = d.page_size;
  cs.row_elems = d.latent_dim + d.rope_dim;
  cs.max_seqs = d.seqs;
  const long long longest = std::max(d.prompt, demo_refill_prompt(d)) + (long long)d.steps;
  cs.max_pages_per_seq = (int)std::min<long long>((longest + d.page_size - 1) / d.page_size, 1 << 30);
  cs.num_pages = (int)std::min<long long>((long long)d.seqs * cs.max_pages_per_seq, 1 << 30);
  cs.dtype = d.dtype;
  return cs;
}

std::vector<int> demo_largest_step(const demo_sizes& d) {
  // The prefill: the mixed step's prompt / 4 + one row per other sequence
  // is never more than the prompts' prompt + at least one row each.
  std::vector<int> prefill(d.seqs);
  for (int b = 0; b < d.seqs; ++b) prefill[b] = demo_prompt_length(d, b);
  return prefill;
}

demo_footprint estimate_demo_footprint(const demo_sizes& d, size_t workspace_bytes) {
  const paged_kv_cache::shape cs = demo_cache_shape(d);
  const double elem = (double)element_bytes(d.dtype), row = d.latent_dim + d.rope_dim;
  double rows = 0;
  for (int s : demo_largest_step(d)) rows += s;
  demo_footprint f;
  f.cache_pool = (double)d.layers * cs.num_pages * cs.page_size * row * elem;
  f.cache_mirror = f.cache_pool;
  f.activations = (double)d.layers * rows * d.heads * ((row + d.latent_dim) * elem + 4);
  f.host_queries = (double)d.layers * rows * d.heads * row * elem + rows * d.heads * row * 4;
  f.workspace = (double)workspace_bytes;
  if (d.op_b) {
    // Op B's q/out/lse are smaller than op A's counted above (Dn+Dr and Dv
    // against Dl+Dr and Dl); its weights come on top.
    f.weights = (double)d.layers * d.heads * (d.nope_dim + d.v_dim) * d.latent_dim * elem;
  }
  return f;
}

std::string check_demo_footprint(const demo_footprint& f, bool host_backend, size_t backend_available,
                                 size_t host_available) {
  const std::string parts = "cache " + gib(f.cache_pool) + " + its host mirror " + gib(f.cache_mirror) +
                            ", q/out/lse " + gib(f.activations) + " + q on the host " + gib(f.host_queries) +
                            ", workspace " + gib(f.workspace) + ", op B weights " + gib(f.weights) + " (twice)";
  auto refuse = [&](double need, const char* where, size_t available) {
    return "this run needs about " + gib(need) + " of " + where + " memory (" + parts + "), but only " +
           gib((double)available) + " is available; use fewer --heads, --layers or --seqs, or a shorter --prompt";
  };
  if (host_backend) {
    const double need = f.backend() + f.host();
    if (host_available > 0 && need > (double)host_available) return refuse(need, "host", host_available);
    return "";
  }
  if (backend_available > 0 && f.backend() > (double)backend_available)
    return refuse(f.backend(), "device", backend_available);
  if (host_available > 0 && f.host() > (double)host_available) return refuse(f.host(), "host", host_available);
  return "";
}

}  // namespace mla_tools
