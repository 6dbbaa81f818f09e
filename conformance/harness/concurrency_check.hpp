// SPDX-License-Identifier: MIT
// Distinct contexts used from distinct threads at once (mla_plugin.h,
// "Threading"): many oneTBB threads, each with its own memory/stream and
// context (several per GPU, and spread over `devices` GPUs from
// base.device on), run the same cases and must reproduce the results of one
// context alone bit for bit.
#pragma once
#include "backend_session.hpp"
#include "case_spec.hpp"
#include "results.hpp"

#include <mla/mla_plugin.h>

#include <string>
#include <vector>

namespace conformance {

void run_concurrency_check(const mla_api* api, const session_config& base, int devices,
                           const std::vector<absorbed_case>& cases, int threads, int rounds, const std::string& backend,
                           const std::string& case_name, result_log& log);

}  // namespace conformance
