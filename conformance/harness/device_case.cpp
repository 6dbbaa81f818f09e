// SPDX-License-Identifier: MIT
#include "device_case.hpp"

#include "low_precision.hpp"
#include "op_entry_points.hpp"

#include <cstring>

namespace conformance {

mla_tools::device_buffer upload_bytes(mla_tools::backend_memory& mem, const void* bytes, size_t n) {
  mla_tools::device_buffer b(mem, n);
  if (n) mem.upload(b.get(), bytes, n);
  return b;
}

mla_tensor tensor_view(const host_tensor& t, const mla_tools::device_buffer& buffer) {
  mla_tensor v{};
  v.struct_size = sizeof v;
  v.dtype = t.dtype;
  if (!t.bytes.empty()) {
    v.data = (char*)buffer.get() + t.origin_byte_offset();
    for (int i = 0; i < t.layout.rank; ++i) v.stride[i] = t.layout.stride[i];
  }
  return v;
}

std::string compare_upload(mla_tools::backend_memory& mem, const mla_tools::device_buffer& b,
                           const void* original, size_t n, const char* what) {
  if (n == 0) return "";
  std::vector<unsigned char> now(n);
  mem.download(now.data(), b.get(), n);
  if (std::memcmp(now.data(), original, n) == 0) return "";
  size_t i = 0;
  while (now[i] == ((const unsigned char*)original)[i]) ++i;
  return std::string(what) + " modified (first changed byte " + std::to_string(i) + ")";
}

namespace {

void download_into(mla_tools::backend_memory& mem, const mla_tools::device_buffer& b, host_tensor& t) {
  if (!t.bytes.empty()) mem.download(t.bytes.data(), b.get(), t.bytes.size());
}

call_outcome failed(const mla_api* api, mla_status st, const char* stage) {
  call_outcome r;
  r.status = st;
  r.stage = stage;
  r.message = last_error_of(api);
  return r;
}

// Restores an output buffer to its (poisoned) host image.
void upload_image(mla_tools::backend_memory& mem, const mla_tools::device_buffer& b, const host_tensor& image) {
  if (!image.bytes.empty()) mem.upload(b.get(), image.bytes.data(), image.bytes.size());
}

}  // namespace

template <class Args>
device_attention<Args>::device_attention(mla_tools::backend_memory& mem, const absorbed_images& paged,
                                         const absorbed_case& c, const host_tensor& q, const host_tensor& out,
                                         const host_tensor& lse)
    : mem_(mem), paged_(paged), q_image_(q), out_image_(out), lse_image_(lse) {
  q_ = upload_bytes(mem, q.bytes.data(), q.bytes.size());
  out_ = upload_bytes(mem, out.bytes.data(), out.bytes.size());
  lse_ = upload_bytes(mem, lse.bytes.data(), lse.bytes.size());
  cache_ = upload_bytes(mem, paged.cache.data(), paged.cache.size());
  cu_ = upload_bytes(mem, paged.cu_seqlens_q.data(), paged.cu_seqlens_q.size() * 4);
  seqlens_ = upload_bytes(mem, paged.seqlens_k.data(), paged.seqlens_k.size() * 4);
  table_ = upload_bytes(mem, paged.block_table.data(), paged.block_table.size() * 4);

  Args& a = args_;
  a.struct_size = sizeof a;
  a.batch = (int32_t)c.s_q.size();
  a.num_heads = c.heads;
  a.latent_dim = c.latent_dim;
  a.rope_dim = c.rope_dim;
  a.total_q = paged.total_q;
  a.max_seqlen_q = paged.max_seqlen_q;
  a.causal = c.causal ? 1 : 0;
  a.scale = (float)c.scale;
  a.cu_seqlens_q = (const int32_t*)cu_.get();
  a.q = tensor_view(q, q_);
  a.out = tensor_view(out, out_);
  a.lse = tensor_view(lse, lse_);
  if (!c.want_lse) a.lse.dtype = MLA_DTYPE_F32;  // data NULL: not wanted
  mla_paged_cache& kv = a.kv;
  kv.struct_size = sizeof kv;
  kv.data = cache_.get();
  kv.dtype = c.cache_dtype;
  kv.page_size = c.page_size;
  kv.num_pages = paged.num_pages;
  kv.page_stride = paged.page_stride;
  kv.row_stride = paged.row_stride;
  kv.latent_offset = paged.latent_offset;
  kv.rope_offset = paged.rope_offset;
  kv.block_table = (const int32_t*)table_.get();
  kv.block_table_stride = paged.block_table_stride;
  kv.seqlens_k = (const int32_t*)seqlens_.get();
}

template <class Args>
call_outcome device_attention<Args>::plan_and_run(const mla_api* api, mla_context* ctx, const Args& a) {
  using op = op_entry_points<Args>;
  if (mla_status st = op::plan(api, ctx, &a); st != MLA_OK) return failed(api, st, op::plan_name);
  if (mla_status st = op::run(api, ctx, &a); st != MLA_OK) return failed(api, st, op::run_name);
  mem_.synchronize();
  return {};
}

template <class Args>
call_outcome device_attention<Args>::execute(const mla_api* api, mla_context* ctx) {
  using op = op_entry_points<Args>;
  size_t bytes = 0;
  if (mla_status st = op::workspace_size(api, ctx, &args_, &bytes); st != MLA_OK)
    return failed(api, st, op::workspace_size_name);
  if (workspace_.bytes() < bytes || !workspace_.get()) {
    workspace_ = mla_tools::device_buffer(mem_, bytes ? bytes : 256);
    std::vector<unsigned char> poison(workspace_.bytes(), 0xA5);
    mem_.upload(workspace_.get(), poison.data(), poison.size());
  }
  args_.workspace = workspace_.get();
  args_.workspace_bytes = workspace_.bytes();
  return plan_and_run(api, ctx, args_);
}

template <class Args>
call_outcome device_attention<Args>::run_again(const mla_api* api, mla_context* ctx) {
  using op = op_entry_points<Args>;
  if (mla_status st = op::run(api, ctx, &args_); st != MLA_OK) return failed(api, st, op::run_name);
  mem_.synchronize();
  return {};
}

template <class Args>
call_outcome device_attention<Args>::replan(const mla_api* api, mla_context* ctx, int pattern, uint64_t seed) {
  std::vector<unsigned char> fill(workspace_.bytes());
  uint64_t x = seed | 1;
  for (unsigned char& c : fill) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    c = pattern >= 0 ? (unsigned char)pattern : (unsigned char)x;
  }
  if (!fill.empty()) mem_.upload(workspace_.get(), fill.data(), fill.size());
  return plan_and_run(api, ctx, args_);
}

template <class Args>
call_outcome device_attention<Args>::graph_replay(const mla_api* api, mla_context* ctx, int replays,
                                                  bool* supported) {
  using op = op_entry_points<Args>;
  call_outcome captured;
  std::unique_ptr<mla_tools::captured_work> graph = mem_.capture([&] {
    if (mla_status st = op::plan(api, ctx, &args_); st != MLA_OK) captured = failed(api, st, op::plan_name);
    else if (mla_status st2 = op::run(api, ctx, &args_); st2 != MLA_OK) captured = failed(api, st2, op::run_name);
  });
  *supported = graph != nullptr;
  if (!captured.ok() || !graph) return captured;
  for (int i = 0; i < replays; ++i) graph->replay();
  mem_.synchronize();
  return {};
}

template <class Args>
call_outcome device_attention<Args>::with_own_workspace(const mla_api* api, mla_context* ctx, Args a) {
  using op = op_entry_points<Args>;
  size_t bytes = 0;
  if (mla_status st = op::workspace_size(api, ctx, &a, &bytes); st != MLA_OK)
    return failed(api, st, op::workspace_size_name);
  mla_tools::device_buffer ws(mem_, bytes ? bytes : 256);
  a.workspace = ws.get();
  a.workspace_bytes = ws.bytes();
  return plan_and_run(api, ctx, a);
}

template <class Args>
call_outcome device_attention<Args>::execute_alone(const mla_api* api, mla_context* ctx, int b) {
  const int32_t q0 = paged_.cu_seqlens_q[b], s_q = paged_.cu_seqlens_q[b + 1] - q0;
  const int32_t cu[2] = {0, s_q};
  const int32_t s_k = paged_.seqlens_k[b];
  mla_tools::device_buffer cu1 = upload_bytes(mem_, cu, sizeof cu), sk1 = upload_bytes(mem_, &s_k, sizeof s_k);
  Args a = args_;
  a.batch = 1;
  a.total_q = s_q;
  a.max_seqlen_q = s_q;
  a.cu_seqlens_q = static_cast<const int32_t*>(cu1.get());
  a.kv.seqlens_k = static_cast<const int32_t*>(sk1.get());
  a.kv.block_table = static_cast<const int32_t*>(table_.get()) + (int64_t)b * paged_.block_table_stride;
  auto shift = [&](mla_tensor& t, const host_tensor& image) {
    if (t.data) t.data = static_cast<char*>(t.data) + (int64_t)q0 * t.stride[0] * element_bytes(image.dtype);
  };
  shift(a.q, q_image_);
  shift(a.out, out_image_);
  shift(a.lse, lse_image_);
  return with_own_workspace(api, ctx, a);
}

template <class Args>
void device_attention<Args>::repoison_outputs() {
  upload_image(mem_, out_, out_image_);
  upload_image(mem_, lse_, lse_image_);
}

template <class Args>
void device_attention<Args>::download_outputs(host_tensor& out, host_tensor& lse) {
  mem_.synchronize();
  out = out_image_;
  lse = lse_image_;
  download_into(mem_, out_, out);
  download_into(mem_, lse_, lse);
}

template <class Args>
void device_attention<Args>::download_workspace(std::vector<unsigned char>& bytes) {
  bytes.resize(workspace_.bytes());
  if (!bytes.empty()) mem_.download(bytes.data(), workspace_.get(), bytes.size());
}

template <class Args>
std::string device_attention<Args>::changed_q() {
  return compare_upload(mem_, q_, q_image_.bytes.data(), q_image_.bytes.size(), "q");
}

template <class Args>
std::string device_attention<Args>::changed_paged_inputs() {
  std::string r = compare_upload(mem_, cache_, paged_.cache.data(), paged_.cache.size(), "kv cache");
  if (r.empty())
    r = compare_upload(mem_, cu_, paged_.cu_seqlens_q.data(), paged_.cu_seqlens_q.size() * 4, "cu_seqlens_q");
  if (r.empty())
    r = compare_upload(mem_, seqlens_, paged_.seqlens_k.data(), paged_.seqlens_k.size() * 4, "seqlens_k");
  if (r.empty())
    r = compare_upload(mem_, table_, paged_.block_table.data(), paged_.block_table.size() * 4, "block_table");
  return r;
}

template class device_attention<mla_absorbed_args>;
template class device_attention<mla_decompressed_args>;

device_absorbed::device_absorbed(mla_tools::backend_memory& mem, const absorbed_images& im)
    : device_attention(mem, im, im.spec, im.q, im.out, im.lse) {}

std::string device_absorbed::changed_inputs() {
  mem_.synchronize();
  std::string r = changed_q();
  if (r.empty()) r = changed_paged_inputs();
  return r;
}

device_merge::device_merge(mla_tools::backend_memory& mem, const merge_images& im) : mem_(mem), im_(im) {
  parts_out_ = upload_bytes(mem, im.parts_out.bytes.data(), im.parts_out.bytes.size());
  parts_lse_ = upload_bytes(mem, im.parts_lse.bytes.data(), im.parts_lse.bytes.size());
  out_ = upload_bytes(mem, im.out.bytes.data(), im.out.bytes.size());
  lse_ = upload_bytes(mem, im.lse.bytes.data(), im.lse.bytes.size());
  mla_merge_args& a = args_;
  a.struct_size = sizeof a;
  a.num_parts = im.spec.parts;
  a.head_dim = im.spec.dim;
  a.num_rows = im.spec.rows;
  a.num_heads = im.spec.heads;
  a.parts_out = tensor_view(im.parts_out, parts_out_);
  a.parts_lse = tensor_view(im.parts_lse, parts_lse_);
  a.out = tensor_view(im.out, out_);
  a.lse = tensor_view(im.lse, lse_);
  if (!im.spec.want_lse) a.lse.dtype = MLA_DTYPE_F32;
}

call_outcome device_merge::execute(const mla_api* api, mla_context* ctx) {
  if (mla_status st = api->merge_states(ctx, &args_); st != MLA_OK) return failed(api, st, "merge_states");
  mem_.synchronize();
  return {};
}

void device_merge::repoison_outputs() {
  upload_image(mem_, out_, im_.out);
  upload_image(mem_, lse_, im_.lse);
}

void device_merge::download_outputs(host_tensor& out, host_tensor& lse) {
  mem_.synchronize();
  out = im_.out;
  lse = im_.lse;
  download_into(mem_, out_, out);
  download_into(mem_, lse_, lse);
}

std::string device_merge::changed_inputs() {
  mem_.synchronize();
  std::string r = compare_upload(mem_, parts_out_, im_.parts_out.bytes.data(), im_.parts_out.bytes.size(), "parts_out");
  if (r.empty())
    r = compare_upload(mem_, parts_lse_, im_.parts_lse.bytes.data(), im_.parts_lse.bytes.size(), "parts_lse");
  return r;
}

}  // namespace conformance
