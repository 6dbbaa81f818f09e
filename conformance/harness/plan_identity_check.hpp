// SPDX-License-Identifier: MIT
// The plan-identity rule (docs/abi.md, section 9): a context keeps the plan
// of every workspace it planned, so a host may plan two batches into two
// workspaces and run them in any order (double buffering).  Each case of
// `cases` gets its own workspace; all are planned, then all run (twice, in
// opposite orders), and every result must equal that case run alone.
#pragma once
#include "backend_session.hpp"
#include "case_spec.hpp"
#include "results.hpp"

#include <vector>

namespace conformance {

void run_plan_identity_check(backend_session& s, const std::vector<absorbed_case>& cases, result_log& log);

}  // namespace conformance
