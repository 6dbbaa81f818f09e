// SPDX-License-Identifier: MIT
// mla-bench's command line (CLI11): the options, their checks and the case
// list they name.  Separate from main() so the tests can parse command lines.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "bench_cases.hpp"
#include "bench_run.hpp"

namespace mla_bench {

struct bench_options {
  std::string backend, kernel, ceilings_file, json_file, plot_file, dtype = "bf16";
  std::vector<std::string> cases;  // names or B..xQ..xK..xH.. shapes; empty: the backend's default set
  int device = 0;
  bool list = false, batch_invariant = false;
  std::string op_b_mode = "auto";     // op B cases: auto | decompressed | absorbed
  bool seed_table = false;            // op A vs op B vs auto on prompts of seed_table_sizes tokens
  std::vector<int> seed_table_sizes = {512, 1024, 2048, 4096, 8192, 16384};
  int break_even_prefix = 0;          // > 0: find op B's break-even behind this many cached keys
  int seed_table_heads = 16;          // H of --seed-table and --break-even
  bench_settings settings;
};

// Adds every option to `app`, bound to `o` (dtype is converted by finish_options).
void add_bench_options(CLI::App& app, bench_options& o);
// After a successful parse: settings.dtype from o.dtype, settings.op_b_mode from o.op_b_mode.
void finish_options(bench_options& o);

// The cases named by o.cases (catalogue names or shapes, which `custom`
// holds).  The names were checked by the parser, so every one resolves.
std::vector<const bench_case*> named_cases(const bench_options& o, std::vector<bench_case>& custom);

}  // namespace mla_bench
