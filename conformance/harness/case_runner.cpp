#include "case_runner.hpp"

#include "device_case.hpp"
#include "low_precision.hpp"

#include <oracle.hpp>

#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

namespace conformance {

namespace {

// The least precise dtype of the pair (bf16 < f16 < f32): what a kernel may
// convert both operands of a mixed q/cache product to.
int32_t compute_dtype(int32_t a, int32_t b) {
  auto rank = [](int32_t d) { return d == MLA_DTYPE_BF16 ? 0 : d == MLA_DTYPE_F16 ? 1 : 2; };
  return rank(a) <= rank(b) ? a : b;
}

}  // namespace

reference_outputs oracle_for(absorbed_images& im) {
  oracle::absorbed_problem& p = im.logical;
  const int D = p.latent_dim + p.rope_dim, Dl = p.latent_dim, H = p.heads;
  reference_outputs ref;
  ref.dim = Dl;
  ref.out.assign((size_t)(im.total_q * H * Dl), 0.0);
  ref.lse.assign((size_t)(im.total_q * H), 0.0);
  std::vector<double> lowp((size_t)(im.total_q * H * Dl), 0.0), lowp_lse(ref.lse.size(), 0.0);
  // The low-precision pipeline: q and cache rows in the compute dtype, each
  // softmax weight rounded to it, each output rounded to the out dtype.
  const int32_t compute_dt = compute_dtype(im.spec.q_dtype, im.spec.cache_dtype), out_dt = im.spec.out_dtype;
  const bool round_q = compute_dt != im.spec.q_dtype, round_rows = compute_dt != im.spec.cache_dtype;
  const oracle::rounding round_p = [compute_dt](double x) { return round_to_dtype(compute_dt, x); };
  const oracle::rounding round_out = [out_dt](double x) { return round_to_dtype(out_dt, x); };

  // One sub-problem per sequence, so the oracle runs on every core.
  tbb::parallel_for(0, p.batch, [&](int b) {
    oracle::absorbed_problem one;
    one.batch = 1;
    one.heads = H;
    one.latent_dim = Dl;
    one.rope_dim = p.rope_dim;
    one.causal = p.causal;
    one.scale = p.scale;
    const int q0 = p.cu_seqlens_q[b], q1 = p.cu_seqlens_q[b + 1];
    one.cu_seqlens_q = {0, q1 - q0};
    one.seqlens_k = {p.seqlens_k[b]};
    one.q.assign(p.q.begin() + (size_t)q0 * H * D, p.q.begin() + (size_t)q1 * H * D);
    one.rows.resize(1);
    one.rows[0] = std::move(p.rows[b]);  // moved, not copied: long sequences are large
    oracle::absorbed_problem lp;        // a rounded copy only for mixed q/cache dtypes
    if (round_q || round_rows) {
      lp = one;
      if (round_q)
        for (double& v : lp.q) v = round_to_dtype(compute_dt, v);
      if (round_rows)
        for (double& v : lp.rows[0]) v = round_to_dtype(compute_dt, v);
    }
    const oracle::absorbed_problem& lp_problem = (round_q || round_rows) ? lp : one;
    std::vector<double> o, l, o_lp, l_lp;
    // The exact and the low-precision runs only read their problems: run them side by side.
    tbb::parallel_invoke([&] { oracle::absorbed(one, o, l); },
                         [&] { oracle::absorbed(lp_problem, o_lp, l_lp, round_p, round_out); });
    p.rows[b] = std::move(one.rows[0]);
    std::copy(o.begin(), o.end(), ref.out.begin() + (size_t)q0 * H * Dl);
    std::copy(o_lp.begin(), o_lp.end(), lowp.begin() + (size_t)q0 * H * Dl);
    std::copy(l.begin(), l.end(), ref.lse.begin() + (size_t)q0 * H);
    std::copy(l_lp.begin(), l_lp.end(), lowp_lse.begin() + (size_t)q0 * H);
  });
  for (size_t i = 0; i < lowp.size(); ++i) ref.lowp_error = std::max(ref.lowp_error, std::fabs(lowp[i] - ref.out[i]));
  for (size_t i = 0; i < lowp_lse.size(); ++i)
    if (std::isfinite(ref.lse[i]))
      ref.lowp_lse_error = std::max(ref.lowp_lse_error, std::fabs(lowp_lse[i] - ref.lse[i]));
  ref.value_scale = 0;
  for (int b = 0; b < p.batch; ++b)
    for (int t = 0; t < p.seqlens_k[b]; ++t)
      for (int d = 0; d < Dl; ++d) ref.value_scale = std::max(ref.value_scale, std::fabs(p.rows[b][(size_t)t * D + d]));
  if (ref.value_scale == 0) ref.value_scale = 1;
  return ref;
}

reference_outputs oracle_for(const merge_images& im) {
  const merge_case& c = im.spec;
  const long rh = (long)c.rows * c.heads;
  reference_outputs ref;
  ref.dim = c.dim;
  oracle::merge(c.parts, rh, c.dim, im.logical_out, im.logical_lse, ref.out, ref.lse);
  // Low precision: the merge has no P·V product; only the output rounding.
  for (double v : ref.out) ref.lowp_error = std::max(ref.lowp_error, std::fabs(round_to_dtype(c.out_dtype, v) - v));
  ref.value_scale = 0;
  for (double v : im.logical_out) ref.value_scale = std::max(ref.value_scale, std::fabs(v));
  if (ref.value_scale == 0) ref.value_scale = 1;
  return ref;
}

namespace {

// The checks common to both ops, on a device case type with execute/
// repoison_outputs/download_outputs/changed_inputs.
// One repeat of op A in the k-th way (see run_options); `way` names it.
call_outcome repeat_once(backend_session& s, device_absorbed& dev, int k, uint64_t seed, std::string& way) {
  static const int patterns[] = {0x00, 0xff, -1};
  switch (k % 3) {
    case 0:
      way = "run";
      return dev.run_again(s.api, s.context);
    case 1: {
      const int pattern = patterns[(k / 3) % 3];
      way = pattern < 0 ? "plan(random workspace)+run" : (pattern ? "plan(0xff workspace)+run" : "plan(0x00 workspace)+run");
      return dev.replan(s.api, s.context, pattern, seed + (uint64_t)k);
    }
    default: {
      bool supported = false;
      way = "graph replay";
      call_outcome r = dev.graph_replay(s.api, s.context, 2, &supported);
      if (supported) return r;
      way = "plan(random workspace)+run";
      return dev.replan(s.api, s.context, -1, seed + (uint64_t)k);
    }
  }
}
call_outcome repeat_once(backend_session& s, device_merge& dev, int, uint64_t, std::string& way) {
  way = "call";
  return dev.run_again(s.api, s.context);
}

// Determinism: the case repeated opt.repeats times on re-poisoned outputs,
// each result compared bit for bit with the first.
template <class DeviceCase>
void check_repeats(backend_session& s, DeviceCase& dev, const produced& first, bool want_lse, const std::string& name,
                   uint64_t seed, const run_options& opt, result_log& log) {
  std::string ways;
  for (int k = 0; k < opt.repeats; ++k) {
    dev.repoison_outputs();
    std::string way;
    const call_outcome call = repeat_once(s, dev, k, seed, way);
    const std::string which = "repeat " + std::to_string(k + 1) + " (" + way + ")";
    if (!call.ok()) {
      log.fail(s.name, name, "determinism", which + " failed: " + call.stage + ": " + call.message, seed);
      return;
    }
    host_tensor out, lse;
    dev.download_outputs(out, lse);
    std::string err = bitwise_difference(first.out, out, "out");
    if (err.empty() && want_lse) err = bitwise_difference(first.lse, lse, "lse");
    if (!err.empty()) {
      log.fail(s.name, name, "determinism", which + ": " + err, seed);
      return;
    }
    if (ways.find(way) == std::string::npos) ways += (ways.empty() ? "" : ", ") + way;
  }
  log.pass(s.name, name, "determinism", std::to_string(opt.repeats) + " repeats bitwise equal (" + ways + ")", seed);
}

template <class DeviceCase, class Images>
produced run_checks(backend_session& s, DeviceCase& dev, const Images& im, const std::string& name, uint64_t seed,
                    bool want_lse, const reference_outputs& ref, const run_options& opt, result_log& log) {
  produced result;
  const tolerance_policy& tol = default_tolerance();
  call_outcome call = dev.execute(s.api, s.context);
  if (!call.ok()) {
    const std::string msg = call.stage + " returned " + std::to_string((int)call.status) + ": " + call.message;
    if (call.status == MLA_ERR_UNSUPPORTED)
      log.fail(s.name, name, "caps", "the case is within the claimed caps but " + msg, seed);
    else
      log.fail(s.name, name, "execute", msg, seed);
    return result;
  }
  log.pass(s.name, name, "execute", "", seed);
  dev.download_outputs(result.out, result.lse);
  result.ok = true;

  std::string note;
  std::string err = check_values(result.out, ref, tol, note);
  if (err.empty()) log.pass(s.name, name, "accuracy", note, seed); else log.fail(s.name, name, "accuracy", err, seed);
  if (want_lse) {
    err = check_lse(result.lse, ref, tol, note);
    if (err.empty()) log.pass(s.name, name, "lse", note, seed); else log.fail(s.name, name, "lse", err, seed);
  } else {
    log.skip(s.name, name, "lse", "lse not requested in this case", seed);
  }
  err = check_unwritten(result.out, "out");
  if (err.empty() && want_lse) err = check_unwritten(result.lse, "lse");
  if (err.empty()) log.pass(s.name, name, "unwritten", "", seed); else log.fail(s.name, name, "unwritten", err, seed);
  err = check_outside_untouched(result.out, im.out, "out");
  if (err.empty() && want_lse) err = check_outside_untouched(result.lse, im.lse, "lse");
  if (err.empty()) log.pass(s.name, name, "out_of_bounds_write", "", seed);
  else log.fail(s.name, name, "out_of_bounds_write", err, seed);
  err = dev.changed_inputs();
  if (err.empty()) log.pass(s.name, name, "inputs_untouched", "", seed);
  else log.fail(s.name, name, "inputs_untouched", err, seed);

  check_repeats(s, dev, result, want_lse, name, seed, opt, log);
  return result;
}

}  // namespace

produced run_absorbed_case(backend_session& s, const absorbed_images& im, const reference_outputs& ref,
                           const run_options& opt, result_log& log) {
  try {
    device_absorbed dev(*s.memory, im);
    return run_checks(s, dev, im, im.spec.name, im.spec.seed, im.spec.want_lse, ref, opt, log);
  } catch (const std::exception& e) {
    log.fail(s.name, im.spec.name, "execute", std::string("device error: ") + e.what(), im.spec.seed);
    return {};
  }
}

produced run_merge_case(backend_session& s, const merge_images& im, const reference_outputs& ref,
                        const run_options& opt, result_log& log) {
  try {
    device_merge dev(*s.memory, im);
    return run_checks(s, dev, im, im.spec.name, im.spec.seed, im.spec.want_lse, ref, opt, log);
  } catch (const std::exception& e) {
    log.fail(s.name, im.spec.name, "execute", std::string("device error: ") + e.what(), im.spec.seed);
    return {};
  }
}

void check_batch_invariance(backend_session& s, const absorbed_images& im, const produced& batch, result_log& log) {
  const absorbed_case& c = im.spec;
  const int B = (int)c.s_q.size();
  if (B < 2 || !batch.ok) return;
  try {
    device_absorbed dev(*s.memory, im);
    std::string checked;
    for (int b : {0, B / 2, B - 1}) {
      if (checked.find("," + std::to_string(b) + ",") != std::string::npos) continue;
      checked += "," + std::to_string(b) + ",";
      dev.repoison_outputs();
      const call_outcome call = dev.execute_alone(s.api, s.context, b);
      if (!call.ok()) {
        log.fail(s.name, c.name, "batch_invariance",
                 "sequence " + std::to_string(b) + " alone: " + call.stage + ": " + call.message, c.seed);
        return;
      }
      host_tensor out, lse;
      dev.download_outputs(out, lse);
      const int64_t r0 = im.cu_seqlens_q[b], r1 = im.cu_seqlens_q[b + 1];
      std::string err = bitwise_difference_rows(batch.out, out, r0, r1, "out");
      if (err.empty() && c.want_lse) err = bitwise_difference_rows(batch.lse, lse, r0, r1, "lse");
      if (!err.empty()) {
        log.fail(s.name, c.name, "batch_invariance",
                 "sequence " + std::to_string(b) + " alone vs in the batch of " + std::to_string(B) + ": " + err,
                 c.seed);
        return;
      }
    }
    log.pass(s.name, c.name, "batch_invariance", "first, middle and last sequence alone: bitwise equal", c.seed);
  } catch (const std::exception& e) {
    log.fail(s.name, c.name, "batch_invariance", std::string("device error: ") + e.what(), c.seed);
  }
}

}  // namespace conformance
