// SPDX-License-Identifier: MIT
// Unit tests of the shared host-side validator (validate.hpp): every rule
// gives its status and a message naming the argument; shape-level checks
// ignore pointers; outputs whose strides overlap are refused.
#include "validate.hpp"

#include "plugin_error.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using mla::check_level;

namespace {

constexpr mla_status INVALID = MLA_ERR_INVALID_ARGUMENT;

mla::backend_limits limits() {
  mla::backend_limits l;
  l.q_dtypes = l.cache_dtypes = l.out_dtypes =
      MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  l.max_heads = 128;
  l.max_latent_dim = 512;
  l.max_rope_dim = 64;
  l.latent_dim_multiple = 16;
  l.max_page_size = 64;
  return l;
}

mla_tensor tensor(void* data, int dtype, int64_t s0, int64_t s1, int64_t s2) {
  mla_tensor t{};
  t.struct_size = sizeof t;
  t.data = data;
  t.dtype = dtype;
  t.stride[0] = s0;
  t.stride[1] = s1;
  t.stride[2] = s2;
  return t;
}

// A valid op A call: B = 2, H = 4, Dl = 32, Dr = 8, s_q = {2, 1}, s_k = {5, 16}, page 4.
struct valid_call {
  std::vector<int32_t> cu{0, 2, 3}, seqlens{5, 16}, table{3, 0, -1, -1, 1, 2, 4, 5};
  std::vector<float> q = std::vector<float>(3 * 4 * 40), out = std::vector<float>(3 * 4 * 32), lse = std::vector<float>(12);
  std::vector<float> cache = std::vector<float>(6 * 4 * 40);
  void* ws = std::aligned_alloc(256, 1024);
  mla_absorbed_args a{};
  valid_call() {
    a.struct_size = sizeof a;
    a.batch = 2;
    a.num_heads = 4;
    a.latent_dim = 32;
    a.rope_dim = 8;
    a.total_q = 3;
    a.max_seqlen_q = 2;
    a.causal = 1;
    a.scale = 0.1f;
    a.cu_seqlens_q = cu.data();
    a.q = tensor(q.data(), MLA_DTYPE_F32, 160, 40, 1);
    a.out = tensor(out.data(), MLA_DTYPE_F32, 128, 32, 1);
    a.lse = tensor(lse.data(), MLA_DTYPE_F32, 4, 1, 0);
    mla_paged_cache& kv = a.kv;
    kv.struct_size = sizeof kv;
    kv.data = cache.data();
    kv.dtype = MLA_DTYPE_BF16;
    kv.page_size = 4;
    kv.num_pages = 6;
    kv.page_stride = 160;
    kv.row_stride = 40;
    kv.latent_offset = 0;
    kv.rope_offset = 32;
    kv.block_table = table.data();
    kv.block_table_stride = 4;
    kv.seqlens_k = seqlens.data();
    a.workspace = ws;
    a.workspace_bytes = 1024;
  }
  ~valid_call() { std::free(ws); }
  valid_call(const valid_call&) = delete;
  valid_call& operator=(const valid_call&) = delete;
};

mla_status full(const mla_absorbed_args& a, size_t need = 512) {
  mla_status s = mla::validate_absorbed(&a, limits(), check_level::full, need);
  return s != MLA_OK ? s : mla::validate_absorbed_indices_host(&a);
}

bool names(const char* needle) { return std::string(mla::last_error_message()).find(needle) != std::string::npos; }

struct rule {
  const char* what;
  mla_status code;
  const char* needle;
  std::function<void(valid_call&)> mutate;
};

}  // namespace

TEST_CASE("validate_absorbed: the valid call passes at both levels") {
  valid_call v;
  CHECK(mla::validate_absorbed(&v.a, limits(), check_level::shape, 0) == MLA_OK);
  CHECK(full(v.a) == MLA_OK);
}

TEST_CASE("validate_absorbed: each rule, its status and the argument it names") {
  const std::vector<rule> rules = {
      {"struct_size", MLA_ERR_VERSION, "absorbed_args.struct_size", [](valid_call& v) { v.a.struct_size = MLA_ABSORBED_ARGS_SIZE_1_0 - 8; }},
      {"batch", INVALID, "absorbed_args.batch", [](valid_call& v) { v.a.batch = -2; }},
      {"num_heads 0", INVALID, "absorbed_args.num_heads", [](valid_call& v) { v.a.num_heads = 0; }},
      {"num_heads > max", MLA_ERR_UNSUPPORTED, "absorbed_args.num_heads", [](valid_call& v) { v.a.num_heads = 129; }},
      {"latent_dim 0", INVALID, "absorbed_args.latent_dim", [](valid_call& v) { v.a.latent_dim = 0; }},
      {"latent_dim multiple", MLA_ERR_UNSUPPORTED, "absorbed_args.latent_dim", [](valid_call& v) { v.a.latent_dim = 24; }},
      {"latent_dim > max", MLA_ERR_UNSUPPORTED, "absorbed_args.latent_dim", [](valid_call& v) { v.a.latent_dim = 528; }},
      {"rope_dim < 0", INVALID, "absorbed_args.rope_dim", [](valid_call& v) { v.a.rope_dim = -1; }},
      {"rope_dim > max", MLA_ERR_UNSUPPORTED, "absorbed_args.rope_dim", [](valid_call& v) { v.a.rope_dim = 65; }},
      {"total_q", INVALID, "absorbed_args.total_q", [](valid_call& v) { v.a.total_q = -1; }},
      {"max_seqlen_q < 0", INVALID, "absorbed_args.max_seqlen_q", [](valid_call& v) { v.a.max_seqlen_q = -1; }},
      {"max_seqlen_q > total_q", INVALID, "absorbed_args.max_seqlen_q", [](valid_call& v) { v.a.max_seqlen_q = 4; }},
      {"causal", INVALID, "absorbed_args.causal", [](valid_call& v) { v.a.causal = -1; }},
      {"scale negative", INVALID, "absorbed_args.scale", [](valid_call& v) { v.a.scale = -1.f; }},
      {"scale NaN", INVALID, "absorbed_args.scale", [](valid_call& v) { v.a.scale = NAN; }},
      {"reserved0", INVALID, "absorbed_args.reserved0", [](valid_call& v) { v.a.reserved0 = 7; }},
      {"cu_seqlens_q NULL", INVALID, "absorbed_args.cu_seqlens_q is NULL", [](valid_call& v) { v.a.cu_seqlens_q = nullptr; }},
      {"q NULL", INVALID, "absorbed_args.q.data is NULL", [](valid_call& v) { v.a.q.data = nullptr; }},
      {"q struct_size", MLA_ERR_VERSION, "absorbed_args.q.struct_size", [](valid_call& v) { v.a.q.struct_size = 1; }},
      {"q reserved0", INVALID, "absorbed_args.q.reserved0", [](valid_call& v) { v.a.q.reserved0 = 1; }},
      {"q dtype unknown", INVALID, "absorbed_args.q.dtype", [](valid_call& v) { v.a.q.dtype = 42; }},
      {"q dtype reserved", MLA_ERR_UNSUPPORTED, "absorbed_args.q.dtype", [](valid_call& v) { v.a.q.dtype = MLA_DTYPE_Q8_0; }},
      {"q stride < 0", INVALID, "absorbed_args.q.stride[2]", [](valid_call& v) { v.a.q.stride[2] = -1; }},
      {"q unused stride", INVALID, "absorbed_args.q.stride[3]", [](valid_call& v) { v.a.q.stride[3] = 5; }},
      {"out NULL", INVALID, "absorbed_args.out.data is NULL", [](valid_call& v) { v.a.out.data = nullptr; }},
      {"out overlap", INVALID, "absorbed_args.out.stride[1]", [](valid_call& v) { v.a.out.stride[1] = 31; }},
      {"lse dtype", MLA_ERR_UNSUPPORTED, "absorbed_args.lse.dtype", [](valid_call& v) { v.a.lse.dtype = MLA_DTYPE_BF16; }},
      {"lse unused stride", INVALID, "absorbed_args.lse.stride[2]", [](valid_call& v) { v.a.lse.stride[2] = 1; }},
      {"lse overlap", INVALID, "absorbed_args.lse.stride[0]", [](valid_call& v) { v.a.lse.stride[0] = 3; }},
      {"kv struct_size", MLA_ERR_VERSION, "absorbed_args.kv.struct_size", [](valid_call& v) { v.a.kv.struct_size = 0; }},
      {"kv data NULL", INVALID, "absorbed_args.kv.data is NULL", [](valid_call& v) { v.a.kv.data = nullptr; }},
      {"kv block_table NULL", INVALID, "absorbed_args.kv.block_table is NULL", [](valid_call& v) { v.a.kv.block_table = nullptr; }},
      {"kv seqlens_k NULL", INVALID, "absorbed_args.kv.seqlens_k is NULL", [](valid_call& v) { v.a.kv.seqlens_k = nullptr; }},
      {"kv dtype", MLA_ERR_UNSUPPORTED, "absorbed_args.kv.dtype", [](valid_call& v) { v.a.kv.dtype = MLA_DTYPE_FP8_E4M3; }},
      {"kv dtype unknown", INVALID, "absorbed_args.kv.dtype", [](valid_call& v) { v.a.kv.dtype = 0; }},
      {"page_size 0", INVALID, "absorbed_args.kv.page_size", [](valid_call& v) { v.a.kv.page_size = 0; }},
      {"page_size > max", MLA_ERR_UNSUPPORTED, "absorbed_args.kv.page_size", [](valid_call& v) { v.a.kv.page_size = 128; }},
      {"num_pages", INVALID, "absorbed_args.kv.num_pages", [](valid_call& v) { v.a.kv.num_pages = 0; }},
      {"latent_offset", INVALID, "absorbed_args.kv.latent_offset", [](valid_call& v) { v.a.kv.latent_offset = -3; }},
      {"rope_offset", INVALID, "absorbed_args.kv.rope_offset", [](valid_call& v) { v.a.kv.rope_offset = -3; }},
      {"row_stride overlap", INVALID, "absorbed_args.kv.row_stride", [](valid_call& v) { v.a.kv.row_stride = 39; }},
      {"rope past row", INVALID, "absorbed_args.kv.row_stride", [](valid_call& v) { v.a.kv.rope_offset = 33; }},
      {"page_stride overlap", INVALID, "absorbed_args.kv.page_stride", [](valid_call& v) { v.a.kv.page_stride = 159; }},
      {"block_table_stride", INVALID, "absorbed_args.kv.block_table_stride", [](valid_call& v) { v.a.kv.block_table_stride = 0; }},
      {"workspace NULL", MLA_ERR_WORKSPACE, "absorbed_args.workspace is NULL", [](valid_call& v) { v.a.workspace = nullptr; }},
      {"workspace alignment", MLA_ERR_WORKSPACE, "256-byte aligned", [](valid_call& v) {
         v.a.workspace = static_cast<char*>(v.a.workspace) + 128; }},
      {"workspace_bytes", MLA_ERR_WORKSPACE, "absorbed_args.workspace_bytes", [](valid_call& v) { v.a.workspace_bytes = 511; }},
      {"cu[0]", INVALID, "absorbed_args.cu_seqlens_q[0]", [](valid_call& v) { v.cu[0] = -1; }},
      {"cu decreasing", INVALID, "absorbed_args.cu_seqlens_q[1]", [](valid_call& v) { v.cu[1] = -1; }},
      {"s_q > max_seqlen_q", INVALID, "max_seqlen_q = 1", [](valid_call& v) { v.a.max_seqlen_q = 1; }},
      {"cu[B] != total_q", INVALID, "absorbed_args.cu_seqlens_q[2]", [](valid_call& v) { v.cu[2] = 2; }},
      {"seqlens_k < 0", INVALID, "absorbed_args.kv.seqlens_k[0]", [](valid_call& v) { v.seqlens[0] = -5; }},
      {"seqlens_k > table", INVALID, "absorbed_args.kv.seqlens_k[1]", [](valid_call& v) { v.seqlens[1] = 17; }},
      {"block_table < 0", INVALID, "absorbed_args.kv.block_table[0][1]", [](valid_call& v) { v.table[1] = -1; }},
      {"block_table >= num_pages", INVALID, "absorbed_args.kv.block_table[1][3]", [](valid_call& v) { v.table[7] = 6; }},
  };
  for (const rule& r : rules) {
    valid_call v;
    r.mutate(v);
    INFO(r.what, ": ", mla::last_error_message());
    const mla_status s = full(v.a);
    INFO("message: ", mla::last_error_message());
    CHECK(s == r.code);
    CHECK(names(r.needle));
  }
  CHECK(mla::validate_absorbed(nullptr, limits(), check_level::full, 0) == INVALID);
  CHECK(names("absorbed_args is NULL"));
}

TEST_CASE("validate_absorbed: shape level checks scalars only, full level the pointers") {
  valid_call v;
  v.a.q.data = v.a.out.data = nullptr;
  v.a.cu_seqlens_q = nullptr;
  v.a.kv.data = nullptr;
  v.a.workspace = nullptr;
  CHECK(mla::validate_absorbed(&v.a, limits(), check_level::shape, 0) == MLA_OK);
  CHECK(mla::validate_absorbed(&v.a, limits(), check_level::full, 0) == INVALID);
  v.a.num_heads = 0;  // scalars are still checked at shape level
  CHECK(mla::validate_absorbed(&v.a, limits(), check_level::shape, 0) == INVALID);
  CHECK(names("absorbed_args.num_heads"));
}

TEST_CASE("validate_absorbed: no workspace needed means none is checked; lse is optional") {
  valid_call v;
  v.a.workspace = nullptr;
  v.a.workspace_bytes = 0;
  v.a.lse.data = nullptr;
  CHECK(full(v.a, 0) == MLA_OK);
  CHECK(full(v.a, 1) == MLA_ERR_WORKSPACE);
}

TEST_CASE("validate_absorbed: batch 0 needs no index arrays; empty tensors may be NULL") {
  valid_call v;
  v.a.batch = 0;
  v.a.total_q = 0;
  v.a.max_seqlen_q = 0;
  v.a.cu_seqlens_q = nullptr;
  v.a.q.data = v.a.out.data = nullptr;
  v.a.kv.data = nullptr;
  v.a.kv.block_table = nullptr;
  v.a.kv.seqlens_k = nullptr;
  CHECK(full(v.a) == MLA_OK);
}

TEST_CASE("output overlap: permuted strides are fine, aliasing is not, extent-1 dims are free") {
  valid_call v;
  v.a.out.stride[0] = 32;  // [total_q][H][Dl] stored head-major: H outermost
  v.a.out.stride[1] = 96;
  CHECK(full(v.a) == MLA_OK);
  v.a.out.stride[1] = 64;  // heads step 64 < the 3 rows x 32 they must clear
  CHECK(full(v.a) == INVALID);
  CHECK(names("absorbed_args.out.stride[1]"));
  v.a.out.stride[2] = 0;  // every latent element on one address
  v.a.out.stride[1] = 96;
  CHECK(full(v.a) == INVALID);
  CHECK(names("absorbed_args.out.stride[2]"));
  valid_call one;  // total_q = 1: the row stride does not matter
  one.cu = {0, 1, 1};
  one.a.total_q = 1;
  one.a.max_seqlen_q = 1;
  one.a.out.stride[0] = 0;
  CHECK(full(one.a) == MLA_OK);
  // Inputs may alias themselves (broadcast q), outputs may not.
  one.a.q.stride[1] = 0;
  CHECK(full(one.a) == MLA_OK);
}

TEST_CASE("validate_merge: each rule") {
  std::vector<float> parts(2 * 3 * 2 * 8), plse(2 * 3 * 2), out(3 * 2 * 8), lse(6);
  auto valid = [&] {
    mla_merge_args m{};
    m.struct_size = sizeof m;
    m.num_parts = 2;
    m.head_dim = 8;
    m.num_rows = 3;
    m.num_heads = 2;
    m.parts_out = tensor(parts.data(), MLA_DTYPE_F32, 48, 16, 8);
    m.parts_out.stride[3] = 1;
    m.parts_lse = tensor(plse.data(), MLA_DTYPE_F32, 6, 2, 1);
    m.out = tensor(out.data(), MLA_DTYPE_BF16, 16, 8, 1);
    m.lse = tensor(lse.data(), MLA_DTYPE_F32, 2, 1, 0);
    return m;
  };
  mla_merge_args ok = valid();
  REQUIRE(mla::validate_merge(&ok, limits()) == MLA_OK);
  struct merge_rule {
    mla_status code;
    const char* needle;
    std::function<void(mla_merge_args&)> mutate;
  };
  const std::vector<merge_rule> rules = {
      {MLA_ERR_VERSION, "merge_args.struct_size", [](auto& m) { m.struct_size = 1; }},
      {INVALID, "merge_args.num_parts", [](auto& m) { m.num_parts = 0; }},
      {INVALID, "merge_args.head_dim", [](auto& m) { m.head_dim = 0; }},
      {INVALID, "merge_args.num_rows", [](auto& m) { m.num_rows = -1; }},
      {INVALID, "merge_args.num_heads", [](auto& m) { m.num_heads = 0; }},
      {INVALID, "merge_args.reserved0", [](auto& m) { m.reserved0 = 2; }},
      {INVALID, "merge_args.parts_out.data", [](auto& m) { m.parts_out.data = nullptr; }},
      {MLA_ERR_UNSUPPORTED, "merge_args.parts_out.dtype", [](auto& m) { m.parts_out.dtype = MLA_DTYPE_Q8_0; }},
      {MLA_ERR_UNSUPPORTED, "merge_args.parts_lse.dtype", [](auto& m) { m.parts_lse.dtype = MLA_DTYPE_F16; }},
      {INVALID, "merge_args.parts_lse.stride[3]", [](auto& m) { m.parts_lse.stride[3] = 1; }},
      {INVALID, "merge_args.out.data", [](auto& m) { m.out.data = nullptr; }},
      {INVALID, "merge_args.out.stride[1]", [](auto& m) { m.out.stride[1] = 4; }},
      {INVALID, "merge_args.lse.stride", [](auto& m) { m.lse.stride[0] = 1; }},  // either stride may be named
      {MLA_ERR_UNSUPPORTED, "merge_args.lse.dtype", [](auto& m) { m.lse.dtype = MLA_DTYPE_BF16; }},
  };
  for (const merge_rule& r : rules) {
    mla_merge_args m = valid();
    r.mutate(m);
    const mla_status s = mla::validate_merge(&m, limits());
    INFO(std::string(r.needle), ": ", std::string(mla::last_error_message()));
    CHECK(s == r.code);
    CHECK(names(r.needle));
  }
  CHECK(mla::validate_merge(nullptr, limits()) == INVALID);
  mla_merge_args no_lse = valid();
  no_lse.lse.data = nullptr;  // optional
  CHECK(mla::validate_merge(&no_lse, limits()) == MLA_OK);
}

TEST_CASE("read_context_desc: 1.0 and 1.1 descriptors, flags, threads, pool") {
  mla::context_config cfg;
  mla_context_desc d{};
  d.struct_size = sizeof d;
  CHECK(mla::read_context_desc(&d, 0, cfg) == MLA_OK);
  CHECK(mla::read_context_desc(nullptr, 0, cfg) == INVALID);
  d.num_threads = -1;
  CHECK(mla::read_context_desc(&d, 0, cfg) == INVALID);
  CHECK(names("context_desc.num_threads"));
  d.num_threads = MLA_MAX_THREADS + 1;
  CHECK(mla::read_context_desc(&d, 0, cfg) == INVALID);
  d.num_threads = 0;
  d.device_ordinal = -1;
  CHECK(mla::read_context_desc(&d, 0, cfg) == INVALID);
  CHECK(names("context_desc.device_ordinal"));
  d.device_ordinal = 0;
  d.reserved0 = 1;
  CHECK(mla::read_context_desc(&d, 0, cfg) == INVALID);
  d.reserved0 = 0;
  d.struct_size = 4;
  CHECK(mla::read_context_desc(&d, 0, cfg) == MLA_ERR_VERSION);

  // A 1.1 field past a 1.0 struct_size is never read: it defaults.
  d.struct_size = MLA_CONTEXT_DESC_SIZE_1_0;
  d.flags = 0xffffffffu;
  d.kernel = "anything";
  CHECK(mla::read_context_desc(&d, 0, cfg) == MLA_OK);
  CHECK(cfg.flags == 0);
  CHECK(cfg.kernel == nullptr);
  // ... and read, checked, at the 1.1 size.
  d.struct_size = MLA_CONTEXT_DESC_SIZE_1_1;
  CHECK(mla::read_context_desc(&d, MLA_CONTEXT_BATCH_INVARIANT, cfg) == MLA_ERR_UNSUPPORTED);
  CHECK(names("context_desc.flags"));
  d.flags = MLA_CONTEXT_BATCH_INVARIANT;
  CHECK(mla::read_context_desc(&d, 0, cfg) == MLA_ERR_UNSUPPORTED);
  CHECK(mla::read_context_desc(&d, MLA_CONTEXT_BATCH_INVARIANT, cfg) == MLA_OK);
  CHECK(cfg.flags == MLA_CONTEXT_BATCH_INVARIANT);
  CHECK(std::string(cfg.kernel) == "anything");
  d.kernel = "";
  CHECK(mla::read_context_desc(&d, MLA_CONTEXT_BATCH_INVARIANT, cfg) == MLA_OK);
  CHECK(cfg.kernel == nullptr);
  d.parallel_for = [](void*, int32_t, mla_task_fn, void*) {};
  CHECK(mla::read_context_desc(&d, MLA_CONTEXT_BATCH_INVARIANT, cfg) == INVALID);  // needs num_threads >= 1
  CHECK(names("context_desc.num_threads"));
  d.num_threads = 2;
  CHECK(mla::read_context_desc(&d, MLA_CONTEXT_BATCH_INVARIANT, cfg) == MLA_OK);
  d.reserved2 = 3;
  CHECK(mla::read_context_desc(&d, MLA_CONTEXT_BATCH_INVARIANT, cfg) == INVALID);
}

TEST_CASE("frozen sizes: 1.0-sized args are accepted, smaller ones refused") {
  valid_call c;
  c.a.struct_size = MLA_ABSORBED_ARGS_SIZE_1_0;
  CHECK(full(c.a) == MLA_OK);
  c.a.struct_size = MLA_ABSORBED_ARGS_SIZE_1_0 - 8;
  CHECK(full(c.a) == MLA_ERR_VERSION);
  CHECK(names("absorbed_args.struct_size"));
  c.a.struct_size = sizeof c.a;
  c.a.q.struct_size = MLA_TENSOR_SIZE_1_0;  // nested descriptors are frozen at their 1.0 size
  c.a.kv.struct_size = MLA_PAGED_CACHE_SIZE_1_0;
  CHECK(full(c.a) == MLA_OK);
  c.a.kv.struct_size = MLA_PAGED_CACHE_SIZE_1_0 - 1;
  CHECK(full(c.a) == MLA_ERR_VERSION);
}

TEST_CASE("dtype_size") {
  CHECK(mla::dtype_size(MLA_DTYPE_F32) == 4);
  CHECK(mla::dtype_size(MLA_DTYPE_F16) == 2);
  CHECK(mla::dtype_size(MLA_DTYPE_BF16) == 2);
  CHECK(mla::dtype_size(MLA_DTYPE_Q8_0) == 0);
}

TEST_CASE("guarded: exceptions become statuses with the entry point's name") {
  CHECK(mla::guarded("absorbed_run", []() -> mla_status { throw std::bad_alloc(); }) == MLA_ERR_OUT_OF_MEMORY);
  CHECK(names("absorbed_run"));
  CHECK(mla::guarded("merge_states", []() -> mla_status { throw 5; }) == MLA_ERR_INTERNAL);
  CHECK(names("merge_states"));
  CHECK(mla::guarded("probe", [] { return MLA_OK; }) == MLA_OK);
  CHECK(std::string(mla::last_error_message()).empty());  // cleared on entry
}

// ---- Issue 11, defect 1: extent, span and offset arithmetic.  Each of these
// calls was accepted before (the int64 span wrapped), and the kernel then read
// or wrote out of bounds.
TEST_CASE("huge strides are refused by the maximum element offset, never wrapped") {
  constexpr int64_t big = int64_t(1) << 62;
  const std::vector<rule> rules = {
      {"out.stride[0] 2^62", INVALID, "absorbed_args.out.stride[0]", [](valid_call& v) { v.a.out.stride[0] = big; }},
      {"lse.stride[0] 2^62", INVALID, "absorbed_args.lse.stride[0]", [](valid_call& v) { v.a.lse.stride[0] = big; }},
      {"q.stride[1] 2^61", INVALID, "absorbed_args.q.stride[1]", [](valid_call& v) { v.a.q.stride[1] = big / 2; }},
      {"q.stride[0] INT64_MAX", INVALID, "absorbed_args.q.stride[0]", [](valid_call& v) { v.a.q.stride[0] = INT64_MAX; }},
      {"kv.row_stride 2^62", INVALID, "absorbed_args.kv.row_stride", [](valid_call& v) { v.a.kv.row_stride = big; }},
      {"kv.page_stride 2^60", INVALID, "absorbed_args.kv.page_stride", [](valid_call& v) { v.a.kv.page_stride = big / 4; }},
      {"kv.page_stride INT64_MAX", INVALID, "absorbed_args.kv.page_stride",
       [](valid_call& v) { v.a.kv.page_stride = INT64_MAX; }},
      {"kv.block_table_stride 2^62", INVALID, "absorbed_args.kv.block_table_stride",
       [](valid_call& v) { v.a.kv.block_table_stride = big; }},
  };
  for (const rule& r : rules) {
    valid_call v;
    r.mutate(v);
    const mla_status s = full(v.a);
    INFO(std::string(r.what), ": ", std::string(mla::last_error_message()));
    CHECK(s == r.code);
    CHECK(names(r.needle));
    CHECK(names("maximum element offset"));
  }
}

TEST_CASE("the maximum element offset is exact: the farthest element may sit at it, not past it") {
  // q [3][4][40] with stride[0] = s: the farthest element is at 2 s + 3*40 + 39.
  const int64_t at_limit = (mla::kMaxElementOffset - 159) / 2;
  // Spans of 2^56 elements cover the whole heap: put the input above every
  // output so that the aliasing rule stays out of the way.
  void* const high = reinterpret_cast<void*>(uintptr_t(1) << 62);
  valid_call v;
  v.a.q.data = high;
  v.a.q.stride[0] = at_limit;
  CHECK(full(v.a) == MLA_OK);  // the validator reads no tensor data
  v.a.q.stride[0] = at_limit + 1;
  CHECK(full(v.a) == INVALID);
  CHECK(names("absorbed_args.q.stride[0]"));
  // The cache: 6 pages of page_stride p, farthest element at 5 p + 3*40 + 39.
  valid_call c;
  c.a.kv.data = high;
  c.a.kv.page_stride = (mla::kMaxElementOffset - 159) / 5;
  CHECK(full(c.a) == MLA_OK);
  c.a.kv.page_stride += 1;
  CHECK(full(c.a) == INVALID);
  CHECK(names("absorbed_args.kv.page_stride"));
}

TEST_CASE("total_q is bounded by the int32 cu_seqlens_q it must equal") {
  valid_call v;
  v.a.batch = 0;
  v.a.total_q = int64_t(1) << 62;  // sized the cpu workspace with wrapped size_t arithmetic
  CHECK(mla::validate_absorbed(&v.a, limits(), check_level::shape, 0) == INVALID);
  CHECK(names("absorbed_args.total_q"));
  v.a.total_q = INT32_MAX;
  CHECK(mla::validate_absorbed(&v.a, limits(), check_level::shape, 0) == MLA_OK);
}

// ---- Issue 11, defect 5: an output without elements is accepted whatever
// its strides (it was refused as "output elements would overlap").
TEST_CASE("empty outputs: total_q = 0 with head-major strides of 0 is accepted") {
  valid_call v;
  v.cu = {0, 0, 0};
  v.a.total_q = 0;
  v.a.max_seqlen_q = 0;
  // [total_q][H][Dl] stored head-major, [H][total_q][Dl]: the head stride is total_q * Dl = 0.
  v.a.out.stride[0] = 32;
  v.a.out.stride[1] = 0;
  v.a.lse.stride[0] = 1;
  v.a.lse.stride[1] = 0;
  CHECK(full(v.a) == MLA_OK);
  INFO(std::string(mla::last_error_message()));
  v.a.out.data = v.a.lse.data = v.a.q.data = nullptr;  // no element: no pointer needed
  CHECK(full(v.a) == MLA_OK);
  v.a.out.stride[2] = -1;  // the other rules still hold
  CHECK(full(v.a) == INVALID);
  // op C: no rows.
  std::vector<float> parts(16);
  mla_merge_args m{};
  m.struct_size = sizeof m;
  m.num_parts = 2, m.head_dim = 8, m.num_rows = 0, m.num_heads = 2;
  m.parts_out = tensor(parts.data(), MLA_DTYPE_F32, 0, 0, 8);
  m.parts_out.stride[3] = 1;
  m.parts_lse = tensor(parts.data(), MLA_DTYPE_F32, 0, 0, 1);
  m.out = tensor(nullptr, MLA_DTYPE_F32, 0, 0, 1);
  m.lse = tensor(nullptr, MLA_DTYPE_F32, 0, 0, 0);
  CHECK(mla::validate_merge(&m, limits()) == MLA_OK);
}

// ---- Issue 11, defect 4: the aliasing rule of ops A and B.  No output may
// overlap an input (q, the cache, the index arrays, the workspace, op B's
// weights) or another output; each of these returned MLA_OK before.
TEST_CASE("op A aliasing: an output overlapping an input or the other output is refused") {
  const std::vector<rule> rules = {
      {"out over q", INVALID, "absorbed_args.out overlaps absorbed_args.q",
       [](valid_call& v) { v.a.out.data = v.q.data() + 7; }},
      {"out over the cache", INVALID, "absorbed_args.out overlaps absorbed_args.kv.data",
       [](valid_call& v) { v.a.out.data = v.cache.data() + 100; }},
      {"lse over out", INVALID, "absorbed_args.lse overlaps absorbed_args.out",
       [](valid_call& v) { v.a.lse.data = v.out.data() + 3; }},
      // Each victim is grown (its valid prefix kept) so that the output lies inside it.
      {"lse over cu_seqlens_q", INVALID, "absorbed_args.lse overlaps absorbed_args.cu_seqlens_q",
       [](valid_call& v) { v.cu.resize(64), v.a.cu_seqlens_q = v.cu.data(), v.a.lse.data = v.cu.data() + 1; }},
      {"lse over seqlens_k", INVALID, "absorbed_args.lse overlaps absorbed_args.kv.seqlens_k",
       [](valid_call& v) { v.seqlens.resize(64), v.a.kv.seqlens_k = v.seqlens.data(), v.a.lse.data = v.seqlens.data() + 1; }},
      {"out over block_table", INVALID, "absorbed_args.out overlaps absorbed_args.kv.block_table",
       [](valid_call& v) { v.table.resize(1024), v.a.kv.block_table = v.table.data(), v.a.out.data = v.table.data() + 7; }},
      {"lse over the workspace", INVALID, "absorbed_args.lse overlaps absorbed_args.workspace",
       [](valid_call& v) { v.a.lse.data = static_cast<char*>(v.ws) + 16; }},
  };
  for (const rule& r : rules) {
    valid_call v;
    r.mutate(v);
    const mla_status s = full(v.a);
    INFO(std::string(r.what), ": ", std::string(mla::last_error_message()));
    CHECK(s == r.code);
    CHECK(names(r.needle));
    CHECK(names("alias"));
  }
}

TEST_CASE("op A aliasing: adjacent buffers, inputs sharing memory and an unused workspace are fine") {
  valid_call v;
  std::vector<float> one(3 * 4 * 32 + 12);  // out then lse, back to back
  v.a.out.data = one.data();
  v.a.lse.data = one.data() + 3 * 4 * 32;
  CHECK(full(v.a) == MLA_OK);
  v.a.q.data = v.cache.data();  // inputs may overlap each other
  CHECK(full(v.a) == MLA_OK);
  v.a.lse.data = v.ws;  // the workspace is not part of a call that needs none
  CHECK(full(v.a, 0) == MLA_OK);
  CHECK(full(v.a, 512) == INVALID);
}

namespace {
// A valid op B call over the op A call's cache: Dn = 16, Dv = 8.
struct valid_b_call {
  valid_call base;
  std::vector<float> q = std::vector<float>(3 * 4 * 24), out = std::vector<float>(3 * 4 * 8), lse = std::vector<float>(12);
  std::vector<float> w_uk = std::vector<float>(4 * 16 * 32), w_uv = std::vector<float>(4 * 8 * 32);
  mla_decompressed_args a{};
  valid_b_call() {
    a.struct_size = sizeof a;
    a.batch = 2, a.num_heads = 4, a.latent_dim = 32, a.rope_dim = 8, a.nope_dim = 16, a.v_dim = 8;
    a.total_q = 3, a.max_seqlen_q = 2, a.causal = 1, a.scale = 0.1f;
    a.mode = MLA_DECOMPRESSED_AUTO;
    a.cu_seqlens_q = base.cu.data();
    a.q = tensor(q.data(), MLA_DTYPE_F32, 96, 24, 1);
    a.w_uk = tensor(w_uk.data(), MLA_DTYPE_F32, 512, 32, 1);
    a.w_uv = tensor(w_uv.data(), MLA_DTYPE_F32, 256, 32, 1);
    a.kv = base.a.kv;
    a.out = tensor(out.data(), MLA_DTYPE_F32, 32, 8, 1);
    a.lse = tensor(lse.data(), MLA_DTYPE_F32, 4, 1, 0);
    a.workspace = base.ws;
    a.workspace_bytes = 1024;
  }
};
mla::backend_limits limits_b() {
  mla::backend_limits l = limits();
  l.latent_dim_multiple = 1;
  l.weight_dtypes = l.q_dtypes;
  l.max_nope_dim = 128;
  l.max_v_dim = 128;
  return l;
}
mla_status full_b(const mla_decompressed_args& a) {
  mla_status s = mla::validate_decompressed(&a, limits_b(), check_level::full, 512);
  return s != MLA_OK ? s : mla::validate_decompressed_indices_host(&a);
}
}  // namespace

TEST_CASE("op B aliasing: outputs may not overlap q, the weights, the cache, the indices, the workspace or each other") {
  {
    valid_b_call v;
    REQUIRE(full_b(v.a) == MLA_OK);
  }
  const std::vector<std::pair<const char*, std::function<void(valid_b_call&)>>> cases = {
      {"decompressed_args.out overlaps decompressed_args.w_uk", [](valid_b_call& v) { v.a.out.data = v.w_uk.data() + 5; }},
      {"decompressed_args.out overlaps decompressed_args.w_uv", [](valid_b_call& v) { v.a.out.data = v.w_uv.data(); }},
      {"decompressed_args.lse overlaps decompressed_args.q", [](valid_b_call& v) { v.a.lse.data = v.q.data() + 40; }},
      {"decompressed_args.out overlaps decompressed_args.kv.data", [](valid_b_call& v) { v.a.out.data = v.base.cache.data(); }},
      {"decompressed_args.lse overlaps decompressed_args.out", [](valid_b_call& v) { v.a.lse.data = v.out.data() + 84; }},
      {"decompressed_args.out overlaps decompressed_args.workspace", [](valid_b_call& v) { v.a.out.data = v.base.ws; }},
      {"decompressed_args.lse overlaps decompressed_args.kv.block_table",
       [](valid_b_call& v) {
         v.base.table.resize(64), v.a.kv.block_table = v.base.table.data(), v.a.lse.data = v.base.table.data() + 2; }},
  };
  for (const auto& [needle, mutate] : cases) {
    valid_b_call v;
    mutate(v);
    const mla_status s = full_b(v.a);
    INFO(std::string(needle), ": ", std::string(mla::last_error_message()));
    CHECK(s == INVALID);
    CHECK(names(needle));
  }
}

TEST_CASE("op C aliasing: out and lse may not overlap each other either") {
  std::vector<float> parts(2 * 3 * 2 * 8), plse(2 * 3 * 2), out(3 * 2 * 8 + 6);
  mla_merge_args m{};
  m.struct_size = sizeof m;
  m.num_parts = 2, m.head_dim = 8, m.num_rows = 3, m.num_heads = 2;
  m.parts_out = tensor(parts.data(), MLA_DTYPE_F32, 48, 16, 8);
  m.parts_out.stride[3] = 1;
  m.parts_lse = tensor(plse.data(), MLA_DTYPE_F32, 6, 2, 1);
  m.out = tensor(out.data(), MLA_DTYPE_F32, 16, 8, 1);
  m.lse = tensor(out.data() + 48, MLA_DTYPE_F32, 2, 1, 0);
  CHECK(mla::validate_merge(&m, limits()) == MLA_OK);
  m.lse.data = out.data() + 47;
  CHECK(mla::validate_merge(&m, limits()) == INVALID);
  CHECK(names("merge_args.lse overlaps merge_args.out"));
}

// ---- Issue 11, defect 3: scale.  The kernels compute in f32 (the cpu one
// folds scale into q first): scale = 1e38 made every output NaN.  Scales
// above kMaxScale are refused; up to it, f32 cannot overflow for inputs
// below kMaxInputMagnitude (docs/abi.md).
TEST_CASE("scale: (0, kMaxScale] accepted, larger refused with the range") {
  valid_call v;
  v.a.scale = mla::kMaxScale;
  CHECK(full(v.a) == MLA_OK);
  v.a.scale = 1e38f;
  CHECK(full(v.a) == INVALID);
  CHECK(names("absorbed_args.scale"));
  CHECK(names("65536"));
  v.a.scale = std::nextafter(mla::kMaxScale, 1e30f);
  CHECK(full(v.a) == INVALID);
  v.a.scale = 1e-40f;  // tiny (subnormal) scales are fine: every score ~ 0
  CHECK(full(v.a) == MLA_OK);
  valid_b_call b;
  b.a.scale = 1e38f;
  CHECK(full_b(b.a) == INVALID);
  CHECK(names("decompressed_args.scale"));
}

// ---- Found by fuzz/fuzz_ops.cpp: a pointer that is not aligned to its
// elements (an int32 index array at an odd address) was accepted, and the
// validator itself then read it misaligned (UBSan), as would every kernel.
TEST_CASE("pointers must be aligned to their elements") {
  const std::vector<rule> rules = {
      {"q.data odd", INVALID, "absorbed_args.q.data", [](valid_call& v) {
         v.a.q.data = reinterpret_cast<char*>(v.q.data()) + 1; }},
      {"out.data + 2 (f32)", INVALID, "absorbed_args.out.data", [](valid_call& v) {
         v.a.out.data = reinterpret_cast<char*>(v.out.data()) + 2; }},
      {"lse.data + 2", INVALID, "absorbed_args.lse.data", [](valid_call& v) {
         v.a.lse.data = reinterpret_cast<char*>(v.lse.data()) + 2; }},
      {"kv.data odd (bf16)", INVALID, "absorbed_args.kv.data", [](valid_call& v) {
         v.a.kv.data = reinterpret_cast<char*>(v.cache.data()) + 1; }},
      {"cu_seqlens_q + 1", INVALID, "absorbed_args.cu_seqlens_q", [](valid_call& v) {
         v.a.cu_seqlens_q = reinterpret_cast<const int32_t*>(reinterpret_cast<const char*>(v.cu.data()) + 1); }},
      {"seqlens_k + 2", INVALID, "absorbed_args.kv.seqlens_k", [](valid_call& v) {
         v.a.kv.seqlens_k = reinterpret_cast<const int32_t*>(reinterpret_cast<const char*>(v.seqlens.data()) + 2); }},
      {"block_table + 3", INVALID, "absorbed_args.kv.block_table", [](valid_call& v) {
         v.a.kv.block_table = reinterpret_cast<const int32_t*>(reinterpret_cast<const char*>(v.table.data()) + 3); }},
  };
  for (const rule& r : rules) {
    valid_call v;
    r.mutate(v);
    // The shape level reads no pointer: only the full check refuses.
    CHECK(mla::validate_absorbed(&v.a, limits(), check_level::shape, 0) == MLA_OK);
    const mla_status s = mla::validate_absorbed(&v.a, limits(), check_level::full, 512);
    INFO(std::string(r.what), ": ", std::string(mla::last_error_message()));
    CHECK(s == r.code);
    CHECK(names(r.needle));
    CHECK(names("aligned"));
  }
  // A bf16 cache two bytes in is aligned.
  valid_call v;
  v.a.kv.data = reinterpret_cast<char*>(v.cache.data()) + 2;
  CHECK(full(v.a) == MLA_OK);
}
