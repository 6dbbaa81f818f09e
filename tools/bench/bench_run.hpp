// SPDX-License-Identifier: MIT
// Runs one benchmark case on a backend: builds the paged workload in backend
// memory (random data, shuffled block table, several cache copies rotated
// so the timed loop does not run from the last-level cache), plans once,
// checks a sample of the output against the fp64 oracle, then times
// absorbed_run with backend_memory::time_ms.
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backend_session.hpp"
#include "bench_cases.hpp"

namespace mla_bench {

struct bench_settings {
  mla_dtype dtype = MLA_DTYPE_BF16;  // q, cache and out (and op B's weights)
  int32_t op_b_mode = MLA_DECOMPRESSED_AUTO;  // mla_decompressed_mode of op B cases
  int iters = 0;                     // launches per timed repeat; 0 = enough for ~200 ms
  int repeats = 5;
  uint64_t seed = 1;
  size_t rotation_bytes = size_t(256) << 20;  // cache copies until their total reaches this
};

struct bench_result {
  const bench_case* c = nullptr;
  int32_t mode = -1;    // op B cases: the mla_decompressed_mode run
  std::string skipped;  // non-empty: why the case did not run
  std::string error;    // non-empty: a libmla call or the device failed
  double mean_s_k = 0;
  work_counts work;
  double plan_ms = 0, run_ms = 0;  // run_ms: median per launch
  int iters = 0, copies = 0;
  size_t workspace_bytes = 0;
  bool check_ok = false;
  double check_worst = 0;  // worst error / tolerance over the sample
  std::string check_detail;
};

constexpr int kLatentDim = 512, kRopeDim = 64, kPageSize = 64;
constexpr int kNopeDim = 128, kVDim = 128;  // op B: DeepSeek's Dn, Dv

// Runs op A or op B, whichever the case names.
bench_result run_case(mla_tools::backend_session& session, const bench_case& c, const bench_settings& s);
// Op B (bench_run_decompressed.cpp); run_case calls it for op B cases.
bench_result run_decompressed_case(mla_tools::backend_session& session, const bench_case& c,
                                   const bench_settings& s);

// The paged latent cache of a case in backend memory: sequences' pages in a
// shuffled order, random rows, NaN in the rows past each sequence's end,
// `copies` copies (rotated by op A's timed loop past the last-level cache).
struct paged_workload {
  std::vector<int> s_k;
  std::vector<int32_t> block_table;  // [batch][table_stride]
  int table_stride = 1;
  int64_t total_pages = 1;
  size_t page_bytes = 0;
  mla_dtype dtype = MLA_DTYPE_BF16;
  std::vector<uint8_t> cache_host;   // the bytes of every copy
  std::vector<mla_tools::device_buffer> caches;
  mla_tools::device_buffer seqlens, table;
  // The ABI view of copy `copy`.
  mla_paged_cache view(int copy) const;
  // Row `t` of sequence `b` decoded to f32 (Dl + Dr values, latent first).
  void decode_row(int b, int t, float* row) const;
};
// `rotation_bytes` decides the copies (1 when 0).
paged_workload build_paged_workload(mla_tools::backend_memory& mem, const std::vector<int>& s_k, mla_dtype dtype,
                                    uint64_t seed, size_t rotation_bytes);

// What op A's and op B's runs share.
// A result for case c, its s_k and mean_s_k filled in.
bench_result start_result(const bench_case& c, std::vector<int>& s_k);
// The case's cu_seqlens_q (c.s_q queries per sequence), on the host and in backend memory.
struct query_offsets {
  std::vector<int32_t> host;
  mla_tools::device_buffer dev;
};
query_offsets upload_query_offsets(mla_tools::backend_memory& mem, const bench_case& c);
// The fields both args structs have, for case c: batch, heads, the dims of
// the latent cache, total_q, causal, scale 1/sqrt(192), cu_seqlens_q, no lse
// (NULL data) and copy 0 of w's cache.
// (Defined for mla_absorbed_args and mla_decompressed_args.)
template <class Args>
void fill_shared_args(Args& a, const bench_case& c, int64_t total_q, const query_offsets& cu, const paged_workload& w);
// `op`_plan (timed into r.plan_ms, synchronized), then one `op`_run,
// synchronized; false, with r.error set, where either fails.
bool plan_and_run_once(mla_tools::backend_session& session, bench_result& r, const std::string& op,
                       const std::function<mla_status()>& plan, const std::function<mla_status()>& run);
// r.iters (s.iters, or enough launches for ~200 ms after timing one launch
// `calibration_repeats` times) and r.run_ms, the median per launch.
void time_launches(mla_tools::backend_memory& mem, const std::function<void()>& launch, const bench_settings& s,
                   int calibration_repeats, bench_result& r);

}  // namespace mla_bench
