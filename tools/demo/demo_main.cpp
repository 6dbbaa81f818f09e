// mla-demo: libmla used exactly as a host inference engine uses it.
//
// Loads a backend through the loader (MLA_BACKEND / --backend), builds a
// DeepSeek-V2-Lite-shaped attention workload (H = 16, Dl = 512, Dr = 64,
// paged latent cache with 64-token pages, bf16) and runs:
//   1. prefill: every sequence's prompt (seq b has prompt - 29*b tokens, so
//      pages are partly filled) through one causal absorbed step;
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
#include <string>
#include <vector>

#include "attention_step.hpp"
#include "backend_session.hpp"
#include "dtype_convert.hpp"
#include "paged_kv_cache.hpp"
#include "random_fill.hpp"

namespace {

using namespace mla_tools;

struct demo_options {
  std::string backend;  // empty: MLA_BACKEND
  int device = 0, seqs = 4, prompt = 512, steps = 32, layers = 4, heads = 16, page_size = 64;
  mla_dtype dtype = MLA_DTYPE_BF16;
  uint64_t seed = 1;
};

void usage(FILE* f) {
  std::fprintf(f,
               "usage: mla-demo [options]\n"
               "  --backend NAME   plugin name, list or auto (default: $MLA_BACKEND, else auto)\n"
               "  --device N       GPU ordinal (default 0)\n"
               "  --seqs N         sequences decoded together (default 4)\n"
               "  --prompt N       prompt tokens of sequence 0; sequence b has N - 29*b (default 512)\n"
               "  --steps N        decode steps (default 32)\n"
               "  --layers N       layers sharing one plan per step (default 4)\n"
               "  --heads N        query heads (default 16, DeepSeek-V2-Lite)\n"
               "  --page-size N    cache page size in tokens (default 64)\n"
               "  --dtype T        bf16 | f16 | f32 for q, cache and out (default bf16)\n"
               "  --seed N         data seed (default 1)\n");
}

bool parse_int(const char* s, int lo, int& out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!s[0] || *end || v < lo || v > 1000000) return false;
  out = (int)v;
  return true;
}

// Returns 0 to go on, 1 to exit 0 (help), 2 on a bad option.
int parse(int argc, char** argv, demo_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(stdout), 1;
    if (i + 1 >= argc) return std::fprintf(stderr, "mla-demo: %s needs a value (or is unknown)\n", a.c_str()), 2;
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--backend") o.backend = v;
    else if (a == "--device") ok = parse_int(v, 0, o.device);
    else if (a == "--seqs") ok = parse_int(v, 1, o.seqs);
    else if (a == "--prompt") ok = parse_int(v, 1, o.prompt);
    else if (a == "--steps") ok = parse_int(v, 0, o.steps);
    else if (a == "--layers") ok = parse_int(v, 1, o.layers);
    else if (a == "--heads") ok = parse_int(v, 1, o.heads);
    else if (a == "--page-size") ok = parse_int(v, 1, o.page_size);
    else if (a == "--dtype") ok = (o.dtype = parse_dtype(v)) != MLA_DTYPE_INVALID;
    else if (a == "--seed") o.seed = std::strtoull(v, nullptr, 10);
    else return std::fprintf(stderr, "mla-demo: unknown option %s\n", a.c_str()), usage(stderr), 2;
    if (!ok) return std::fprintf(stderr, "mla-demo: bad value '%s' for %s\n", v, a.c_str()), 2;
  }
  return 0;
}

int prompt_length(const demo_options& o, int seq) { return std::max(1, o.prompt - 29 * seq); }

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
      std::fprintf(stderr, "mla-demo: MISMATCH in %s, layer %d, sequence %d, query %d: %s\n", phase, layer, seq, i,
                   r.detail.c_str());
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
  auto session = backend_session::open(o.backend, o.device, error);
  if (!session) return std::fprintf(stderr, "mla-demo: %s\n", error.c_str()), 2;
  std::printf("backend: %s (%s)\n", session->name().c_str(), session->caps().device_name);

  model_shape m;
  m.layers = o.layers;
  m.heads = o.heads;
  m.dtype = o.dtype;
  m.scale = 1.0 / std::sqrt(192.0);  // DeepSeek: 1/sqrt(qk_nope + qk_rope = 128 + 64)
  const int row_elems = m.latent_dim + m.rope_dim;
  const int refill_prompt = std::max(1, o.prompt / 4);
  const bool refill = o.seqs >= 2 && o.steps >= 2;

  paged_kv_cache::shape cs;
  cs.layers = o.layers;
  cs.page_size = o.page_size;
  cs.row_elems = row_elems;
  cs.max_seqs = o.seqs;
  cs.max_pages_per_seq = (std::max(o.prompt, refill_prompt) + o.steps + o.page_size - 1) / o.page_size;
  cs.num_pages = o.seqs * cs.max_pages_per_seq;
  cs.dtype = o.dtype;
  paged_kv_cache cache(session->memory(), cs, o.seed);
  attention_step step(*session, m);
  splitmix64 rng(o.seed);
  std::printf("model: DeepSeek-V2-Lite-shaped, %d layers, H=%d, Dl=%d, Dr=%d, %s, page size %d, %d pages\n",
              o.layers, o.heads, m.latent_dim, m.rope_dim, dtype_label(o.dtype), o.page_size, cs.num_pages);
  std::printf("seed: %llu\n", (unsigned long long)o.seed);

  check_tally tally;
  // ---- prefill: each prompt through one causal absorbed step.
  std::vector<int> s_q(o.seqs);
  int prompt_tokens = 0;
  for (int b = 0; b < o.seqs; ++b) {
    s_q[b] = prompt_length(o, b);
    prompt_tokens += s_q[b];
    if (!append_rows(cache, b, s_q[b], o.layers, row_elems, rng, error))
      return std::fprintf(stderr, "mla-demo: %s\n", error.c_str()), 2;
  }
  cache.sync_to_backend();
  std::fprintf(stderr, "[prefill] %d sequences, %d prompt tokens, %d layers...\n", o.seqs, prompt_tokens, o.layers);
  if (!step.run(s_q, cache, rng, error)) return std::fprintf(stderr, "mla-demo: prefill: %s\n", error.c_str()), 2;
  const double prefill_ms = step.last_ms();
  for (int layer : {0, o.layers - 1})
    for (int b = 0; b < o.seqs; ++b)
      for (int i : {0, s_q[b] / 2, s_q[b] - 1}) tally.add(step.check(layer, b, i, cache), "prefill", layer, b, i);
  std::printf("prefill: %d tokens x %d layers in %.2f ms (workspace %zu B): %.0f tokens/s\n", prompt_tokens,
              o.layers, prefill_ms, step.workspace_bytes(), prompt_tokens / (prefill_ms * 1e-3));

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
  std::printf("check: %d sampled query rows (all heads) vs the fp64 oracle: %s (worst error %.3f of tolerance)\n",
              tally.rows, tally.ok ? "all match" : "MISMATCH", tally.worst);
  return tally.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  demo_options o;
  const int p = parse(argc, argv, o);
  if (p != 0) return p == 1 ? 0 : 2;
  try {
    return run_demo(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mla-demo: error: %s\n", e.what());
    return 2;
  }
}
