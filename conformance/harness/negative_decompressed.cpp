// SPDX-License-Identifier: MIT
// Op B's negative cases: every argument of mla_decompressed_args out of its
// range gives its status and a message naming it ("decompressed_args.<field>"),
// and writes nothing (out, lse, workspace); plan pairing (mode included);
// index contents on host-memory plugins; a plugin without op B answers the
// three entries with MLA_ERR_UNSUPPORTED.
#include "catalogue.hpp"
#include "decompressed_device_case.hpp"
#include "negative_common.hpp"

#include <climits>
#include <cmath>
#include <memory>

namespace conformance {
namespace negative {
namespace {

decompressed_case decompressed_base(const mla_caps& caps, uint64_t seed) {
  decompressed_case d;
  d.name = "negative-decompressed-base";
  d.seed = case_seed(seed, d.name);
  d.attention = negative_attention(caps);
  d.attention.seed = d.seed;
  d.nope_dim = std::max(1, std::min(128, caps.max_nope_dim));
  d.v_dim = std::max(1, std::min(128, caps.max_v_dim));
  d.weight_dtype = first_claimed(caps.weight_dtypes);
  d.mode = MLA_DECOMPRESSED_FORCE;
  return d;
}

// A plugin without op B: the three entries answer MLA_ERR_UNSUPPORTED.
void check_unsupported(runner& r) {
  backend_session& s = r.s;
  const std::string name = "negative/decompressed.unsupported(no op B)";
  if (!r.want(name)) return;
  if (s.api->struct_size < MLA_API_SIZE_1_1) {
    r.log->skip(s.name, name, "negative", "an ABI 1.0 table has no op B entries", r.seed);
    return;
  }
  mla_decompressed_args a{};
  a.struct_size = sizeof a;
  size_t bytes = 0;
  const expectation want{{MLA_ERR_UNSUPPORTED}, "op B|MLA_OP_DECOMPRESSED|decompressed"};
  std::string err = judge_call(s.api, [&] { return s.api->decompressed_workspace_size(s.context, &a, &bytes); }, want);
  if (err.empty()) err = judge_call(s.api, [&] { return s.api->decompressed_plan(s.context, &a); }, want);
  if (err.empty()) err = judge_call(s.api, [&] { return s.api->decompressed_run(s.context, &a); }, want);
  r.verdict_for(name, err);
}

}  // namespace

void run_decompressed_negatives(runner& r) {
  backend_session& s = r.s;
  const mla_caps& caps = s.caps;
  const bool has_op_b = caps.struct_size >= MLA_CAPS_SIZE_1_1 && (caps.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED));
  if (!has_op_b) {
    check_unsupported(r);
    return;
  }
  using mutate_fn = std::function<void(mla_decompressed_args&)>;
  using item = arg_case<mla_decompressed_args>;
  const mla_status INV = MLA_ERR_INVALID_ARGUMENT, VER = MLA_ERR_VERSION, UNS = MLA_ERR_UNSUPPORTED,
                   WS = MLA_ERR_WORKSPACE;
  std::vector<item> items;
  size_t needed = 1;  // set below before anything runs
  auto add = [&](std::string name, int stages, std::vector<mla_status> st, std::string field, mutate_fn m) {
    items.push_back({"negative/decompressed." + name, stages, {std::move(st), "decompressed_args." + field},
                     std::move(m), false});
  };
  const int all = kSize | kPlan | kRun, full = kPlan | kRun;
  using A = mla_decompressed_args;
  items.push_back({"negative/decompressed.args=NULL", all, {{INV}, "decompressed_args"}, nullptr, true});
  add("struct_size=0", all, {VER}, "struct_size", [](A& a) { a.struct_size = 0; });
  add("struct_size=small", all, {VER}, "struct_size",
      [](A& a) { a.struct_size = MLA_DECOMPRESSED_ARGS_SIZE_1_1 - 8; });
  add("batch=-1", all, {INV}, "batch", [](A& a) { a.batch = -1; });
  add("num_heads=0", all, {INV}, "num_heads", [](A& a) { a.num_heads = 0; });
  if (caps.max_heads < INT_MAX) add("num_heads=max+1", all, {UNS}, "num_heads", [&](A& a) { a.num_heads = caps.max_heads + 1; });
  add("latent_dim=0", all, {INV}, "latent_dim", [](A& a) { a.latent_dim = 0; });
  add("rope_dim=-1", all, {INV}, "rope_dim", [](A& a) { a.rope_dim = -1; });
  add("nope_dim=0", all, {INV}, "nope_dim", [](A& a) { a.nope_dim = 0; });
  add("nope_dim=-3", all, {INV}, "nope_dim", [](A& a) { a.nope_dim = -3; });
  if (caps.max_nope_dim < INT_MAX)
    add("nope_dim=max+1", all, {UNS}, "nope_dim", [&](A& a) { a.nope_dim = caps.max_nope_dim + 1; });
  add("v_dim=0", all, {INV}, "v_dim", [](A& a) { a.v_dim = 0; });
  if (caps.max_v_dim < INT_MAX) add("v_dim=max+1", all, {UNS}, "v_dim", [&](A& a) { a.v_dim = caps.max_v_dim + 1; });
  add("total_q=-1", all, {INV}, "total_q", [](A& a) { a.total_q = -1; });
  add("max_seqlen_q=-1", all, {INV}, "max_seqlen_q", [](A& a) { a.max_seqlen_q = -1; });
  add("causal=2", all, {INV}, "causal", [](A& a) { a.causal = 2; });
  add("scale=0", all, {INV}, "scale", [](A& a) { a.scale = 0.0f; });
  add("scale=nan", all, {INV}, "scale", [](A& a) { a.scale = std::nanf(""); });
  add("mode=3", all, {INV}, "mode", [](A& a) { a.mode = 3; });
  add("mode=-1", all, {INV}, "mode", [](A& a) { a.mode = -1; });

  add("cu_seqlens_q=NULL", full, {INV}, "cu_seqlens_q", [](A& a) { a.cu_seqlens_q = nullptr; });
  add("q.data=NULL", full, {INV}, "q.data", [](A& a) { a.q.data = nullptr; });
  add("q.struct_size=0", full, {VER}, "q.struct_size", [](A& a) { a.q.struct_size = 0; });
  add("q.dtype=0", full, {INV}, "q.dtype", [](A& a) { a.q.dtype = 0; });
  add("q.stride[3]=1(trailing)", full, {INV}, "q.stride", [](A& a) { a.q.stride[3] = 1; });
  add("w_uk.data=NULL", full, {INV}, "w_uk.data", [](A& a) { a.w_uk.data = nullptr; });
  add("w_uk.struct_size=0", full, {VER}, "w_uk.struct_size", [](A& a) { a.w_uk.struct_size = 0; });
  add("w_uk.reserved0=1", full, {INV}, "w_uk.reserved0", [](A& a) { a.w_uk.reserved0 = 1; });
  add("w_uk.dtype=0", full, {INV}, "w_uk.dtype", [](A& a) { a.w_uk.dtype = 0; });
  if (!(caps.weight_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_Q8_0)))
    add("w_uk.dtype=q8_0(unclaimed)", full, {UNS}, "w_uk.dtype", [](A& a) { a.w_uk.dtype = MLA_DTYPE_Q8_0; });
  add("w_uk.stride[0]=-1", full, {INV}, "w_uk.stride", [](A& a) { a.w_uk.stride[0] = -1; });
  add("w_uk.stride[3]=1(trailing)", full, {INV}, "w_uk.stride", [](A& a) { a.w_uk.stride[3] = 1; });
  add("w_uv.data=NULL", full, {INV}, "w_uv.data", [](A& a) { a.w_uv.data = nullptr; });
  add("w_uv.struct_size=0", full, {VER}, "w_uv.struct_size", [](A& a) { a.w_uv.struct_size = 0; });
  add("w_uv.dtype=77", full, {INV}, "w_uv.dtype", [](A& a) { a.w_uv.dtype = 77; });
  if (!(caps.weight_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_FP8_E4M3)))
    add("w_uv.dtype=fp8(unclaimed)", full, {UNS}, "w_uv.dtype", [](A& a) { a.w_uv.dtype = MLA_DTYPE_FP8_E4M3; });
  add("w_uv.stride[1]=-1", full, {INV}, "w_uv.stride", [](A& a) { a.w_uv.stride[1] = -1; });
  add("out.data=NULL", full, {INV}, "out.data", [](A& a) { a.out.data = nullptr; });
  add("out.struct_size=0", full, {VER}, "out.struct_size", [](A& a) { a.out.struct_size = 0; });
  add("out.dtype=0", full, {INV}, "out.dtype", [](A& a) { a.out.dtype = 0; });
  add("out.stride[1]=0(overlap)", full, {INV}, "out.stride", [](A& a) { a.out.stride[1] = 0; });
  add("lse.dtype=bf16", full, {INV, UNS}, "lse.dtype", [](A& a) { a.lse.dtype = MLA_DTYPE_BF16; });
  add("lse.stride[0]=0(overlap)", full, {INV}, "lse.stride", [](A& a) { a.lse.stride[0] = 0; });
  add("kv.struct_size=0", full, {VER}, "kv.struct_size", [](A& a) { a.kv.struct_size = 0; });
  add("kv.data=NULL", full, {INV}, "kv.data", [](A& a) { a.kv.data = nullptr; });
  add("kv.block_table=NULL", full, {INV}, "kv.block_table", [](A& a) { a.kv.block_table = nullptr; });
  add("kv.seqlens_k=NULL", full, {INV}, "kv.seqlens_k", [](A& a) { a.kv.seqlens_k = nullptr; });
  add("kv.dtype=0", full, {INV}, "kv.dtype", [](A& a) { a.kv.dtype = 0; });
  add("kv.page_size=0", full, {INV}, "kv.page_size", [](A& a) { a.kv.page_size = 0; });
  add("kv.num_pages=0", full, {INV}, "kv.num_pages", [](A& a) { a.kv.num_pages = 0; });
  add("kv.row_stride=1", full, {INV}, "kv.row_stride", [](A& a) { a.kv.row_stride = 1; });
  add("kv.block_table_stride=0", full, {INV}, "kv.block_table_stride", [](A& a) { a.kv.block_table_stride = 0; });
  add("workspace=NULL", full, {WS}, "workspace", [](A& a) { a.workspace = nullptr; });
  add("workspace_bytes=needed-1", full, {WS}, "workspace", [&](A& a) { a.workspace_bytes = needed - 1; });
  add("workspace=misaligned", full, {WS}, "workspace", [&](A& a) {
    a.workspace = (char*)a.workspace + 64;
    a.workspace_bytes = needed;
  });
  // Index contents (host-memory plugins fail the call).
  struct bad_index {
    const char* name;
    const char* field;
  };
  const bad_index bad[4] = {{"cu_seqlens_q(not monotone)", "cu_seqlens_q"},
                            {"seqlens_k(beyond block table)", "kv.seqlens_k"},
                            {"block_table(page >= num_pages)", "kv.block_table"},
                            {"block_table(page < 0)", "kv.block_table"}};
  std::vector<mla_tools::device_buffer> bad_buffers(4);
  if (s.host_memory || r.listing)
    for (int k = 0; k < 4; ++k)
      add(bad[k].name, full, {INV}, bad[k].field, [&, k](A& a) {
        const void* p = bad_buffers[(size_t)k].get();
        if (k == 0) a.cu_seqlens_q = (const int32_t*)p;
        else if (k == 1) a.kv.seqlens_k = (const int32_t*)p;
        else a.kv.block_table = (const int32_t*)p;
      });
  const std::vector<std::string> extra = {"negative/decompressed.run_without_plan",
                                          "negative/decompressed.run_after_plan_of_other_mode",
                                          "negative/decompressed.context=NULL",
                                          "negative/decompressed_workspace_size.bytes=NULL"};
  if (r.listing) {
    for (const item& it : items) r.want(it.name);
    for (const std::string& n : extra) r.want(n);
    return;
  }

  // The fixture: a small valid case in backend memory.
  mla_tools::backend_memory& mem = *s.memory;
  const decompressed_images im = build_decompressed(decompressed_base(caps, r.seed));
  device_decompressed dev(mem, im);
  mla_decompressed_args valid = dev.args();
  if (s.api->decompressed_workspace_size(s.context, &valid, &needed) != MLA_OK) {
    r.log->fail(s.name, "negative/decompressed.base", "negative",
                "decompressed_workspace_size failed on the valid base case: " + last_error_of(s.api), r.seed);
    return;
  }
  const bool uses_workspace = needed > 0;  // else the three workspace cases do not apply (as op A's)
  if (needed == 0) needed = 1;
  mla_tools::device_buffer workspace(mem, needed + 512);
  std::vector<unsigned char> poison(workspace.bytes(), 0xA5);
  valid.workspace = workspace.get();
  valid.workspace_bytes = needed;
  bad_buffers = bad_index_arrays(mem, im.base);
  // Nothing written: out, lse and the workspace as they were before the call.
  const untouched_fn untouched = [&](const std::vector<unsigned char>& ws_before) {
    host_tensor out, lse;
    dev.download_outputs(out, lse);
    std::string err;
    if (out.bytes != im.out.bytes) err = "out was written by a call that failed";
    else if (lse.bytes != im.lse.bytes) err = "lse was written by a call that failed";
    else {
      std::vector<unsigned char> ws(ws_before.size());
      mem.download(ws.data(), workspace.get(), ws.size());
      if (ws != ws_before) err = "the workspace was written by a call that failed";
    }
    if (!err.empty()) dev.repoison_outputs();
    return err;
  };

  for (item& it : items) {
    if (!uses_workspace && it.name.find(".workspace") != std::string::npos) continue;
    if (!r.want(it.name)) continue;
    r.verdict_for(it.name, judge_stages(s, it, valid, workspace, poison, untouched));
  }

  if (r.want(extra[0]))  // a run on a fresh context: no plan
    r.verdict_for(extra[0], judge_run_without_plan(s, valid, workspace, poison, untouched));
  if (r.want(extra[1])) {  // planned for FORCE, run as FORCE_ABSORBED: the mode is part of the plan
    std::string err;
    if (s.api->decompressed_plan(s.context, &valid) != MLA_OK) {
      err = "valid plan failed: " + last_error_of(s.api);
    } else {
      mem.synchronize();
      std::vector<unsigned char> ws_before(poison.size());
      mem.download(ws_before.data(), workspace.get(), ws_before.size());
      A a = valid;
      a.mode = MLA_DECOMPRESSED_FORCE_ABSORBED;
      const mla_status st = s.api->decompressed_run(s.context, &a);  // before last_error()
      err = judge(st, last_error_of(s.api), {{MLA_ERR_NOT_PLANNED}, "mode"});
      mem.synchronize();
      if (err.empty()) err = untouched(ws_before);
    }
    r.verdict_for(extra[1], err);
  }
  if (r.want(extra[2])) r.verdict_for(extra[2], judge_null_context(s, valid, workspace, poison, untouched));
  if (r.want(extra[3])) r.verdict_for(extra[3], judge_null_bytes(s, valid));
}

}  // namespace negative
}  // namespace conformance
