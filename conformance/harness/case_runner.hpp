// SPDX-License-Identifier: MIT
// Runs one catalogue case on one backend and records every per-case check:
// execute (or caps, when a claimed case is refused), accuracy, lse,
// unwritten, out_of_bounds_write, inputs_untouched, determinism (repeats
// compared bit for bit), and batch_invariance on batch-invariant contexts.
#pragma once
#include "absorbed_problem.hpp"
#include "backend_session.hpp"
#include "decompressed_problem.hpp"
#include "merge_problem.hpp"
#include "output_checks.hpp"
#include "results.hpp"

namespace conformance {

// The oracle, exact and low-precision (sequences in parallel).  Moves the
// logical rows out of `im` while it works and puts them back.
reference_outputs oracle_for(absorbed_images& im);
reference_outputs oracle_for(const merge_images& im);
// Op B's oracle: exact, and the low-precision pipeline that computes in the
// least precise of the q, cache and weight dtypes and keeps the decompressed
// K and V in it (as a tensor-core kernel stores them).
reference_outputs oracle_for(decompressed_images& im);

// The outputs a backend produced (for backend-vs-backend comparison);
// `ok` is false when the call failed.
struct produced {
  bool ok = false;
  host_tensor out, lse;
};

// How often each case is repeated for the determinism check (after its
// first run).  Op A cycles through: a run on the same plan; a plan into a
// workspace refilled with 0x00, 0xff or random bytes, and a run; plan + run
// replayed from a CUDA/HIP graph (where the memory has graphs).
struct run_options {
  int repeats = 4;
};

produced run_absorbed_case(backend_session& s, const absorbed_images& im, const reference_outputs& ref,
                           const run_options& opt, result_log& log);
produced run_merge_case(backend_session& s, const merge_images& im, const reference_outputs& ref,
                        const run_options& opt, result_log& log);

// On a batch-invariant session (MLA_CONTEXT_BATCH_INVARIANT): the case's
// first, middle and last sequences run alone must give the bits they got
// inside the batch (`batch_out` / `batch_lse`, produced on this session).
void check_batch_invariance(backend_session& s, const absorbed_images& im, const produced& batch, result_log& log);

// Op B: the case in its own mode with every per-case check (as op A).
produced run_decompressed_case(backend_session& s, const decompressed_images& im, const reference_outputs& ref,
                               const run_options& opt, result_log& log);
void check_batch_invariance(backend_session& s, const decompressed_images& im, const produced& batch,
                            result_log& log);
// `auto_mode`: the case in the other two modes: each forced mode against
// the oracle, AUTO within tolerance of both, and on batch-invariant contexts
// each sequence of AUTO bitwise equal to the forced mode the break-even in
// caps picks for it.  `identity` (when `identity` is set and the backend has
// op A): op A on q~ = [W_UK^T q_nope | q_rope] gives o_A with W_UV o_A equal
// to the decompressed form's out and the same lse (docs/design.md section 2, the A<->B
// identity).  `first` is the case's own-mode result.
void check_modes_and_identity(backend_session& s, const decompressed_images& im, const reference_outputs& ref,
                              const produced& first, bool identity, result_log& log);

}  // namespace conformance
