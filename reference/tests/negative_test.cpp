// SPDX-License-Identifier: MIT
// Invalid calls of op A and of the context entry points: each gives its
// status code and a message naming the argument, and writes nothing (out,
// lse and workspace byte-identical afterwards).
#include "absorbed_case.hpp"
#include "plugin_handle.hpp"
#include "absorbed_kernel.hpp"
#include "lse_merge.hpp"
#include "split_plan.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace cpu_test;

namespace {

case_spec small_spec() {
  case_spec s;
  s.seed = 99;
  s.heads = 2;
  s.latent = 8;
  s.rope = 4;
  s.s_q = {2, 1};
  s.s_k = {5, 3};
  s.page_size = 2;
  s.q_dtype = s.cache_dtype = s.out_dtype = MLA_DTYPE_F32;
  return s;
}

struct bad_call {
  const char* what;
  mla_status code;
  const char* needle;  // must appear in last_error()
  std::function<void(mla_absorbed_args&, absorbed_case&)> mutate;
};

using bytes = std::vector<unsigned char>;
bytes workspace_bytes(const absorbed_case& c) {
  return bytes(c.workspace(), c.workspace() + c.workspace_size());
}

// Plans the valid case, then checks that plan and run with the mutation fail
// as expected and change no output, lse or workspace byte.
void expect_rejected(const bad_call& bad) {
  INFO("mutation: ", std::string(bad.what));
  context ctx(2);
  const mla_api& api = cpu_api();
  absorbed_case c(small_spec());
  size_t need = 0;
  REQUIRE(api.absorbed_workspace_size(ctx.get(), &c.args, &need) == MLA_OK);
  c.set_workspace(need);
  REQUIRE(api.absorbed_plan(ctx.get(), &c.args) == MLA_OK);
  REQUIRE(api.absorbed_run(ctx.get(), &c.args) == MLA_OK);  // the unmutated call is valid
  c.poison_outputs();

  mla_absorbed_args args = c.args;
  bad.mutate(args, c);
  const bytes out0 = c.out_bytes(), lse0 = c.lse_bytes(), ws0 = workspace_bytes(c);
  for (int call = 0; call < 2; ++call) {
    const mla_status st = call == 0 ? api.absorbed_plan(ctx.get(), &args) : api.absorbed_run(ctx.get(), &args);
    const std::string msg = api.last_error();
    INFO((call == 0 ? "absorbed_plan" : "absorbed_run"), ": ", msg);
    CHECK(st == bad.code);
    CHECK(msg.find(bad.needle) != std::string::npos);
    CHECK(c.out_bytes() == out0);
    CHECK(c.lse_bytes() == lse0);
    CHECK(workspace_bytes(c) == ws0);
  }
}

constexpr mla_status INVALID = MLA_ERR_INVALID_ARGUMENT;

}  // namespace

TEST_CASE("op A: every invalid argument is rejected, named, and nothing is written") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<bad_call> cases = {
      {"struct_size", MLA_ERR_VERSION, "absorbed_args.struct_size", [](auto& a, auto&) { a.struct_size = 8; }},
      {"batch < 0", INVALID, "absorbed_args.batch", [](auto& a, auto&) { a.batch = -1; }},
      {"num_heads 0", INVALID, "absorbed_args.num_heads", [](auto& a, auto&) { a.num_heads = 0; }},
      {"num_heads too many", MLA_ERR_UNSUPPORTED, "absorbed_args.num_heads", [](auto& a, auto&) { a.num_heads = 5000; }},
      {"latent_dim 0", INVALID, "absorbed_args.latent_dim", [](auto& a, auto&) { a.latent_dim = 0; }},
      {"latent_dim too big", MLA_ERR_UNSUPPORTED, "absorbed_args.latent_dim", [](auto& a, auto&) { a.latent_dim = 5000; }},
      {"rope_dim < 0", INVALID, "absorbed_args.rope_dim", [](auto& a, auto&) { a.rope_dim = -1; }},
      {"rope_dim too big", MLA_ERR_UNSUPPORTED, "absorbed_args.rope_dim", [](auto& a, auto&) { a.rope_dim = 2000; }},
      {"total_q < 0", INVALID, "absorbed_args.total_q", [](auto& a, auto&) { a.total_q = -1; }},
      {"max_seqlen_q < 0", INVALID, "absorbed_args.max_seqlen_q", [](auto& a, auto&) { a.max_seqlen_q = -1; }},
      {"max_seqlen_q > total_q", INVALID, "absorbed_args.max_seqlen_q", [](auto& a, auto&) { a.max_seqlen_q = 4; }},
      {"causal 2", INVALID, "absorbed_args.causal", [](auto& a, auto&) { a.causal = 2; }},
      {"scale 0", INVALID, "absorbed_args.scale", [](auto& a, auto&) { a.scale = 0.f; }},
      {"scale NaN", INVALID, "absorbed_args.scale", [nan](auto& a, auto&) { a.scale = nan; }},
      {"scale inf", INVALID, "absorbed_args.scale", [](auto& a, auto&) { a.scale = INFINITY; }},
      {"reserved0", INVALID, "absorbed_args.reserved0", [](auto& a, auto&) { a.reserved0 = 1; }},
      {"cu_seqlens_q NULL", INVALID, "absorbed_args.cu_seqlens_q", [](auto& a, auto&) { a.cu_seqlens_q = nullptr; }},
      {"q.data NULL", INVALID, "absorbed_args.q.data", [](auto& a, auto&) { a.q.data = nullptr; }},
      {"q.struct_size", MLA_ERR_VERSION, "absorbed_args.q.struct_size", [](auto& a, auto&) { a.q.struct_size = 4; }},
      {"q.reserved0", INVALID, "absorbed_args.q.reserved0", [](auto& a, auto&) { a.q.reserved0 = 3; }},
      {"q.dtype invalid", INVALID, "absorbed_args.q.dtype", [](auto& a, auto&) { a.q.dtype = 0; }},
      {"q.dtype q8_0", MLA_ERR_UNSUPPORTED, "absorbed_args.q.dtype", [](auto& a, auto&) { a.q.dtype = MLA_DTYPE_Q8_0; }},
      {"q.stride negative", INVALID, "absorbed_args.q.stride[1]", [](auto& a, auto&) { a.q.stride[1] = -1; }},
      {"q.stride[3] unused", INVALID, "absorbed_args.q.stride[3]", [](auto& a, auto&) { a.q.stride[3] = 1; }},
      {"out.data NULL", INVALID, "absorbed_args.out.data", [](auto& a, auto&) { a.out.data = nullptr; }},
      {"out.dtype fp8", MLA_ERR_UNSUPPORTED, "absorbed_args.out.dtype", [](auto& a, auto&) { a.out.dtype = MLA_DTYPE_FP8_E4M3; }},
      {"out overlapping", INVALID, "absorbed_args.out.stride", [](auto& a, auto&) { a.out.stride[1] = 4; }},
      {"out.struct_size", MLA_ERR_VERSION, "absorbed_args.out.struct_size", [](auto& a, auto&) { a.out.struct_size = 0; }},
      {"lse.dtype f16", MLA_ERR_UNSUPPORTED, "absorbed_args.lse.dtype", [](auto& a, auto&) { a.lse.dtype = MLA_DTYPE_F16; }},
      {"lse overlapping", INVALID, "absorbed_args.lse.stride", [](auto& a, auto&) { a.lse.stride[0] = 1; }},
      {"kv.struct_size", MLA_ERR_VERSION, "absorbed_args.kv.struct_size", [](auto& a, auto&) { a.kv.struct_size = 1; }},
      {"kv.data NULL", INVALID, "absorbed_args.kv.data", [](auto& a, auto&) { a.kv.data = nullptr; }},
      {"kv.block_table NULL", INVALID, "absorbed_args.kv.block_table", [](auto& a, auto&) { a.kv.block_table = nullptr; }},
      {"kv.seqlens_k NULL", INVALID, "absorbed_args.kv.seqlens_k", [](auto& a, auto&) { a.kv.seqlens_k = nullptr; }},
      {"kv.dtype 9", INVALID, "absorbed_args.kv.dtype", [](auto& a, auto&) { a.kv.dtype = 9; }},
      {"kv.dtype q8_0", MLA_ERR_UNSUPPORTED, "absorbed_args.kv.dtype", [](auto& a, auto&) { a.kv.dtype = MLA_DTYPE_Q8_0; }},
      {"kv.page_size 0", INVALID, "absorbed_args.kv.page_size", [](auto& a, auto&) { a.kv.page_size = 0; }},
      {"kv.num_pages 0", INVALID, "absorbed_args.kv.num_pages", [](auto& a, auto&) { a.kv.num_pages = 0; }},
      {"kv.latent_offset < 0", INVALID, "absorbed_args.kv.latent_offset", [](auto& a, auto&) { a.kv.latent_offset = -1; }},
      {"kv.rope_offset < 0", INVALID, "absorbed_args.kv.rope_offset", [](auto& a, auto&) { a.kv.rope_offset = -2; }},
      {"kv.row_stride small", INVALID, "absorbed_args.kv.row_stride", [](auto& a, auto&) { a.kv.row_stride = 5; }},
      {"kv.page_stride small", INVALID, "absorbed_args.kv.page_stride", [](auto& a, auto&) { a.kv.page_stride = 3; }},
      {"kv.block_table_stride 0", INVALID, "absorbed_args.kv.block_table_stride", [](auto& a, auto&) { a.kv.block_table_stride = 0; }},
      {"workspace NULL", MLA_ERR_WORKSPACE, "absorbed_args.workspace", [](auto& a, auto&) { a.workspace = nullptr; }},
      {"workspace misaligned", MLA_ERR_WORKSPACE, "absorbed_args.workspace",
       [](auto& a, auto&) { a.workspace = static_cast<char*>(a.workspace) + 64; }},
      {"workspace too small", MLA_ERR_WORKSPACE, "absorbed_args.workspace_bytes", [](auto& a, auto&) { a.workspace_bytes -= 1; }},
      // Contents of the index arrays (host-checked by the cpu plugin).
      {"cu_seqlens_q[0] != 0", INVALID, "absorbed_args.cu_seqlens_q[0]", [](auto&, auto& c) { c.cu_seqlens_q[0] = 1; }},
      {"cu_seqlens_q decreasing", INVALID, "absorbed_args.cu_seqlens_q[2]", [](auto&, auto& c) { c.cu_seqlens_q[2] = 1; }},
      {"sequence longer than max_seqlen_q", INVALID, "max_seqlen_q", [](auto& a, auto&) { a.max_seqlen_q = 1; }},
      {"cu_seqlens_q[B] != total_q", INVALID, "absorbed_args.cu_seqlens_q[2]", [](auto& a, auto&) { a.total_q = 2; }},
      {"seqlens_k < 0", INVALID, "absorbed_args.kv.seqlens_k[1]", [](auto&, auto& c) { c.seqlens_k[1] = -1; }},
      {"seqlens_k beyond block table", INVALID, "absorbed_args.kv.seqlens_k[0]", [](auto&, auto& c) { c.seqlens_k[0] = 1000; }},
      {"block_table entry < 0", INVALID, "absorbed_args.kv.block_table[1][0]", [](auto&, auto& c) {
         c.block_table[c.args.kv.block_table_stride] = -1; }},
      {"block_table entry >= num_pages", INVALID, "absorbed_args.kv.block_table[0][2]", [](auto& a, auto& c) {
         c.block_table[2] = (int32_t)a.kv.num_pages; }},
      // Issue 11.  Each of these returned MLA_OK before; the run then wrote
      // (out stride) or read (row stride) out of bounds, or gave NaN (scale).
      {"out.stride[0] = 2^62 (extent arithmetic wrapped)", INVALID, "absorbed_args.out.stride[0]",
       [](auto& a, auto&) { a.out.stride[0] = int64_t(1) << 62; }},
      {"kv.row_stride = 2^62 (page extent wrapped)", INVALID, "absorbed_args.kv.row_stride",
       [](auto& a, auto&) { a.kv.row_stride = int64_t(1) << 62; }},
      {"kv.block_table_stride = 2^62", INVALID, "absorbed_args.kv.block_table_stride",
       [](auto& a, auto&) { a.kv.block_table_stride = int64_t(1) << 62; }},
      {"scale = 1e38 (f32 scores overflow to NaN)", INVALID, "absorbed_args.scale", [](auto& a, auto&) { a.scale = 1e38f; }},
      {"out over q", INVALID, "absorbed_args.out overlaps absorbed_args.q", [](auto& a, auto&) { a.out.data = a.q.data; }},
      {"out over the cache", INVALID, "absorbed_args.out overlaps absorbed_args.kv.data",
       [](auto& a, auto&) { a.out.data = const_cast<void*>(a.kv.data); }},
      {"lse over out", INVALID, "absorbed_args.lse overlaps absorbed_args.out", [](auto& a, auto&) { a.lse.data = a.out.data; }},
      {"out over the workspace", INVALID, "absorbed_args.out overlaps absorbed_args.workspace",
       [](auto& a, auto&) { a.out.data = a.workspace; }},
  };
  for (const bad_call& bad : cases) expect_rejected(bad);
}

TEST_CASE("issue 11: a batch of no queries with head-major outputs (strides of 0) is a valid no-op") {
  const mla_api& api = cpu_api();
  context ctx(2);
  case_spec spec = small_spec();
  spec.s_q = {0, 0};
  absorbed_case c(spec);
  mla_absorbed_args a = c.args;
  REQUIRE(a.total_q == 0);
  a.out.stride[0] = a.latent_dim, a.out.stride[1] = 0, a.out.stride[2] = 1;  // [H][total_q][Dl]
  a.lse.stride[0] = 1, a.lse.stride[1] = 0;                                  // [H][total_q]
  size_t need = 0;
  REQUIRE(api.absorbed_workspace_size(ctx.get(), &a, &need) == MLA_OK);
  c.set_workspace(need);
  a.workspace = c.args.workspace;
  a.workspace_bytes = c.args.workspace_bytes;
  const bytes out0 = c.out_bytes();
  CHECK(api.absorbed_plan(ctx.get(), &a) == MLA_OK);
  INFO(api.last_error());
  CHECK(api.absorbed_run(ctx.get(), &a) == MLA_OK);
  CHECK(c.out_bytes() == out0);
}

TEST_CASE("issue 11: total_q beyond int32 is refused before the workspace is sized") {
  const mla_api& api = cpu_api();
  context ctx(2);
  absorbed_case c(small_spec());
  mla_absorbed_args a = c.args;
  a.batch = 0;  // skipped every index check; compute_layout's size_t products wrapped
  a.total_q = int64_t(1) << 62;
  size_t need = 12345;
  CHECK(api.absorbed_workspace_size(ctx.get(), &a, &need) == INVALID);
  CHECK(std::string(api.last_error()).find("absorbed_args.total_q") != std::string::npos);
  CHECK(need == 12345);
}

TEST_CASE("issue 11: num_threads above MLA_MAX_THREADS is refused (100000 overflowed libgomp's stack)") {
  const mla_api& api = cpu_api();
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  mla_context* out = nullptr;
  for (int32_t n : {MLA_MAX_THREADS + 1, 100000, INT32_MAX}) {
    desc.num_threads = n;
    CHECK(api.context_create(&desc, &out) == INVALID);
    CHECK(std::string(api.last_error()).find("context_desc.num_threads") != std::string::npos);
    CHECK(out == nullptr);
  }
  desc.num_threads = MLA_MAX_THREADS;  // the bound itself is accepted (threads start only in a call)
  REQUIRE(api.context_create(&desc, &out) == MLA_OK);
  CHECK(api.context_destroy(out) == MLA_OK);
}

TEST_CASE("op A: run without a matching plan is MLA_ERR_NOT_PLANNED and writes nothing") {
  const mla_api& api = cpu_api();
  context ctx(2), other(2);
  absorbed_case c(small_spec());
  size_t need = 0;
  REQUIRE(api.absorbed_workspace_size(ctx.get(), &c.args, &need) == MLA_OK);
  c.set_workspace(2 * need);  // room for the larger need of max_seqlen_q = 3 below
  const bytes out0 = c.out_bytes();

  auto expect_not_planned = [&](mla_context* on, const mla_absorbed_args& args, const char* needle) {
    const bytes ws0 = workspace_bytes(c);
    CHECK(api.absorbed_run(on, &args) == MLA_ERR_NOT_PLANNED);
    const std::string msg = api.last_error();
    INFO(msg);
    CHECK(msg.find(needle) != std::string::npos);
    CHECK(c.out_bytes() == out0);
    CHECK(workspace_bytes(c) == ws0);
  };
  expect_not_planned(ctx.get(), c.args, "holds no plan");  // never planned

  REQUIRE(api.absorbed_plan(ctx.get(), &c.args) == MLA_OK);
  expect_not_planned(other.get(), c.args, "holds no plan of this context");
  mla_absorbed_args a = c.args;
  a.causal = 0;
  expect_not_planned(ctx.get(), a, "absorbed_args.causal");
  a = c.args;
  a.max_seqlen_q = 3;  // still valid, a different schedule bound
  expect_not_planned(ctx.get(), a, "absorbed_args.max_seqlen_q");
  c.seqlens_k[1] = 2;  // same pointer, new contents: the schedule is stale
  expect_not_planned(ctx.get(), c.args, "seqlens_k");
  c.seqlens_k[1] = 3;
  CHECK(api.absorbed_run(ctx.get(), &c.args) == MLA_OK);  // the plan matches again
  CHECK(c.check() == "");

  // A plan overwritten in caller memory (here: an item's key range) is refused.
  c.poison_outputs();
  const bytes out1 = c.out_bytes();
  // White-box: the plugin's own description of the workspace (split_plan.hpp).
  const_cast<mla_cpu::work_item*>(mla_cpu::items_of(c.args))[0].key_end += 1000;
  CHECK(api.absorbed_run(ctx.get(), &c.args) == MLA_ERR_NOT_PLANNED);
  CHECK(std::string(api.last_error()).find("overwritten") != std::string::npos);
  CHECK(c.out_bytes() == out1);
}

TEST_CASE("entry points: NULL and malformed arguments outside op A") {
  const mla_api& api = cpu_api();
  absorbed_case c(small_spec());
  size_t bytes_needed = 0;
  CHECK(api.absorbed_workspace_size(nullptr, &c.args, &bytes_needed) == INVALID);
  CHECK(std::string(api.last_error()).find("ctx is NULL") != std::string::npos);
  CHECK(api.absorbed_plan(nullptr, &c.args) == INVALID);
  CHECK(api.absorbed_run(nullptr, &c.args) == INVALID);
  CHECK(api.merge_states(nullptr, nullptr) == INVALID);
  CHECK(api.context_destroy(nullptr) == MLA_OK);

  context ctx(1);
  CHECK(api.absorbed_workspace_size(ctx.get(), &c.args, nullptr) == INVALID);
  CHECK(std::string(api.last_error()).find("bytes") != std::string::npos);
  CHECK(api.absorbed_run(ctx.get(), nullptr) == INVALID);
  CHECK(std::string(api.last_error()).find("absorbed_args is NULL") != std::string::npos);

  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  mla_context* out = nullptr;
  CHECK(api.context_create(&desc, nullptr) == INVALID);
  CHECK(api.context_create(nullptr, &out) == INVALID);
  desc.num_threads = -1;
  CHECK(api.context_create(&desc, &out) == INVALID);
  CHECK(std::string(api.last_error()).find("num_threads") != std::string::npos);
  desc.num_threads = 0;
  desc.reserved1 = 1;
  CHECK(api.context_create(&desc, &out) == INVALID);
  desc.reserved1 = 0;
  desc.struct_size = 8;
  CHECK(api.context_create(&desc, &out) == MLA_ERR_VERSION);
  CHECK(out == nullptr);

  mla_caps caps{};
  caps.struct_size = 16;
  CHECK(api.get_caps(ctx.get(), &caps) == MLA_ERR_VERSION);
  CHECK(api.get_caps(ctx.get(), nullptr) == INVALID);
  mla_probe_result probe{};
  probe.struct_size = 8;
  CHECK(api.probe(&probe) == MLA_ERR_VERSION);
  CHECK(api.probe(nullptr) == INVALID);
}

TEST_CASE("probe and caps describe the cpu") {
  const mla_api& api = cpu_api();
  CHECK(std::string(api.name) == "cpu");
  CHECK(api.abi_major == MLA_ABI_MAJOR);
  mla_probe_result probe{};
  probe.struct_size = sizeof probe;
  REQUIRE(api.probe(&probe) == MLA_OK);
  CHECK(probe.usable == 1);
  CHECK(probe.score == 10);
  CHECK(probe.num_devices == 1);
  CHECK(std::strstr(probe.reason, "threads") != nullptr);
  context ctx(3);
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  REQUIRE(api.get_caps(ctx.get(), &caps) == MLA_OK);
  CHECK(caps.ops == (MLA_OP_BIT(MLA_OP_ABSORBED) | MLA_OP_BIT(MLA_OP_MERGE) | MLA_OP_BIT(MLA_OP_DECOMPRESSED)));
  const uint32_t floats = MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  CHECK(caps.weight_dtypes == floats);  // op B
  CHECK(caps.max_nope_dim >= 128);
  CHECK(caps.max_v_dim >= 128);
  CHECK(caps.decompressed_break_even_q >= 1);
  CHECK(caps.q_dtypes == floats);
  CHECK(caps.cache_dtypes == floats);
  CHECK(caps.out_dtypes == floats);
  CHECK(caps.max_heads >= 128);
  CHECK(caps.max_page_size == 2147483647);
  CHECK(std::strncmp(caps.device_name, "CPU: ", 5) == 0);
  CHECK(std::strstr(caps.device_name, "3 threads") != nullptr);
}

// ---- Issue 11: the cpu kernel's index math for hostile but accepted
// calls (the validator bounds every stride product; these are what is
// left: key and query counts near INT32_MAX, and a plan overwritten in the
// caller's workspace).

namespace {

// One sequence of one query over `s_k` keys of a one-page-per-2^20-rows
// cache whose block table maps every logical page to physical page 0: a
// context of ~2^31 keys in 2 MB of cache (nothing but the plan reads it here).
struct long_context {
  std::vector<uint16_t> cache = std::vector<uint16_t>(size_t(1) << 20);
  std::vector<int32_t> cu{0, 1}, seqlens{0}, table = std::vector<int32_t>(2048, 0);
  std::vector<float> q = std::vector<float>(1), out = std::vector<float>(1);
  mla_absorbed_args a{};
  explicit long_context(int32_t s_k) {
    seqlens[0] = s_k;
    a.struct_size = sizeof a;
    a.batch = 1, a.num_heads = 1, a.latent_dim = 1, a.rope_dim = 0;
    a.total_q = 1, a.max_seqlen_q = 1, a.causal = 0, a.scale = 1.0f;
    a.cu_seqlens_q = cu.data();
    a.q = {sizeof(mla_tensor), q.data(), MLA_DTYPE_F32, 0, {1, 1, 1, 0}};
    a.out = {sizeof(mla_tensor), out.data(), MLA_DTYPE_F32, 0, {1, 1, 1, 0}};
    a.lse = {sizeof(mla_tensor), nullptr, MLA_DTYPE_F32, 0, {0, 0, 0, 0}};
    a.kv = {sizeof(mla_paged_cache), cache.data(), MLA_DTYPE_BF16, 1 << 20, 1, 1 << 20, 1, 0, 0,
            table.data(), (int64_t)table.size(), seqlens.data()};
  }
};

}  // namespace

TEST_CASE("issue 11: a split plan over ~2^31 keys keeps every key range in [0, s_k]") {
  // 8 splits of 2^28 keys: the last split's end, 8 * 2^28 = 2^31, was
  // narrowed to int32 before the clamp to s_k and came out negative.
  const mla_api& api = cpu_api();
  context ctx(2);
  long_context c(INT32_MAX - 3);
  size_t need = 0;
  REQUIRE(api.absorbed_workspace_size(ctx.get(), &c.a, &need) == MLA_OK);
  std::vector<unsigned char> storage(need + 256);
  c.a.workspace = storage.data() + (256 - reinterpret_cast<uintptr_t>(storage.data()) % 256) % 256;
  c.a.workspace_bytes = need;
  REQUIRE(api.absorbed_plan(ctx.get(), &c.a) == MLA_OK);
  const mla_cpu::plan_header& plan = mla_cpu::plan_of(c.a);
  INFO("magic " << plan.magic << " batch " << plan.batch << " items " << plan.num_items << " groups " << plan.num_groups << " max_items " << plan.layout.max_items);
  REQUIRE(plan.num_items >= 2);
  int64_t covered = 0;
  for (int64_t k = 0; k < plan.num_items; ++k) {
    const mla_cpu::work_item& it = mla_cpu::items_of(c.a)[k];
    INFO("item " << k << ": keys [" << it.key_begin << ", " << it.key_end << ")");
    CHECK(it.key_begin >= 0);
    CHECK(it.key_begin <= it.key_end);
    CHECK(it.key_end <= c.seqlens[0]);
    covered += (int64_t)it.key_end - it.key_begin;
  }
  CHECK(covered == c.seqlens[0]);
}

TEST_CASE("issue 11: the kernel's last row block of a key range ending near INT32_MAX") {
  // The block loop stepped an int32 t0 by 32 past INT32_MAX (UBSan: signed
  // integer overflow in absorbed_kernel.cpp): run one item of the last 36
  // keys of a 2^31 - 4 key context on each kernel build.
  long_context c(INT32_MAX - 3);
  c.cache.assign(c.cache.size(), 0x3f80);  // bf16 1.0
  c.q[0] = 0.5f;
  const mla_cpu::workspace_layout L = mla_cpu::compute_layout(c.a, 1, 0);
  std::vector<float> scratch_storage(L.total_bytes / sizeof(float) + 64);
  void* ws = scratch_storage.data();
  const mla_cpu::thread_scratch scratch = mla_cpu::scratch_for_thread(c.a, L, ws, 0);
  const mla_cpu::work_item item{0, 0, 1, INT32_MAX - 39, INT32_MAX - 3, -1, -1};
  for (const char* kernel : {"baseline", "avx2"}) {
    mla_cpu::absorbed_kernel k;
    if (!mla_cpu::select_absorbed_kernel(kernel, &k)) continue;
    c.out[0] = -7.0f;
    k.run_item(c.a, item, scratch, nullptr);
    CHECK(c.out[0] == 1.0f);  // every latent is 1: the softmax average is 1
  }
}

TEST_CASE("issue 11: a plan overwritten in the workspace cannot make a split item write past its slot") {
  // Batch-invariant plans size a partial slot for kInvariantSplitQueries
  // query rows; the integrity check let an item of a split group claim a
  // whole tile of another sequence, whose rows then ran past the slot (and,
  // for the last slot, past the workspace).
  const mla_api& api = cpu_api();
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.num_threads = 1;
  desc.flags = MLA_CONTEXT_BATCH_INVARIANT;
  mla_context* ctx = nullptr;
  REQUIRE(api.context_create(&desc, &ctx) == MLA_OK);
  case_spec spec = small_spec();
  spec.heads = 2;
  spec.s_q = {1, 40};        // sequence 0 splits (s_q <= 8), sequence 1 is one tile of 40 rows
  spec.s_k = {5000, 50};     // 5000 keys: split at multiples of kInvariantChunk
  spec.page_size = 64;
  absorbed_case c(spec);
  size_t need = 0;
  REQUIRE(api.absorbed_workspace_size(ctx, &c.args, &need) == MLA_OK);
  c.set_workspace(need);
  REQUIRE(api.absorbed_plan(ctx, &c.args) == MLA_OK);
  REQUIRE(api.absorbed_run(ctx, &c.args) == MLA_OK);
  CHECK(c.check() == "");
  const mla_cpu::plan_header& plan = mla_cpu::plan_of(c.args);
  mla_cpu::work_item* items = const_cast<mla_cpu::work_item*>(mla_cpu::items_of(c.args));
  int64_t last_slot_item = -1;
  for (int64_t k = 0; k < plan.num_items; ++k)
    if (items[k].slot >= 0 && (last_slot_item < 0 || items[k].slot > items[last_slot_item].slot)) last_slot_item = k;
  REQUIRE(last_slot_item >= 0);
  mla_cpu::work_item& it = items[last_slot_item];
  it.seq = 1, it.q_begin = 0, it.q_count = 40, it.key_begin = 0, it.key_end = 50;  // a whole tile into an 8-row slot
  c.poison_outputs();
  const bytes out0 = c.out_bytes();
  CHECK(api.absorbed_run(ctx, &c.args) == MLA_ERR_NOT_PLANNED);
  CHECK(std::string(api.last_error()).find("overwritten") != std::string::npos);
  CHECK(c.out_bytes() == out0);
  api.context_destroy(ctx);
}

TEST_CASE("issue 11: hostile but accepted strides (huge on dimensions of extent 1, any on unused ones) run exactly") {
  // A stride only ever multiplies indices below its extent, so INT64_MAX on
  // an extent-1 dimension is a valid call: the kernel must compute 0 * it,
  // never (index + 1) * it (UBSan-checked in the sanitizer CI build).
  const mla_api& api = cpu_api();
  for (int threads : {1, 2}) {
    context ctx(threads);
    case_spec spec = small_spec();
    spec.heads = 1;
    spec.s_q = {1};
    spec.s_k = {300};
    spec.page_size = 1;
    absorbed_case c(spec);
    mla_absorbed_args& a = c.args;
    a.q.stride[0] = a.q.stride[1] = INT64_MAX;
    a.out.stride[0] = a.out.stride[1] = INT64_MAX;
    a.lse.stride[0] = a.lse.stride[1] = INT64_MAX;
    a.kv.row_stride = INT64_MAX;  // page_size 1: never multiplied by a slot > 0
    size_t need = 0;
    REQUIRE(api.absorbed_workspace_size(ctx.get(), &a, &need) == MLA_OK);
    c.set_workspace(need);
    INFO(api.last_error());
    REQUIRE(api.absorbed_plan(ctx.get(), &a) == MLA_OK);
    REQUIRE(api.absorbed_run(ctx.get(), &a) == MLA_OK);
    CHECK(c.check() == "");
    a.kv.row_stride = -5;  // a negative unused stride is as unused
    REQUIRE(api.absorbed_plan(ctx.get(), &a) == MLA_OK);
    REQUIRE(api.absorbed_run(ctx.get(), &a) == MLA_OK);
    CHECK(c.check() == "");
  }
}

TEST_CASE("issue 11 (found by fuzzing): a NaN input flows into the output without undefined behaviour") {
  // The softmax exp turned its argument into an int exponent before looking
  // at NaN: (int)NaN is undefined (UBSan float-cast-overflow in
  // absorbed_kernel.cpp exp_nonpositive).
  const mla_api& api = cpu_api();
  for (int threads : {1, 2}) {
    context ctx(threads);
    absorbed_case c(small_spec());
    static_cast<float*>(c.args.q.data)[0] = std::numeric_limits<float>::quiet_NaN();  // row 0, head 0
    size_t need = 0;
    REQUIRE(api.absorbed_workspace_size(ctx.get(), &c.args, &need) == MLA_OK);
    c.set_workspace(need);
    REQUIRE(api.absorbed_plan(ctx.get(), &c.args) == MLA_OK);
    REQUIRE(api.absorbed_run(ctx.get(), &c.args) == MLA_OK);
    CHECK(std::isnan(static_cast<const float*>(c.args.out.data)[0]));
  }
}

TEST_CASE("issue 11: the LSE merge of a head dimension near INT32_MAX steps past its last chunk without overflow") {
  // merge_lse_row stepped an int d0 by 256 past INT32_MAX after the last
  // chunk of a dim near 2^31 (op C's head_dim has no other bound).  White
  // box: one part, no memory behind it, every element counted.
  const int dim = INT32_MAX - 10;
  int64_t stored = 0;
  float last = 0.f;
  const float lse = mla_cpu::merge_lse_row(
      1, dim, [](int) { return 0.5f; }, [](int, int) { return 2.0f; },
      [&](int d, float v) {
        ++stored;
        if (d == dim - 1) last = v;
      });
  CHECK(stored == dim);
  CHECK(last == 2.0f);
  CHECK(lse == 0.5f);
}

TEST_CASE("the plan check ignores the padding inside the plan header (found by the clang TSan build)") {
  // plan_mismatch compared the workspace layout with memcmp, padding
  // included; no copy has to keep padding bytes, and under clang every run
  // read "the plan in it was overwritten".  Poison the padding of a valid
  // plan: the run must still find its plan.
  const mla_api& api = cpu_api();
  context ctx(2);
  absorbed_case c(small_spec());
  size_t need = 0;
  REQUIRE(api.absorbed_workspace_size(ctx.get(), &c.args, &need) == MLA_OK);
  c.set_workspace(need);
  REQUIRE(api.absorbed_plan(ctx.get(), &c.args) == MLA_OK);
  static_assert(offsetof(mla_cpu::workspace_layout, max_items) == 8, "q_tile is followed by 4 bytes of padding");
  unsigned char* layout = static_cast<unsigned char*>(c.args.workspace) + offsetof(mla_cpu::plan_header, layout);
  std::memset(layout + sizeof(int32_t), 0xa5, 8 - sizeof(int32_t));
  CHECK(api.absorbed_run(ctx.get(), &c.args) == MLA_OK);
  INFO(api.last_error());
  CHECK(c.check() == "");
}
