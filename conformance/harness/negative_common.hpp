// SPDX-License-Identifier: MIT
// Pieces shared by the negative cases of each op (negative_cases.cpp,
// negative_decompressed.cpp): the expected status and message, the judge,
// the runner that lists or runs the cases, the small valid base case and its
// broken index arrays, and the calls of op A or op B judged stage by stage.
#pragma once
#include "absorbed_problem.hpp"
#include "backend_session.hpp"
#include "device_case.hpp"
#include "op_entry_points.hpp"
#include "results.hpp"

#include <algorithm>
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

// The attention part of the small valid base case of op A's and op B's
// negative cases (name and seed are the caller's).
inline absorbed_case negative_attention(const mla_caps& caps) {
  absorbed_case c;
  c.heads = 2;
  c.s_q = {1, 2, 1};
  c.s_k = {5, 20, 40};
  c.page_size = std::max(1, std::min(16, caps.max_page_size));
  c.latent_dim = std::min(512, caps.max_latent_dim);
  if (caps.latent_dim_multiple > 1) c.latent_dim -= c.latent_dim % caps.latent_dim_multiple;
  c.rope_dim = std::min(64, caps.max_rope_dim);
  c.q_dtype = first_claimed(caps.q_dtypes);
  c.cache_dtype = first_claimed(caps.cache_dtypes);
  c.out_dtype = first_claimed(caps.out_dtypes);
  c.out_layout = layout_mode::padded;
  return c;
}

// The base case's index arrays broken, in backend memory, in this order:
// cu_seqlens_q not monotone, seqlens_k beyond the block table, a block-table
// page >= num_pages, a block-table page < 0 (sequence 1, its page 0).
inline std::vector<mla_tools::device_buffer> bad_index_arrays(mla_tools::backend_memory& mem,
                                                              const absorbed_images& im) {
  std::vector<mla_tools::device_buffer> bad(4);
  std::vector<int32_t> cu = im.cu_seqlens_q;
  std::swap(cu[1], cu[2]);  // {0, 3, 1, 4}: not monotone
  bad[0] = upload_bytes(mem, cu.data(), cu.size() * 4);
  std::vector<int32_t> sk = im.seqlens_k;
  sk[1] = (int32_t)(im.block_table_stride * im.spec.page_size + 1);
  bad[1] = upload_bytes(mem, sk.data(), sk.size() * 4);
  std::vector<int32_t> table = im.block_table;
  table[(size_t)im.block_table_stride] = (int32_t)im.num_pages;  // sequence 1, page 0
  bad[2] = upload_bytes(mem, table.data(), table.size() * 4);
  table[(size_t)im.block_table_stride] = -1;
  bad[3] = upload_bytes(mem, table.data(), table.size() * 4);
  return bad;
}

// One argument case of op Args: the stages it is called at (kSize | kPlan |
// kRun), the status and message it must give, how it breaks the valid args
// (or null args).
template <class Args>
struct arg_case {
  std::string name;
  int stages;
  expectation expect;
  std::function<void(Args&)> mutate;
  bool null_args;
};

// "" when nothing was written: out, lse and the workspace (its bytes before the call).
using untouched_fn = std::function<std::string(const std::vector<unsigned char>& ws_before)>;

// The case at each of its stages on `workspace` refilled with `poison` (a
// run after a valid plan), judged, then untouched; "" or "<entry point>: why".
template <class Args>
std::string judge_stages(backend_session& s, const arg_case<Args>& it, const Args& valid,
                         const mla_tools::device_buffer& workspace, const std::vector<unsigned char>& poison,
                         const untouched_fn& untouched) {
  using op = op_entry_points<Args>;
  mla_tools::backend_memory& mem = *s.memory;
  std::string err;
  for (int stage : {kSize, kPlan, kRun}) {
    if (!(it.stages & stage) || !err.empty()) continue;
    Args a = valid;
    if (it.mutate) it.mutate(a);
    const Args* ap = it.null_args ? nullptr : &a;
    mem.upload(workspace.get(), poison.data(), poison.size());
    std::vector<unsigned char> ws_before = poison;
    mla_status st;
    const char* where = stage == kSize ? op::workspace_size_name : stage == kPlan ? op::plan_name : op::run_name;
    if (stage == kSize) {
      size_t bytes = 12345;
      st = op::workspace_size(s.api, s.context, ap, &bytes);
    } else if (stage == kPlan) {
      st = op::plan(s.api, s.context, ap);
    } else {
      if (op::plan(s.api, s.context, &valid) != MLA_OK) {
        err = "the valid plan before the run failed: " + last_error_of(s.api);
        break;
      }
      mem.synchronize();
      mem.download(ws_before.data(), workspace.get(), ws_before.size());
      st = op::run(s.api, s.context, ap);
    }
    const std::string msg = last_error_of(s.api);
    mem.synchronize();
    err = judge(st, msg, it.expect);
    if (err.empty()) err = untouched(ws_before);
    if (!err.empty()) err = std::string(where) + ": " + err;
  }
  return err;
}

// run_without_plan: a run on a new context configured as the session's
// (same workspace need), which has planned nothing.
template <class Args>
std::string judge_run_without_plan(backend_session& s, const Args& valid, const mla_tools::device_buffer& workspace,
                                   const std::vector<unsigned char>& poison, const untouched_fn& untouched) {
  mla_tools::backend_memory& mem = *s.memory;
  const mla_context_desc desc = context_desc_for(s.config, mem.stream());
  mla_context* ctx = nullptr;
  std::string err;
  mem.upload(workspace.get(), poison.data(), poison.size());
  if (s.api->context_create(&desc, &ctx) != MLA_OK) {
    err = "context_create failed: " + last_error_of(s.api);
  } else {
    const mla_status st = op_entry_points<Args>::run(s.api, ctx, &valid);  // before last_error()
    err = judge(st, last_error_of(s.api), {{MLA_ERR_NOT_PLANNED}, "plan"});
    mem.synchronize();
    if (err.empty()) err = untouched(poison);
    s.api->context_destroy(ctx);
  }
  return err;
}

// context=NULL: plan, run and workspace_size refuse a null context.
template <class Args>
std::string judge_null_context(backend_session& s, const Args& valid, const mla_tools::device_buffer& workspace,
                               const std::vector<unsigned char>& poison, const untouched_fn& untouched) {
  using op = op_entry_points<Args>;
  mla_tools::backend_memory& mem = *s.memory;
  mem.upload(workspace.get(), poison.data(), poison.size());
  const expectation want{{MLA_ERR_INVALID_ARGUMENT}, "ctx|context"};
  size_t bytes = 0;
  std::string err = judge_call(s.api, [&] { return op::plan(s.api, nullptr, &valid); }, want);
  if (err.empty()) err = judge_call(s.api, [&] { return op::run(s.api, nullptr, &valid); }, want);
  if (err.empty()) err = judge_call(s.api, [&] { return op::workspace_size(s.api, nullptr, &valid, &bytes); }, want);
  mem.synchronize();
  if (err.empty()) err = untouched(poison);
  return err;
}

// <op>_workspace_size.bytes=NULL.
template <class Args>
std::string judge_null_bytes(backend_session& s, const Args& valid) {
  return judge_call(s.api, [&] { return op_entry_points<Args>::workspace_size(s.api, s.context, &valid, nullptr); },
                    {{MLA_ERR_INVALID_ARGUMENT}, "bytes"});
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
