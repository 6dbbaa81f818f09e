// SPDX-License-Identifier: MIT
// mla-bench --seed-table and --break-even (bench_seed_table.cpp).
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "bench_run.hpp"

namespace mla_bench {

struct seed_row {
  int tokens = 0;
  double op_a_ms = 0, force_ms = 0, force_absorbed_ms = 0, auto_ms = 0;
  size_t workspace_force = 0, workspace_auto = 0;
};

// The table for prompts of `sizes` tokens, printed to `out` row by row.
bool run_seed_table(mla_tools::backend_session& session, const bench_settings& settings, const std::vector<int>& sizes,
                    int heads, FILE* out, std::vector<seed_row>& rows, std::string& error);

// The fewest new queries (behind `prefix` cached keys) from which the
// decompressed form is faster; -1 with `error` set on a failure.
int find_break_even(mla_tools::backend_session& session, const bench_settings& settings, int prefix, int heads, FILE* out,
                    std::string& error);

}  // namespace mla_bench
