// Runs one benchmark case on a backend: builds the paged workload in backend
// memory (random data, shuffled block table, several cache copies rotated
// so the timed loop does not run from the last-level cache), plans once,
// checks a sample of the output against the fp64 oracle, then times
// absorbed_run with backend_memory::time_ms.
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>
#include <string>

#include "backend_session.hpp"
#include "bench_cases.hpp"

namespace mla_bench {

struct bench_settings {
  mla_dtype dtype = MLA_DTYPE_BF16;  // q, cache and out
  int iters = 0;                     // launches per timed repeat; 0 = enough for ~200 ms
  int repeats = 5;
  uint64_t seed = 1;
  size_t rotation_bytes = size_t(256) << 20;  // cache copies until their total reaches this
};

struct bench_result {
  const bench_case* c = nullptr;
  std::string skipped;  // non-empty: why the case did not run
  std::string error;    // non-empty: a libmla call or the device failed
  double mean_s_k = 0;
  work_counts work;
  double plan_ms = 0, run_ms = 0;  // run_ms: median per launch
  int iters = 0, copies = 0;
  size_t workspace_bytes = 0;
  bool check_ok = false;
  double check_worst = 0;  // worst error / tolerance over the sample
  std::string check_detail;
};

constexpr int kLatentDim = 512, kRopeDim = 64, kPageSize = 64;

bench_result run_case(mla_tools::backend_session& session, const bench_case& c, const bench_settings& s);

}  // namespace mla_bench
