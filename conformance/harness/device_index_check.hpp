// SPDX-License-Identifier: MIT
// The index-content rule for plugins whose indices live in device memory
// (mla_plugin.h): invalid cu_seqlens_q / seqlens_k / block_table contents
// must not crash or write out of bounds, and the rows of the affected
// sequence are written as NaN while other sequences stay correct.
#pragma once
#include "backend_session.hpp"
#include "results.hpp"

#include <functional>
#include <string>

namespace conformance {

void run_device_index_cases(backend_session& s, uint64_t suite_seed, result_log& log,
                            const std::function<bool(const std::string&)>& selected);

}  // namespace conformance
