// SPDX-License-Identifier: MIT
// mla-demo: libmla used exactly as a host inference engine uses it.
//
// Loads a backend through the loader (MLA_BACKEND / --backend), builds a
// DeepSeek-V2-Lite-shaped attention workload (H = 16, Dl = 512, Dr = 64,
// paged latent cache with 64-token pages, bf16) and runs:
//   1. prefill: every sequence's prompt (seq b has prompt - 29*b tokens, so
//      pages are partly filled) through one causal op B step in
//      MLA_DECOMPRESSED_AUTO (unabsorbed queries, each layer's kv_b_proj
//      weights; the plugin picks the form per sequence by its break-even),
//      or through op A where the plugin has no op B;
//   2. decode: --steps steps of one new token per sequence; each step takes
//      new pages from the free list when a sequence crosses a page, plans
//      once and runs every layer with that plan.  Halfway, sequence 0 ends,
//      its pages return to the free list and a new request with a short
//      prompt takes its slot (a mixed step with ragged s_q).
// Sampled query rows are checked against the fp64 oracle after each step
// (tolerance in oracle_sample.hpp).  Exit status: 0 all good, 1 a mismatch,
// 2 an error (bad option or a failed libmla call, with its message).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "attention_step.hpp"
#include "backend_session.hpp"
#include "demo_footprint.hpp"
#include "dtype_convert.hpp"
#include "paged_kv_cache.hpp"
#include "prefill_step.hpp"
#include "random_fill.hpp"
#include "tensor_desc.hpp"
#include "tool_cli.hpp"

namespace {

using namespace mla_tools;

struct demo_options {
  std::string backend;  // empty: MLA_BACKEND
  int device = 0, seqs = 4, prompt = 512, steps = 32, layers = 4, heads = 16, page_size = 64;
  std::string dtype_name = "bf16";
  mla_dtype dtype = MLA_DTYPE_BF16;  // from dtype_name after parsing
  uint64_t seed = 1;
  int host_pool = 0;  // > 0: the cpu plugin's calls run on a pool of this many host threads
};

void add_demo_options(CLI::App& app, demo_options& o) {
  app.description(
      "mla-demo: libmla used as a host inference engine uses it: a DeepSeek-V2-Lite-shaped prefill and decode on "
      "a paged latent cache, checked against the fp64 oracle.  Exit status: 0 all good, 1 an oracle mismatch, "
      "2 an error (a bad option, too little memory, a failed libmla call).");
  const CLI::Range positive(1, 1000000);
  app.add_option("--backend", o.backend, "plugin name, list or auto (default: $MLA_BACKEND, else auto)");
  app.add_option("--device", o.device, "GPU ordinal")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  app.add_option("--seqs", o.seqs, "sequences decoded together")->check(positive)->capture_default_str();
  app.add_option("--prompt", o.prompt, "prompt tokens of sequence 0; sequence b has N - 29*b")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--steps", o.steps, "decode steps")->check(CLI::Range(0, 1000000))->capture_default_str();
  app.add_option("--layers", o.layers, "layers sharing one plan per step")->check(positive)->capture_default_str();
  app.add_option("--heads", o.heads, "query heads (16: DeepSeek-V2-Lite)")->check(positive)->capture_default_str();
  app.add_option("--page-size", o.page_size, "cache page size in tokens")->check(positive)->capture_default_str();
  app.add_option("--dtype", o.dtype_name, "q, cache and out dtype")
      ->check(CLI::IsMember({"bf16", "f16", "f32"}))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "data seed")->capture_default_str();
  app.add_option("--host-pool", o.host_pool,
                 "run the plugin's calls on the demo's own pool of N threads (an engine's pool handed in through "
                 "mla_context_desc.parallel_for; host-memory plugins only), not on the plugin's threads")
      ->check(CLI::Range(1, 1024));
}

demo_sizes sizes_of(const demo_options& o) {
  demo_sizes d;
  d.seqs = o.seqs;
  d.prompt = o.prompt;
  d.steps = o.steps;
  d.layers = o.layers;
  d.heads = o.heads;
  d.page_size = o.page_size;
  d.dtype = o.dtype;
  return d;
}

// The plugin's workspace for the largest step, asked with data pointers
// NULL (a shape-only query); 0 when it cannot say.
size_t largest_workspace(backend_session& session, const demo_sizes& d) {
  const std::vector<int> s_q = demo_largest_step(d);
  const paged_kv_cache::shape cs = demo_cache_shape(d);
  mla_absorbed_args a{};
  a.struct_size = sizeof a;
  a.batch = d.seqs;
  a.num_heads = d.heads;
  a.latent_dim = d.latent_dim;
  a.rope_dim = d.rope_dim;
  for (int s : s_q) a.total_q += s;
  a.max_seqlen_q = *std::max_element(s_q.begin(), s_q.end());
  a.causal = 1;
  a.scale = 1.0f;
  const int64_t row = d.latent_dim + d.rope_dim;
  a.q = make_tensor(nullptr, d.dtype, d.heads * row, row, 1);
  a.out = make_tensor(nullptr, d.dtype, (int64_t)d.heads * d.latent_dim, d.latent_dim, 1);
  a.lse = make_tensor(nullptr, MLA_DTYPE_F32, d.heads, 1, 0);
  a.kv.struct_size = sizeof a.kv;
  a.kv.dtype = d.dtype;
  a.kv.page_size = cs.page_size;
  a.kv.num_pages = cs.num_pages;
  a.kv.page_stride = (int64_t)cs.page_size * row;
  a.kv.row_stride = row;
  a.kv.rope_offset = d.latent_dim;
  a.kv.block_table_stride = cs.max_pages_per_seq;
  size_t bytes = 0;
  if (session.api().absorbed_workspace_size(session.context(), &a, &bytes) != MLA_OK) bytes = 0;
  if (!d.op_b) return bytes;
  mla_decompressed_args b{};  // the prefill's op B workspace, alive at the same time
  b.struct_size = sizeof b;
  b.batch = a.batch, b.num_heads = a.num_heads, b.latent_dim = a.latent_dim, b.rope_dim = a.rope_dim;
  b.nope_dim = d.nope_dim, b.v_dim = d.v_dim, b.total_q = a.total_q, b.max_seqlen_q = a.max_seqlen_q;
  b.causal = 1, b.scale = 1.0f, b.mode = MLA_DECOMPRESSED_AUTO;
  b.kv = a.kv;
  size_t op_b_bytes = 0;
  if (session.api().decompressed_workspace_size(session.context(), &b, &op_b_bytes) != MLA_OK) op_b_bytes = 0;
  return bytes + op_b_bytes;
}

// Does the plugin have op B (ABI 1.1 table, MLA_OP_DECOMPRESSED in caps)?
bool has_op_b(const backend_session& session) {
  const mla_caps& c = session.caps();
  return session.api().struct_size >= MLA_API_SIZE_1_1 && c.struct_size >= MLA_CAPS_SIZE_1_1 &&
         (c.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED)) != 0;
}

// Running tally of the oracle checks.
struct check_tally {
  int rows = 0;
  double worst = 0;
  bool ok = true;
  void add(const sample_result& r, const char* phase, int layer, int seq, int i) {
    ++rows;
    worst = std::max(worst, r.worst_ratio);
    if (!r.ok && ok) {
      ok = false;
      std::fprintf(stderr, "mla-demo: MISMATCH in %s, layer %d, sequence %d, query %s: %s\n", phase, layer, seq,
                   i < 0 ? "(every row)" : std::to_string(i).c_str(), r.detail.c_str());
    }
  }
};

// Appends `count` new tokens to `seq` and writes their cache rows in every layer.
bool append_rows(paged_kv_cache& cache, int seq, int count, int layers, int row_elems, splitmix64& rng,
                 std::string& error) {
  const int first = cache.append_tokens(seq, count, error);
  if (first < 0) return false;
  std::vector<float> row(row_elems);
  for (int l = 0; l < layers; ++l)
    for (int t = first; t < first + count; ++t) {
      fill_uniform(row.data(), row.size(), rng.next());
      cache.write_row(l, seq, t, row.data());
    }
  return true;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run_demo(const demo_options& o) {
  std::string error;
  // Declared before the session: the context borrows the pool until it is destroyed.
  std::unique_ptr<host_thread_pool> pool;
  if (o.host_pool > 0) pool = std::make_unique<host_thread_pool>(o.host_pool);
  auto session = backend_session::open(o.backend, o.device, error, 0, "", pool.get());
  if (!session) return std::fprintf(stderr, "mla-demo: %s\n", error.c_str()), 2;
  std::printf("backend: %s (%s)\n", session->name().c_str(), session->caps().device_name);
  if (pool) std::printf("threads: the demo's own pool of %d threads (mla_context_desc.parallel_for)\n", pool->threads());

  // Refuse before allocating what the machine does not have.
  demo_sizes sizes = sizes_of(o);
  sizes.op_b = has_op_b(*session);
  const demo_footprint need = estimate_demo_footprint(sizes, largest_workspace(*session, sizes));
  const bool host_backend = session->memory().name() == "host";
  const std::string too_big = check_demo_footprint(need, host_backend, session->memory().available_bytes(),
                                                   host_available_bytes());
  if (!too_big.empty()) return std::fprintf(stderr, "mla-demo: %s\n", too_big.c_str()), 2;
  std::printf("memory: about %.1f MiB of backend memory (workspace %.1f MiB) and %.1f MiB of host memory\n",
              need.backend() / 1048576.0, need.workspace / 1048576.0, need.host() / 1048576.0);

  model_shape m;
  m.layers = o.layers;
  m.heads = o.heads;
  m.dtype = o.dtype;
  m.scale = 1.0 / std::sqrt(192.0);  // DeepSeek: 1/sqrt(qk_nope + qk_rope = 128 + 64)
  const int row_elems = m.latent_dim + m.rope_dim;
  const int refill_prompt = demo_refill_prompt(sizes);
  const bool refill = o.seqs >= 2 && o.steps >= 2;
  const paged_kv_cache::shape cs = demo_cache_shape(sizes);
  paged_kv_cache cache(session->memory(), cs, o.seed);
  attention_step step(*session, m);
  std::unique_ptr<prefill_step> prefill;
  if (sizes.op_b) prefill = std::make_unique<prefill_step>(*session, m, o.seed);
  splitmix64 rng(o.seed);
  std::printf("model: DeepSeek-V2-Lite-shaped, %d layers, H=%d, Dl=%d, Dr=%d, %s, page size %d, %d pages\n",
              o.layers, o.heads, m.latent_dim, m.rope_dim, dtype_label(o.dtype), o.page_size, cs.num_pages);
  std::printf("seed: %llu\n", (unsigned long long)o.seed);

  check_tally tally;
  // ---- prefill: every prompt through one causal step, op B (AUTO) where
  // the plugin has it, else op A.
  std::vector<int> s_q(o.seqs);
  int prompt_tokens = 0;
  for (int b = 0; b < o.seqs; ++b) {
    s_q[b] = demo_prompt_length(sizes, b);
    prompt_tokens += s_q[b];
    if (!append_rows(cache, b, s_q[b], o.layers, row_elems, rng, error))
      return std::fprintf(stderr, "mla-demo: %s\n", error.c_str()), 2;
  }
  cache.sync_to_backend();
  std::fprintf(stderr, "[prefill] %d sequences, %d prompt tokens, %d layers, %s...\n", o.seqs, prompt_tokens,
               o.layers, prefill ? "op B (auto)" : "op A (the plugin has no op B)");
  double prefill_ms = 0;
  size_t prefill_workspace = 0;
  if (prefill) {
    if (!prefill->run(s_q, cache, rng, error)) return std::fprintf(stderr, "mla-demo: prefill: %s\n", error.c_str()), 2;
    prefill_ms = prefill->last_ms();
    prefill_workspace = prefill->workspace_bytes();
    for (int layer : {0, o.layers - 1})
      for (int b : {0, o.seqs - 1}) tally.add(prefill->check(layer, b, cache), "prefill", layer, b, -1);
  } else {
    if (!step.run(s_q, cache, rng, error)) return std::fprintf(stderr, "mla-demo: prefill: %s\n", error.c_str()), 2;
    prefill_ms = step.last_ms();
    prefill_workspace = step.workspace_bytes();
    for (int layer : {0, o.layers - 1})
      for (int b = 0; b < o.seqs; ++b)
        for (int i : {0, s_q[b] / 2, s_q[b] - 1}) tally.add(step.check(layer, b, i, cache), "prefill", layer, b, i);
  }
  std::printf("prefill: %d tokens x %d layers in %.2f ms through %s (workspace %zu B): %.0f tokens/s\n",
              prompt_tokens, o.layers, prefill_ms,
              prefill ? ("op B auto, break-even " + std::to_string(prefill->break_even()) + " queries").c_str()
                      : "op A",
              prefill_workspace, prompt_tokens / (prefill_ms * 1e-3));

  // ---- decode: one token per sequence per step, one plan per step.
  std::vector<double> step_ms;
  int generated = 0, pages_before = cache.free_pages();
  for (int t = 0; t < o.steps; ++t) {
    std::fill(s_q.begin(), s_q.end(), 1);
    if (refill && t == o.steps / 2) {
      cache.release(0);  // sequence 0 finished; a new request takes its slot
      s_q[0] = refill_prompt;
    }
    for (int b = 0; b < o.seqs; ++b)
      if (!append_rows(cache, b, s_q[b], o.layers, row_elems, rng, error))
        return std::fprintf(stderr, "mla-demo: decode step %d: %s\n", t, error.c_str()), 2;
    cache.sync_to_backend();
    if (!step.run(s_q, cache, rng, error))
      return std::fprintf(stderr, "mla-demo: decode step %d: %s\n", t, error.c_str()), 2;
    step_ms.push_back(step.last_ms());
    generated += o.seqs;
    const int layer = t % o.layers, seq = t % o.seqs;
    tally.add(step.check(layer, seq, s_q[seq] - 1, cache), "decode", layer, seq, s_q[seq] - 1);
    if (s_q[0] > 1) tally.add(step.check(layer, 0, 0, cache), "decode (new request)", layer, 0, 0);
    if ((t + 1) % 8 == 0 || t + 1 == o.steps)
      std::fprintf(stderr, "[decode] step %d/%d, %.2f ms, free pages %d\n", t + 1, o.steps, step.last_ms(),
                   cache.free_pages());
  }
  double decode_ms = 0;
  for (double v : step_ms) decode_ms += v;
  if (o.steps > 0)
    std::printf("decode: %d steps x %d sequences x %d layers in %.2f ms (median step %.3f ms, workspace %zu B): "
                "%.0f tokens/s; pages used %d -> %d\n",
                o.steps, o.seqs, o.layers, decode_ms, median(step_ms), step.workspace_bytes(),
                generated / (decode_ms * 1e-3), cs.num_pages - pages_before, cs.num_pages - cache.free_pages());
  std::printf("check: %d samples vs the fp64 oracle (prefill through op B: every query row of the first and last "
              "sequence, heads 0 and H-1; else sampled rows, all heads): %s (worst error %.3f of tolerance)\n",
              tally.rows, tally.ok ? "all match" : "MISMATCH", tally.worst);
  if (pool) std::printf("host pool: %llu parallel_for calls\n", (unsigned long long)pool->calls());
  return tally.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  demo_options o;
  CLI::App app;
  add_demo_options(app, o);
  add_version_flag(app, "mla-demo");
  const int parsed = parse_command_line(app, "mla-demo", argc, argv);
  if (parsed >= 0) return parsed;
  o.dtype = parse_dtype(o.dtype_name);
  try {
    return run_demo(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mla-demo: error: %s\n", e.what());
    return 2;
  }
}
