// Invalid calls of op A and of the context entry points: each gives its
// status code and a message naming the argument, and writes nothing (out,
// lse and workspace byte-identical afterwards).
#include "absorbed_case.hpp"
#include "plugin_handle.hpp"
#include "split_plan.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
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
  CHECK(caps.ops == (MLA_OP_BIT(MLA_OP_ABSORBED) | MLA_OP_BIT(MLA_OP_MERGE)));
  const uint32_t floats = MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  CHECK(caps.q_dtypes == floats);
  CHECK(caps.cache_dtypes == floats);
  CHECK(caps.out_dtypes == floats);
  CHECK(caps.max_heads >= 128);
  CHECK(caps.max_page_size == 2147483647);
  CHECK(std::strncmp(caps.device_name, "CPU: ", 5) == 0);
  CHECK(std::strstr(caps.device_name, "3 threads") != nullptr);
}
