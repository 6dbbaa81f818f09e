#include "bench_report.hpp"

#include <cmath>
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

std::string json_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\', o += ch;
    else if ((unsigned char)ch < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", (unsigned)(unsigned char)ch);
      o += buf;
    }
    else o += ch;
  }
  return o;
}

}  // namespace

void print_markdown(FILE* f, const report_context& ctx, const std::vector<bench_result>& results) {
  const char* rate = ctx.host_backend ? "GFLOP/s" : "TFLOP/s";
  const double rate_scale = ctx.host_backend ? 1e-9 : 1e-12;
  std::fprintf(f, "backend: %s (%s), dtype %s, page size 64, causal, Dl=512, Dr=64, scale=1/sqrt(192)\n",
               ctx.backend.c_str(), ctx.device.c_str(), ctx.dtype.c_str());
  std::fprintf(f, "copy ceiling: %s; GEMM ceiling: %s\n\n",
               ctx.ceil.copy_gbs > 0 ? (fmt("%.1f GB/s", ctx.ceil.copy_gbs) + " (" + ctx.ceil.copy_source + ")").c_str() : "unknown",
               ctx.ceil.gemm_tflops > 0 ? (fmt("%.1f TFLOP/s", ctx.ceil.gemm_tflops) + " (" + ctx.ceil.gemm_source + ")").c_str() : "unknown");
  std::fprintf(f, "| case | B | s_q | s_k | H | time (ms) | GB/s | %s | of copy BW | of GEMM | workspace (B) | plan (ms) | check |\n", rate);
  std::fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    const bench_case& c = *r.c;
    std::fprintf(f, "| %s | %d | %d | %s | %d | ", c.name.c_str(), c.batch, c.s_q, s_k_label(r).c_str(), c.heads);
    if (!r.skipped.empty()) {
      std::fprintf(f, "skipped: %s | | | | | | | |\n", r.skipped.c_str());
      continue;
    }
    if (!r.error.empty()) {
      std::fprintf(f, "error: %s | | | | | | | |\n", r.error.c_str());
      continue;
    }
    const double s = r.run_ms * 1e-3, gbs = r.work.bytes / s * 1e-9, tf = r.work.flops / s;
    const std::string mem_frac = ctx.ceil.copy_gbs > 0 ? fmt("%.2f", gbs / ctx.ceil.copy_gbs) : "–";
    const std::string gemm_frac = ctx.ceil.gemm_tflops > 0 ? fmt("%.2f", tf * 1e-12 / ctx.ceil.gemm_tflops) : "–";
    std::fprintf(f, "%.4g | %.4g | %.4g | %s | %s | %zu | %.3f | %s |\n", r.run_ms, gbs, tf * rate_scale,
                 mem_frac.c_str(), gemm_frac.c_str(), r.workspace_bytes, r.plan_ms,
                 r.check_ok ? fmt("ok (%.2f)", r.check_worst).c_str() : "MISMATCH");
  }
  std::fprintf(f, "\nBytes = cache rows read x 576 x elem + q and o bytes; FLOPs = 2*H*(visible pairs)*(576+512).\n"
                  "check: sampled rows vs the fp64 oracle, worst error as a fraction of the tolerance.\n");
}

bool write_json(const std::string& path, const report_context& ctx, const std::vector<bench_result>& results,
                std::string& error) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return error = "cannot write " + path, false;
  std::fprintf(f, "{\n  \"backend\": \"%s\",\n  \"device\": \"%s\",\n  \"dtype\": \"%s\",\n",
               json_escape(ctx.backend).c_str(), json_escape(ctx.device).c_str(), ctx.dtype.c_str());
  std::fprintf(f, "  \"copy_gbs\": %.6g,\n  \"gemm_tflops\": %.6g,\n  \"cases\": [", ctx.ceil.copy_gbs,
               ctx.ceil.gemm_tflops);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::fprintf(f, "%s\n    {\"name\": \"%s\", \"batch\": %d, \"s_q\": %d, \"mean_s_k\": %.6g, \"heads\": %d",
                 i ? "," : "", r.c->name.c_str(), r.c->batch, r.c->s_q, r.mean_s_k, r.c->heads);
    if (!r.skipped.empty()) {
      std::fprintf(f, ", \"skipped\": \"%s\"}", json_escape(r.skipped).c_str());
      continue;
    }
    if (!r.error.empty()) {
      std::fprintf(f, ", \"error\": \"%s\"}", json_escape(r.error).c_str());
      continue;
    }
    const double s = r.run_ms * 1e-3;
    std::fprintf(f,
                 ", \"time_ms\": %.6g, \"plan_ms\": %.6g, \"iters\": %d, \"cache_copies\": %d, \"bytes\": %.6g, "
                 "\"flops\": %.6g, \"gbs\": %.6g, \"tflops\": %.6g, \"workspace_bytes\": %zu, \"check_ok\": %s, "
                 "\"check_worst\": %.4g}",
                 r.run_ms, r.plan_ms, r.iters, r.copies, r.work.bytes, r.work.flops, r.work.bytes / s * 1e-9,
                 r.work.flops / s * 1e-12, r.workspace_bytes, r.check_ok ? "true" : "false", r.check_worst);
  }
  std::fprintf(f, "\n  ]\n}\n");
  const bool ok = std::fclose(f) == 0;
  if (!ok) error = "error writing " + path;
  return ok;
}

}  // namespace mla_bench
