// SPDX-License-Identifier: MIT
#include "case_runner.hpp"

#include "decompressed_device_case.hpp"
#include "device_case.hpp"
#include "low_precision.hpp"

#include <oracle.hpp>

#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

// ref.lowp_error and ref.lowp_lse_error: the largest differences of the
// low-precision run's out and (finite) lse from the exact ones.
void set_lowp_errors(reference_outputs& ref, const std::vector<double>& lowp, const std::vector<double>& lowp_lse) {
  for (size_t i = 0; i < lowp.size(); ++i) ref.lowp_error = std::max(ref.lowp_error, std::fabs(lowp[i] - ref.out[i]));
  for (size_t i = 0; i < lowp_lse.size(); ++i)
    if (std::isfinite(ref.lse[i]))
      ref.lowp_lse_error = std::max(ref.lowp_lse_error, std::fabs(lowp_lse[i] - ref.lse[i]));
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
  set_lowp_errors(ref, lowp, lowp_lse);
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
template <class PlannedCase>  // device_absorbed, device_decompressed
call_outcome repeat_once(backend_session& s, PlannedCase& dev, int k, uint64_t seed, std::string& way) {
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

reference_outputs oracle_for(decompressed_images& im) {
  oracle::decompressed_problem& p = im.logical;
  const decompressed_case& c = im.spec;
  const int H = p.heads, Dv = p.v_dim, Dq = p.nope_dim + p.rope_dim, D = p.latent_dim + p.rope_dim;
  const int64_t total_q = im.total_q();
  reference_outputs ref;
  ref.dim = Dv;
  ref.out.assign((size_t)(total_q * H * Dv), 0.0);
  ref.lse.assign((size_t)(total_q * H), 0.0);
  std::vector<double> lowp(ref.out.size(), 0.0), lowp_lse(ref.lse.size(), 0.0), vmax((size_t)p.batch, 0.0);
  const int32_t compute_dt =
      compute_dtype(compute_dtype(c.attention.q_dtype, c.attention.cache_dtype), c.weight_dtype);
  const int32_t out_dt = c.attention.out_dtype;
  const oracle::rounding round_c = [compute_dt](double x) { return round_to_dtype(compute_dt, x); };
  const oracle::rounding round_out = [out_dt](double x) { return round_to_dtype(out_dt, x); };
  tbb::parallel_for(0, p.batch, [&](int b) {
    oracle::decompressed_problem one;
    one.batch = 1;
    one.heads = H;
    one.latent_dim = p.latent_dim;
    one.rope_dim = p.rope_dim;
    one.nope_dim = p.nope_dim;
    one.v_dim = Dv;
    one.causal = p.causal;
    one.scale = p.scale;
    const int q0 = p.cu_seqlens_q[b], q1 = p.cu_seqlens_q[b + 1];
    one.cu_seqlens_q = {0, q1 - q0};
    one.seqlens_k = {p.seqlens_k[b]};
    one.q.assign(p.q.begin() + (size_t)q0 * H * Dq, p.q.begin() + (size_t)q1 * H * Dq);
    one.w_uk = p.w_uk;
    one.w_uv = p.w_uv;
    one.rows = {std::move(p.rows[b])};
    // The low-precision run: inputs in the compute dtype (where they differ),
    // decompressed K/V and softmax weights rounded to it, outputs to the out dtype.
    oracle::decompressed_problem lp = one;
    for (double& v : lp.q) v = round_c(v);
    for (double& v : lp.w_uk) v = round_c(v);
    for (double& v : lp.w_uv) v = round_c(v);
    for (double& v : lp.rows[0]) v = round_c(v);
    std::vector<double> o, l, o_lp, l_lp;
    tbb::parallel_invoke([&] { oracle::decompressed(one, o, l, nullptr, nullptr, nullptr, &vmax[(size_t)b]); },
                         [&] { oracle::decompressed(lp, o_lp, l_lp, round_c, round_c, round_out); });
    p.rows[b] = std::move(one.rows[0]);
    std::copy(o.begin(), o.end(), ref.out.begin() + (size_t)q0 * H * Dv);
    std::copy(o_lp.begin(), o_lp.end(), lowp.begin() + (size_t)q0 * H * Dv);
    std::copy(l.begin(), l.end(), ref.lse.begin() + (size_t)q0 * H);
    std::copy(l_lp.begin(), l_lp.end(), lowp_lse.begin() + (size_t)q0 * H);
  });
  (void)D;
  set_lowp_errors(ref, lowp, lowp_lse);
  ref.value_scale = 0;
  for (double v : vmax) ref.value_scale = std::max(ref.value_scale, v);
  if (ref.value_scale == 0) ref.value_scale = 1;
  return ref;
}

namespace {

// One case with every per-case check on DeviceCase, a device error a failed execute.
template <class DeviceCase, class Images>
produced run_case(backend_session& s, const Images& im, bool want_lse, const reference_outputs& ref,
                  const run_options& opt, result_log& log) {
  try {
    DeviceCase dev(*s.memory, im);
    return run_checks(s, dev, im, im.spec.name, im.spec.seed, want_lse, ref, opt, log);
  } catch (const std::exception& e) {
    log.fail(s.name, im.spec.name, "execute", std::string("device error: ") + e.what(), im.spec.seed);
    return {};
  }
}

// batch_invariance on DeviceCase (device_absorbed, device_decompressed):
// `attention` the case's attention part, cu_seqlens_q its query rows.
template <class DeviceCase, class Images>
void check_sequences_alone(backend_session& s, const Images& im, const absorbed_case& attention,
                           const std::vector<int32_t>& cu_seqlens_q, const produced& batch, result_log& log) {
  const std::string& name = im.spec.name;
  const uint64_t seed = im.spec.seed;
  const int B = (int)attention.s_q.size();
  if (B < 2 || !batch.ok) return;
  try {
    DeviceCase dev(*s.memory, im);
    std::string checked;
    for (int b : {0, B / 2, B - 1}) {
      if (checked.find("," + std::to_string(b) + ",") != std::string::npos) continue;
      checked += "," + std::to_string(b) + ",";
      dev.repoison_outputs();
      const call_outcome call = dev.execute_alone(s.api, s.context, b);
      if (!call.ok()) {
        log.fail(s.name, name, "batch_invariance",
                 "sequence " + std::to_string(b) + " alone: " + call.stage + ": " + call.message, seed);
        return;
      }
      host_tensor out, lse;
      dev.download_outputs(out, lse);
      const int64_t r0 = cu_seqlens_q[b], r1 = cu_seqlens_q[b + 1];
      std::string err = bitwise_difference_rows(batch.out, out, r0, r1, "out");
      if (err.empty() && attention.want_lse) err = bitwise_difference_rows(batch.lse, lse, r0, r1, "lse");
      if (!err.empty()) {
        log.fail(s.name, name, "batch_invariance",
                 "sequence " + std::to_string(b) + " alone vs in the batch of " + std::to_string(B) + ": " + err,
                 seed);
        return;
      }
    }
    log.pass(s.name, name, "batch_invariance", "first, middle and last sequence alone: bitwise equal", seed);
  } catch (const std::exception& e) {
    log.fail(s.name, name, "batch_invariance", std::string("device error: ") + e.what(), seed);
  }
}

}  // namespace

produced run_absorbed_case(backend_session& s, const absorbed_images& im, const reference_outputs& ref,
                           const run_options& opt, result_log& log) {
  return run_case<device_absorbed>(s, im, im.spec.want_lse, ref, opt, log);
}

produced run_merge_case(backend_session& s, const merge_images& im, const reference_outputs& ref,
                        const run_options& opt, result_log& log) {
  return run_case<device_merge>(s, im, im.spec.want_lse, ref, opt, log);
}

void check_batch_invariance(backend_session& s, const absorbed_images& im, const produced& batch, result_log& log) {
  check_sequences_alone<device_absorbed>(s, im, im.spec, im.cu_seqlens_q, batch, log);
}

produced run_decompressed_case(backend_session& s, const decompressed_images& im, const reference_outputs& ref,
                               const run_options& opt, result_log& log) {
  return run_case<device_decompressed>(s, im, im.spec.attention.want_lse, ref, opt, log);
}

void check_batch_invariance(backend_session& s, const decompressed_images& im, const produced& batch,
                            result_log& log) {
  check_sequences_alone<device_decompressed>(s, im, im.spec.attention, im.base.cu_seqlens_q, batch, log);
}

namespace {

const char* mode_label(int32_t mode) {
  switch (mode) {
    case MLA_DECOMPRESSED_AUTO: return "AUTO";
    case MLA_DECOMPRESSED_FORCE: return "FORCE";
    case MLA_DECOMPRESSED_FORCE_ABSORBED: return "FORCE_ABSORBED";
  }
  return "?";
}

// W_UV[h] o_A (double) against op B's out, and the lse, row by row.
std::string identity_difference(const decompressed_images& im, const host_tensor& out_a, const host_tensor& lse_a,
                                const produced& b, const reference_outputs& ref, double* worst_out) {
  const oracle::decompressed_problem& p = im.logical;
  const tolerance_policy& tol = default_tolerance();
  const int H = p.heads, Dl = p.latent_dim, Dv = p.v_dim;
  const int64_t total_q = im.total_q();
  const double limit = 2 * ref.out_tolerance(im.spec.attention.out_dtype, tol);
  std::vector<double> o(Dl);
  *worst_out = 0;
  char buf[256];
  for (int64_t t = 0; t < total_q; ++t)
    for (int h = 0; h < H; ++h) {
      const int64_t pair = t * H + h;
      for (int d = 0; d < Dl; ++d) o[d] = load_element(out_a.dtype, out_a.bytes.data(), out_a.buffer_index(pair * Dl + d));
      for (int v = 0; v < Dv; ++v) {
        double want = 0;
        for (int d = 0; d < Dl; ++d) want += p.w_uv[((size_t)h * Dv + v) * Dl + d] * o[d];
        const double got = load_element(b.out.dtype, b.out.bytes.data(), b.out.buffer_index(pair * Dv + v));
        const double err = std::fabs(got - want);
        if (!(err <= limit)) {
          std::snprintf(buf, sizeof buf, "out[%lld,%d,%d] = %.9g, W_UV o_A = %.9g (allowed %.3g)", (long long)t, h, v,
                        got, want, limit);
          return buf;
        }
        *worst_out = std::max(*worst_out, err);
      }
      if (!b.lse.bytes.empty()) {
        const double la = load_element(MLA_DTYPE_F32, lse_a.bytes.data(), lse_a.buffer_index(pair));
        const double lb = load_element(MLA_DTYPE_F32, b.lse.bytes.data(), b.lse.buffer_index(pair));
        const double ll = 2 * ref.lse_tolerance(ref.lse[(size_t)pair], tol);
        if (!(la == lb || std::fabs(la - lb) <= ll)) {
          std::snprintf(buf, sizeof buf, "lse[%lld,%d]: op B %.9g, op A %.9g (allowed %.3g)", (long long)t, h, lb, la, ll);
          return buf;
        }
      }
    }
  return "";
}

}  // namespace

void check_modes_and_identity(backend_session& s, const decompressed_images& im, const reference_outputs& ref,
                              const produced& first, bool identity, result_log& log) {
  const decompressed_case& c = im.spec;
  if (!first.ok) return;
  const tolerance_policy& tol = default_tolerance();
  produced by_mode[3];
  by_mode[c.mode] = first;
  try {
    device_decompressed dev(*s.memory, im);
    for (int32_t mode = 0; mode < 3; ++mode) {
      if (mode == c.mode) continue;
      dev.repoison_outputs();
      const call_outcome call = dev.execute_mode(s.api, s.context, mode);
      if (!call.ok()) {
        log.fail(s.name, c.name, "auto_mode", std::string(mode_label(mode)) + ": " + call.stage + ": " + call.message,
                 c.seed);
        return;
      }
      dev.download_outputs(by_mode[mode].out, by_mode[mode].lse);
      by_mode[mode].ok = true;
    }
  } catch (const std::exception& e) {
    log.fail(s.name, c.name, "auto_mode", std::string("device error: ") + e.what(), c.seed);
    return;
  }
  std::string err, note;
  for (int32_t mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED}) {
    if (err.empty() && mode != c.mode) {
      err = check_values(by_mode[mode].out, ref, tol, note);
      if (err.empty() && c.attention.want_lse) err = check_lse(by_mode[mode].lse, ref, tol, note);
      if (err.empty()) err = check_unwritten(by_mode[mode].out, "out");
      if (!err.empty()) err = std::string(mode_label(mode)) + " against the oracle: " + err;
    }
    if (err.empty()) {
      err = compare_outputs(by_mode[MLA_DECOMPRESSED_AUTO].out, by_mode[mode].out, ref, tol);
      if (!err.empty()) err = std::string("AUTO vs ") + mode_label(mode) + ": " + err;
    }
  }
  std::string how = "AUTO within tolerance of FORCE and FORCE_ABSORBED";
  if (err.empty() && (s.config.flags & MLA_CONTEXT_BATCH_INVARIANT) && s.caps.struct_size >= MLA_CAPS_SIZE_1_1) {
    // Per sequence, the form the break-even picks, bit for bit.
    const int32_t break_even = s.caps.decompressed_break_even_q;
    for (size_t b = 0; b < c.attention.s_q.size() && err.empty(); ++b) {
      const int32_t s_q = c.attention.s_q[b];
      const int32_t picked = s_q >= break_even ? MLA_DECOMPRESSED_FORCE : MLA_DECOMPRESSED_FORCE_ABSORBED;
      const int64_t r0 = im.base.cu_seqlens_q[b], r1 = im.base.cu_seqlens_q[b + 1];
      err = bitwise_difference_rows(by_mode[MLA_DECOMPRESSED_AUTO].out, by_mode[picked].out, r0, r1, "out");
      if (err.empty() && c.attention.want_lse)
        err = bitwise_difference_rows(by_mode[MLA_DECOMPRESSED_AUTO].lse, by_mode[picked].lse, r0, r1, "lse");
      if (!err.empty())
        err = "AUTO, sequence " + std::to_string(b) + " (s_q " + std::to_string(s_q) + ", break-even " +
              std::to_string(break_even) + ") differs from " + mode_label(picked) + ": " + err;
    }
    how += "; each sequence bitwise equal to the form the break-even " + std::to_string(break_even) + " picks";
  }
  if (err.empty()) log.pass(s.name, c.name, "auto_mode", how, c.seed);
  else log.fail(s.name, c.name, "auto_mode", err, c.seed);

  if (!identity) return;
  if (!(s.caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED))) {
    log.skip(s.name, c.name, "identity", "op A not claimed", c.seed);
    return;
  }
  if (!c.attention.want_lse) {
    log.skip(s.name, c.name, "identity", "lse not requested in this case", c.seed);
    return;
  }
  try {
    const absorbed_images a = identity_images(im);
    device_absorbed dev(*s.memory, a);
    const call_outcome call = dev.execute(s.api, s.context);
    if (!call.ok()) {
      log.fail(s.name, c.name, "identity", "op A on q~: " + call.stage + ": " + call.message, c.seed);
      return;
    }
    host_tensor out_a, lse_a;
    dev.download_outputs(out_a, lse_a);
    double worst = 0;
    const std::string e = identity_difference(im, out_a, lse_a, by_mode[MLA_DECOMPRESSED_FORCE], ref, &worst);
    char note[128];
    std::snprintf(note, sizeof note, "W_UV o_A vs the decompressed form: max |diff| %.3g, equal lse", worst);
    if (e.empty()) log.pass(s.name, c.name, "identity", note, c.seed);
    else log.fail(s.name, c.name, "identity", e, c.seed);
  } catch (const std::exception& ex) {
    log.fail(s.name, c.name, "identity", std::string("device error: ") + ex.what(), c.seed);
  }
}

}  // namespace conformance
