// SPDX-License-Identifier: MIT
// The cpu plugin unloads cleanly: loader open -> context -> op A and op C on
// the plugin's own threads -> context destroy -> mla_loader_close, many
// times, with the workers just idle (still polling, or asleep) at the
// close.  After each close the plugin file is no longer mapped (dlopen with
// RTLD_NOLOAD finds nothing): it was really unloaded, and none of its
// threads is left to run unmapped code.
#include "absorbed_case.hpp"

#include <mla/mla.h>

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <dlfcn.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#ifndef MLA_CPU_PLUGIN_DIR
#error "MLA_CPU_PLUGIN_DIR must be the directory of libmla_backend_cpu.so"
#endif

using namespace cpu_test;

namespace {

bool plugin_mapped() {
  void* h = dlopen(MLA_CPU_PLUGIN_PATH, RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h);
  return h != nullptr;
}

// One host session; "" when every call succeeded.
std::string session(int round) {
  mla_loader_options opt{};
  opt.struct_size = sizeof opt;
  opt.backend = "cpu";
  opt.search_path = MLA_CPU_PLUGIN_DIR;
  opt.ignore_environment = 1;
  mla_loader* loader = nullptr;
  if (mla_loader_open(&opt, &loader) != MLA_OK) return "mla_loader_open failed";
  const mla_api* api = mla_loader_api(loader);
  if (!api) {
    std::string why = mla_loader_error(loader);
    mla_loader_close(loader);
    return "no cpu plugin: " + why;
  }
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.num_threads = 2 + round % 3;  // 1..3 workers beside the caller
  mla_context* ctx = nullptr;
  std::string bad;
  if (api->context_create(&desc, &ctx) != MLA_OK) bad = std::string("context_create: ") + api->last_error();

  case_spec s;  // a decode step: every task has items
  s.seed = 900 + round;
  s.heads = 16;
  s.s_q = {1, 1, 1};
  s.s_k = {600, 300, 900};
  s.page_size = 64;
  absorbed_case c(s);
  size_t ws = 0;
  if (bad.empty() && api->absorbed_workspace_size(ctx, &c.args, &ws) != MLA_OK) bad = api->last_error();
  if (bad.empty()) c.set_workspace(ws);
  if (bad.empty() && api->absorbed_plan(ctx, &c.args) != MLA_OK) bad = api->last_error();
  for (int layer = 0; layer < 3 && bad.empty(); ++layer)
    if (api->absorbed_run(ctx, &c.args) != MLA_OK) bad = api->last_error();
  if (bad.empty()) bad = c.check();

  // Op C on the same threads (an out-of-place merge of two equal parts).
  const int R = 8, H = 16, Dv = 512;
  std::vector<float> parts(2 * R * H * Dv, 0.5f), lse(2 * R * H, 1.0f), out(R * H * Dv), out_lse(R * H);
  mla_merge_args m{};
  m.struct_size = sizeof m;
  m.num_parts = 2, m.num_rows = R, m.num_heads = H, m.head_dim = Dv;
  m.parts_out = {sizeof(mla_tensor), parts.data(), MLA_DTYPE_F32, 0, {R * H * Dv, H * Dv, Dv, 1}};
  m.parts_lse = {sizeof(mla_tensor), lse.data(), MLA_DTYPE_F32, 0, {R * H, H, 1, 0}};
  m.out = {sizeof(mla_tensor), out.data(), MLA_DTYPE_F32, 0, {H * Dv, Dv, 1, 0}};
  m.lse = {sizeof(mla_tensor), out_lse.data(), MLA_DTYPE_F32, 0, {H, 1, 0, 0}};
  if (bad.empty() && api->merge_states(ctx, &m) != MLA_OK) bad = api->last_error();
  if (bad.empty() && (out[0] != 0.5f || std::fabs(out_lse[0] - 1.6931472f) > 1e-6f)) bad = "merge_states: wrong result";

  // Close while the workers idle: at once, or after they went to sleep.
  if (round % 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  api->context_destroy(ctx);
  mla_loader_close(loader);
  return bad;
}

}  // namespace

TEST_CASE("unload: loader open / run / close in a loop, the plugin unmapped after each close") {
  REQUIRE(!plugin_mapped());
  for (int round = 0; round < 40; ++round) {
    INFO("round ", round);
    REQUIRE(session(round) == "");
    REQUIRE(!plugin_mapped());
  }
}
