// Distinct contexts used from distinct threads at once (mla_plugin.h,
// "Threading"): many oneTBB threads, each with its own memory/stream and
// context, run the same cases and must reproduce the single-threaded
// results bit for bit.
#pragma once
#include "case_spec.hpp"
#include "results.hpp"

#include <mla/mla_plugin.h>

#include <string>
#include <vector>

namespace conformance {

void run_concurrency_check(const mla_api* api, int device, const std::vector<absorbed_case>& cases, int threads,
                           int rounds, const std::string& case_name, result_log& log);

}  // namespace conformance
