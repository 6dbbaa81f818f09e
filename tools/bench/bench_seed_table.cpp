// SPDX-License-Identifier: MIT
// mla-bench --seed-table: op A against op B (decompressed, absorbed inside
// op B, AUTO) on prompts of 512..16384 tokens (B = 1, H = 16, causal,
// DeepSeek-V2-Lite: Dl 512, Dr 64, Dn = Dv = 128), as the table of the CUDA
// pull request that started libmla; and the break-even it finds: the fewest
// new queries behind a cached prefix for which the decompressed form is
// faster than the absorbed one (compare with caps.decompressed_break_even_q).
#include "bench_seed_table.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

namespace mla_bench {
namespace {

// One case run and timed (iters 1: every run is long); `error` set on a failure.
bench_result time_one(mla_tools::backend_session& session, std::deque<bench_case>& cases, bench_case c,
                      const bench_settings& base, int32_t mode, std::string& error) {
  bench_settings s = base;
  s.op_b_mode = mode;
  s.iters = 1;
  s.repeats = 1;
  const bench_case& kept = cases.emplace_back(std::move(c));
  bench_result r = run_case(session, kept, s);
  if (!r.error.empty()) error = kept.name + ": " + r.error;
  else if (!r.skipped.empty()) error = kept.name + ": " + r.skipped;
  else if (!r.check_ok) error = kept.name + ": oracle sample MISMATCH: " + r.check_detail;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// `rounds` rounds of every (case, mode) in `runs`, interleaved (a shared
// machine's load changes over seconds: each round sees the same load for
// all), the median per entry.  The first result of each entry is kept in
// `first` (work counts, workspace).
struct timed_entry {
  bench_case c;
  int32_t mode;
  int rounds;  // this entry's rounds (<= the table's): slow ones take fewer
  std::vector<double> ms;
  bench_result first;
};
bool time_interleaved(mla_tools::backend_session& session, std::deque<bench_case>& cases,
                      std::vector<timed_entry>& runs, int rounds, const bench_settings& settings, std::string& error) {
  for (int k = 0; k < rounds; ++k)
    for (timed_entry& e : runs) {
      if (k >= e.rounds) continue;
      bench_result r = time_one(session, cases, e.c, settings, e.mode, error);
      if (!error.empty()) return false;
      if (k == 0) e.first = r;
      e.ms.push_back(r.run_ms);
    }
  return true;
}

bench_case prompt_case(const std::string& name, bench_op op, int s_q, int s_k, int heads) {
  bench_case c;
  c.name = name;
  c.op = op;
  c.batch = 1;
  c.s_q = s_q;
  c.s_k = s_k;
  c.heads = heads;
  return c;
}

}  // namespace

bool run_seed_table(mla_tools::backend_session& session, const bench_settings& settings, const std::vector<int>& sizes,
                    int heads, FILE* out, std::vector<seed_row>& rows, std::string& error) {
  std::deque<bench_case> cases;
  std::fprintf(out, "\nseed table: B=1, H=%d, causal, prompt = s_q = s_k tokens, %s; time per call in ms, median "
                    "of %d rounds run interleaved (op A and op B absorbed: 1 round from 8192 tokens on)\n\n",
               heads, session.caps().device_name, settings.repeats);
  std::fprintf(out, "| tokens | op A | op B decompressed | op B absorbed | op B auto | A / B decompressed | "
                    "auto / best forced | B absorbed-equiv GFLOP/s | workspace B / auto |\n");
  std::fprintf(out, "|---|---|---|---|---|---|---|---|---|\n");
  for (int n : sizes) {
    seed_row row;
    row.tokens = n;
    const std::string tag = "seed-" + std::to_string(n);
    // op A and the absorbed form take minutes at 16384 tokens: one round
    // from 8192 tokens on; the decompressed form and auto every round.
    const int slow_rounds = n >= 8192 ? 1 : settings.repeats;
    std::vector<timed_entry> runs = {
        {prompt_case(tag + "-A", bench_op::absorbed, n, n, heads), MLA_DECOMPRESSED_AUTO, slow_rounds, {}, {}},
        {prompt_case(tag + "-B", bench_op::decompressed, n, n, heads), MLA_DECOMPRESSED_FORCE, settings.repeats, {}, {}},
        {prompt_case(tag + "-BA", bench_op::decompressed, n, n, heads), MLA_DECOMPRESSED_FORCE_ABSORBED, slow_rounds, {}, {}},
        {prompt_case(tag + "-Bauto", bench_op::decompressed, n, n, heads), MLA_DECOMPRESSED_AUTO, settings.repeats, {}, {}}};
    std::fprintf(stderr, "[bench] seed table, %d tokens (%d rounds)...\n", n, settings.repeats);
    if (!time_interleaved(session, cases, runs, settings.repeats, settings, error)) return false;
    row.op_a_ms = median(runs[0].ms);
    row.force_ms = median(runs[1].ms);
    row.force_absorbed_ms = median(runs[2].ms);
    row.auto_ms = median(runs[3].ms);
    row.workspace_force = runs[1].first.workspace_bytes;
    row.workspace_auto = runs[3].first.workspace_bytes;
    const double best = std::min(row.force_ms, row.force_absorbed_ms);
    std::fprintf(out, "| %d | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2f | %.0f | %.2f / %.2f MB |\n", n, row.op_a_ms,
                 row.force_ms, row.force_absorbed_ms, row.auto_ms, row.op_a_ms / row.force_ms, row.auto_ms / best,
                 runs[1].first.work.absorbed_flops / (row.force_ms * 1e-3) * 1e-9, row.workspace_force / 1048576.0,
                 row.workspace_auto / 1048576.0);
    std::fflush(out);
    rows.push_back(row);
  }
  std::fprintf(out, "\nop A: absorbed_run on pre-absorbed q (Dl+Dr); op B decompressed / absorbed: "
                    "MLA_DECOMPRESSED_FORCE / _FORCE_ABSORBED; auto: MLA_DECOMPRESSED_AUTO.\n"
                    "absorbed-equiv GFLOP/s = 2*H*(visible pairs)*(576+512) / time of op B decompressed "
                    "(the absorbed form's work: how ggml's CPU flash attention counts).\n");
  return true;
}

int find_break_even(mla_tools::backend_session& session, const bench_settings& settings, int prefix, int heads, FILE* out,
                    std::string& error) {
  std::deque<bench_case> cases;
  std::fprintf(out, "\nbreak-even: B=1, H=%d, %d cached keys + s_q new queries (causal); ms per call, median of %d "
                    "interleaved rounds\n\n", heads, prefix, settings.repeats);
  std::fprintf(out, "| s_q | decompressed | absorbed | faster |\n|---|---|---|---|\n");
  auto faster_decompressed = [&](int s_q, bool print) {
    const std::string tag = "be-" + std::to_string(prefix) + "-" + std::to_string(s_q);
    std::vector<timed_entry> runs = {
        {prompt_case(tag, bench_op::decompressed, s_q, prefix + s_q, heads), MLA_DECOMPRESSED_FORCE, settings.repeats, {}, {}},
        {prompt_case(tag + "a", bench_op::decompressed, s_q, prefix + s_q, heads), MLA_DECOMPRESSED_FORCE_ABSORBED,
         settings.repeats, {}, {}}};
    if (!time_interleaved(session, cases, runs, settings.repeats, settings, error)) return false;
    const double f = median(runs[0].ms), a = median(runs[1].ms);
    if (print) std::fprintf(out, "| %d | %.2f | %.2f | %s |\n", s_q, f, a, f <= a ? "decompressed" : "absorbed");
    std::fflush(out);
    return f <= a;
  };
  // Doubling from 8 until the decompressed form wins, then bisection between the last two.
  int lo = 0, hi = 0;
  for (int s_q = 8; s_q <= 4096; s_q *= 2) {
    const bool d = faster_decompressed(s_q, true);
    if (!error.empty()) return -1;
    if (d) {
      hi = s_q;
      break;
    }
    lo = s_q;
  }
  if (hi == 0) return error = "the decompressed form never won up to 4096 queries", -1;
  while (hi - lo > std::max(2, hi / 16)) {
    const int mid = (lo + hi) / 2;
    if (faster_decompressed(mid, true)) hi = mid;
    else lo = mid;
    if (!error.empty()) return -1;
  }
  const mla_caps& caps = session.caps();
  std::fprintf(out, "\nbreak-even found: %d queries (the decompressed form is faster from here on, %d cached keys); "
                    "caps.decompressed_break_even_q = %d\n", hi, prefix,
               caps.struct_size >= MLA_CAPS_SIZE_1_1 ? caps.decompressed_break_even_q : 0);
  return hi;
}

}  // namespace mla_bench
