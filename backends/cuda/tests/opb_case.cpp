// SPDX-License-Identifier: MIT
#include "opb_case.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

#include "cuda_case.hpp"
#include "oracle.hpp"
#include "test_values.hpp"

namespace cuda_test {
namespace {

// N(0,1) as a function of (seed, stream, index): the same element gets the
// same value whatever else the case holds (a sequence alone and inside a
// batch see the same data).
uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
double gauss(uint64_t seed, uint64_t stream, uint64_t index) {
  const uint64_t a = splitmix(seed ^ splitmix(stream * 0x100000001b3ull ^ splitmix(index)));
  const uint64_t b = splitmix(a);
  const double u1 = ((a >> 11) + 1.0) / 9007199254740993.0, u2 = (b >> 11) / 9007199254740992.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

int least_precise(const opb_desc& d) {
  auto rank = [](int t) { return t == MLA_DTYPE_BF16 ? 0 : t == MLA_DTYPE_F16 ? 1 : 2; };
  int best = d.q_dtype;
  for (int t : {d.kv_dtype, d.w_dtype})
    if (rank(t) < rank(best)) best = t;
  return best;
}

}  // namespace

double opb_tolerance(const opb_desc& d) {
  // K, V, P and the output are each rounded to the compute / out dtype: a
  // few units of bf16 (2^-8) / f16 (2^-11) rounding; f32 sums otherwise.
  const int c = least_precise(d);
  if (c == MLA_DTYPE_BF16 || d.out_dtype == MLA_DTYPE_BF16) return 2.5e-2;
  if (c == MLA_DTYPE_F16 || d.out_dtype == MLA_DTYPE_F16) return 4e-3;
  return 1e-4;
}

double opb_lse_tolerance(const opb_desc& d) {
  const int c = least_precise(d);  // K rounded to it moves every score
  return c == MLA_DTYPE_BF16 ? 1.5e-2 : c == MLA_DTYPE_F16 ? 3e-3 : 1e-4;
}

struct opb_case::impl {
  opb_desc d;
  int batch = 0, Dq = 0, D = 0, total_q = 0, row_stride = 0, max_pages = 0, num_pages = 0;
  int64_t out_head_stride = 0;  // Dv + 8: padding after every head's row
  std::vector<int> cu, block_table;
  oracle::decompressed_problem prob;
  // The oracle's answer for prob, computed at the first check and kept
  // until the queries change (every mode and repeat checks against it).
  std::vector<double> ref, ref_lse;
  bool have_ref = false;
  std::mt19937_64 rng;
  mla_context* ctx = nullptr;
  cudaStream_t stream = nullptr;
  void *q = nullptr, *kv = nullptr, *w = nullptr, *out = nullptr, *lse = nullptr, *ws = nullptr;
  int32_t *d_cu = nullptr, *d_sk = nullptr, *d_bt = nullptr;
  size_t w_elems = 0, ws_bytes = 0;
  int64_t uk_at = 0, uv_at = 0, w_stride[2][3] = {};
  std::vector<int> invalid;
  uint64_t generation = 0;  // of the queries

  mla_decompressed_args args(int32_t mode) const {
    mla_decompressed_args a{};
    a.struct_size = sizeof a;
    a.batch = batch;
    a.num_heads = d.heads;
    a.latent_dim = d.latent_dim;
    a.rope_dim = d.rope_dim;
    a.nope_dim = d.nope_dim;
    a.v_dim = d.v_dim;
    a.total_q = total_q;
    a.max_seqlen_q = std::max(1, *std::max_element(d.s_q.begin(), d.s_q.end()));
    a.causal = d.causal;
    a.scale = (float)prob.scale;
    a.mode = mode;
    a.cu_seqlens_q = d_cu;
    a.q = {sizeof(mla_tensor), q, d.q_dtype, 0, {(int64_t)d.heads * Dq, Dq, 1, 0}};
    const int es = elem_size(d.w_dtype);
    a.w_uk = {sizeof(mla_tensor),
              static_cast<char*>(w) + uk_at * es,
              d.w_dtype,
              0,
              {w_stride[0][0], w_stride[0][1], w_stride[0][2], 0}};
    a.w_uv = {sizeof(mla_tensor),
              static_cast<char*>(w) + uv_at * es,
              d.w_dtype,
              0,
              {w_stride[1][0], w_stride[1][1], w_stride[1][2], 0}};
    a.kv.struct_size = sizeof(mla_paged_cache);
    a.kv.data = kv;
    a.kv.dtype = d.kv_dtype;
    a.kv.page_size = d.page_size;
    a.kv.num_pages = num_pages;
    a.kv.row_stride = row_stride;
    a.kv.page_stride = (int64_t)row_stride * d.page_size;
    a.kv.latent_offset = 0;
    a.kv.rope_offset = d.latent_dim;
    a.kv.block_table = d_bt;
    a.kv.block_table_stride = max_pages;
    a.kv.seqlens_k = d_sk;
    a.out = {sizeof(mla_tensor), out, d.out_dtype, 0, {(int64_t)d.heads * out_head_stride, out_head_stride, 1, 0}};
    a.lse = {sizeof(mla_tensor), d.want_lse ? lse : nullptr, MLA_DTYPE_F32, 0, {(int64_t)d.heads * 2, 2, 0, 0}};
    a.workspace = ws;
    a.workspace_bytes = ws_bytes;
    return a;
  }

  void new_queries() {
    std::vector<unsigned char> host((size_t)total_q * d.heads * Dq * elem_size(d.q_dtype));
    prob.q.resize((size_t)total_q * d.heads * Dq);
    const uint64_t stream_id = 1000 + generation++;
    for (size_t i = 0; i < prob.q.size(); ++i)
      prob.q[i] = encode(d.q_dtype, gauss(d.seed, stream_id, i), &host[i * elem_size(d.q_dtype)]);
    check(cudaMemcpy(q, host.data(), std::max<size_t>(host.size(), 0), cudaMemcpyHostToDevice), "upload q");
    check(cudaDeviceSynchronize(), "upload q (sync)");
    have_ref = false;
  }

  void poison_outputs() {
    const size_t out_bytes = (size_t)total_q * d.heads * out_head_stride * elem_size(d.out_dtype);
    check(cudaMemsetAsync(out, 0x7f, std::max<size_t>(out_bytes, 1), stream), "poison out");
    check(cudaMemsetAsync(lse, 0x7f, std::max<size_t>((size_t)total_q * d.heads * 2 * sizeof(float), 1), stream),
          "poison lse");
  }

  opb_result download_and_check() {
    opb_result r;
    const int es = elem_size(d.out_dtype);
    std::vector<unsigned char> host((size_t)total_q * d.heads * out_head_stride * es);
    std::vector<float> host_lse((size_t)total_q * d.heads * 2);
    if (!host.empty()) check(cudaMemcpy(host.data(), out, host.size(), cudaMemcpyDeviceToHost), "download out");
    if (!host_lse.empty())
      check(cudaMemcpy(host_lse.data(), lse, host_lse.size() * 4, cudaMemcpyDeviceToHost), "download lse");
    r.out_bits = host;
    r.lse_bits.resize(host_lse.size() * 4);
    if (!host_lse.empty()) std::memcpy(r.lse_bits.data(), host_lse.data(), r.lse_bits.size());
    if (!have_ref) {
      oracle::decompressed(prob, ref, ref_lse);
      have_ref = true;
    }
    check_outputs(host, d.out_dtype, d.v_dim, out_head_stride, host_lse, d.want_lse, cu, d.heads, invalid, ref, ref_lse,
                  r);
    return r;
  }
};

opb_case::opb_case(const opb_desc& desc) : m_(new impl) {
  impl& m = *m_;
  m.d = desc;
  m.rng.seed(desc.seed);
  m.batch = (int)desc.s_q.size();
  m.Dq = desc.nope_dim + desc.rope_dim;
  m.D = desc.latent_dim + desc.rope_dim;
  m.row_stride = m.D + 8;
  m.out_head_stride = desc.v_dim + 8;
  paged_layout L = make_paged_layout(desc.s_q, desc.s_k, desc.page_size, m.rng);
  m.cu = std::move(L.cu);
  m.block_table = std::move(L.block_table);
  m.total_q = L.total_q, m.max_pages = L.max_pages, m.num_pages = L.num_pages;

  // Cache: NaN everywhere, then each sequence's rows.
  const int kes = elem_size(desc.kv_dtype);
  std::vector<unsigned char> cache((size_t)m.num_pages * desc.page_size * m.row_stride * kes);
  std::vector<unsigned char> nan(8);
  encode(desc.kv_dtype, std::numeric_limits<double>::quiet_NaN(), nan.data());
  for (size_t i = 0; i < cache.size() / kes; ++i) std::memcpy(&cache[i * kes], nan.data(), kes);
  oracle::decompressed_problem& P = m.prob;
  P.batch = m.batch;
  P.heads = desc.heads;
  P.latent_dim = desc.latent_dim;
  P.rope_dim = desc.rope_dim;
  P.nope_dim = desc.nope_dim;
  P.v_dim = desc.v_dim;
  P.causal = desc.causal;
  P.scale = (float)(1.0 / std::sqrt((double)m.Dq));
  P.cu_seqlens_q = m.cu;
  P.seqlens_k = desc.s_k;
  P.rows.resize(m.batch);
  for (int b = 0; b < m.batch; ++b) {
    P.rows[b].resize((size_t)desc.s_k[b] * m.D);
    for (int t = 0; t < desc.s_k[b]; ++t) {
      const int page = m.block_table[(size_t)b * m.max_pages + t / desc.page_size];
      unsigned char* row = &cache[((size_t)page * desc.page_size + t % desc.page_size) * m.row_stride * kes];
      for (int e = 0; e < m.D; ++e)
        P.rows[b][(size_t)t * m.D + e] = encode(
            desc.kv_dtype, gauss(desc.seed, 2, (((uint64_t)b << 32) | (uint64_t)t) * m.D + e), row + (size_t)e * kes);
    }
  }

  // Weights ~ N(0, 1/Dl) in one buffer with NaN where no weight is.
  const int H = desc.heads, Dn = desc.nope_dim, Dv = desc.v_dim, Dl = desc.latent_dim;
  const int wes = elem_size(desc.w_dtype);
  int64_t(&ws)[2][3] = m.w_stride;
  switch (desc.layout) {
    case weight_layout::perhead:
      m.w_elems = (size_t)H * (Dn + Dv) * Dl + 16;
      m.uk_at = 8;
      m.uv_at = 8 + (int64_t)H * Dn * Dl;
      ws[0][0] = (int64_t)Dn * Dl, ws[0][1] = Dl, ws[0][2] = 1;
      ws[1][0] = (int64_t)Dv * Dl, ws[1][1] = Dl, ws[1][2] = 1;
      break;
    case weight_layout::kvbproj:
      m.w_elems = (size_t)H * (Dn + Dv) * Dl + 16;
      m.uk_at = 8;
      m.uv_at = 8 + (int64_t)Dn * Dl;
      ws[0][0] = ws[1][0] = (int64_t)(Dn + Dv) * Dl, ws[0][1] = ws[1][1] = Dl, ws[0][2] = ws[1][2] = 1;
      break;
    case weight_layout::transposed:
      m.w_elems = (size_t)H * (Dn + Dv) * Dl + 16;
      m.uk_at = 8;
      m.uv_at = 8 + (int64_t)H * Dn * Dl;
      ws[0][0] = (int64_t)Dl * Dn, ws[0][1] = 1, ws[0][2] = Dn;
      ws[1][0] = (int64_t)Dl * Dv, ws[1][1] = 1, ws[1][2] = Dv;
      break;
  }
  std::vector<unsigned char> wbuf(m.w_elems * wes);
  encode(desc.w_dtype, std::numeric_limits<double>::quiet_NaN(), nan.data());
  for (size_t i = 0; i < m.w_elems; ++i) std::memcpy(&wbuf[i * wes], nan.data(), wes);
  const double w_sd = 1.0 / std::sqrt((double)Dl);
  P.w_uk.resize((size_t)H * Dn * Dl);
  P.w_uv.resize((size_t)H * Dv * Dl);
  for (int h = 0; h < H; ++h)
    for (int part = 0; part < 2; ++part) {
      const int rows = part == 0 ? Dn : Dv;
      for (int o = 0; o < rows; ++o)
        for (int l = 0; l < Dl; ++l) {
          const int64_t at = (part == 0 ? m.uk_at : m.uv_at) + h * ws[part][0] + o * ws[part][1] + l * ws[part][2];
          const size_t logical = ((size_t)h * rows + o) * Dl + l;
          const double v = encode(desc.w_dtype, w_sd * gauss(desc.seed, 3 + part, logical), &wbuf[(size_t)at * wes]);
          (part == 0 ? P.w_uk : P.w_uv)[logical] = v;
        }
    }

  skip_without_device();
  mla_context_desc cd{};
  cd.struct_size = sizeof cd;
  check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "stream");
  cd.stream = m.stream;
  cd.flags = desc.context_flags;
  if (plugin()->context_create(&cd, &m.ctx) != MLA_OK) throw std::runtime_error(plugin()->last_error());
  m.q = device_alloc((size_t)m.total_q * H * m.Dq * elem_size(desc.q_dtype));
  m.kv = device_alloc(cache.size());
  m.w = device_alloc(wbuf.size());
  m.out = device_alloc((size_t)m.total_q * H * m.out_head_stride * elem_size(desc.out_dtype));
  m.lse = device_alloc((size_t)m.total_q * H * 2 * sizeof(float));
  m.d_cu = static_cast<int32_t*>(device_alloc(m.cu.size() * 4));
  m.d_sk = static_cast<int32_t*>(device_alloc(std::max<size_t>(desc.s_k.size(), 1) * 4));
  m.d_bt = static_cast<int32_t*>(device_alloc(std::max<size_t>(m.block_table.size(), 1) * 4));
  check(cudaMemcpy(m.kv, cache.data(), cache.size(), cudaMemcpyHostToDevice), "upload kv");
  check(cudaMemcpy(m.w, wbuf.data(), wbuf.size(), cudaMemcpyHostToDevice), "upload w");
  check(cudaMemcpy(m.d_cu, m.cu.data(), m.cu.size() * 4, cudaMemcpyHostToDevice), "upload cu");
  if (m.batch > 0) {
    check(cudaMemcpy(m.d_sk, desc.s_k.data(), desc.s_k.size() * 4, cudaMemcpyHostToDevice), "upload sk");
    check(cudaMemcpy(m.d_bt, m.block_table.data(), m.block_table.size() * 4, cudaMemcpyHostToDevice), "upload bt");
  }
  check(cudaDeviceSynchronize(), "uploads (sync)");
  m.new_queries();
  // One workspace for every mode: the largest of the three.
  for (int32_t mode : {MLA_DECOMPRESSED_AUTO, MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED}) {
    mla_decompressed_args a = m.args(mode);
    size_t bytes = 0;
    if (plugin()->decompressed_workspace_size(m.ctx, &a, &bytes) != MLA_OK)
      throw std::runtime_error(plugin()->last_error());
    m.ws_bytes = std::max(m.ws_bytes, bytes);
  }
  m.ws = device_alloc(m.ws_bytes);
}

opb_case::~opb_case() {
  impl& m = *m_;
  if (m.ctx) plugin()->context_destroy(m.ctx);
  for (void* p : {m.q, m.kv, m.w, m.out, m.lse, m.ws, (void*)m.d_cu, (void*)m.d_sk, (void*)m.d_bt}) cudaFree(p);
  if (m.stream) cudaStreamDestroy(m.stream);
  delete m_;
}

size_t opb_case::workspace_bytes() const { return m_->ws_bytes; }

void opb_case::corrupt_sequence(int b) {
  impl& m = *m_;
  const int past_table = (m.max_pages + 1) * m.d.page_size;
  check(cudaMemcpy(m.d_sk + b, &past_table, 4, cudaMemcpyHostToDevice), "corrupt seqlens_k");
  check(cudaDeviceSynchronize(), "corrupt seqlens_k (sync)");
  m.invalid.push_back(b);
}

opb_result opb_case::run(int32_t mode, bool replan, unsigned char fill) {
  impl& m = *m_;
  m.poison_outputs();
  const mla_decompressed_args a = m.args(mode);
  opb_result r;
  if (replan) {
    check(cudaMemsetAsync(m.ws, fill, m.ws_bytes, m.stream), "refill workspace");
    if (plugin()->decompressed_plan(m.ctx, &a) != MLA_OK) {
      r.error = plugin()->last_error();
      return r;
    }
  }
  if (plugin()->decompressed_run(m.ctx, &a) != MLA_OK) {
    r.error = plugin()->last_error();
    return r;
  }
  check(cudaStreamSynchronize(m.stream), "run");
  return m.download_and_check();
}

opb_result opb_case::graph_replay(int replays) {
  impl& m = *m_;
  const mla_decompressed_args a = m.args(m.d.mode);
  opb_result worst;
  cudaGraphExec_t exec = capture_graph(m.stream, [&] {
    const bool ok = plugin()->decompressed_plan(m.ctx, &a) == MLA_OK && plugin()->decompressed_run(m.ctx, &a) == MLA_OK;
    return std::string(ok ? "" : plugin()->last_error());
  }, worst.error);
  if (exec == nullptr) return worst;
  for (int i = 0; i < replays; ++i) {
    m.new_queries();
    m.poison_outputs();
    check(cudaGraphLaunch(exec, m.stream), "graph launch");
    check(cudaStreamSynchronize(m.stream), "replay");
    opb_result r = m.download_and_check();
    worst.take_worst(r);
    worst.out_bits = std::move(r.out_bits);
    worst.lse_bits = std::move(r.lse_bits);
  }
  cudaGraphExecDestroy(exec);
  return worst;
}

}  // namespace cuda_test
