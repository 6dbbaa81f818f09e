// mla-bench: the standard shapes (/work/shared/bench/shapes.md) on the
// backend the loader selects, each result as a fraction of the ceilings.
//
//   mla-bench [--backend cpu] [--cases C1,C2,C3] [--dtype bf16] [--iters N]
//             [--repeats N] [--ceilings FILE] [--json FILE] [--list]
//
// The markdown table goes to stdout, progress to stderr.  Exit status: 0 all
// cases ran (op-B cases are listed as skipped), 1 a case failed or its output
// did not match the oracle sample, 2 a bad option or no usable backend.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backend_session.hpp"
#include "bench_cases.hpp"
#include "bench_report.hpp"
#include "bench_run.hpp"
#include "ceilings.hpp"
#include "dtype_convert.hpp"

namespace {

using namespace mla_bench;

struct bench_options {
  std::string backend, cases, ceilings_file, json_file;
  int device = 0;
  bool list = false;
  bench_settings settings;
};

void usage(FILE* f) {
  std::fprintf(f,
               "usage: mla-bench [options]\n"
               "  --backend NAME    plugin name, list or auto (default: $MLA_BACKEND, else auto)\n"
               "  --device N        GPU ordinal (default 0)\n"
               "  --cases LIST      comma-separated case names (default: C1-C5 on cpu, D1-D10,P1-P7 else)\n"
               "                    or shapes B<batch>xQ<s_q>xK<s_k>xH<heads> (page 64, causal, like the D cases)\n"
               "  --list            print the cases and exit\n"
               "  --dtype T         bf16 | f16 | f32 for q, cache and out (default bf16)\n"
               "  --iters N         launches per timed repeat (default: enough for ~200 ms)\n"
               "  --repeats N       timed repeats, the median is reported (default 5)\n"
               "  --ceilings FILE   copy_gbs=<x> / gemm_tflops=<y> lines; without copy_gbs the copy\n"
               "                    bandwidth is measured in this run\n"
               "  --json FILE       also write the results as JSON\n"
               "  --seed N          data seed (default 1)\n");
}

bool to_int(const char* s, int lo, int& out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!s[0] || *end || v < lo || v > 100000000) return false;
  out = (int)v;
  return true;
}

int parse(int argc, char** argv, bench_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(stdout), 1;
    if (a == "--list") {
      o.list = true;
      continue;
    }
    if (i + 1 >= argc) return std::fprintf(stderr, "mla-bench: %s needs a value (or is unknown)\n", a.c_str()), 2;
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--backend") o.backend = v;
    else if (a == "--device") ok = to_int(v, 0, o.device);
    else if (a == "--cases") o.cases = v;
    else if (a == "--dtype") ok = (o.settings.dtype = mla_tools::parse_dtype(v)) != MLA_DTYPE_INVALID;
    else if (a == "--iters") ok = to_int(v, 1, o.settings.iters);
    else if (a == "--repeats") ok = to_int(v, 1, o.settings.repeats);
    else if (a == "--ceilings") o.ceilings_file = v;
    else if (a == "--json") o.json_file = v;
    else if (a == "--seed") o.settings.seed = std::strtoull(v, nullptr, 10);
    else return std::fprintf(stderr, "mla-bench: unknown option %s\n", a.c_str()), usage(stderr), 2;
    if (!ok) return std::fprintf(stderr, "mla-bench: bad value '%s' for %s\n", v, a.c_str()), 2;
  }
  return 0;
}

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
  int n = 0;
  if (env && to_int(env, 1, n)) return n;
  return (int)std::max(1u, std::thread::hardware_concurrency());
}

int run(const bench_options& o) {
  std::string error;
  std::vector<const bench_case*> cases;
  std::deque<bench_case> custom;  // stable addresses for shapes named on the command line
  const bool names_given = !o.cases.empty();
  std::stringstream list(o.cases);
  for (std::string name; names_given && std::getline(list, name, ',');) {
    const bench_case* c = find_case(name);
    bench_case shape;
    if (!c && parse_shape_name(name, shape)) c = &custom.emplace_back(shape);
    if (!c)
      return std::fprintf(stderr,
                          "mla-bench: unknown case '%s' (see --list; or a shape such as B16xQ1xK32768xH16)\n",
                          name.c_str()),
             2;
    cases.push_back(c);
  }

  auto session = mla_tools::backend_session::open(o.backend, o.device, error);
  if (!session) return std::fprintf(stderr, "mla-bench: %s\n", error.c_str()), 2;
  const bool host = session->memory().name() == "host";
  if (!names_given)
    for (const auto& c : all_cases())
      if ((c.name[0] == 'C') == host) cases.push_back(&c);

  report_context ctx;
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
  print_markdown(stdout, ctx, results);
  if (!o.json_file.empty() && !write_json(o.json_file, ctx, results, error))
    return std::fprintf(stderr, "mla-bench: %s\n", error.c_str()), 1;
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bench_options o;
  const int p = parse(argc, argv, o);
  if (p != 0) return p == 1 ? 0 : 2;
  if (o.list) return print_list(), 0;
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mla-bench: error: %s\n", e.what());
    return 2;
  }
}
