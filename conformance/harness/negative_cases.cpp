// SPDX-License-Identifier: MIT
#include "negative_cases.hpp"

#include "negative_common.hpp"

#include "absorbed_problem.hpp"
#include "catalogue.hpp"
#include "device_case.hpp"
#include "merge_problem.hpp"

#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

namespace conformance {
namespace {

using namespace negative;

// A small valid op-A problem in backend memory, plus invalid index arrays.
struct absorbed_fixture {
  absorbed_images im;
  std::unique_ptr<device_absorbed> dev;
  mla_tools::device_buffer workspace;
  std::vector<mla_tools::device_buffer> bad_index;  // bad_index_arrays
  size_t needed = 0;
  mla_absorbed_args valid{};
  std::vector<unsigned char> workspace_poison;
};

absorbed_case negative_base(const mla_caps& caps, uint64_t seed) {
  absorbed_case c = negative_attention(caps);
  c.name = "negative-base";
  c.seed = case_seed(seed, c.name);
  return c;
}


// Every output byte (and the workspace) must be as before the failing call.
std::string untouched(absorbed_fixture& f, mla_tools::backend_memory& mem, const std::vector<unsigned char>& ws_before) {
  host_tensor out, lse;
  f.dev->download_outputs(out, lse);
  std::string err;
  if (out.bytes != f.im.out.bytes) err = "out was written by a call that failed";
  else if (lse.bytes != f.im.lse.bytes) err = "lse was written by a call that failed";
  else {
    std::vector<unsigned char> ws(ws_before.size());
    if (!ws.empty()) mem.download(ws.data(), f.workspace.get(), ws.size());
    if (ws != ws_before) err = "the workspace was written by a call that failed";
  }
  if (!err.empty()) {
    f.dev->repoison_outputs();
    mem.upload(f.workspace.get(), f.workspace_poison.data(), f.workspace_poison.size());
  }
  return err;
}

void run_absorbed_negatives(runner& r, absorbed_fixture& f) {
  backend_session& s = r.s;
  const mla_caps& caps = s.caps;
  using mutate_fn = std::function<void(mla_absorbed_args&)>;
  using item = arg_case<mla_absorbed_args>;
  const mla_status INV = MLA_ERR_INVALID_ARGUMENT, VER = MLA_ERR_VERSION, UNS = MLA_ERR_UNSUPPORTED,
                   WS = MLA_ERR_WORKSPACE;
  std::vector<item> items;
  auto add = [&](std::string name, int stages, std::vector<mla_status> st, std::string needle, mutate_fn m) {
    items.push_back({"negative/absorbed." + name, stages, {std::move(st), std::move(needle)}, std::move(m), false});
  };
  const int all = kSize | kPlan | kRun, full = kPlan | kRun;
  items.push_back({"negative/absorbed.args=NULL", all, {{INV}, "absorbed_args"}, nullptr, true});
  add("struct_size=0", all, {VER}, "struct_size", [](mla_absorbed_args& a) { a.struct_size = 0; });
  add("struct_size=small", all, {VER}, "struct_size",
      [](mla_absorbed_args& a) { a.struct_size = MLA_ABSORBED_ARGS_SIZE_1_0 - 8; });
  add("batch=-1", all, {INV}, "batch", [](mla_absorbed_args& a) { a.batch = -1; });
  add("num_heads=0", all, {INV}, "num_heads", [](mla_absorbed_args& a) { a.num_heads = 0; });
  if (caps.max_heads < INT_MAX)
    add("num_heads=max+1", all, {UNS}, "num_heads", [&](mla_absorbed_args& a) { a.num_heads = caps.max_heads + 1; });
  add("latent_dim=0", all, {INV}, "latent_dim", [](mla_absorbed_args& a) { a.latent_dim = 0; });
  add("latent_dim=-5", all, {INV}, "latent_dim", [](mla_absorbed_args& a) { a.latent_dim = -5; });
  add("rope_dim=-1", all, {INV}, "rope_dim", [](mla_absorbed_args& a) { a.rope_dim = -1; });
  if (caps.max_rope_dim < INT_MAX)
    add("rope_dim=max+1", all, {UNS}, "rope_dim", [&](mla_absorbed_args& a) { a.rope_dim = caps.max_rope_dim + 1; });
  add("total_q=-1", all, {INV}, "total_q", [](mla_absorbed_args& a) { a.total_q = -1; });
  add("max_seqlen_q=-1", all, {INV}, "max_seqlen_q", [](mla_absorbed_args& a) { a.max_seqlen_q = -1; });
  add("causal=2", all, {INV}, "causal", [](mla_absorbed_args& a) { a.causal = 2; });
  add("scale=0", all, {INV}, "scale", [](mla_absorbed_args& a) { a.scale = 0.0f; });
  add("scale=-1", all, {INV}, "scale", [](mla_absorbed_args& a) { a.scale = -1.0f; });
  add("scale=nan", all, {INV}, "scale", [](mla_absorbed_args& a) { a.scale = std::nanf(""); });
  add("scale=inf", all, {INV}, "scale", [](mla_absorbed_args& a) { a.scale = INFINITY; });
  add("reserved0=1", all, {INV}, "reserved0", [](mla_absorbed_args& a) { a.reserved0 = 1; });

  add("cu_seqlens_q=NULL", full, {INV}, "cu_seqlens_q", [](mla_absorbed_args& a) { a.cu_seqlens_q = nullptr; });
  add("q.data=NULL", full, {INV}, "q.data", [](mla_absorbed_args& a) { a.q.data = nullptr; });
  add("out.data=NULL", full, {INV}, "out.data", [](mla_absorbed_args& a) { a.out.data = nullptr; });
  add("q.struct_size=0", full, {VER}, "q.struct_size", [](mla_absorbed_args& a) { a.q.struct_size = 0; });
  add("out.struct_size=0", full, {VER}, "out.struct_size", [](mla_absorbed_args& a) { a.out.struct_size = 0; });
  add("lse.struct_size=0", full, {VER}, "lse.struct_size", [](mla_absorbed_args& a) { a.lse.struct_size = 0; });
  add("q.reserved0=1", full, {INV}, "q.reserved0", [](mla_absorbed_args& a) { a.q.reserved0 = 1; });
  add("q.dtype=0", full, {INV}, "q.dtype", [](mla_absorbed_args& a) { a.q.dtype = 0; });
  add("q.dtype=77", full, {INV}, "q.dtype", [](mla_absorbed_args& a) { a.q.dtype = 77; });
  if (!(caps.q_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_Q8_0)))
    add("q.dtype=q8_0(unclaimed)", full, {UNS}, "q.dtype", [](mla_absorbed_args& a) { a.q.dtype = MLA_DTYPE_Q8_0; });
  add("out.dtype=0", full, {INV}, "out.dtype", [](mla_absorbed_args& a) { a.out.dtype = 0; });
  add("out.dtype=-1", full, {INV}, "out.dtype", [](mla_absorbed_args& a) { a.out.dtype = -1; });
  add("lse.dtype=bf16", full, {INV, UNS}, "lse.dtype", [](mla_absorbed_args& a) { a.lse.dtype = MLA_DTYPE_BF16; });
  add("q.stride[0]=-1", full, {INV}, "q.stride", [](mla_absorbed_args& a) { a.q.stride[0] = -1; });
  add("q.stride[3]=1(trailing)", full, {INV}, "q.stride", [](mla_absorbed_args& a) { a.q.stride[3] = 1; });
  add("out.stride[2]=-2", full, {INV}, "out.stride", [](mla_absorbed_args& a) { a.out.stride[2] = -2; });
  add("out.stride[1]=0(overlap)", full, {INV}, "out.stride", [](mla_absorbed_args& a) { a.out.stride[1] = 0; });
  add("out.stride[0]=1(overlap)", full, {INV}, "out.stride", [](mla_absorbed_args& a) { a.out.stride[0] = 1; });
  add("lse.stride[0]=0(overlap)", full, {INV}, "lse.stride", [](mla_absorbed_args& a) { a.lse.stride[0] = 0; });
  add("kv.struct_size=0", full, {VER}, "kv.struct_size", [](mla_absorbed_args& a) { a.kv.struct_size = 0; });
  add("kv.data=NULL", full, {INV}, "kv.data", [](mla_absorbed_args& a) { a.kv.data = nullptr; });
  add("kv.block_table=NULL", full, {INV}, "block_table", [](mla_absorbed_args& a) { a.kv.block_table = nullptr; });
  add("kv.seqlens_k=NULL", full, {INV}, "seqlens_k", [](mla_absorbed_args& a) { a.kv.seqlens_k = nullptr; });
  add("kv.dtype=0", full, {INV}, "kv.dtype", [](mla_absorbed_args& a) { a.kv.dtype = 0; });
  if (!(caps.cache_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_FP8_E4M3)))
    add("kv.dtype=fp8(unclaimed)", full, {UNS}, "kv.dtype",
        [](mla_absorbed_args& a) { a.kv.dtype = MLA_DTYPE_FP8_E4M3; });
  add("kv.page_size=0", full, {INV}, "page_size", [](mla_absorbed_args& a) { a.kv.page_size = 0; });
  add("kv.page_size=-3", full, {INV}, "page_size", [](mla_absorbed_args& a) { a.kv.page_size = -3; });
  if (caps.max_page_size < INT_MAX)
    add("kv.page_size=max+1", full, {UNS}, "page_size",
        [&](mla_absorbed_args& a) { a.kv.page_size = caps.max_page_size + 1; });
  add("kv.num_pages=0", full, {INV}, "num_pages", [](mla_absorbed_args& a) { a.kv.num_pages = 0; });
  add("kv.row_stride=1", full, {INV}, "row_stride", [](mla_absorbed_args& a) { a.kv.row_stride = 1; });
  add("kv.page_stride=1", full, {INV}, "page_stride", [](mla_absorbed_args& a) { a.kv.page_stride = 1; });
  add("kv.latent_offset=-1", full, {INV}, "latent_offset", [](mla_absorbed_args& a) { a.kv.latent_offset = -1; });
  add("kv.rope_offset=-1", full, {INV}, "rope_offset", [](mla_absorbed_args& a) { a.kv.rope_offset = -1; });
  add("kv.block_table_stride=0", full, {INV}, "block_table_stride",
      [](mla_absorbed_args& a) { a.kv.block_table_stride = 0; });
  if (f.needed > 0) {
    add("workspace=NULL", full, {WS}, "workspace", [](mla_absorbed_args& a) { a.workspace = nullptr; });
    add("workspace_bytes=needed-1", full, {WS}, "workspace",
        [&](mla_absorbed_args& a) { a.workspace_bytes = f.needed - 1; });
    add("workspace=misaligned", full, {WS}, "workspace", [&](mla_absorbed_args& a) {
      a.workspace = (char*)a.workspace + 64;
      a.workspace_bytes = f.needed;
    });
  }
  if (s.host_memory) {
    add("cu_seqlens_q(not monotone)", full, {INV}, "cu_seqlens_q",
        [&](mla_absorbed_args& a) { a.cu_seqlens_q = (const int32_t*)f.bad_index[0].get(); });
    add("seqlens_k(beyond block table)", full, {INV}, "seqlens_k",
        [&](mla_absorbed_args& a) { a.kv.seqlens_k = (const int32_t*)f.bad_index[1].get(); });
    add("block_table(page >= num_pages)", full, {INV}, "block_table",
        [&](mla_absorbed_args& a) { a.kv.block_table = (const int32_t*)f.bad_index[2].get(); });
    add("block_table(page < 0)", full, {INV}, "block_table",
        [&](mla_absorbed_args& a) { a.kv.block_table = (const int32_t*)f.bad_index[3].get(); });
  }

  const untouched_fn nothing_written = [&](const std::vector<unsigned char>& ws_before) {
    return untouched(f, *s.memory, ws_before);
  };
  for (item& it : items) {
    if (!r.want(it.name)) continue;
    r.verdict_for(it.name, judge_stages(s, it, f.valid, f.workspace, f.workspace_poison, nothing_written));
  }

  // Plan/run pairing.
  const std::string fresh = "negative/absorbed.run_without_plan";
  if (r.want(fresh))
    r.verdict_for(fresh, judge_run_without_plan(s, f.valid, f.workspace, f.workspace_poison, nothing_written));
  const std::string other = "negative/absorbed.run_after_plan_of_other_batch";
  if (r.want(other)) {
    mla_tools::backend_memory& mem = *s.memory;
    std::string err;
    if (s.api->absorbed_plan(s.context, &f.valid) != MLA_OK) {
      err = "valid plan failed: " + last_error_of(s.api);
    } else {
      mla_absorbed_args a = f.valid;
      a.batch = 1;
      a.total_q = f.im.cu_seqlens_q[1];
      a.max_seqlen_q = f.im.spec.s_q[0];
      const mla_status st = s.api->absorbed_run(s.context, &a);
      err = judge(st, last_error_of(s.api), {{MLA_ERR_NOT_PLANNED}, "plan"});
      mem.synchronize();
      if (err.empty()) {
        host_tensor out, lse;
        f.dev->download_outputs(out, lse);
        if (out.bytes != f.im.out.bytes || lse.bytes != f.im.lse.bytes) err = "outputs written by a refused run";
        f.dev->repoison_outputs();
      }
    }
    r.verdict_for(other, err);
  }
  const std::string null_ctx = "negative/absorbed.context=NULL";
  if (r.want(null_ctx))
    r.verdict_for(null_ctx, judge_null_context(s, f.valid, f.workspace, f.workspace_poison, nothing_written));
  const std::string null_bytes = "negative/absorbed_workspace_size.bytes=NULL";
  if (r.want(null_bytes)) r.verdict_for(null_bytes, judge_null_bytes(s, f.valid));
}

void run_context_negatives(runner& r) {
  backend_session& s = r.s;
  const mla_status INV = MLA_ERR_INVALID_ARGUMENT, VER = MLA_ERR_VERSION;
  auto one = [&](const std::string& name, const std::function<mla_status()>& call, expectation e) {
    if (!r.want(name)) return;
    const mla_status st = call();
    r.verdict_for(name, judge(st, last_error_of(s.api), e));
  };
  mla_context* out_ctx = nullptr;
  one("negative/context_create.desc=NULL", [&] { return s.api->context_create(nullptr, &out_ctx); },
      {{INV}, "desc"});
  one("negative/context_create.ctx=NULL", [&] {
        mla_context_desc d{};
        d.struct_size = sizeof d;
        return s.api->context_create(&d, nullptr);
      }, {{INV}, "ctx|context"});
  one("negative/context_create.struct_size=0", [&] {
        mla_context_desc d{};
        return s.api->context_create(&d, &out_ctx);
      }, {{VER}, "struct_size"});
  one("negative/context_create.reserved0=1", [&] {
        mla_context_desc d{};
        d.struct_size = sizeof d;
        d.reserved0 = 1;
        return s.api->context_create(&d, &out_ctx);
      }, {{INV}, "reserved"});
  one("negative/get_caps.caps=NULL", [&] { return s.api->get_caps(s.context, nullptr); }, {{INV}, "caps"});
  one("negative/get_caps.struct_size=0", [&] {
        mla_caps c{};
        return s.api->get_caps(s.context, &c);
      }, {{VER}, "struct_size"});
  one("negative/probe.result=NULL", [&] { return s.api->probe(nullptr); }, {{INV}, "result|probe"});
  const std::string destroy = "negative/context_destroy(NULL)";
  if (r.want(destroy)) {
    const mla_status st = s.api->context_destroy(nullptr);
    r.verdict_for(destroy, st == MLA_OK ? "" : "context_destroy(NULL) must be accepted and ignored, returned " +
                                                   std::to_string((int)st));
  }
}

void run_merge_negatives(runner& r) {
  backend_session& s = r.s;
  if (!(s.caps.ops & MLA_OP_BIT(MLA_OP_MERGE))) return;
  merge_case c;
  c.name = "negative-merge-base";
  c.seed = case_seed(r.seed, c.name);
  c.parts = 2, c.rows = 3, c.heads = 2, c.dim = 64;
  c.parts_dtype = c.out_dtype = first_claimed(s.caps.out_dtypes);
  c.out_layout = layout_mode::padded;
  const mla_status INV = MLA_ERR_INVALID_ARGUMENT, VER = MLA_ERR_VERSION, UNS = MLA_ERR_UNSUPPORTED;
  using mutate_fn = std::function<void(mla_merge_args&)>;
  struct item {
    std::string name;
    expectation expect;
    mutate_fn mutate;
  };
  std::vector<item> items = {
      {"negative/merge.args=NULL", {{INV}, "merge_args"}, nullptr},
      {"negative/merge.context=NULL", {{INV}, "ctx|context"}, nullptr},
      {"negative/merge.struct_size=0", {{VER}, "struct_size"}, [](mla_merge_args& a) { a.struct_size = 0; }},
      {"negative/merge.num_parts=0", {{INV}, "num_parts"}, [](mla_merge_args& a) { a.num_parts = 0; }},
      {"negative/merge.head_dim=0", {{INV}, "head_dim"}, [](mla_merge_args& a) { a.head_dim = 0; }},
      {"negative/merge.num_rows=-1", {{INV}, "num_rows"}, [](mla_merge_args& a) { a.num_rows = -1; }},
      {"negative/merge.num_heads=0", {{INV}, "num_heads"}, [](mla_merge_args& a) { a.num_heads = 0; }},
      {"negative/merge.reserved0=1", {{INV}, "reserved0"}, [](mla_merge_args& a) { a.reserved0 = 1; }},
      {"negative/merge.parts_out.data=NULL", {{INV}, "parts_out"}, [](mla_merge_args& a) { a.parts_out.data = nullptr; }},
      {"negative/merge.parts_lse.data=NULL", {{INV}, "parts_lse"}, [](mla_merge_args& a) { a.parts_lse.data = nullptr; }},
      {"negative/merge.out.data=NULL", {{INV}, "out.data"}, [](mla_merge_args& a) { a.out.data = nullptr; }},
      {"negative/merge.out.stride[0]=0(overlap)", {{INV}, "out.stride"}, [](mla_merge_args& a) { a.out.stride[0] = 0; }},
      {"negative/merge.lse.stride[1]=0(overlap)", {{INV}, "lse.stride"}, [](mla_merge_args& a) { a.lse.stride[1] = 0; }},
      {"negative/merge.parts_out.stride[1]=-1", {{INV}, "parts_out.stride"},
       [](mla_merge_args& a) { a.parts_out.stride[1] = -1; }},
      {"negative/merge.parts_lse.dtype=f16", {{INV, UNS}, "parts_lse.dtype"},
       [](mla_merge_args& a) { a.parts_lse.dtype = MLA_DTYPE_F16; }},
      {"negative/merge.out.dtype=0", {{INV}, "out.dtype"}, [](mla_merge_args& a) { a.out.dtype = 0; }},
      {"negative/merge.out.struct_size=0", {{VER}, "out.struct_size"}, [](mla_merge_args& a) { a.out.struct_size = 0; }},
      {"negative/merge.out=parts_out(alias)", {{INV}, "alias"}, [](mla_merge_args& a) { a.out.data = a.parts_out.data; }},
      {"negative/merge.lse=parts_lse(alias)", {{INV}, "alias"}, [](mla_merge_args& a) { a.lse.data = a.parts_lse.data; }},
  };
  if (r.listing) {
    for (const item& it : items) r.want(it.name);
    return;
  }
  const merge_images im = build_merge(c);
  device_merge dev(*s.memory, im);
  const mla_merge_args valid = dev.args();
  for (item& it : items) {
    if (!r.want(it.name)) continue;
    mla_merge_args a = valid;
    if (it.mutate) it.mutate(a);
    const bool null_args = it.name == "negative/merge.args=NULL";
    const bool null_ctx = it.name == "negative/merge.context=NULL";
    const mla_status st = s.api->merge_states(null_ctx ? nullptr : s.context, null_args ? nullptr : &a);
    std::string err = judge(st, last_error_of(s.api), it.expect);
    if (err.empty()) {
      host_tensor out, lse;
      dev.download_outputs(out, lse);
      if (out.bytes != im.out.bytes || lse.bytes != im.lse.bytes) err = "outputs written by a call that failed";
      dev.repoison_outputs();
    }
    r.verdict_for(it.name, err);
  }
}

}  // namespace

std::vector<std::string> negative_case_names() {
  // The cases as they stand for a host-memory backend with finite limits
  // (so the "max+1" cases appear); nothing is run.
  backend_session generic;
  generic.caps.ops = MLA_OP_BIT(MLA_OP_ABSORBED) | MLA_OP_BIT(MLA_OP_MERGE);
  generic.caps.q_dtypes = generic.caps.cache_dtypes = generic.caps.out_dtypes =
      MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  generic.caps.max_heads = 128;
  generic.caps.max_latent_dim = 512;
  generic.caps.max_rope_dim = 64;
  generic.caps.latent_dim_multiple = 1;
  generic.caps.max_page_size = 256;
  std::vector<std::string> names;
  const std::function<bool(const std::string&)> none = [](const std::string&) { return false; };
  runner r{generic, nullptr, none, 0, &names};
  run_context_negatives(r);
  run_merge_negatives(r);
  absorbed_fixture f;
  f.needed = 1;
  run_absorbed_negatives(r, f);
  generic.caps.struct_size = sizeof generic.caps;
  generic.caps.ops |= MLA_OP_BIT(MLA_OP_DECOMPRESSED);
  generic.caps.weight_dtypes = generic.caps.q_dtypes;
  generic.caps.max_nope_dim = generic.caps.max_v_dim = 128;
  run_decompressed_negatives(r);
  return names;
}

void run_negative_cases(backend_session& s, uint64_t suite_seed, result_log& log,
                        const std::function<bool(const std::string&)>& selected) {
  runner r{s, &log, selected, suite_seed};
  run_context_negatives(r);
  run_merge_negatives(r);
  run_decompressed_negatives(r);
  if (!(s.caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED))) return;

  absorbed_fixture f;
  f.im = build_absorbed(negative_base(s.caps, suite_seed));
  mla_tools::backend_memory& mem = *s.memory;
  f.dev = std::make_unique<device_absorbed>(mem, f.im);
  f.valid = f.dev->args();
  if (s.api->absorbed_workspace_size(s.context, &f.valid, &f.needed) != MLA_OK) {
    log.fail(s.name, "negative/absorbed.base", "negative",
             "absorbed_workspace_size failed on the valid base case: " + last_error_of(s.api), suite_seed);
    return;
  }
  f.workspace = mla_tools::device_buffer(mem, f.needed + 512);
  f.workspace_poison.assign(f.workspace.bytes(), 0xA5);
  mem.upload(f.workspace.get(), f.workspace_poison.data(), f.workspace_poison.size());
  f.valid.workspace = f.workspace.get();
  f.valid.workspace_bytes = f.needed;

  f.bad_index = bad_index_arrays(mem, f.im);
  run_absorbed_negatives(r, f);
}

}  // namespace conformance
