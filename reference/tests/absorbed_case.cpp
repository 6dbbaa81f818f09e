// SPDX-License-Identifier: MIT
#include "absorbed_case.hpp"

#include "test_dtypes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <sstream>

namespace cpu_test {
namespace {

// Tolerances, one table (the inputs are exactly representable, so the
// oracle sees what the kernel sees; the kernel's error has two sources):
//  - f32 pipeline: scores are f32 dot products of <= 576 terms and o is an
//    f32 sum over <= 300 keys; the worst-case relative rounding growth is
//    n * 2^-24 ~ 2e-5 on |o| <= 1 (values in [-1, 1]); observed: at most
//    1.1e-6 over this file's f32-output cases (measured by lowering the bound);
//  - rounding the result to the out dtype: half an ulp, i.e. 2^-8 |o| for
//    bf16 (8 significant bits), 2^-11 |o| for f16 (11 bits) plus 2^-25 in the
//    f16 subnormal range, 0 for f32.
constexpr double kF32PipelineAbs = 3e-5;
double out_rounding_rel(int dtype) {
  return dtype == MLA_DTYPE_BF16 ? 0x1p-8 : dtype == MLA_DTYPE_F16 ? 0x1p-11 : 0.0;
}
double out_rounding_abs(int dtype) { return dtype == MLA_DTYPE_F16 ? 0x1p-25 : 0.0; }
// lse = max score + log(sum): f32 errors of a score (~1e-6 * |score|) and of
// the log of an f32 sum.
double lse_tolerance(double want) { return 3e-5 + 2e-6 * std::fabs(want); }

int64_t span_of(const int64_t* stride, const int64_t* extent, int rank) {
  int64_t last = 0;
  for (int i = 0; i < rank; ++i) {
    if (extent[i] == 0) return 0;
    last += (extent[i] - 1) * stride[i];
  }
  return last + 1;
}

}  // namespace

std::string case_spec::describe() const {
  std::ostringstream s;
  s << "seed=" << seed << " H=" << heads << " Dl=" << latent << " Dr=" << rope << " page=" << page_size
    << " causal=" << causal << " q/cache/out=" << dtype_name(q_dtype) << "/" << dtype_name(cache_dtype) << "/"
    << dtype_name(out_dtype) << " strided=" << strided << " lse=" << want_lse << " amp=" << q_amplitude << " s_q=[";
  for (size_t b = 0; b < s_q.size(); ++b) s << (b ? "," : "") << s_q[b];
  s << "] s_k=[";
  for (size_t b = 0; b < s_k.size(); ++b) s << (b ? "," : "") << s_k[b];
  s << "]";
  return s.str();
}

absorbed_case::absorbed_case(const case_spec& sp) : spec_(sp) {
  std::mt19937_64 rng(sp.seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  const int B = (int)sp.s_q.size(), H = sp.heads, Dl = sp.latent, Dr = sp.rope, D = Dl + Dr;

  cu_seqlens_q.assign(B + 1, 0);
  for (int b = 0; b < B; ++b) cu_seqlens_q[b + 1] = cu_seqlens_q[b] + sp.s_q[b];
  seqlens_k.assign(sp.s_k.begin(), sp.s_k.end());
  const int total_q = cu_seqlens_q[B];

  // Pages: each sequence's in a shuffled order, plus two pages nobody uses.
  std::vector<int> pages_of(B);
  int total_pages = 2, max_pages = 0;
  for (int b = 0; b < B; ++b) {
    pages_of[b] = (sp.s_k[b] + sp.page_size - 1) / sp.page_size;
    total_pages += pages_of[b];
    max_pages = std::max(max_pages, pages_of[b]);
  }
  std::vector<int> perm(total_pages);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  const int64_t bt_stride = max_pages + 1;
  block_table.assign((size_t)std::max(B, 1) * bt_stride, -5);  // entries past a sequence's pages are never read

  mla_paged_cache& kv = args.kv;
  kv.struct_size = sizeof kv;
  kv.dtype = sp.cache_dtype;
  kv.page_size = sp.page_size;
  kv.num_pages = total_pages;
  kv.latent_offset = sp.strided ? Dr : 0;
  kv.rope_offset = sp.strided ? 0 : Dl;
  kv.row_stride = sp.strided ? D + 3 : D;
  kv.page_stride = (int64_t)sp.page_size * kv.row_stride + (sp.strided ? 5 : 0);
  kv.block_table_stride = bt_stride;
  const int64_t cache_elems = (int64_t)total_pages * kv.page_stride;
  const int ce = elem_size(sp.cache_dtype);
  cache_buf_.assign((size_t)cache_elems * ce, 0);
  fill_poison(cache_buf_.data(), sp.cache_dtype, cache_elems);  // NaN everywhere not written below

  problem_.batch = B;
  problem_.heads = H;
  problem_.latent_dim = Dl;
  problem_.rope_dim = Dr;
  problem_.causal = sp.causal;
  problem_.scale = 1.0 / std::sqrt(192.0);
  problem_.cu_seqlens_q.assign(cu_seqlens_q.begin(), cu_seqlens_q.end());
  problem_.seqlens_k.assign(sp.s_k.begin(), sp.s_k.end());
  problem_.rows.resize(B);
  int next_page = 0;
  for (int b = 0; b < B; ++b) {
    for (int p = 0; p < pages_of[b]; ++p) block_table[(size_t)b * bt_stride + p] = perm[next_page++];
    problem_.rows[b].resize((size_t)sp.s_k[b] * D);
    for (int t = 0; t < sp.s_k[b]; ++t) {
      const int64_t row = (int64_t)block_table[(size_t)b * bt_stride + t / sp.page_size] * kv.page_stride +
                          (int64_t)(t % sp.page_size) * kv.row_stride;
      for (int d = 0; d < D; ++d) {
        const double v = round_to(sp.cache_dtype, unit(rng));
        problem_.rows[b][(size_t)t * D + d] = v;
        const int64_t at = row + (d < Dl ? kv.latent_offset + d : kv.rope_offset + (d - Dl));
        put(cache_buf_.data(), sp.cache_dtype, at, v);
      }
    }
  }
  kv.data = cache_buf_.data();
  kv.block_table = block_table.data();
  kv.seqlens_k = seqlens_k.data();

  // q: [total_q, H, D], strided variant with gaps (left NaN) and step 2.
  mla_tensor& q = args.q;
  q.struct_size = sizeof q;
  q.dtype = sp.q_dtype;
  q.stride[2] = sp.strided ? 2 : 1;
  q.stride[1] = D * q.stride[2] + (sp.strided ? 7 : 0);
  q.stride[0] = H * q.stride[1] + (sp.strided ? 3 : 0);
  const int64_t q_extent[3] = {total_q, H, D};
  const int64_t q_span = span_of(q.stride, q_extent, 3);
  q_buf_.assign((size_t)std::max<int64_t>(q_span, 1) * elem_size(sp.q_dtype), 0);
  fill_poison(q_buf_.data(), sp.q_dtype, std::max<int64_t>(q_span, 1));
  problem_.q.resize((size_t)total_q * H * D);
  for (int r = 0; r < total_q; ++r)
    for (int h = 0; h < H; ++h)
      for (int d = 0; d < D; ++d) {
        const double v = round_to(sp.q_dtype, sp.q_amplitude * unit(rng));
        problem_.q[((size_t)r * H + h) * D + d] = v;
        put(q_buf_.data(), sp.q_dtype, r * q.stride[0] + h * q.stride[1] + d * q.stride[2], v);
      }
  q.data = q_buf_.data();

  // out [total_q, H, Dl] and lse [total_q, H] with guard regions both sides.
  mla_tensor& out = args.out;
  out.struct_size = sizeof out;
  out.dtype = sp.out_dtype;
  out.stride[2] = 1;
  out.stride[1] = Dl + (sp.strided ? 4 : 0);
  out.stride[0] = H * out.stride[1] + (sp.strided ? 6 : 0);
  const int64_t o_extent[3] = {total_q, H, Dl};
  out_span_ = span_of(out.stride, o_extent, 3);
  out_buf_.assign((size_t)(out_span_ + 2 * kGuard) * elem_size(sp.out_dtype), 0);
  out.data = out_buf_.data() + kGuard * elem_size(sp.out_dtype);

  mla_tensor& lse = args.lse;
  lse.struct_size = sizeof lse;
  lse.dtype = MLA_DTYPE_F32;
  if (sp.strided) {  // transposed: [H][total_q + 1]
    lse.stride[0] = 1;
    lse.stride[1] = total_q + 1;
  } else {
    lse.stride[0] = H;
    lse.stride[1] = 1;
  }
  const int64_t l_extent[2] = {total_q, H};
  lse_span_ = span_of(lse.stride, l_extent, 2);
  lse_buf_.assign((size_t)(lse_span_ + 2 * kGuard) * 4, 0);
  lse.data = sp.want_lse ? lse_buf_.data() + kGuard * 4 : nullptr;
  poison_outputs();

  args.struct_size = sizeof args;
  args.batch = B;
  args.num_heads = H;
  args.latent_dim = Dl;
  args.rope_dim = Dr;
  args.total_q = total_q;
  args.max_seqlen_q = B ? *std::max_element(sp.s_q.begin(), sp.s_q.end()) : 0;
  args.causal = sp.causal;
  args.scale = (float)problem_.scale;
  args.cu_seqlens_q = cu_seqlens_q.data();
  problem_.scale = (double)args.scale;  // the oracle uses the scale the kernel gets

  oracle::absorbed(problem_, want_out_, want_lse_);
}

void absorbed_case::set_workspace(size_t bytes) {
  const size_t alloc = (bytes + 255) / 256 * 256 + 256;
  workspace_owner_ = {static_cast<unsigned char*>(std::aligned_alloc(256, alloc)), std::free};
  workspace_ = workspace_owner_.get();
  std::memset(workspace_, 0, alloc);
  workspace_bytes_ = bytes;
  args.workspace = workspace_;
  args.workspace_bytes = bytes;
}

void absorbed_case::poison_outputs() {
  fill_poison(out_buf_.data(), spec_.out_dtype, out_span_ + 2 * kGuard);
  fill_poison(lse_buf_.data(), MLA_DTYPE_F32, lse_span_ + 2 * kGuard);
}

std::string absorbed_case::check() const {
  std::ostringstream err;
  int failures = 0;
  auto report = [&](const std::string& what) {
    if (failures++ < 5) err << what << "\n";
  };
  const int H = spec_.heads, Dl = spec_.latent, od = spec_.out_dtype;
  const int64_t total_q = args.total_q;
  const double rel = out_rounding_rel(od), abs_tol = (1 + rel) * kF32PipelineAbs + out_rounding_abs(od);

  std::vector<char> is_out(out_span_ + 2 * kGuard, 0);
  const void* out = args.out.data;
  double max_err = 0;
  for (int64_t r = 0; r < total_q; ++r)
    for (int h = 0; h < H; ++h)
      for (int d = 0; d < Dl; ++d) {
        const int64_t at = r * args.out.stride[0] + h * args.out.stride[1] + d * args.out.stride[2];
        is_out[kGuard + at] = 1;
        const double want = want_out_[((size_t)r * H + h) * Dl + d];
        std::ostringstream where;
        where << "out[" << r << "][" << h << "][" << d << "]";
        if (is_poison(out, od, at)) {
          report(where.str() + " was not written");
          continue;
        }
        const double got = get(out, od, at);
        const double e = std::fabs(got - want);
        if (!std::isfinite(got) || e > rel * std::fabs(want) + abs_tol)
          report(where.str() + " = " + std::to_string(got) + ", oracle " + std::to_string(want));
        max_err = std::max(max_err, std::isfinite(e) ? e : 1e30);
      }
  for (int64_t i = 0; i < out_span_ + 2 * kGuard; ++i)
    if (!is_out[i] && !is_poison(out_buf_.data(), od, i))
      report("out buffer element " + std::to_string(i - kGuard) + " (outside the output) was overwritten");

  std::vector<char> is_lse(lse_span_ + 2 * kGuard, 0);
  if (spec_.want_lse) {
    for (int64_t r = 0; r < total_q; ++r)
      for (int h = 0; h < H; ++h) {
        const int64_t at = r * args.lse.stride[0] + h * args.lse.stride[1];
        is_lse[kGuard + at] = 1;
        const double want = want_lse_[(size_t)r * H + h];
        const std::string where = "lse[" + std::to_string(r) + "][" + std::to_string(h) + "]";
        if (is_poison(args.lse.data, MLA_DTYPE_F32, at)) {
          report(where + " was not written");
          continue;
        }
        const double got = get(args.lse.data, MLA_DTYPE_F32, at);
        const bool ok = std::isinf(want) ? got == want : std::isfinite(got) && std::fabs(got - want) <= lse_tolerance(want);
        if (!ok) report(where + " = " + std::to_string(got) + ", oracle " + std::to_string(want));
      }
  }
  for (int64_t i = 0; i < lse_span_ + 2 * kGuard; ++i)
    if (!is_lse[i] && !is_poison(lse_buf_.data(), MLA_DTYPE_F32, i))
      report("lse buffer element " + std::to_string(i - kGuard) + " (outside the lse output) was overwritten");

  if (failures) err << failures << " failures; max |out error| " << max_err << "; " << spec_.describe();
  return err.str();
}

}  // namespace cpu_test
