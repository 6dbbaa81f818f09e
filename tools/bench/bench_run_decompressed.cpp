// SPDX-License-Identifier: MIT
// Op B cases of mla-bench (P1-P7, C4, C5 and the seed table): the same paged
// latent cache as op A's cases, DeepSeek-V2-Lite's op B dims (Dn = Dv = 128)
// with random weights of trained scale (N(0, 1/Dl)-like, uniform here), the
// mode of bench_settings, one plan, a checked sample, then the timed runs.
#include "bench_run.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <oracle.hpp>

#include "dtype_convert.hpp"
#include "oracle_sample.hpp"
#include "random_fill.hpp"
#include "tensor_desc.hpp"

namespace mla_bench {
namespace {

using mla_tools::device_buffer;
constexpr int kRow = kLatentDim + kRopeDim, kDq = kNopeDim + kRopeDim;

}  // namespace

bench_result run_decompressed_case(mla_tools::backend_session& session, const bench_case& c, const bench_settings& s) {
  std::vector<int> s_k;
  bench_result r = start_result(c, s_k);
  r.mode = s.op_b_mode;
  const mla_caps& caps = session.caps();
  if (caps.struct_size < MLA_CAPS_SIZE_1_1 || !(caps.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED)) ||
      session.api().struct_size < MLA_API_SIZE_1_1) {
    r.skipped = "the " + session.name() + " plugin has no op B (caps.ops lacks MLA_OP_DECOMPRESSED)";
    return r;
  }
  auto& mem = session.memory();
  const mla_api& api = session.api();
  const mla_dtype dt = s.dtype;
  const size_t elem = mla_tools::element_bytes(dt);
  const std::vector<int> s_q(c.batch, c.s_q);
  r.work = decompressed_work(s_q, s_k, c.heads, kLatentDim, kRopeDim, kNopeDim, kVDim, true, (int)elem, (int)elem,
                             (int)elem);
  // One cache copy: a prefill reads each row once per head and query tile,
  // from the caches of the core that expands it, not from memory.
  const paged_workload w = build_paged_workload(mem, s_k, dt, s.seed, 0);
  r.copies = 1;

  // q [total_q, H, Dn+Dr], weights [H, Dn+Dv, Dl] (kv_b_proj: one buffer, two views), out [total_q, H, Dv].
  const int64_t total_q = r.work.total_q;
  std::vector<float> qf((size_t)total_q * c.heads * kDq), wf((size_t)c.heads * (kNopeDim + kVDim) * kLatentDim);
  mla_tools::fill_uniform(qf.data(), qf.size(), s.seed + 17);
  mla_tools::fill_uniform(wf.data(), wf.size(), s.seed + 29);
  const float w_scale = float(std::sqrt(3.0 / kLatentDim));  // uniform [-1,1) * sqrt(3/Dl): variance 1/Dl
  for (float& v : wf) v *= w_scale;
  std::vector<uint8_t> q_host(qf.size() * elem), w_host(wf.size() * elem);
  mla_tools::encode(dt, qf.data(), q_host.data(), qf.size());
  mla_tools::encode(dt, wf.data(), w_host.data(), wf.size());
  device_buffer q(mem, q_host.size()), weights(mem, w_host.size()), out(mem, (size_t)total_q * c.heads * kVDim * elem);
  mem.upload(q.get(), q_host.data(), q_host.size());
  mem.upload(weights.get(), w_host.data(), w_host.size());
  const query_offsets cu = upload_query_offsets(mem, c);

  mla_decompressed_args a{};
  fill_shared_args(a, c, total_q, cu, w);  // no lse: a prefill wants none
  a.nope_dim = kNopeDim;
  a.v_dim = kVDim;
  a.mode = s.op_b_mode;
  a.q = mla_tools::make_tensor(q.get(), dt, (int64_t)c.heads * kDq, kDq, 1);
  const int64_t head_stride = (int64_t)(kNopeDim + kVDim) * kLatentDim;
  a.w_uk = mla_tools::make_tensor(weights.get(), dt, head_stride, kLatentDim, 1);
  a.w_uv = mla_tools::make_tensor(static_cast<uint8_t*>(weights.get()) + (size_t)kNopeDim * kLatentDim * elem, dt,
                                  head_stride, kLatentDim, 1);
  a.out = mla_tools::make_tensor(out.get(), dt, (int64_t)c.heads * kVDim, kVDim, 1);

  mla_status st = api.decompressed_workspace_size(session.context(), &a, &r.workspace_bytes);
  if (st != MLA_OK) return r.error = session.describe_failure("decompressed_workspace_size", st), r;
  device_buffer ws(mem, std::max<size_t>(r.workspace_bytes, 256));
  a.workspace = ws.get();
  a.workspace_bytes = r.workspace_bytes;

  if (!plan_and_run_once(
          session, r, "decompressed", [&] { return api.decompressed_plan(session.context(), &a); },
          [&] { return api.decompressed_run(session.context(), &a); }))
    return r;

  // ---- check a sample against the fp64 oracle: head 0 and H-1 of the first
  // and last query row of the first sequence (every key of the head expanded once).
  {
    r.check_ok = true;
    const int b = 0, s_kb = s_k[b];
    std::vector<float> out_row((size_t)c.heads * kVDim);
    std::vector<uint8_t> raw(out_row.size() * elem);
    std::vector<double> rows((size_t)s_kb * kRow);
    std::vector<float> key_row(kRow);
    for (int t = 0; t < s_kb; ++t) {
      w.decode_row(b, t, key_row.data());
      std::copy(key_row.begin(), key_row.end(), rows.begin() + (size_t)t * kRow);
    }
    for (int h : c.heads > 1 ? std::vector<int>{0, c.heads - 1} : std::vector<int>{0}) {
      oracle::decompressed_problem p;
      p.batch = 1, p.heads = 1, p.latent_dim = kLatentDim, p.rope_dim = kRopeDim, p.nope_dim = kNopeDim;
      p.v_dim = kVDim, p.causal = true, p.scale = a.scale;
      const std::vector<int> rows_checked = c.s_q > 1 ? std::vector<int>{0, c.s_q - 1} : std::vector<int>{0};
      // Each checked row as a sequence of its own with the keys it sees.
      for (int i : rows_checked) {
        const int visible = (int)visible_keys(c.s_q, s_kb, i, true);
        p.cu_seqlens_q = {0, 1};
        p.seqlens_k = {visible};
        p.q.assign(kDq, 0.0);
        for (int d = 0; d < kDq; ++d)
          p.q[d] = mla_tools::round_to(dt, qf[((size_t)(cu.host[b] + i) * c.heads + h) * kDq + d]);
        p.w_uk.resize((size_t)kNopeDim * kLatentDim);
        p.w_uv.resize((size_t)kVDim * kLatentDim);
        for (size_t k = 0; k < p.w_uk.size(); ++k) p.w_uk[k] = mla_tools::round_to(dt, wf[(size_t)h * head_stride + k]);
        for (size_t k = 0; k < p.w_uv.size(); ++k)
          p.w_uv[k] = mla_tools::round_to(dt, wf[(size_t)h * head_stride + (size_t)kNopeDim * kLatentDim + k]);
        p.rows = {std::vector<double>(rows.begin(), rows.begin() + (size_t)visible * kRow)};
        std::vector<double> want, want_lse;
        oracle::decompressed(p, want, want_lse);
        mem.download(raw.data(), static_cast<uint8_t*>(out.get()) + (size_t)(cu.host[b] + i) * raw.size(), raw.size());
        mla_tools::decode(dt, raw.data(), out_row.data(), out_row.size());
        // oracle_sample.hpp's tolerance: 2u (|ref| + rms of the head's row).
        const double u = mla_tools::unit_roundoff(dt, dt);
        double rms = 0;
        for (int d = 0; d < kVDim; ++d) rms += want[d] * want[d];
        rms = std::sqrt(rms / kVDim);
        for (int d = 0; d < kVDim; ++d) {
          const double err = std::fabs(out_row[(size_t)h * kVDim + d] - want[d]);
          const double tol = 2 * u * (std::fabs(want[d]) + rms) + 1e-30;
          const double ratio = err / tol;
          if (!(ratio <= r.check_worst)) r.check_worst = std::isnan(ratio) ? INFINITY : ratio;
          if (!(err <= tol) && r.check_ok) {
            r.check_ok = false;
            r.check_detail = "query " + std::to_string(i) + " head " + std::to_string(h) + " element " +
                             std::to_string(d) + ": " + std::to_string(out_row[(size_t)h * kVDim + d]) +
                             " vs oracle " + std::to_string(want[d]);
          }
        }
      }
    }
  }

  // ---- timing.
  mla_status timed_status = MLA_OK;
  auto launch = [&] {
    const mla_status rs = api.decompressed_run(session.context(), &a);
    if (rs != MLA_OK && timed_status == MLA_OK) timed_status = rs;
  };
  time_launches(mem, launch, s, 1, r);
  if (timed_status != MLA_OK) r.error = session.describe_failure("decompressed_run (timed)", timed_status);
  return r;
}

}  // namespace mla_bench
