// SPDX-License-Identifier: MIT
#include "device_index_check.hpp"

#include "case_runner.hpp"
#include "catalogue.hpp"
#include "device_case.hpp"
#include "low_precision.hpp"

#include <cmath>

namespace conformance {
namespace {

int32_t first_claimed(uint32_t mask) {
  for (int32_t d : {MLA_DTYPE_BF16, MLA_DTYPE_F32, MLA_DTYPE_F16})
    if (mask & MLA_DTYPE_BIT(d)) return d;
  return 0;
}

// Rows of sequence `bad` must be NaN; the others must match the oracle.
std::string judge_rows(const absorbed_images& im, const host_tensor& out, const reference_outputs& ref, int bad) {
  const int H = im.spec.heads, Dl = im.spec.latent_dim;
  const double limit = ref.out_tolerance(out.dtype, default_tolerance());
  for (int b = 0; b < (int)im.spec.s_q.size(); ++b)
    for (int64_t row = im.cu_seqlens_q[b]; row < im.cu_seqlens_q[b + 1]; ++row)
      for (int64_t i = row * H * Dl; i < (row + 1) * H * Dl; ++i) {
        const double v = load_element(out.dtype, out.bytes.data(), out.buffer_index(i));
        if (b == bad && !std::isnan(v))
          return "sequence " + std::to_string(b) + " has invalid indices but out" + format_index(out.layout, i) +
                 " = " + std::to_string(v) + " (must be NaN)";
        if (b != bad && !(std::fabs(v - ref.out[(size_t)i]) <= limit))
          return "valid sequence " + std::to_string(b) + ": out" + format_index(out.layout, i) + " = " +
                 std::to_string(v) + ", oracle " + std::to_string(ref.out[(size_t)i]);
      }
  return "";
}

}  // namespace

void run_device_index_cases(backend_session& s, uint64_t suite_seed, result_log& log,
                            const std::function<bool(const std::string&)>& selected) {
  if (s.host_memory || !(s.caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED))) return;
  absorbed_case c;
  c.heads = 4;
  c.s_q = {1, 2, 1};
  c.s_k = {50, 70, 33};
  c.page_size = std::max(1, std::min(16, s.caps.max_page_size));
  c.latent_dim = std::min(512, s.caps.max_latent_dim);
  if (s.caps.latent_dim_multiple > 1) c.latent_dim -= c.latent_dim % s.caps.latent_dim_multiple;
  c.rope_dim = std::min(64, s.caps.max_rope_dim);
  c.q_dtype = first_claimed(s.caps.q_dtypes);
  c.cache_dtype = first_claimed(s.caps.cache_dtypes);
  c.out_dtype = first_claimed(s.caps.out_dtypes);
  c.name = "device-index-base";
  c.seed = case_seed(suite_seed, c.name);
  absorbed_images valid = build_absorbed(c);
  const reference_outputs ref = oracle_for(valid);

  struct variant {
    const char* name;
    std::function<void(absorbed_images&)> corrupt;
    bool rows_checked;  // false: only "no crash, nothing outside the outputs"
  };
  const variant variants[] = {
      {"device_index/seqlens_k(beyond block table)",
       [](absorbed_images& im) { im.seqlens_k[1] = (int32_t)(im.block_table_stride * im.spec.page_size + 5); }, true},
      {"device_index/block_table(page >= num_pages)",
       [](absorbed_images& im) { im.block_table[(size_t)im.block_table_stride] = (int32_t)im.num_pages + 1000; }, true},
      {"device_index/block_table(page < 0)",
       [](absorbed_images& im) { im.block_table[(size_t)im.block_table_stride + 1] = -7; }, true},
      {"device_index/cu_seqlens_q(not monotone)", [](absorbed_images& im) { std::swap(im.cu_seqlens_q[1], im.cu_seqlens_q[2]); },
       false},
  };
  for (const variant& v : variants) {
    if (!selected(v.name)) continue;
    absorbed_images bad = valid;
    v.corrupt(bad);
    std::string err;
    try {
      device_absorbed dev(*s.memory, bad);
      const call_outcome call = dev.execute(s.api, s.context);
      if (!call.ok()) {
        err = call.stage + " returned " + std::to_string((int)call.status) +
              ": a device plugin cannot see index contents without a sync; it must run and write NaN rows (" +
              call.message + ")";
      } else {
        host_tensor out, lse;
        dev.download_outputs(out, lse);
        err = check_outside_untouched(out, bad.out, "out");
        if (err.empty()) err = check_outside_untouched(lse, bad.lse, "lse");
        if (err.empty() && v.rows_checked) err = judge_rows(bad, out, ref, 1);
      }
    } catch (const std::exception& e) {
      err = std::string("device error (the plugin faulted?): ") + e.what();
    }
    if (err.empty()) log.pass(s.name, v.name, "device_index", "", c.seed);
    else log.fail(s.name, v.name, "device_index", err, c.seed);
  }
}

}  // namespace conformance
