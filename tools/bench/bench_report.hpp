// The benchmark's markdown table and JSON file.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "bench_run.hpp"
#include "ceilings.hpp"

namespace mla_bench {

struct report_context {
  std::string backend, device, dtype;
  bool host_backend = false;  // FLOP rate in GFLOP/s instead of TFLOP/s
  ceilings ceil;
};

void print_markdown(FILE* f, const report_context& ctx, const std::vector<bench_result>& results);
bool write_json(const std::string& path, const report_context& ctx, const std::vector<bench_result>& results,
                std::string& error);

}  // namespace mla_bench
