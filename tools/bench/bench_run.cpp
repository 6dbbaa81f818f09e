// SPDX-License-Identifier: MIT
#include "bench_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "dtype_convert.hpp"
#include "oracle_sample.hpp"
#include "random_fill.hpp"
#include "tensor_desc.hpp"

namespace mla_bench {
namespace {

using mla_tools::device_buffer;
constexpr int kRow = kLatentDim + kRopeDim;

// Fills pages [0, pages) with random rows, page p from its own stream so
// threads can share the work; rows past a sequence's end are set to NaN
// afterwards by the caller.
void fill_pages(std::vector<uint8_t>& host, int64_t pages, mla_dtype dtype, uint64_t seed) {
  const size_t page_elems = (size_t)kPageSize * kRow, elem = mla_tools::element_bytes(dtype);
  const int threads = (int)std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::vector<float> v(page_elems);
      for (int64_t p = t; p < pages; p += threads) {
        mla_tools::fill_uniform(v.data(), v.size(), seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(p + 1)));
        mla_tools::encode(dtype, v.data(), host.data() + (size_t)p * page_elems * elem, page_elems);
      }
    });
  for (auto& th : pool) th.join();
}

}  // namespace

paged_workload build_paged_workload(mla_tools::backend_memory& mem, const std::vector<int>& s_k, mla_dtype dt,
                                    uint64_t seed, size_t rotation_bytes) {
  paged_workload w;
  w.s_k = s_k;
  w.dtype = dt;
  const size_t elem = mla_tools::element_bytes(dt);
  const int batch = (int)s_k.size();
  int max_pages = 0;
  int64_t total_pages = 0;
  for (int v : s_k) {
    const int p = (v + kPageSize - 1) / kPageSize;
    max_pages = std::max(max_pages, p);
    total_pages += p;
  }
  w.total_pages = std::max<int64_t>(total_pages, 1);
  w.table_stride = std::max(max_pages, 1);
  std::vector<int32_t> order(w.total_pages);
  for (int64_t i = 0; i < w.total_pages; ++i) order[i] = (int32_t)i;
  mla_tools::splitmix64 g(seed);
  for (int64_t i = w.total_pages - 1; i > 0; --i) std::swap(order[i], order[(int64_t)(g.next() % (uint64_t)(i + 1))]);
  w.block_table.assign((size_t)batch * w.table_stride, -1);
  int64_t next = 0;
  for (int b = 0; b < batch; ++b)
    for (int p = 0; p < (s_k[b] + kPageSize - 1) / kPageSize; ++p) w.block_table[(size_t)b * w.table_stride + p] = order[next++];

  w.page_bytes = (size_t)kPageSize * kRow * elem;
  const size_t cache_bytes = w.page_bytes * w.total_pages;
  w.cache_host.resize(cache_bytes);
  fill_pages(w.cache_host, w.total_pages, dt, seed);
  {  // NaN in the rows past each sequence's end: a backend that reads them fails the check
    std::vector<uint8_t> nan_row(kRow * elem);
    std::vector<float> nan_f(kRow, std::numeric_limits<float>::quiet_NaN());
    mla_tools::encode(dt, nan_f.data(), nan_row.data(), kRow);
    for (int b = 0; b < batch; ++b)
      for (int t = s_k[b]; t % kPageSize != 0; ++t) {
        const int32_t page = w.block_table[(size_t)b * w.table_stride + t / kPageSize];
        std::copy(nan_row.begin(), nan_row.end(),
                  w.cache_host.begin() + page * w.page_bytes + (t % kPageSize) * kRow * elem);
      }
  }
  const int copies = (int)std::min<size_t>(64, std::max<size_t>(1, (rotation_bytes + cache_bytes - 1) / cache_bytes));
  for (int i = 0; i < copies; ++i) {
    w.caches.emplace_back(mem, cache_bytes);
    mem.upload(w.caches.back().get(), w.cache_host.data(), cache_bytes);
  }
  w.seqlens = device_buffer(mem, s_k.size() * 4 + 4);
  w.table = device_buffer(mem, w.block_table.size() * 4);
  mem.upload(w.seqlens.get(), s_k.data(), s_k.size() * 4);
  mem.upload(w.table.get(), w.block_table.data(), w.block_table.size() * 4);
  return w;
}

mla_paged_cache paged_workload::view(int copy) const {
  mla_paged_cache kv{};
  kv.struct_size = sizeof(kv);
  kv.data = caches[(size_t)copy].get();
  kv.dtype = dtype;
  kv.page_size = kPageSize;
  kv.num_pages = total_pages;
  kv.page_stride = (int64_t)kPageSize * kRow;
  kv.row_stride = kRow;
  kv.latent_offset = 0;
  kv.rope_offset = kLatentDim;
  kv.block_table = static_cast<const int32_t*>(table.get());
  kv.block_table_stride = table_stride;
  kv.seqlens_k = static_cast<const int32_t*>(seqlens.get());
  return kv;
}

void paged_workload::decode_row(int b, int t, float* row) const {
  const int32_t page = block_table[(size_t)b * table_stride + t / kPageSize];
  const size_t elem = mla_tools::element_bytes(dtype);
  mla_tools::decode(dtype, cache_host.data() + page * page_bytes + (t % kPageSize) * kRow * elem, row, kRow);
}

bench_result start_result(const bench_case& c, std::vector<int>& s_k) {
  bench_result r;
  r.c = &c;
  s_k = case_seqlens(c);
  double sum_sk = 0;
  for (int v : s_k) sum_sk += v;
  r.mean_s_k = sum_sk / c.batch;
  return r;
}

query_offsets upload_query_offsets(mla_tools::backend_memory& mem, const bench_case& c) {
  query_offsets cu;
  cu.host.assign(c.batch + 1, 0);
  for (int b = 0; b < c.batch; ++b) cu.host[b + 1] = cu.host[b] + c.s_q;
  cu.dev = device_buffer(mem, cu.host.size() * 4);
  mem.upload(cu.dev.get(), cu.host.data(), cu.host.size() * 4);
  return cu;
}

template <class Args>
void fill_shared_args(Args& a, const bench_case& c, int64_t total_q, const query_offsets& cu, const paged_workload& w) {
  a.struct_size = sizeof(a);
  a.batch = c.batch;
  a.num_heads = c.heads;
  a.latent_dim = kLatentDim;
  a.rope_dim = kRopeDim;
  a.total_q = total_q;
  a.max_seqlen_q = c.s_q;
  a.causal = 1;
  a.scale = float(1.0 / std::sqrt(192.0));
  a.cu_seqlens_q = static_cast<const int32_t*>(cu.dev.get());
  a.lse = mla_tools::make_tensor(nullptr, MLA_DTYPE_F32, 0, 0, 0);  // an engine's decode step and a prefill want no lse
  a.lse.stride[2] = 0;
  a.kv = w.view(0);
}
template void fill_shared_args(mla_absorbed_args&, const bench_case&, int64_t, const query_offsets&,
                               const paged_workload&);
template void fill_shared_args(mla_decompressed_args&, const bench_case&, int64_t, const query_offsets&,
                               const paged_workload&);

bool plan_and_run_once(mla_tools::backend_session& session, bench_result& r, const std::string& op,
                       const std::function<mla_status()>& plan, const std::function<mla_status()>& run) {
  auto& mem = session.memory();
  const auto t0 = std::chrono::steady_clock::now();
  mla_status st = plan();
  mem.synchronize();
  r.plan_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (st != MLA_OK) return r.error = session.describe_failure((op + "_plan").c_str(), st), false;
  st = run();
  if (st != MLA_OK) return r.error = session.describe_failure((op + "_run").c_str(), st), false;
  mem.synchronize();
  return true;
}

void time_launches(mla_tools::backend_memory& mem, const std::function<void()>& launch, const bench_settings& s,
                   int calibration_repeats, bench_result& r) {
  r.iters = s.iters;
  if (r.iters <= 0) {
    const double once = mem.time_ms(launch, 1, calibration_repeats);
    r.iters = (int)std::min(1000.0, std::max(1.0, std::ceil(200.0 / std::max(once, 1e-3))));
  }
  r.run_ms = mem.time_ms(launch, r.iters, s.repeats);
}

bench_result run_case(mla_tools::backend_session& session, const bench_case& c, const bench_settings& s) {
  if (c.op == bench_op::decompressed) return run_decompressed_case(session, c, s);
  std::vector<int> s_k;
  bench_result r = start_result(c, s_k);
  auto& mem = session.memory();
  const mla_api& api = session.api();
  const mla_dtype dt = s.dtype;
  const size_t elem = mla_tools::element_bytes(dt);
  const std::vector<int> s_q(c.batch, c.s_q);
  r.work = absorbed_work(s_q, s_k, c.heads, kLatentDim, kRopeDim, true, (int)elem, (int)elem, (int)elem);

  // ---- paged cache: pages of each sequence in a shuffled order, copies to rotate.
  const paged_workload w = build_paged_workload(mem, s_k, dt, s.seed, s.rotation_bytes);
  r.copies = (int)w.caches.size();

  // ---- queries, outputs, index arrays.
  const int64_t total_q = r.work.total_q;
  std::vector<float> qf((size_t)total_q * c.heads * kRow);
  mla_tools::fill_uniform(qf.data(), qf.size(), s.seed + 17);
  std::vector<uint8_t> q_host(qf.size() * elem);
  mla_tools::encode(dt, qf.data(), q_host.data(), qf.size());
  device_buffer q(mem, q_host.size()), out(mem, (size_t)total_q * c.heads * kLatentDim * elem);
  mem.upload(q.get(), q_host.data(), q_host.size());
  const query_offsets cu = upload_query_offsets(mem, c);

  mla_absorbed_args a{};
  fill_shared_args(a, c, total_q, cu, w);
  a.q = mla_tools::make_tensor(q.get(), dt, (int64_t)c.heads * kRow, kRow, 1);
  a.out = mla_tools::make_tensor(out.get(), dt, (int64_t)c.heads * kLatentDim, kLatentDim, 1);

  mla_status st = api.absorbed_workspace_size(session.context(), &a, &r.workspace_bytes);
  if (st != MLA_OK) return r.error = session.describe_failure("absorbed_workspace_size", st), r;
  device_buffer ws(mem, r.workspace_bytes);
  a.workspace = ws.get();
  a.workspace_bytes = r.workspace_bytes;

  // ---- plan once (timed once), run once, check a sample.
  if (!plan_and_run_once(
          session, r, "absorbed", [&] { return api.absorbed_plan(session.context(), &a); },
          [&] { return api.absorbed_run(session.context(), &a); }))
    return r;

  r.check_ok = true;
  const std::vector<int> check_heads = c.heads > 1 ? std::vector<int>{0, c.heads - 1} : std::vector<int>{0};
  const std::vector<int> check_seqs = c.batch > 1 ? std::vector<int>{0, c.batch - 1} : std::vector<int>{0};
  for (int b : check_seqs)
    for (int i : c.s_q > 1 ? std::vector<int>{0, c.s_q - 1} : std::vector<int>{0}) {
      const int visible = (int)visible_keys(c.s_q, s_k[b], i, true);
      const int64_t row = cu.host[b] + i;
      std::vector<double> qs, keys((size_t)visible * kRow);
      std::vector<float> got, row_out((size_t)c.heads * kLatentDim);
      std::vector<uint8_t> raw(row_out.size() * elem);
      mem.download(raw.data(), static_cast<uint8_t*>(out.get()) + row * raw.size(), raw.size());
      mla_tools::decode(dt, raw.data(), row_out.data(), row_out.size());
      for (int h : check_heads) {
        const float* qh = &qf[((size_t)row * c.heads + h) * kRow];
        for (int d = 0; d < kRow; ++d) qs.push_back(mla_tools::round_to(dt, qh[d]));
        got.insert(got.end(), row_out.begin() + (size_t)h * kLatentDim, row_out.begin() + (size_t)(h + 1) * kLatentDim);
      }
      std::vector<float> key_row(kRow);
      for (int t = 0; t < visible; ++t) {
        w.decode_row(b, t, key_row.data());
        std::copy(key_row.begin(), key_row.end(), keys.begin() + (size_t)t * kRow);
      }
      const auto res = mla_tools::check_query_row((int)check_heads.size(), kLatentDim, kRopeDim, a.scale, qs, keys,
                                                  visible, got.data(), nullptr, dt, dt);
      r.check_worst = std::max(r.check_worst, res.worst_ratio);
      if (!res.ok && r.check_ok) {
        r.check_ok = false;
        r.check_detail = "sequence " + std::to_string(b) + " query " + std::to_string(i) + ": " + res.detail;
      }
    }

  // ---- timing: many back-to-back launches, rotating the cache copies.
  int k = 0;
  mla_status timed_status = MLA_OK;
  auto launch = [&] {
    a.kv.data = w.caches[(size_t)(k++ % r.copies)].get();
    const mla_status rs = api.absorbed_run(session.context(), &a);
    if (rs != MLA_OK && timed_status == MLA_OK) timed_status = rs;
  };
  time_launches(mem, launch, s, 3, r);
  if (timed_status != MLA_OK) r.error = session.describe_failure("absorbed_run (timed)", timed_status);
  return r;
}

}  // namespace mla_bench
