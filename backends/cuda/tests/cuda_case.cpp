// SPDX-License-Identifier: MIT
#include "cuda_case.hpp"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

#include "oracle.hpp"
#include "test_values.hpp"

namespace cuda_test {

const mla_api* plugin() {
  static const mla_api* api = [] {
    // $MLA_CUDA_PLUGIN, else the build tree's lib/mla beside this bin/ (the
    // tree may have moved since it was built, e.g. onto the GPU machine).
    std::string path = MLA_CUDA_PLUGIN_PATH;
    if (const char* env = std::getenv("MLA_CUDA_PLUGIN")) {
      path = env;
    } else {
      char exe[4096];
      const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
      if (n > 0) {
        exe[n] = 0;
        std::string dir(exe);
        dir = dir.substr(0, dir.rfind('/'));
        path = dir + "/../lib/mla/libmla_backend_cuda.so";
      }
    }
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      std::fprintf(stderr, "dlopen(%s): %s\n", path.c_str(), dlerror());
      std::exit(1);
    }
    auto get = reinterpret_cast<mla_get_api_fn>(dlsym(lib, "mla_get_api"));
    return get ? get() : nullptr;
  }();
  return api;
}

void skip_without_device() {
  mla_probe_result r{};
  r.struct_size = sizeof r;
  if (plugin() == nullptr || plugin()->probe(&r) != MLA_OK || !r.usable) {
    std::printf("SKIPPED: %s\n", plugin() ? r.reason : "cuda plugin not loadable");
    std::exit(77);
  }
}

double tolerance(int dtype) {
  // P is rounded to the input type on the tensor-core path and the output
  // to its type: a few units of bf16 (2^-8) / f16 (2^-11) rounding.
  switch (dtype) {
    case MLA_DTYPE_BF16: return 1.6e-2;
    case MLA_DTYPE_F16: return 2.5e-3;
    default: return 2e-5;
  }
}

struct device_case::impl {
  case_desc d;
  int batch = 0, D = 0, total_q = 0, row_stride = 0, max_pages = 0, num_pages = 0;
  std::vector<int> cu;
  std::vector<int> block_table;
  oracle::absorbed_problem prob;
  std::mt19937_64 rng;
  int64_t out_row_stride = 0;  // padded (Dl + 8) per head
  mla_context* ctx = nullptr;
  cudaStream_t stream = nullptr;
  void *q = nullptr, *kv = nullptr, *out = nullptr, *lse = nullptr, *ws = nullptr;
  int32_t *d_cu = nullptr, *d_sk = nullptr, *d_bt = nullptr;
  std::vector<int> invalid;  // sequences corrupted on the device
  size_t ws_bytes = 0;

  mla_absorbed_args args() const {
    mla_absorbed_args a{};
    a.struct_size = sizeof a;
    a.batch = batch;
    a.num_heads = d.heads;
    a.latent_dim = d.latent_dim;
    a.rope_dim = d.rope_dim;
    a.total_q = total_q;
    a.max_seqlen_q = *std::max_element(d.s_q.begin(), d.s_q.end());
    a.causal = d.causal;
    a.scale = 1.0f / std::sqrt(192.0f);
    a.cu_seqlens_q = d_cu;
    a.q = {sizeof(mla_tensor), q, d.q_dtype, 0, {(int64_t)d.heads * D, D, 1, 0}};
    a.kv.struct_size = sizeof(mla_paged_cache);
    a.kv.data = kv;
    a.kv.dtype = d.kv_dtype;
    a.kv.page_size = d.page_size;
    a.kv.num_pages = num_pages;
    a.kv.row_stride = row_stride;
    a.kv.page_stride = (int64_t)row_stride * d.page_size;
    a.kv.latent_offset = d.rope_first ? d.rope_dim : 0;
    a.kv.rope_offset = d.rope_first ? 0 : d.latent_dim;
    a.kv.block_table = d_bt;
    a.kv.block_table_stride = max_pages;
    a.kv.seqlens_k = d_sk;
    a.out = {sizeof(mla_tensor), out, d.out_dtype, 0, {(int64_t)d.heads * out_row_stride, out_row_stride, 1, 0}};
    a.lse = {sizeof(mla_tensor), d.want_lse ? lse : nullptr, MLA_DTYPE_F32, 0, {(int64_t)d.heads * 2, 2, 0, 0}};
    a.workspace = ws;
    a.workspace_bytes = ws_bytes;
    return a;
  }

  // Fresh random q (rounded), uploaded; the oracle problem follows it.
  void new_queries() {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<unsigned char> host((size_t)total_q * d.heads * D * elem_size(d.q_dtype));
    prob.q.resize((size_t)total_q * d.heads * D);
    for (size_t i = 0; i < prob.q.size(); ++i)
      prob.q[i] = encode(d.q_dtype, normal(rng), &host[i * elem_size(d.q_dtype)]);
    check(cudaMemcpy(q, host.data(), host.size(), cudaMemcpyHostToDevice), "upload q");
    // A pageable cudaMemcpy may return before its DMA lands, and the plugin's
    // non-blocking stream does not wait for the legacy stream.
    check(cudaDeviceSynchronize(), "upload q (sync)");
  }

  // On the plugin's stream: a cudaMemset on the legacy stream does not order
  // with a non-blocking stream and could land after the kernels' writes.
  void poison_outputs() {
    const size_t out_bytes = (size_t)total_q * d.heads * out_row_stride * elem_size(d.out_dtype);
    check(cudaMemsetAsync(out, 0x7f, out_bytes, stream), "poison out");  // 0x7f7f...: a finite, odd value
    check(cudaMemsetAsync(lse, 0x7f, (size_t)total_q * d.heads * 2 * sizeof(float), stream), "poison lse");
  }

  case_result download_and_check() {
    case_result r;
    const int es = elem_size(d.out_dtype);
    std::vector<unsigned char> host((size_t)total_q * d.heads * out_row_stride * es);
    std::vector<float> host_lse((size_t)total_q * d.heads * 2);
    check(cudaMemcpy(host.data(), out, host.size(), cudaMemcpyDeviceToHost), "download out");
    check(cudaMemcpy(host_lse.data(), lse, host_lse.size() * 4, cudaMemcpyDeviceToHost), "download lse");
    std::vector<double> ref, ref_lse;
    oracle::absorbed(prob, ref, ref_lse);
    check_outputs(host, d.out_dtype, d.latent_dim, out_row_stride, host_lse, d.want_lse, cu, d.heads, invalid, ref,
                  ref_lse, r);
    return r;
  }
};

device_case::device_case(const case_desc& desc) : m_(new impl) {
  impl& m = *m_;
  m.d = desc;
  m.rng.seed(desc.seed);
  m.batch = (int)desc.s_q.size();
  m.D = desc.latent_dim + desc.rope_dim;
  m.row_stride = m.D + 8;  // a gap between rows, NaN-filled
  m.out_row_stride = desc.latent_dim + 8;
  paged_layout L = make_paged_layout(desc.s_q, desc.s_k, desc.page_size, m.rng);
  m.cu = std::move(L.cu);
  m.block_table = std::move(L.block_table);
  m.total_q = L.total_q, m.max_pages = L.max_pages, m.num_pages = L.num_pages;

  // Cache: NaN everywhere, then each sequence's rows with random values.
  const int es = elem_size(desc.kv_dtype);
  std::vector<unsigned char> cache((size_t)m.num_pages * desc.page_size * m.row_stride * es);
  std::vector<unsigned char> nan(es);
  encode(desc.kv_dtype, std::numeric_limits<double>::quiet_NaN(), nan.data());
  for (size_t i = 0; i < cache.size() / es; ++i) std::memcpy(&cache[i * es], nan.data(), es);
  std::normal_distribution<double> normal(0.0, 1.0);
  m.prob.batch = m.batch;
  m.prob.heads = desc.heads;
  m.prob.latent_dim = desc.latent_dim;
  m.prob.rope_dim = desc.rope_dim;
  m.prob.causal = desc.causal;
  m.prob.scale = 1.0f / std::sqrt(192.0f);  // the float the plugin sees
  m.prob.cu_seqlens_q = m.cu;
  m.prob.seqlens_k = desc.s_k;
  m.prob.rows.resize(m.batch);
  const int latent_at = desc.rope_first ? desc.rope_dim : 0, rope_at = desc.rope_first ? 0 : desc.latent_dim;
  for (int b = 0; b < m.batch; ++b) {
    m.prob.rows[b].resize((size_t)desc.s_k[b] * m.D);
    for (int t = 0; t < desc.s_k[b]; ++t) {
      const int page = m.block_table[(size_t)b * m.max_pages + t / desc.page_size];
      unsigned char* row = &cache[((size_t)page * desc.page_size + t % desc.page_size) * m.row_stride * es];
      for (int e = 0; e < m.D; ++e) {
        const int at = e < desc.latent_dim ? latent_at + e : rope_at + (e - desc.latent_dim);
        m.prob.rows[b][(size_t)t * m.D + e] = encode(desc.kv_dtype, normal(m.rng), row + (size_t)at * es);
      }
    }
  }

  skip_without_device();
  mla_context_desc cd{};
  cd.struct_size = sizeof cd;
  check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "stream");
  cd.stream = m.stream;
  if (plugin()->context_create(&cd, &m.ctx) != MLA_OK) throw std::runtime_error(plugin()->last_error());
  m.q = device_alloc((size_t)m.total_q * desc.heads * m.D * elem_size(desc.q_dtype));
  m.kv = device_alloc(cache.size());
  m.out = device_alloc((size_t)m.total_q * desc.heads * m.out_row_stride * elem_size(desc.out_dtype));
  m.lse = device_alloc((size_t)m.total_q * desc.heads * 2 * sizeof(float));
  m.d_cu = static_cast<int32_t*>(device_alloc(m.cu.size() * 4));
  m.d_sk = static_cast<int32_t*>(device_alloc(desc.s_k.size() * 4));
  m.d_bt = static_cast<int32_t*>(device_alloc(m.block_table.size() * 4));
  check(cudaMemcpy(m.kv, cache.data(), cache.size(), cudaMemcpyHostToDevice), "upload kv");
  check(cudaMemcpy(m.d_cu, m.cu.data(), m.cu.size() * 4, cudaMemcpyHostToDevice), "upload cu");
  check(cudaMemcpy(m.d_sk, desc.s_k.data(), desc.s_k.size() * 4, cudaMemcpyHostToDevice), "upload sk");
  check(cudaMemcpy(m.d_bt, m.block_table.data(), m.block_table.size() * 4, cudaMemcpyHostToDevice), "upload bt");
  check(cudaDeviceSynchronize(), "uploads (sync)");
  m.new_queries();
  mla_absorbed_args a = m.args();
  if (plugin()->absorbed_workspace_size(m.ctx, &a, &m.ws_bytes) != MLA_OK)
    throw std::runtime_error(plugin()->last_error());
  m.ws = device_alloc(m.ws_bytes);
  check(cudaMemsetAsync(m.ws, 0xff, std::max<size_t>(m.ws_bytes, 256), m.stream), "poison workspace");
  ws_bytes_ = m.ws_bytes;
}

device_case::~device_case() {
  impl& m = *m_;
  if (m.ctx) plugin()->context_destroy(m.ctx);
  for (void* p : {m.q, m.kv, m.out, m.lse, m.ws, (void*)m.d_cu, (void*)m.d_sk, (void*)m.d_bt}) cudaFree(p);
  if (m.stream) cudaStreamDestroy(m.stream);
  delete m_;
}

void device_case::corrupt_sequence(int b) {
  impl& m = *m_;
  const int past_table = (m.max_pages + 1) * m.d.page_size;  // needs more pages than the table row holds
  check(cudaMemcpy(m.d_sk + b, &past_table, 4, cudaMemcpyHostToDevice), "corrupt seqlens_k");
  check(cudaDeviceSynchronize(), "corrupt seqlens_k (sync)");
  m.invalid.push_back(b);
}

case_result device_case::run_and_check() {
  impl& m = *m_;
  m.poison_outputs();
  const mla_absorbed_args a = m.args();
  case_result r;
  if (plugin()->absorbed_plan(m.ctx, &a) != MLA_OK || plugin()->absorbed_run(m.ctx, &a) != MLA_OK) {
    r.error = plugin()->last_error();
    return r;
  }
  check(cudaStreamSynchronize(m.stream), "run");
  return m.download_and_check();
}

case_result device_case::graph_replay_and_check(int replays) {
  impl& m = *m_;
  const mla_absorbed_args a = m.args();
  case_result worst;
  cudaGraphExec_t exec = capture_graph(m.stream, [&] {
    const bool ok = plugin()->absorbed_plan(m.ctx, &a) == MLA_OK && plugin()->absorbed_run(m.ctx, &a) == MLA_OK;
    return std::string(ok ? "" : plugin()->last_error());
  }, worst.error);
  if (exec == nullptr) return worst;
  for (int i = 0; i < replays; ++i) {
    m.new_queries();  // inputs change between replays; the graph reads them anew
    m.poison_outputs();
    check(cudaGraphLaunch(exec, m.stream), "graph launch");
    check(cudaStreamSynchronize(m.stream), "replay");
    worst.take_worst(m.download_and_check());
  }
  cudaGraphExecDestroy(exec);
  return worst;
}

}  // namespace cuda_test
