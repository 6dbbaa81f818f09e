// SPDX-License-Identifier: MIT
// mla-bench: the standard shapes (docs/shapes.md) on the backend the loader
// selects, each result as a fraction of the ceilings.
//
//   mla-bench [--backend cpu] [--cases C1,C2,C3] [--dtype bf16] [--iters N]
//             [--repeats N] [--ceilings FILE] [--json FILE] [--list] ...
//             (mla-bench --help lists every option)
//
// The markdown table goes to stdout, progress to stderr.  Exit status: 0 all
// cases ran (op-B cases are listed as skipped on plugins without op B), 1 a
// case failed or its output did not match the oracle sample, 2 a bad option
// or no usable backend.  --seed-table and --break-even add op B's tables.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "backend_session.hpp"
#include "bench_cases.hpp"
#include "bench_options.hpp"
#include "bench_plot.hpp"
#include "bench_report.hpp"
#include "bench_run.hpp"
#include "bench_seed_table.hpp"
#include "ceilings.hpp"
#include "dtype_convert.hpp"
#include "tool_cli.hpp"

namespace {

using namespace mla_bench;

void print_list() {
  std::printf("| name | op | B | s_q | s_k | H | note |\n|---|---|---|---|---|---|---|\n");
  for (const auto& c : all_cases())
    std::printf("| %s | %s | %d | %d | %s | %d | %s |\n", c.name.c_str(),
                c.op == bench_op::absorbed ? "absorbed" : "decompressed (ABI 1.1)", c.batch, c.s_q,
                c.ragged_d10 ? "N(8192,4096) in [1,32768], seed 0" : std::to_string(c.s_k).c_str(), c.heads,
                c.note.c_str());
}

// The threads the cpu plugin uses by default (OMP_NUM_THREADS, else all).
int host_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  char* end = nullptr;
  const long n = env ? std::strtol(env, &end, 10) : 0;
  if (env && *env && !*end && n >= 1 && n <= MLA_MAX_THREADS) return (int)n;
  return (int)std::max(1u, std::thread::hardware_concurrency());
}

// The commit measured: $MLA_COMMIT, else `git describe` of the source tree
// when the build was configured.
std::string run_commit() {
  const char* env = std::getenv("MLA_COMMIT");
  if (env && *env) return env;
  return MLA_GIT_DESCRIBE;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int run(const bench_options& o) {
  std::string error;
  // Output files are checked before the first case runs (which can take minutes).
  if (!o.json_file.empty() && !(error = mla_tools::check_writable(o.json_file)).empty())
    return std::fprintf(stderr, "mla-bench: --json %s\n", error.c_str()), 2;
  plotter plot;
  if (!o.plot_file.empty()) {
    if (!(error = mla_tools::check_writable(o.plot_file)).empty())
      return std::fprintf(stderr, "mla-bench: --plot %s\n", error.c_str()), 2;
    if (!(error = find_plotter(plot)).empty()) return std::fprintf(stderr, "mla-bench: --plot: %s\n", error.c_str()), 2;
  }
  std::vector<bench_case> custom;
  std::vector<const bench_case*> cases = named_cases(o, custom);
  const bool names_given = !cases.empty();

  const uint32_t flags = o.batch_invariant ? MLA_CONTEXT_BATCH_INVARIANT : 0u;
  auto session = mla_tools::backend_session::open(o.backend, o.device, error, flags, o.kernel);
  if (!session) return std::fprintf(stderr, "mla-bench: %s\n", error.c_str()), 2;
  const bool host = session->memory().name() == "host";
  const bool tables_only = !names_given && (o.seed_table || o.break_even_prefix > 0);
  if (!names_given && !tables_only)
    for (const auto& c : all_cases())
      if ((c.name[0] == 'C') == host) cases.push_back(&c);

  report_context ctx;
  ctx.version = std::string(MLA_PACKAGE_VERSION) + " (ABI " + std::to_string(MLA_ABI_MAJOR) + "." +
                std::to_string(MLA_ABI_MINOR) + ")";
  ctx.commit = run_commit();
  ctx.date = utc_now();
  ctx.threads = host ? host_threads() : 0;
  ctx.kernel = o.kernel;
  ctx.batch_invariant = o.batch_invariant;
  ctx.backend = session->name();
  ctx.device = session->caps().device_name;
  ctx.dtype = mla_tools::dtype_label(o.settings.dtype);
  ctx.host_backend = host;
  if (!o.ceilings_file.empty() && !read_ceilings_file(o.ceilings_file, ctx.ceil, error))
    return std::fprintf(stderr, "mla-bench: --ceilings: %s\n", error.c_str()), 2;
  if (ctx.ceil.copy_gbs <= 0) {
    std::fprintf(stderr, "[bench] measuring the copy bandwidth ceiling...\n");
    try {
      if (host) {
        const int threads = host_threads();
        ctx.ceil.copy_gbs = measure_host_copy_gbs(size_t(256) << 20, threads, 5);
        ctx.ceil.copy_source = "measured: " + std::to_string(threads) + "-thread memcpy of 256 MiB, read+write";
      } else {
        ctx.ceil.copy_gbs = measure_backend_copy_gbs(session->memory(), size_t(1) << 30, 5);
        ctx.ceil.copy_source = "measured: device-to-device copy of 1 GiB, read+write";
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "[bench] copy ceiling not measured: %s\n", e.what());
    }
  }
  for (const bench_case* c : cases)
    if (host && c->name[0] == 'D') {
      std::fprintf(stderr, "[bench] warning: D-shapes on a host backend are slow (minutes each) and need GBs of memory\n");
      break;
    }

  std::vector<bench_result> results;
  bool all_ok = true;
  for (const bench_case* c : cases) {
    std::fprintf(stderr, "[bench] %s: B=%d s_q=%d s_k=%s H=%d ... ", c->name.c_str(), c->batch, c->s_q,
                 c->ragged_d10 ? "ragged" : std::to_string(c->s_k).c_str(), c->heads);
    std::fflush(stderr);
    bench_result r;
    try {
      r = run_case(*session, *c, o.settings);
    } catch (const std::exception& e) {
      r.c = c;
      r.error = e.what();
    }
    if (!r.skipped.empty()) std::fprintf(stderr, "skipped: %s\n", r.skipped.c_str());
    else if (!r.error.empty()) std::fprintf(stderr, "error: %s\n", r.error.c_str());
    else
      std::fprintf(stderr, "%.4g ms (%d iters x %d repeats, %d cache copies), check %s\n", r.run_ms, r.iters,
                   o.settings.repeats, r.copies, r.check_ok ? "ok" : ("MISMATCH: " + r.check_detail).c_str());
    if (!r.error.empty() || (r.skipped.empty() && !r.check_ok)) all_ok = false;
    results.push_back(r);
  }
  if (!results.empty() || !tables_only) print_markdown(stdout, ctx, results);
  if (o.seed_table) {
    std::vector<seed_row> rows;
    if (!run_seed_table(*session, o.settings, o.seed_table_sizes, o.seed_table_heads, stdout, rows, error)) {
      std::fprintf(stderr, "mla-bench: --seed-table: %s\n", error.c_str());
      all_ok = false;
    }
  }
  if (o.break_even_prefix > 0 && find_break_even(*session, o.settings, o.break_even_prefix, o.seed_table_heads, stdout, error) < 0) {
    std::fprintf(stderr, "mla-bench: --break-even: %s\n", error.c_str());
    all_ok = false;
  }
  if (!o.json_file.empty() && !write_json(o.json_file, ctx, results, error))
    return std::fprintf(stderr, "mla-bench: %s\n", error.c_str()), 1;
  if (!o.plot_file.empty()) {  // the plotter reads the JSON: --json's file, or a temporary one
    std::string json = o.json_file;
    if (json.empty()) {
      char name[] = "/tmp/mla-bench-XXXXXX.json";
      const int fd = mkstemps(name, 5);
      if (fd < 0) return std::fprintf(stderr, "mla-bench: --plot: no temporary file\n"), 1;
      close(fd);
      json = name;
      if (!write_json(json, ctx, results, error)) return std::fprintf(stderr, "mla-bench: %s\n", error.c_str()), 1;
    }
    std::fflush(stdout);
    std::fprintf(stderr, "[bench] plotting with %s %s\n", plot.python.c_str(), plot.script.c_str());
    error = run_plotter(plot, json, o.plot_file);
    if (o.json_file.empty()) std::remove(json.c_str());
    if (!error.empty()) return std::fprintf(stderr, "mla-bench: --plot: %s\n", error.c_str()), 1;
  }
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bench_options o;
  CLI::App app;
  add_bench_options(app, o);
  mla_tools::add_version_flag(app, "mla-bench");
  const int parsed = mla_tools::parse_command_line(app, "mla-bench", argc, argv);
  if (parsed >= 0) return parsed;
  finish_options(o);
  if (o.list) return print_list(), 0;
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mla-bench: error: %s\n", e.what());
    return 2;
  }
}
