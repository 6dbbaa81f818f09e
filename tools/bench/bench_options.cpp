// SPDX-License-Identifier: MIT
#include "bench_options.hpp"

#include "dtype_convert.hpp"

namespace mla_bench {
namespace {

// A case name from the catalogue or a B..xQ..xK..xH.. shape; else the message.
std::string check_case_name(const std::string& name) {
  bench_case shape;
  if (find_case(name) || parse_shape_name(name, shape)) return "";
  return "unknown case '" + name + "' (see --list; or a shape such as B16xQ1xK32768xH16)";
}

}  // namespace

void add_bench_options(CLI::App& app, bench_options& o) {
  app.description(
      "mla-bench: the standard shapes (docs/shapes.md) on the backend the loader selects; time, GB/s and FLOP/s "
      "against the copy-bandwidth and GEMM ceilings.  Table on stdout, progress on stderr.  Exit status: 0 every "
      "case that ran passed its oracle sample, 1 a case failed, 2 a bad option or no usable backend.");
  app.add_option("--backend", o.backend, "plugin name, list or auto (default: $MLA_BACKEND, else auto)");
  app.add_option("--device", o.device, "GPU ordinal")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  app.add_option("--cases", o.cases,
                 "comma-separated case names (default: C1-C5 on host backends, D1-D10,P1-P7 else) or shapes "
                 "B<batch>xQ<s_q>xK<s_k>xH<heads> (page 64, causal, like the D cases)")
      ->delimiter(',')
      ->check(CLI::Validator(check_case_name, "CASE"));
  app.add_flag("--list", o.list, "print the cases and exit");
  app.add_option("--dtype", o.dtype, "q, cache and out dtype")
      ->check(CLI::IsMember({"bf16", "f16", "f32"}))
      ->capture_default_str();
  app.add_option("--iters", o.settings.iters, "launches per timed repeat (default: enough for ~200 ms)")
      ->check(CLI::Range(1, 100000000));
  app.add_option("--repeats", o.settings.repeats, "timed repeats; the median is reported")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--ceilings", o.ceilings_file,
                 "copy_gbs=<x> / gemm_tflops=<y> lines (mla-ceilings); without copy_gbs the copy bandwidth is "
                 "measured in this run")
      ->check(CLI::ExistingFile);
  app.add_option("--json", o.json_file, "also write the results as JSON to FILE");
  app.add_option("--plot", o.plot_file,
                 "also draw the results into FILE.png (time, fraction of the ceiling per shape) with "
                 "plot_bench.py; needs python3-matplotlib");
  app.add_option("--seed", o.settings.seed, "data seed")->capture_default_str();
  app.add_option("--kernel", o.kernel, "the kernel variant to use (one of the plugin's caps.kernels, mla-info)");
  app.add_option("--op-b-mode", o.op_b_mode,
                 "op B cases (P1-P7, C4, C5): auto (per sequence by the plugin's break-even), decompressed "
                 "(MLA_DECOMPRESSED_FORCE) or absorbed (MLA_DECOMPRESSED_FORCE_ABSORBED)")
      ->check(CLI::IsMember({"auto", "decompressed", "absorbed"}))
      ->capture_default_str();
  app.add_flag("--seed-table", o.seed_table,
               "op A vs op B (decompressed, absorbed, auto) on prompts of --seed-table-sizes tokens (B=1, H=16 or "
               "--seed-table-heads, "
               "causal, DeepSeek-V2-Lite dims); without --cases no other case runs");
  app.add_option("--seed-table-sizes", o.seed_table_sizes, "prompt lengths of --seed-table")
      ->delimiter(',')
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--seed-table-heads", o.seed_table_heads, "heads (H) of --seed-table and --break-even")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--break-even", o.break_even_prefix,
                 "find the fewest new queries behind N cached keys from which op B's decompressed form beats its "
                 "absorbed form (B=1, H=16 or --seed-table-heads), next to the plugin's caps.decompressed_break_even_q")
      ->check(CLI::Range(0, 1 << 20));
  app.add_flag("--batch-invariant", o.batch_invariant,
               "a batch-invariant context (MLA_CONTEXT_BATCH_INVARIANT): each sequence's result independent of "
               "the batch");
}

void finish_options(bench_options& o) {
  o.settings.dtype = mla_tools::parse_dtype(o.dtype.c_str());
  o.settings.op_b_mode = o.op_b_mode == "decompressed" ? MLA_DECOMPRESSED_FORCE
                         : o.op_b_mode == "absorbed"   ? MLA_DECOMPRESSED_FORCE_ABSORBED
                                                       : MLA_DECOMPRESSED_AUTO;
}

std::vector<const bench_case*> named_cases(const bench_options& o, std::vector<bench_case>& custom) {
  custom.clear();
  custom.reserve(o.cases.size());  // stable addresses for the shapes
  std::vector<const bench_case*> out;
  for (const std::string& name : o.cases) {
    const bench_case* c = find_case(name);
    bench_case shape;
    if (!c && parse_shape_name(name, shape)) c = &custom.emplace_back(shape);
    if (c) out.push_back(c);
  }
  return out;
}

}  // namespace mla_bench
