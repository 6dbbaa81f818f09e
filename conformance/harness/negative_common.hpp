// SPDX-License-Identifier: MIT
// Pieces shared by the negative cases of each op (negative_cases.cpp,
// negative_decompressed.cpp): the expected status and message, the judge,
// and the runner that lists or runs the cases.
#pragma once
#include "backend_session.hpp"
#include "results.hpp"

#include <functional>
#include <string>
#include <vector>

namespace conformance {
namespace negative {

enum stage_bits { kSize = 1, kPlan = 2, kRun = 4 };

struct expectation {
  std::vector<mla_status> statuses;
  std::string needles;  // '|'-separated; the message must contain one of them
};

// Which statuses are right, and whether the message names the argument.
inline std::string judge(mla_status got, const std::string& msg, const expectation& e) {
  bool status_ok = false;
  for (mla_status s : e.statuses) status_ok |= got == s;
  if (!status_ok) {
    std::string want;
    for (mla_status s : e.statuses) want += (want.empty() ? "" : " or ") + std::to_string((int)s);
    return "returned status " + std::to_string((int)got) + ", expected " + want + " (message: \"" + msg + "\")";
  }
  if (msg.empty()) return "no message from last_error()";
  size_t start = 0;
  while (start <= e.needles.size()) {
    size_t bar = e.needles.find('|', start);
    if (bar == std::string::npos) bar = e.needles.size();
    if (msg.find(e.needles.substr(start, bar - start)) != std::string::npos) return "";
    start = bar + 1;
  }
  return "message \"" + msg + "\" does not name the argument (" + e.needles + ")";
}

// Calls first, then reads last_error(): the message belongs to this call.
inline std::string judge_call(const mla_api* api, const std::function<mla_status()>& call, const expectation& e) {
  const mla_status st = call();
  const std::string msg = last_error_of(api);
  return judge(st, msg, e);
}

inline int32_t first_claimed(uint32_t mask) {
  for (int32_t d : {MLA_DTYPE_F32, MLA_DTYPE_BF16, MLA_DTYPE_F16})
    if (mask & MLA_DTYPE_BIT(d)) return d;
  return 0;
}

struct runner {
  backend_session& s;
  result_log* log;  // null when only listing
  const std::function<bool(const std::string&)>& selected;
  uint64_t seed;
  std::vector<std::string>* listing = nullptr;  // set: collect names, run nothing

  bool want(const std::string& name) {
    if (listing) {
      listing->push_back(name);
      return false;
    }
    return selected(name);
  }

  void verdict_for(const std::string& name, const std::string& err) {
    if (err.empty()) log->pass(s.name, name, "negative", "", seed);
    else log->fail(s.name, name, "negative", err, seed);
  }
};

// Op B's negative cases (negative_decompressed.cpp); listing when r.listing.
void run_decompressed_negatives(runner& r);

}  // namespace negative
}  // namespace conformance
