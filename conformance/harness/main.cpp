// mla-conformance: checks every usable libmla backend (or --backend NAME)
// against the fp64 oracle, against each other, and against the ABI rules.
// The last line printed is "N passed, N failed, N skipped"; the exit status
// is 0 only when nothing failed.
#include "backend_checks.hpp"
#include "backend_session.hpp"
#include "case_runner.hpp"
#include "catalogue.hpp"
#include "concurrency_check.hpp"
#include "device_index_check.hpp"
#include "negative_cases.hpp"
#include "results.hpp"

#include <mla/mla.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace conformance;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string backend, filter, report, suite_name = "quick";
  uint64_t seed = 1;
  bool list = false;
  int device = 0;
  uint64_t max_failures = 0;  // 0: run everything
};

void usage(std::FILE* f) {
  std::fprintf(f,
               "usage: mla-conformance [--backend NAME] [--suite quick|full|stress] [--filter TEXT]\n"
               "                       [--seed N] [--list] [--report FILE.json] [--device N]\n"
               "  --backend NAME   test only this plugin (default: every usable plugin the loader finds)\n"
               "  --suite          quick (CI), full (adds s_k up to 65536 and H=128), stress (many seeds)\n"
               "  --filter TEXT    run only cases whose name contains TEXT\n"
               "  --seed N         suite seed; every failure prints the command that replays it\n"
               "  --list           print the case names and exit\n"
               "  --report FILE    write every check's verdict as JSON\n"
               "  --max-failures N stop starting new cases after N failed checks (the current case finishes)\n"
               "Plugins are found by the loader (MLA_BACKEND_PATH, the loader's directory, the install dir).\n");
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mla-conformance: %s needs a value\n", a.c_str());
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--backend") {
      if (!value(o.backend)) return false;
    } else if (a == "--suite") {
      if (!value(o.suite_name)) return false;
    } else if (a == "--filter") {
      if (!value(o.filter)) return false;
    } else if (a == "--report") {
      if (!value(o.report)) return false;
    } else if (a == "--seed" || a == "--device" || a == "--max-failures") {
      if (!value(v)) return false;
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end) {
        std::fprintf(stderr, "mla-conformance: %s %s: not a number\n", a.c_str(), v.c_str());
        return false;
      }
      if (a == "--seed") o.seed = n;
      else if (a == "--device") o.device = (int)n;
      else o.max_failures = n;
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "mla-conformance: unknown argument %s\n", a.c_str());
      usage(stderr);
      return false;
    }
  }
  return true;
}

struct loaded_backend {
  std::unique_ptr<backend_session> session;
  std::string path;
};

// Progress on stderr every few seconds for long runs.
class progress {
 public:
  explicit progress(size_t total) : total_(total), start_(clock_type::now()), last_(start_) {}
  void tick(size_t done, size_t failed) {
    const auto now = clock_type::now();
    if (now - last_ < std::chrono::seconds(3)) return;
    last_ = now;
    std::fprintf(stderr, "  ... %zu/%zu cases, %zu failed checks, %.0f s\n", done, total_, failed,
                 std::chrono::duration<double>(now - start_).count());
  }

 private:
  size_t total_;
  clock_type::time_point start_, last_;
};

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) return 2;
  suite_kind suite;
  if (!parse_suite(opt.suite_name, suite)) {
    std::fprintf(stderr, "mla-conformance: unknown suite '%s' (quick, full, stress)\n", opt.suite_name.c_str());
    return 2;
  }
  const auto selected = [&](const std::string& name) {
    return opt.filter.empty() || name.find(opt.filter) != std::string::npos;
  };
  const catalogue cat = build_catalogue(suite, opt.seed);
  if (opt.list) {
    for (const absorbed_case& c : cat.absorbed)
      if (selected(c.name)) std::printf("%s\n", c.name.c_str());
    for (const merge_case& c : cat.merge)
      if (selected(c.name)) std::printf("%s\n", c.name.c_str());
    for (const std::string& n : negative_case_names())
      if (selected(n)) std::printf("%s\n", n.c_str());
    std::printf("(also, per backend: absorbed/caps-* at the limits its caps claim, concurrency/threads=N,\n"
                " device_index/* for device-memory backends, backend/NAME/probe, backend/NAME/caps)\n");
    std::printf("%zu op-A cases, %zu op-C cases in suite %s\n", cat.absorbed.size(), cat.merge.size(),
                suite_label(suite));
    return 0;
  }

  // Plugins through the loader: one by name, or every usable one.
  mla_loader_options lo{};
  lo.struct_size = sizeof lo;
  lo.backend = opt.backend.empty() ? nullptr : opt.backend.c_str();
  mla_loader* loader = nullptr;
  if (mla_loader_open(&lo, &loader) != MLA_OK || !loader) {
    std::fprintf(stderr, "mla-conformance: mla_loader_open failed\n");
    std::printf("0 passed, 1 failed\n");
    return 2;
  }
  std::vector<loaded_backend> backends;
  std::string why_none;
  const int32_t count = mla_loader_plugin_count(loader);
  for (int32_t i = 0; i < count; ++i) {
    mla_plugin_entry e{};
    e.struct_size = sizeof e;
    if (mla_loader_plugin(loader, i, &e) != MLA_OK) continue;
    std::fprintf(stderr, "plugin %s (%s): %s%s%s\n", e.name ? e.name : "?", e.path ? e.path : "?",
                 e.state == MLA_PLUGIN_SKIPPED ? "skipped: " : "usable",
                 e.state == MLA_PLUGIN_SKIPPED && e.reason ? e.reason : "", "");
    if (!e.api) continue;
    if (!opt.backend.empty() && e.api != mla_loader_api(loader)) continue;
    std::string error;
    auto s = open_session(e.api, opt.device, 0, error);
    if (!s) {
      std::fprintf(stderr, "mla-conformance: backend %s: %s\n", e.name, error.c_str());
      why_none += std::string(e.name) + ": " + error + "; ";
      continue;
    }
    backends.push_back({std::move(s), e.path ? e.path : ""});
  }
  result_log log(suite_label(suite), opt.seed,
                 std::string("mla-conformance --suite ") + suite_label(suite) + " --seed " + std::to_string(opt.seed));
  if (backends.empty()) {
    std::fprintf(stderr, "mla-conformance: no usable backend%s%s %s\n", opt.backend.empty() ? "" : " named ",
                 opt.backend.c_str(), mla_loader_error(loader));
    if (!why_none.empty()) std::fprintf(stderr, "  %s\n", why_none.c_str());
    mla_loader_close(loader);
    std::printf("0 passed, 1 failed\n");
    return 2;
  }
  const auto run_start = clock_type::now();
  const auto enough_failures = [&] { return opt.max_failures && log.count(verdict::fail) >= opt.max_failures; };
  for (loaded_backend& b : backends) {
    std::fprintf(stderr, "testing %s: %s\n", b.session->name.c_str(), b.session->caps.device_name);
    log.add_backend_info(b.session->name, backend_info_json(*b.session, b.path));
    check_probe_and_caps(*b.session, log);
  }

  // Catalogue cases: each case's data and oracle once, every backend on it.
  progress prog(cat.absorbed.size() + cat.merge.size());
  size_t done = 0;
  for (const absorbed_case& c : cat.absorbed) {
    ++done;
    if (!selected(c.name) || enough_failures()) continue;
    std::vector<backend_session*> runners;
    for (loaded_backend& b : backends) {
      const std::string why = fits_caps(c, b.session->caps);
      if (why.empty()) runners.push_back(b.session.get());
      else log.skip(b.session->name, c.name, "caps", "not claimed: " + why, c.seed);
    }
    if (runners.empty()) continue;
    absorbed_images im = build_absorbed(c);
    const reference_outputs ref = oracle_for(im);
    std::vector<produced> outputs;
    for (backend_session* s : runners) {
      const auto t0 = clock_type::now();
      outputs.push_back(run_absorbed_case(*s, im, ref, log));
      log.add_time(s->name, seconds_since(t0));
    }
    for (size_t k = 1; k < runners.size(); ++k) {
      if (!outputs[0].ok || !outputs[k].ok) continue;
      const std::string err = compare_outputs(outputs[0].out, outputs[k].out, ref, default_tolerance());
      if (err.empty()) log.pass(runners[k]->name, c.name, "cross_backend", "vs " + runners[0]->name, c.seed);
      else log.fail(runners[k]->name, c.name, "cross_backend", "vs " + runners[0]->name + ": " + err, c.seed);
    }
    prog.tick(done, log.count(verdict::fail));
  }
  for (const merge_case& c : cat.merge) {
    ++done;
    if (!selected(c.name) || enough_failures()) continue;
    const merge_images im = build_merge(c);
    const reference_outputs ref = oracle_for(im);
    std::vector<std::pair<backend_session*, produced>> outputs;
    for (loaded_backend& b : backends) {
      const std::string why = fits_caps(c, b.session->caps);
      if (!why.empty()) {
        log.skip(b.session->name, c.name, "caps", "not claimed: " + why, c.seed);
        continue;
      }
      const auto t0 = clock_type::now();
      outputs.emplace_back(b.session.get(), run_merge_case(*b.session, im, ref, log));
      log.add_time(b.session->name, seconds_since(t0));
    }
    for (size_t k = 1; k < outputs.size(); ++k) {
      if (!outputs[0].second.ok || !outputs[k].second.ok) continue;
      const std::string err = compare_outputs(outputs[0].second.out, outputs[k].second.out, ref, default_tolerance());
      const std::string vs = "vs " + outputs[0].first->name;
      if (err.empty()) log.pass(outputs[k].first->name, c.name, "cross_backend", vs, c.seed);
      else log.fail(outputs[k].first->name, c.name, "cross_backend", vs + ": " + err, c.seed);
    }
    prog.tick(done, log.count(verdict::fail));
  }

  // Per backend: its caps limits, the ABI's negative cases, device-side
  // index checks, and concurrency.
  for (loaded_backend& b : backends) {
    if (enough_failures()) break;
    backend_session& s = *b.session;
    const auto t0 = clock_type::now();
    for (absorbed_case c : caps_edge_cases(s.caps, opt.seed)) {
      if (!selected(c.name)) continue;
      absorbed_images im = build_absorbed(c);
      run_absorbed_case(s, im, oracle_for(im), log);
    }
    run_negative_cases(s, opt.seed, log, selected);
    run_device_index_cases(s, opt.seed, log, selected);
    const int threads = suite == suite_kind::stress ? 16 : 8;
    const int rounds = suite == suite_kind::stress ? 20 : 3;
    const std::string cname = "concurrency/threads=" + std::to_string(threads);
    if (selected(cname)) {
      std::vector<absorbed_case> small;
      for (const absorbed_case& c : cat.absorbed)
        if (small.size() < 6 && fits_caps(c, s.caps).empty() && oracle_cost(c) > 0 && oracle_cost(c) < 5e6)
          small.push_back(c);
      run_concurrency_check(s.api, opt.device, small, threads, rounds, cname, log);
    }
    log.add_time(s.name, seconds_since(t0));
  }
  const double wall = seconds_since(run_start);
  if (enough_failures())
    std::printf("stopped early: %llu failed checks reached (--max-failures)\n", (unsigned long long)opt.max_failures);

  log.print_summary(stdout);
  std::printf("\nsuite %s, seed %llu: %.1f s wall\n", suite_label(suite), (unsigned long long)opt.seed, wall);
  if (!opt.report.empty()) {
    std::string error;
    if (!log.write_json(opt.report, error)) std::fprintf(stderr, "mla-conformance: %s\n", error.c_str());
  }
  backends.clear();  // contexts go before the loader unloads the plugins
  mla_loader_close(loader);
  const size_t passed = log.count(verdict::pass), failed = log.count(verdict::fail), skipped = log.count(verdict::skip);
  std::printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
