// SPDX-License-Identifier: MIT
// libmla_backend_planted.so: a TEST-ONLY plugin (never installed) that
// proves the conformance harness can fail.  A small correct host
// implementation plus one bug chosen by MLA_PLANTED_BUG:
//   none | drop_last_page | wrong_scale | read_past_seqlen | write_past_output |
//   wrong_lse | ignore_strides | nondeterministic | bf16_weights | data_race |
//   batch_variant | one_plan | opb_no_rope | opb_auto_inverted
#include "planted_attention.hpp"
#include "planted_bugs.hpp"

#include <common/plugin_skeleton.hpp>

#include <mla/mla_plugin.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

struct mla_context : mla::context_base {
  int threads = 1;
  unsigned runs = 0;
  const void* last_planned = nullptr;  // for bug::one_plan
  char device_name[128] = {0};
};

namespace planted {

bug active_bug() {
  static const bug chosen = [] {
    const char* v = std::getenv("MLA_PLANTED_BUG");
    const std::string s = v ? v : "none";
    if (s == "none") return bug::none;
    if (s == "drop_last_page") return bug::drop_last_page;
    if (s == "wrong_scale") return bug::wrong_scale;
    if (s == "read_past_seqlen") return bug::read_past_seqlen;
    if (s == "write_past_output") return bug::write_past_output;
    if (s == "wrong_lse") return bug::wrong_lse;
    if (s == "ignore_strides") return bug::ignore_strides;
    if (s == "nondeterministic") return bug::nondeterministic;
    if (s == "bf16_weights") return bug::bf16_weights;
    if (s == "data_race") return bug::data_race;
    if (s == "batch_variant") return bug::batch_variant;
    if (s == "one_plan") return bug::one_plan;
    if (s == "opb_no_rope") return bug::opb_no_rope;
    if (s == "opb_auto_inverted") return bug::opb_auto_inverted;
    return bug::unknown;
  }();
  return chosen;
}

const char* active_bug_text() {
  const char* v = std::getenv("MLA_PLANTED_BUG");
  return v ? v : "none";
}

}  // namespace planted

namespace {

mla::backend_limits limits() {
  mla::backend_limits l;
  l.q_dtypes = l.cache_dtypes = l.out_dtypes =
      MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  l.max_heads = 4096;
  l.max_latent_dim = 4096;
  l.max_rope_dim = 1024;
  l.latent_dim_multiple = 1;
  l.max_page_size = INT_MAX;
  l.weight_dtypes = l.q_dtypes;  // op B
  l.max_nope_dim = 1024;
  l.max_v_dim = 1024;
  return l;
}

struct planted_backend {
  static constexpr const char* kName = "planted";
  static constexpr const char* kVersion = "1.1.0-test";
  static constexpr uint64_t kContextTag = 0x544e414c50504340ull;  // "@CPPLANT"
  static constexpr bool kDecompressed = true;
  static constexpr int32_t kBreakEvenQ = 64;  // op B AUTO: a round number, so the catalogue has both sides

  static uint32_t context_flags() { return MLA_CONTEXT_BATCH_INVARIANT; }

  static mla_status probe(mla_probe_result& r) {
    const bool known = planted::active_bug() != planted::bug::unknown;
    r.usable = known ? 1 : 0;
    r.score = 1;  // never preferred by MLA_BACKEND=auto
    r.num_devices = 1;
    std::snprintf(r.reason, sizeof r.reason, "%s MLA_PLANTED_BUG=%s (test-only plugin)",
                  known ? "host," : "unusable: unknown", planted::active_bug_text());
    return MLA_OK;
  }

  static mla_status create(const mla::context_config& cfg, mla_context** ctx) {
    if (planted::active_bug() == planted::bug::unknown)
      return mla::fail(MLA_ERR_NO_DEVICE, "MLA_PLANTED_BUG=%s: unknown bug", planted::active_bug_text());
    if (cfg.kernel && std::strcmp(cfg.kernel, "host") != 0)
      return mla::fail(MLA_ERR_UNSUPPORTED, "context_desc.kernel = \"%s\": this plugin has only \"host\"", cfg.kernel);
    mla_context* c = new mla_context();
    const unsigned hw = std::thread::hardware_concurrency();
    c->threads = cfg.num_threads > 0 ? cfg.num_threads : (hw > 0 ? (int)hw : 1);
    std::snprintf(c->device_name, sizeof c->device_name, "planted test plugin (bug: %s), %d threads",
                  planted::active_bug_text(), c->threads);
    *ctx = c;
    return MLA_OK;
  }

  static void destroy(mla_context* ctx) { delete ctx; }

  static mla::backend_description describe(const mla_context& ctx) {
    mla::backend_description d;
    d.limits = limits();
    d.device_name = ctx.device_name;
    d.kernels = "host";
    d.ops |= MLA_OP_BIT(MLA_OP_DECOMPRESSED);
    d.decompressed_break_even_q = kBreakEvenQ;
    return d;
  }

  static size_t absorbed_workspace(const mla_context&, const mla_absorbed_args&) { return 0; }
  static mla_status check_indices(const mla_context&, const mla_absorbed_args& a) {
    return mla::validate_absorbed_indices_host(&a);
  }
  static mla_status absorbed_plan(mla_context& ctx, const mla_absorbed_args& a, void*) {
    ctx.last_planned = a.workspace;
    return MLA_OK;
  }
  static mla_status absorbed_run(mla_context& ctx, const mla_absorbed_args& a, void*) {
    const planted::bug b = planted::active_bug();
    if (b == planted::bug::one_plan && a.workspace != ctx.last_planned)
      return mla::fail(MLA_ERR_NOT_PLANNED, "absorbed_run: only the last planned workspace is runnable (planted bug)");
    const bool reverse = (b == planted::bug::nondeterministic && ctx.runs++ % 2 == 1) ||
                         (b == planted::bug::batch_variant && a.batch > 1);
    planted::absorbed_attention(a, planted::active_bug(), reverse, ctx.threads);
    return MLA_OK;
  }
  static size_t decompressed_workspace(const mla_context&, const mla_decompressed_args&) { return 0; }
  static mla_status check_indices(const mla_context&, const mla_decompressed_args& a) {
    return mla::validate_decompressed_indices_host(&a);
  }
  static mla_status decompressed_plan(mla_context&, const mla_decompressed_args&, void*) { return MLA_OK; }
  static mla_status decompressed_run(mla_context& ctx, const mla_decompressed_args& a, void*) {
    planted::decompressed_attention(a, planted::active_bug(), ctx.threads, kBreakEvenQ);
    return MLA_OK;
  }
  static mla_status merge(mla_context&, const mla_merge_args& a, void*) {
    planted::merge_states(a);
    return MLA_OK;
  }
};

}  // namespace

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) { return mla::plugin_skeleton<planted_backend>::api(); }
