// SPDX-License-Identifier: MIT
#include "bench_report.hpp"

#include <cmath>
#include <fstream>
#include <string>

namespace mla_bench {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string s_k_label(const bench_result& r) {
  if (r.c->ragged_d10) return "ragged, mean " + fmt("%.0f", r.mean_s_k);
  return std::to_string(r.c->s_k);
}

// A number, or null where it is unknown (NaN, infinite, or a ceiling not
// known: <= 0): JSON has no nan.
nlohmann::ordered_json number(double v, bool known = true) {
  if (!known || !std::isfinite(v)) return nullptr;
  return v;
}

}  // namespace

const char* op_b_mode_label(int32_t mode) {
  switch (mode) {
    case MLA_DECOMPRESSED_AUTO: return "auto";
    case MLA_DECOMPRESSED_FORCE: return "decompressed";
    case MLA_DECOMPRESSED_FORCE_ABSORBED: return "absorbed";
  }
  return "-";
}

void print_markdown(FILE* f, const report_context& ctx, const std::vector<bench_result>& results) {
  const char* rate = ctx.host_backend ? "GFLOP/s" : "TFLOP/s";
  const double rate_scale = ctx.host_backend ? 1e-9 : 1e-12;
  std::fprintf(f, "backend: %s (%s), dtype %s, page size 64, causal, Dl=512, Dr=64, scale=1/sqrt(192)\n",
               ctx.backend.c_str(), ctx.device.c_str(), ctx.dtype.c_str());
  std::fprintf(f, "run: mla-bench %s, commit %s, %s%s%s%s\n", ctx.version.c_str(), ctx.commit.c_str(), ctx.date.c_str(),
               ctx.threads > 0 ? (", " + std::to_string(ctx.threads) + " threads").c_str() : "",
               ctx.kernel.empty() ? "" : (", kernel " + ctx.kernel).c_str(), ctx.batch_invariant ? ", batch-invariant" : "");
  std::fprintf(f, "copy ceiling: %s; read-stream ceiling: %s; GEMM ceiling: %s\n\n",
               ctx.ceil.copy_gbs > 0 ? (fmt("%.1f GB/s", ctx.ceil.copy_gbs) + " (" + ctx.ceil.copy_source + ")").c_str() : "unknown",
               ctx.ceil.read_gbs > 0 ? fmt("%.1f GB/s", ctx.ceil.read_gbs).c_str() : "unknown",
               ctx.ceil.gemm_tflops > 0 ? (fmt("%.1f TFLOP/s", ctx.ceil.gemm_tflops) + " (" + ctx.ceil.gemm_source + ")").c_str() : "unknown");
  std::fprintf(f, "| case | B | s_q | s_k | H | time (ms) | GB/s | %s | of copy BW | of read BW | of GEMM | workspace (B) | plan (ms) | check |\n", rate);
  std::fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    const bench_case& c = *r.c;
    std::fprintf(f, "| %s | %d | %d | %s | %d | ", c.name.c_str(), c.batch, c.s_q, s_k_label(r).c_str(), c.heads);
    if (!r.skipped.empty()) {
      std::fprintf(f, "skipped: %s | | | | | | | | |\n", r.skipped.c_str());
      continue;
    }
    if (!r.error.empty()) {
      std::fprintf(f, "error: %s | | | | | | | | |\n", r.error.c_str());
      continue;
    }
    const double s = r.run_ms * 1e-3, gbs = r.work.bytes / s * 1e-9, tf = r.work.flops / s;
    const std::string mem_frac = ctx.ceil.copy_gbs > 0 ? fmt("%.2f", gbs / ctx.ceil.copy_gbs) : "–";
    const std::string read_frac = ctx.ceil.read_gbs > 0 ? fmt("%.2f", gbs / ctx.ceil.read_gbs) : "–";
    const std::string gemm_frac = ctx.ceil.gemm_tflops > 0 ? fmt("%.2f", tf * 1e-12 / ctx.ceil.gemm_tflops) : "–";
    std::fprintf(f, "%.4g | %.4g | %.4g | %s | %s | %s | %zu | %.3f | %s |\n", r.run_ms, gbs, tf * rate_scale,
                 mem_frac.c_str(), read_frac.c_str(), gemm_frac.c_str(), r.workspace_bytes, r.plan_ms,
                 r.check_ok ? fmt("ok (%.2f)", r.check_worst).c_str() : "MISMATCH");
  }
  std::fprintf(f, "\nBytes = cache rows read x 576 x elem + q and o bytes; FLOPs = 2*H*(visible pairs)*(576+512).\n"
                  "check: sampled rows vs the fp64 oracle, worst error as a fraction of the tolerance.\n");
  bool any_op_b = false;
  for (const auto& r : results) any_op_b |= r.c->op == bench_op::decompressed && r.skipped.empty() && r.error.empty();
  if (!any_op_b) return;
  std::fprintf(f, "\nop B (decompressed prefill, Dn = Dv = 128, kv_b_proj weights):\n\n"
                  "| case | mode | time (ms) | %s, op B's work | %s, absorbed-form work | workspace (MiB) |\n"
                  "|---|---|---|---|---|---|\n", rate, rate);
  for (const auto& r : results) {
    if (r.c->op != bench_op::decompressed || !r.skipped.empty() || !r.error.empty()) continue;
    const double s = r.run_ms * 1e-3;
    std::fprintf(f, "| %s | %s | %.4g | %.4g | %.4g | %.2f |\n", r.c->name.c_str(), op_b_mode_label(r.mode), r.run_ms,
                 r.work.flops / s * rate_scale, r.work.absorbed_flops / s * rate_scale, r.workspace_bytes / 1048576.0);
  }
  std::fprintf(f, "\nop B's work = 2*H*pairs*(128+64 + 128) + 2*keys*512*H*(128+128) (the decompression GEMMs); "
                  "absorbed-form work = 2*H*pairs*(576+512), what the absorbed form (op A, ggml) does for the same "
                  "attention.\n");
}

nlohmann::ordered_json bench_json(const report_context& ctx, const std::vector<bench_result>& results) {
  using json = nlohmann::ordered_json;
  const bool copy_known = ctx.ceil.copy_gbs > 0, gemm_known = ctx.ceil.gemm_tflops > 0, read_known = ctx.ceil.read_gbs > 0;
  json j;
  j["tool"] = "mla-bench";
  j["version"] = ctx.version;
  j["commit"] = ctx.commit;
  j["date"] = ctx.date;
  j["backend"] = ctx.backend;
  j["device"] = ctx.device;
  j["threads"] = ctx.threads > 0 ? json(ctx.threads) : json(nullptr);
  j["kernel"] = ctx.kernel.empty() ? json(nullptr) : json(ctx.kernel);
  j["batch_invariant"] = ctx.batch_invariant;
  j["dtype"] = ctx.dtype;
  j["copy_gbs"] = number(ctx.ceil.copy_gbs, copy_known);
  j["gemm_tflops"] = number(ctx.ceil.gemm_tflops, gemm_known);
  j["read_gbs"] = number(ctx.ceil.read_gbs, read_known);
  j["copy_source"] = copy_known ? json(ctx.ceil.copy_source) : json(nullptr);
  j["gemm_source"] = gemm_known ? json(ctx.ceil.gemm_source) : json(nullptr);
  json cases = json::array();
  for (const auto& r : results) {
    json c;
    c["name"] = r.c->name;
    c["batch"] = r.c->batch;
    c["s_q"] = r.c->s_q;
    c["mean_s_k"] = number(r.mean_s_k);
    c["heads"] = r.c->heads;
    c["op"] = r.c->op == bench_op::absorbed ? "absorbed" : "decompressed";
    if (r.c->op == bench_op::decompressed) c["mode"] = op_b_mode_label(r.mode);
    if (!r.skipped.empty()) {
      c["skipped"] = r.skipped;
    } else if (!r.error.empty()) {
      c["error"] = r.error;
    } else {
      const double s = r.run_ms * 1e-3, gbs = r.work.bytes / s * 1e-9, tflops = r.work.flops / s * 1e-12;
      c["time_ms"] = number(r.run_ms);
      c["plan_ms"] = number(r.plan_ms);
      c["iters"] = r.iters;
      c["cache_copies"] = r.copies;
      c["bytes"] = number(r.work.bytes);
      c["flops"] = number(r.work.flops);
      c["absorbed_form_flops"] = number(r.work.absorbed_flops);
      c["gbs"] = number(gbs);
      c["tflops"] = number(tflops);
      c["of_copy"] = number(gbs / ctx.ceil.copy_gbs, copy_known);     // fraction of the copy ceiling
      c["of_read"] = number(gbs / ctx.ceil.read_gbs, read_known);     // fraction of the read-stream ceiling
      c["of_gemm"] = number(tflops / ctx.ceil.gemm_tflops, gemm_known);  // fraction of the GEMM ceiling
      c["workspace_bytes"] = r.workspace_bytes;
      c["check_ok"] = r.check_ok;
      c["check_worst"] = number(r.check_worst);
    }
    cases.push_back(std::move(c));
  }
  j["cases"] = std::move(cases);
  return j;
}

bool write_json(const std::string& path, const report_context& ctx, const std::vector<bench_result>& results,
                std::string& error) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return error = "cannot write " + path, false;
  // Invalid UTF-8 (a device name, a plugin's message) is replaced, never thrown.
  f << bench_json(ctx, results).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  f.close();
  if (!f) return error = "error writing " + path, false;
  return true;
}

}  // namespace mla_bench
