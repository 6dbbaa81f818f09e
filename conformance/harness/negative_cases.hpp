// SPDX-License-Identifier: MIT
// Negative ABI cases: every invalid argument must give its status code and
// a message naming the argument, write nothing (out, lse, workspace) and not
// crash.  Plus the index-content rule: host-memory plugins fail the call,
// device plugins write NaN rows for the invalid sequence.
#pragma once
#include "backend_session.hpp"
#include "results.hpp"

#include <functional>
#include <string>
#include <vector>

namespace conformance {

// Names of every negative case (for --list and --filter), without a backend.
std::vector<std::string> negative_case_names();

// Runs the cases whose name passes `selected`.
void run_negative_cases(backend_session& s, uint64_t suite_seed, result_log& log,
                        const std::function<bool(const std::string&)>& selected);

}  // namespace conformance
