// SPDX-License-Identifier: MIT
#include "decompressed_device_case.hpp"

#include "low_precision.hpp"

#include <cstring>

namespace conformance {
namespace {

call_outcome failed(const mla_api* api, mla_status st, const char* stage) {
  call_outcome r;
  r.status = st;
  r.stage = stage;
  r.message = last_error_of(api);
  return r;
}

std::string compare_upload(mla_tools::backend_memory& mem, const mla_tools::device_buffer& b, const void* original,
                           size_t n, const char* what) {
  if (n == 0) return "";
  std::vector<unsigned char> now(n);
  mem.download(now.data(), b.get(), n);
  if (std::memcmp(now.data(), original, n) == 0) return "";
  size_t i = 0;
  while (now[i] == ((const unsigned char*)original)[i]) ++i;
  return std::string(what) + " modified (first changed byte " + std::to_string(i) + ")";
}

}  // namespace

device_decompressed::device_decompressed(mla_tools::backend_memory& mem, const decompressed_images& im)
    : mem_(mem), im_(im) {
  const absorbed_images& base = im.base;
  q_ = upload_bytes(mem, im.q.bytes.data(), im.q.bytes.size());
  weights_ = upload_bytes(mem, im.weights.data(), im.weights.size());
  out_ = upload_bytes(mem, im.out.bytes.data(), im.out.bytes.size());
  lse_ = upload_bytes(mem, im.lse.bytes.data(), im.lse.bytes.size());
  cache_ = upload_bytes(mem, base.cache.data(), base.cache.size());
  cu_ = upload_bytes(mem, base.cu_seqlens_q.data(), base.cu_seqlens_q.size() * 4);
  seqlens_ = upload_bytes(mem, base.seqlens_k.data(), base.seqlens_k.size() * 4);
  table_ = upload_bytes(mem, base.block_table.data(), base.block_table.size() * 4);

  const decompressed_case& d = im.spec;
  const absorbed_case& c = d.attention;
  mla_decompressed_args& a = args_;
  a.struct_size = sizeof a;
  a.batch = (int32_t)c.s_q.size();
  a.num_heads = c.heads;
  a.latent_dim = c.latent_dim;
  a.rope_dim = c.rope_dim;
  a.nope_dim = d.nope_dim;
  a.v_dim = d.v_dim;
  a.total_q = base.total_q;
  a.max_seqlen_q = base.max_seqlen_q;
  a.causal = c.causal ? 1 : 0;
  a.scale = (float)c.scale;
  a.mode = d.mode;
  a.cu_seqlens_q = (const int32_t*)cu_.get();
  a.q = tensor_view(im.q, q_);
  a.out = tensor_view(im.out, out_);
  a.lse = tensor_view(im.lse, lse_);
  if (!c.want_lse) a.lse.dtype = MLA_DTYPE_F32;
  const int wbytes = element_bytes(d.weight_dtype);
  auto weight_view = [&](int64_t offset, const int64_t* stride) {
    mla_tensor t{};
    t.struct_size = sizeof t;
    t.dtype = d.weight_dtype;
    t.data = (char*)weights_.get() + offset * wbytes;
    for (int i = 0; i < 3; ++i) t.stride[i] = stride[i];
    return t;
  };
  a.w_uk = weight_view(im.w_uk_offset, im.w_uk_stride);
  a.w_uv = weight_view(im.w_uv_offset, im.w_uv_stride);
  mla_paged_cache& kv = a.kv;
  kv.struct_size = sizeof kv;
  kv.data = cache_.get();
  kv.dtype = c.cache_dtype;
  kv.page_size = c.page_size;
  kv.num_pages = base.num_pages;
  kv.page_stride = base.page_stride;
  kv.row_stride = base.row_stride;
  kv.latent_offset = base.latent_offset;
  kv.rope_offset = base.rope_offset;
  kv.block_table = (const int32_t*)table_.get();
  kv.block_table_stride = base.block_table_stride;
  kv.seqlens_k = (const int32_t*)seqlens_.get();
}

call_outcome device_decompressed::plan_and_run(const mla_api* api, mla_context* ctx, const mla_decompressed_args& a) {
  if (mla_status st = api->decompressed_plan(ctx, &a); st != MLA_OK) return failed(api, st, "decompressed_plan");
  if (mla_status st = api->decompressed_run(ctx, &a); st != MLA_OK) return failed(api, st, "decompressed_run");
  mem_.synchronize();
  return {};
}

call_outcome device_decompressed::execute(const mla_api* api, mla_context* ctx) {
  size_t bytes = 0;
  if (mla_status st = api->decompressed_workspace_size(ctx, &args_, &bytes); st != MLA_OK)
    return failed(api, st, "decompressed_workspace_size");
  if (workspace_.bytes() < bytes || !workspace_.get()) {
    workspace_ = mla_tools::device_buffer(mem_, bytes ? bytes : 256);
    std::vector<unsigned char> poison(workspace_.bytes(), 0xA5);
    mem_.upload(workspace_.get(), poison.data(), poison.size());
  }
  args_.workspace = workspace_.get();
  args_.workspace_bytes = workspace_.bytes();
  return plan_and_run(api, ctx, args_);
}

call_outcome device_decompressed::run_again(const mla_api* api, mla_context* ctx) {
  if (mla_status st = api->decompressed_run(ctx, &args_); st != MLA_OK) return failed(api, st, "decompressed_run");
  mem_.synchronize();
  return {};
}

call_outcome device_decompressed::replan(const mla_api* api, mla_context* ctx, int pattern, uint64_t seed) {
  std::vector<unsigned char> fill(workspace_.bytes());
  uint64_t x = seed | 1;
  for (unsigned char& c : fill) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    c = pattern >= 0 ? (unsigned char)pattern : (unsigned char)x;
  }
  if (!fill.empty()) mem_.upload(workspace_.get(), fill.data(), fill.size());
  return plan_and_run(api, ctx, args_);
}

call_outcome device_decompressed::graph_replay(const mla_api* api, mla_context* ctx, int replays, bool* supported) {
  call_outcome captured;
  std::unique_ptr<mla_tools::captured_work> graph = mem_.capture([&] {
    if (mla_status st = api->decompressed_plan(ctx, &args_); st != MLA_OK)
      captured = failed(api, st, "decompressed_plan");
    else if (mla_status st2 = api->decompressed_run(ctx, &args_); st2 != MLA_OK)
      captured = failed(api, st2, "decompressed_run");
  });
  *supported = graph != nullptr;
  if (!captured.ok() || !graph) return captured;
  for (int i = 0; i < replays; ++i) graph->replay();
  mem_.synchronize();
  return {};
}

call_outcome device_decompressed::with_own_workspace(const mla_api* api, mla_context* ctx, mla_decompressed_args a) {
  size_t bytes = 0;
  if (mla_status st = api->decompressed_workspace_size(ctx, &a, &bytes); st != MLA_OK)
    return failed(api, st, "decompressed_workspace_size");
  mla_tools::device_buffer ws(mem_, bytes ? bytes : 256);
  a.workspace = ws.get();
  a.workspace_bytes = ws.bytes();
  return plan_and_run(api, ctx, a);
}

call_outcome device_decompressed::execute_alone(const mla_api* api, mla_context* ctx, int b) {
  const absorbed_images& base = im_.base;
  const int32_t q0 = base.cu_seqlens_q[b], s_q = base.cu_seqlens_q[b + 1] - q0;
  const int32_t cu[2] = {0, s_q};
  const int32_t s_k = base.seqlens_k[b];
  mla_tools::device_buffer cu1 = upload_bytes(mem_, cu, sizeof cu), sk1 = upload_bytes(mem_, &s_k, sizeof s_k);
  mla_decompressed_args a = args_;
  a.batch = 1;
  a.total_q = s_q;
  a.max_seqlen_q = s_q;
  a.cu_seqlens_q = static_cast<const int32_t*>(cu1.get());
  a.kv.seqlens_k = static_cast<const int32_t*>(sk1.get());
  a.kv.block_table = static_cast<const int32_t*>(table_.get()) + (int64_t)b * base.block_table_stride;
  auto shift = [&](mla_tensor& t, const host_tensor& image) {
    if (t.data) t.data = static_cast<char*>(t.data) + (int64_t)q0 * t.stride[0] * element_bytes(image.dtype);
  };
  shift(a.q, im_.q);
  shift(a.out, im_.out);
  shift(a.lse, im_.lse);
  return with_own_workspace(api, ctx, a);
}

call_outcome device_decompressed::execute_mode(const mla_api* api, mla_context* ctx, int32_t mode) {
  mla_decompressed_args a = args_;
  a.mode = mode;
  return with_own_workspace(api, ctx, a);
}

void device_decompressed::repoison_outputs() {
  if (!im_.out.bytes.empty()) mem_.upload(out_.get(), im_.out.bytes.data(), im_.out.bytes.size());
  if (!im_.lse.bytes.empty()) mem_.upload(lse_.get(), im_.lse.bytes.data(), im_.lse.bytes.size());
}

void device_decompressed::download_outputs(host_tensor& out, host_tensor& lse) {
  mem_.synchronize();
  out = im_.out;
  lse = im_.lse;
  if (!out.bytes.empty()) mem_.download(out.bytes.data(), out_.get(), out.bytes.size());
  if (!lse.bytes.empty()) mem_.download(lse.bytes.data(), lse_.get(), lse.bytes.size());
}

std::string device_decompressed::changed_inputs() {
  mem_.synchronize();
  const absorbed_images& base = im_.base;
  std::string r = compare_upload(mem_, q_, im_.q.bytes.data(), im_.q.bytes.size(), "q");
  if (r.empty()) r = compare_upload(mem_, weights_, im_.weights.data(), im_.weights.size(), "w_uk / w_uv");
  if (r.empty()) r = compare_upload(mem_, cache_, base.cache.data(), base.cache.size(), "kv cache");
  if (r.empty()) r = compare_upload(mem_, cu_, base.cu_seqlens_q.data(), base.cu_seqlens_q.size() * 4, "cu_seqlens_q");
  if (r.empty()) r = compare_upload(mem_, seqlens_, base.seqlens_k.data(), base.seqlens_k.size() * 4, "seqlens_k");
  if (r.empty()) r = compare_upload(mem_, table_, base.block_table.data(), base.block_table.size() * 4, "block_table");
  return r;
}

}  // namespace conformance
