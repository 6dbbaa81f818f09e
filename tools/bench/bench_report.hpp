// SPDX-License-Identifier: MIT
// The benchmark's markdown table and JSON file.
#pragma once
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_run.hpp"
#include "ceilings.hpp"

namespace mla_bench {

struct report_context {
  std::string backend, device, dtype;
  std::string version;        // "1.1.0 (ABI 1.1)"
  std::string commit;         // git describe at configure time, or $MLA_COMMIT
  std::string date;           // UTC, ISO 8601, when the run started
  int threads = 0;            // host backends: the plugin's threads; 0 = not a host backend
  std::string kernel;         // --kernel, "" = the plugin's choice
  bool batch_invariant = false;
  bool host_backend = false;  // FLOP rate in GFLOP/s instead of TFLOP/s
  ceilings ceil;
};

// "auto", "decompressed", "absorbed" for an mla_decompressed_mode, "-" else.
const char* op_b_mode_label(int32_t mode);

void print_markdown(FILE* f, const report_context& ctx, const std::vector<bench_result>& results);
// The JSON document --json writes: the run (tool, version, commit, date,
// backend, device, threads, kernel, dtype), the ceilings and one object per
// case.  Every unknown number (a ceiling not given or measured, a fraction
// of it, a NaN) is null, never 0 or nan.
nlohmann::ordered_json bench_json(const report_context& ctx, const std::vector<bench_result>& results);
bool write_json(const std::string& path, const report_context& ctx, const std::vector<bench_result>& results,
                std::string& error);

}  // namespace mla_bench
