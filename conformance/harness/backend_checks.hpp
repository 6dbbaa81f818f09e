// SPDX-License-Identifier: MIT
// Checks of a backend as a whole, before any case runs: probe and the
// honesty of what get_caps claims.
#pragma once
#include "backend_session.hpp"
#include "results.hpp"

#include <string>

namespace conformance {

void check_probe_and_caps(backend_session& s, result_log& log);
// A JSON object describing the backend for the report.
std::string backend_info_json(const backend_session& s, const std::string& path);

}  // namespace conformance
