// Runs one catalogue case on one backend and records every per-case check:
// execute (or caps, when a claimed case is refused), accuracy, lse,
// unwritten, out_of_bounds_write, inputs_untouched, determinism.
#pragma once
#include "absorbed_problem.hpp"
#include "backend_session.hpp"
#include "merge_problem.hpp"
#include "output_checks.hpp"
#include "results.hpp"

namespace conformance {

// The oracle, exact and low-precision (sequences in parallel).  Moves the
// logical rows out of `im` while it works and puts them back.
reference_outputs oracle_for(absorbed_images& im);
reference_outputs oracle_for(const merge_images& im);

// The outputs a backend produced (for backend-vs-backend comparison);
// `ok` is false when the call failed.
struct produced {
  bool ok = false;
  host_tensor out, lse;
};

produced run_absorbed_case(backend_session& s, const absorbed_images& im, const reference_outputs& ref,
                           result_log& log);
produced run_merge_case(backend_session& s, const merge_images& im, const reference_outputs& ref, result_log& log);

}  // namespace conformance
