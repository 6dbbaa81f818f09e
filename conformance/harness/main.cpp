// SPDX-License-Identifier: MIT
// mla-conformance: checks every usable libmla backend (or --backend NAME),
// in every configuration it offers (kernel variants; thread counts of host
// backends), against the fp64 oracle, against each other, and against the
// ABI rules.  The last line printed is "N passed, N failed, N skipped"; the
// exit status is 0 only when nothing failed (2: bad usage or no backend).
#include "backend_checks.hpp"
#include "backend_session.hpp"
#include "case_runner.hpp"
#include "catalogue.hpp"
#include "concurrency_check.hpp"
#include "device_index_check.hpp"
#include "negative_cases.hpp"
#include "plan_identity_check.hpp"
#include "results.hpp"

#include <mla/mla.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace conformance;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string backend, filter, report, suite_name = "quick", kernel, memory;
  uint64_t seed = 1;
  bool list = false;
  int device = 0, threads = 0, repeats = -1;
  uint64_t max_failures = 0;  // 0: run everything
};

// --backend NAME or NAME[kernel,t=N,invariant,dev=D] (the labels the report
// prints): the plugin's name and the configuration it asks for.
bool parse_backend(const std::string& spec, std::string& plugin, session_config& cfg, bool& has_config) {
  const size_t open = spec.find('[');
  plugin = spec.substr(0, open);
  has_config = open != std::string::npos;
  if (!has_config) return true;
  if (spec.back() != ']') return false;
  std::string inner = spec.substr(open + 1, spec.size() - open - 2);
  size_t at = 0;
  while (at <= inner.size() && !inner.empty()) {
    const size_t comma = inner.find(',', at);
    const std::string item = inner.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (item.rfind("t=", 0) == 0) cfg.num_threads = std::atoi(item.c_str() + 2);
    else if (item.rfind("dev=", 0) == 0) cfg.device = std::atoi(item.c_str() + 4);
    else if (item == "invariant") cfg.flags |= MLA_CONTEXT_BATCH_INVARIANT;
    else if (!item.empty()) cfg.kernel = item;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return true;
}

struct loaded_backend {
  std::unique_ptr<backend_session> session;
  std::string path;
  int devices = 1;           // probe's num_devices (for the multi-GPU concurrency check)
  bool primary = false;      // the plugin's first configuration: runs the per-plugin checks
  bool invariant = false;    // a batch-invariant configuration: runs the batch_invariance check
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

// The configurations whose caps claim case c (a caps skip logged for each other one).
template <class Case>  // absorbed_case, decompressed_case
std::vector<loaded_backend*> claiming(std::vector<loaded_backend>& backends, const Case& c, result_log& log) {
  std::vector<loaded_backend*> runners;
  for (loaded_backend& b : backends) {
    const std::string why = fits_caps(c, b.session->caps);
    if (why.empty()) runners.push_back(&b);
    else log.skip(b.session->name, c.name, "caps", "not claimed: " + why, c.seed);
  }
  return runners;
}

// cross_backend: each configuration's out (outputs[k], from runners[k])
// within tolerance of the first one's, where both ran.
void check_cross_backend(const std::vector<loaded_backend*>& runners, const std::vector<produced>& outputs,
                         const reference_outputs& ref, const std::string& name, uint64_t seed, result_log& log) {
  for (size_t k = 1; k < runners.size(); ++k) {
    if (!outputs[0].ok || !outputs[k].ok) continue;
    const std::string vs = "vs " + runners[0]->session->name;
    const std::string err = compare_outputs(outputs[0].out, outputs[k].out, ref, default_tolerance());
    if (err.empty()) log.pass(runners[k]->session->name, name, "cross_backend", vs, seed);
    else log.fail(runners[k]->session->name, name, "cross_backend", vs + ": " + err, seed);
  }
}

// Names of every case --filter can select (the per-backend ones by prefix).
bool filter_matches_anything(const std::string& filter, const catalogue& cat) {
  if (filter.empty()) return true;
  std::vector<std::string> names = negative_case_names();
  for (const absorbed_case& c : cat.absorbed) names.push_back(c.name);
  for (const merge_case& c : cat.merge) names.push_back(c.name);
  for (const decompressed_case& c : cat.decompressed) names.push_back(c.name);
  for (const char* prefix : {"absorbed/caps-", "device_index/", "concurrency/", "plan_identity/", "backend/"})
    names.push_back(prefix);
  for (const std::string& n : names)
    if (n.find(filter) != std::string::npos || std::string(filter).find(n) == 0) return true;
  return false;
}

// The sessions to test for one plugin: its configurations (or the one asked
// for), plus a batch-invariant one where the plugin offers the flag.
void open_configurations(const mla_plugin_entry& e, const options& opt, const session_config* asked,
                         std::vector<loaded_backend>& out, std::string& why_none) {
  mla_probe_result pr{};
  pr.struct_size = sizeof pr;
  const int devices = e.api->probe(&pr) == MLA_OK && pr.num_devices > 0 ? pr.num_devices : 1;
  std::string error;
  auto unusable = [&] {
    std::fprintf(stderr, "mla-conformance: backend %s: %s\n", e.name, error.c_str());
    why_none += std::string(e.name) + ": " + error + "; ";
  };
  session_config base;
  base.device = opt.device;
  if (opt.memory == "host") base.memory_kind = MLA_MEMORY_HOST;
  if (opt.memory == "cuda" || opt.memory == "hip") {
    base.memory_kind = MLA_MEMORY_DEVICE;
    base.device_api = opt.memory == "cuda" ? MLA_DEVICE_API_CUDA : MLA_DEVICE_API_HIP;
  }
  auto probe = open_session(e.api, base, error);
  if (!probe) {
    unusable();
    return;
  }
  std::vector<session_config> configs;
  if (asked) configs.push_back(*asked);
  else configs = configurations(probe->caps, opt.device, opt.kernel, opt.threads);
  for (session_config& c : configs) {
    c.memory_kind = base.memory_kind;
    c.device_api = base.device_api;
  }
  const bool offers_invariance =
      probe->caps.struct_size >= MLA_CAPS_SIZE_1_1 && (probe->caps.context_flags & MLA_CONTEXT_BATCH_INVARIANT);
  if (!asked && offers_invariance && !configs.empty()) {
    session_config inv = configs.front();
    inv.num_threads = probe->host_memory ? 2 : 0;
    inv.flags |= MLA_CONTEXT_BATCH_INVARIANT;
    configs.push_back(inv);
  }
  probe.reset();
  bool first = true;
  for (const session_config& c : configs) {
    auto s = open_session(e.api, c, error);
    if (!s) {
      unusable();
      continue;
    }
    loaded_backend b;
    b.invariant = (c.flags & MLA_CONTEXT_BATCH_INVARIANT) != 0;
    b.primary = first;
    first = false;
    b.devices = s->host_memory ? 1 : devices;
    b.path = e.path ? e.path : "";
    b.session = std::move(s);
    out.push_back(std::move(b));
  }
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"mla-conformance: every libmla backend against the fp64 oracle, each other and the ABI rules.\n"
               "Plugins are found by the loader (MLA_BACKEND_PATH, the loader's directory, the install dir)."};
  app.add_option("--backend", opt.backend,
                 "test only this plugin (default: every usable plugin), or one configuration of it: "
                 "NAME[kernel,t=THREADS,invariant,dev=DEVICE] as the report labels it");
  app.add_option("--suite", opt.suite_name, "quick (CI), full (adds s_k up to 65536 and H=128), stress (many seeds)")
      ->check(CLI::IsMember({"quick", "full", "stress"}));
  app.add_option("--filter", opt.filter, "run only cases whose name contains TEXT");
  app.add_option("--seed", opt.seed, "suite seed; every failure prints the command that replays it");
  app.add_flag("--list", opt.list, "print the case names and exit");
  app.add_option("--report", opt.report, "write every check's verdict as JSON to FILE");
  app.add_option("--device", opt.device, "device ordinal of GPU backends")->check(CLI::NonNegativeNumber);
  app.add_option("--max-failures", opt.max_failures,
                 "stop starting new cases after N failed checks (the current case finishes)");
  app.add_option("--repeats", opt.repeats,
                 "repeats of every case compared bit for bit with its first run (default: quick 4, full 6, "
                 "stress 12)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--kernel", opt.kernel, "test only this kernel variant (caps.kernels) of each backend");
  app.add_option("--threads", opt.threads, "test host backends only at this thread count (default 1, 2 and 3)")
      ->check(CLI::Range(1, MLA_MAX_THREADS));
  app.add_option("--memory", opt.memory,
                 "where the memory of an ABI 1.0 plugin lives (its caps cannot say): host, cuda or hip")
      ->check(CLI::IsMember({"host", "cuda", "hip"}));
  app.set_version_flag("--version", std::string("mla-conformance ") + MLA_PACKAGE_VERSION + " (ABI " +
                                        std::to_string(MLA_ABI_MAJOR) + "." + std::to_string(MLA_ABI_MINOR) + ")");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  suite_kind suite;
  parse_suite(opt.suite_name, suite);
  run_options run;
  run.repeats = opt.repeats >= 0 ? opt.repeats : suite == suite_kind::stress ? 12 : suite == suite_kind::full ? 6 : 4;
  const auto selected = [&](const std::string& name) {
    return opt.filter.empty() || name.find(opt.filter) != std::string::npos;
  };
  const catalogue cat = build_catalogue(suite, opt.seed);
  if (!filter_matches_anything(opt.filter, cat)) {
    std::fprintf(stderr, "mla-conformance: --filter '%s' matches no case (see --list)\n", opt.filter.c_str());
    return 2;
  }
  if (opt.list) {
    for (const absorbed_case& c : cat.absorbed)
      if (selected(c.name)) std::printf("%s\n", c.name.c_str());
    for (const merge_case& c : cat.merge)
      if (selected(c.name)) std::printf("%s\n", c.name.c_str());
    for (const decompressed_case& c : cat.decompressed)
      if (selected(c.name)) std::printf("%s\n", c.name.c_str());
    for (const std::string& n : negative_case_names())
      if (selected(n)) std::printf("%s\n", n.c_str());
    std::printf("(also, per backend: absorbed/caps-* at the limits its caps claim, concurrency/threads=N,\n"
                " plan_identity/alternating_workspaces, device_index/* for device-memory backends,\n"
                " backend/NAME/probe, backend/NAME/caps)\n");
    std::printf("%zu op-A cases, %zu op-C cases, %zu op-B cases in suite %s\n", cat.absorbed.size(),
                cat.merge.size(), cat.decompressed.size(), suite_label(suite));
    return 0;
  }
  if (!opt.report.empty()) {  // an unwritable report fails now, not after the run
    std::ofstream probe(opt.report, std::ios::app);
    if (!probe) {
      std::fprintf(stderr, "mla-conformance: --report %s: cannot open for writing (%s)\n", opt.report.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }

  std::string plugin_name;
  session_config asked;
  bool has_config = false;
  if (!parse_backend(opt.backend, plugin_name, asked, has_config)) {
    std::fprintf(stderr, "mla-conformance: --backend %s: expected NAME or NAME[kernel,t=N,invariant,dev=D]\n",
                 opt.backend.c_str());
    return 2;
  }
  if (has_config && asked.device == 0) asked.device = opt.device;

  // Plugins through the loader: one by name, or every usable one.
  mla_loader_options lo{};
  lo.struct_size = sizeof lo;
  lo.backend = plugin_name.empty() ? nullptr : plugin_name.c_str();
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
    std::fprintf(stderr, "plugin %s (%s): %s%s\n", e.name ? e.name : "?", e.path ? e.path : "?",
                 e.state == MLA_PLUGIN_SKIPPED ? "skipped: " : "usable",
                 e.state == MLA_PLUGIN_SKIPPED && e.reason ? e.reason : "");
    if (!e.api) continue;
    if (!plugin_name.empty() && e.api != mla_loader_api(loader)) continue;
    open_configurations(e, opt, has_config ? &asked : nullptr, backends, why_none);
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
    if (b.primary) check_probe_and_caps(*b.session, log);
  }

  // Catalogue cases: each case's data and oracle once, every configuration on it.
  progress prog(cat.absorbed.size() + cat.merge.size() + cat.decompressed.size());
  size_t done = 0;
  for (const absorbed_case& c : cat.absorbed) {
    ++done;
    if (!selected(c.name) || enough_failures()) continue;
    const std::vector<loaded_backend*> runners = claiming(backends, c, log);
    if (runners.empty()) continue;
    absorbed_images im = build_absorbed(c);
    const reference_outputs ref = oracle_for(im);
    std::vector<produced> outputs;
    for (loaded_backend* b : runners) {
      const auto t0 = clock_type::now();
      outputs.push_back(run_absorbed_case(*b->session, im, ref, run, log));
      if (b->invariant) check_batch_invariance(*b->session, im, outputs.back(), log);
      log.add_time(b->session->name, seconds_since(t0));
    }
    check_cross_backend(runners, outputs, ref, c.name, c.seed, log);
    prog.tick(done, log.count(verdict::fail));
  }
  for (const merge_case& c : cat.merge) {
    ++done;
    if (!selected(c.name) || enough_failures()) continue;
    const merge_images im = build_merge(c);
    const reference_outputs ref = oracle_for(im);
    std::vector<loaded_backend*> runners;
    std::vector<produced> outputs;
    for (loaded_backend& b : backends) {
      if (!b.primary) continue;  // op C has no kernel variants or thread-dependent splits
      const std::string why = fits_caps(c, b.session->caps);
      if (!why.empty()) {
        log.skip(b.session->name, c.name, "caps", "not claimed: " + why, c.seed);
        continue;
      }
      const auto t0 = clock_type::now();
      runners.push_back(&b);
      outputs.push_back(run_merge_case(*b.session, im, ref, run, log));
      log.add_time(b.session->name, seconds_since(t0));
    }
    check_cross_backend(runners, outputs, ref, c.name, c.seed, log);
    prog.tick(done, log.count(verdict::fail));
  }

  // Op B: each case's data and oracle once, every configuration on it; the
  // other modes on every configuration, the A<->B identity on the first.
  for (const decompressed_case& c : cat.decompressed) {
    ++done;
    if (!selected(c.name) || enough_failures()) continue;
    const std::vector<loaded_backend*> runners = claiming(backends, c, log);
    if (runners.empty()) continue;
    decompressed_images im = build_decompressed(c);
    const reference_outputs ref = oracle_for(im);
    std::vector<produced> outputs;
    for (loaded_backend* b : runners) {
      const auto t0 = clock_type::now();
      outputs.push_back(run_decompressed_case(*b->session, im, ref, run, log));
      if (b->invariant) check_batch_invariance(*b->session, im, outputs.back(), log);
      check_modes_and_identity(*b->session, im, ref, outputs.back(), b->primary, log);
      log.add_time(b->session->name, seconds_since(t0));
    }
    check_cross_backend(runners, outputs, ref, c.name, c.seed, log);
    prog.tick(done, log.count(verdict::fail));
  }

  // Per plugin (on its first configuration): its caps limits, the ABI's
  // negative cases, device-side index checks, the plan-identity rule and
  // concurrency.
  for (loaded_backend& b : backends) {
    if (enough_failures()) break;
    if (!b.primary) continue;
    backend_session& s = *b.session;
    const auto t0 = clock_type::now();
    for (absorbed_case c : caps_edge_cases(s.caps, opt.seed)) {
      if (!selected(c.name)) continue;
      absorbed_images im = build_absorbed(c);
      run_absorbed_case(s, im, oracle_for(im), run, log);
    }
    run_negative_cases(s, opt.seed, log, selected);
    run_device_index_cases(s, opt.seed, log, selected);
    std::vector<absorbed_case> small;
    for (const absorbed_case& c : cat.absorbed)
      if (small.size() < 6 && fits_caps(c, s.caps).empty() && oracle_cost(c) > 0 && oracle_cost(c) < 5e6)
        small.push_back(c);
    if (selected("plan_identity/alternating_workspaces")) run_plan_identity_check(s, small, log);
    const int threads = suite == suite_kind::stress ? 16 : 8;
    const int rounds = suite == suite_kind::stress ? 20 : 3;
    const std::string cname = "concurrency/threads=" + std::to_string(threads);
    if (selected(cname)) {
      session_config cfg = s.config;
      if (s.host_memory) cfg.num_threads = 2;  // every context itself parallel
      run_concurrency_check(s.api, cfg, b.devices, small, threads, rounds, s.name, cname, log);
    }
    log.add_time(s.name, seconds_since(t0));
  }
  const double wall = seconds_since(run_start);
  if (enough_failures())
    std::printf("stopped early: %llu failed checks reached (--max-failures)\n", (unsigned long long)opt.max_failures);

  log.print_summary(stdout);
  std::printf("\nsuite %s, seed %llu, %d repeats per case: %.1f s wall\n", suite_label(suite),
              (unsigned long long)opt.seed, run.repeats, wall);
  int status = log.count(verdict::fail) ? 1 : 0;
  if (!opt.report.empty()) {
    std::string error;
    if (!log.write_json(opt.report, error)) {
      std::fprintf(stderr, "mla-conformance: %s\n", error.c_str());
      status = 2;
    }
  }
  backends.clear();  // contexts go before the loader unloads the plugins
  mla_loader_close(loader);
  const size_t passed = log.count(verdict::pass), failed = log.count(verdict::fail), skipped = log.count(verdict::skip);
  std::printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  return status;
}
