// libmla_backend_planted.so: a TEST-ONLY plugin (never installed) that
// proves the conformance harness can fail.  A small correct host
// implementation plus one bug chosen by MLA_PLANTED_BUG:
//   none | drop_last_page | wrong_scale | read_past_seqlen | write_past_output |
//   wrong_lse | ignore_strides | nondeterministic | bf16_weights
#include "planted_attention.hpp"
#include "planted_bugs.hpp"

#include <common/plugin_error.hpp>
#include <common/validate.hpp>
#include <common/caps.hpp>

#include <mla/mla_plugin.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

struct mla_context {
  uint64_t planned_signature = 0;  // of the batch description last planned
  const void* planned_workspace = nullptr;
  bool planned = false;
  unsigned runs = 0;
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

constexpr size_t kWorkspaceBytes = 256;

mla::backend_limits limits() {
  mla::backend_limits l;
  l.q_dtypes = l.cache_dtypes = l.out_dtypes =
      MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  l.max_heads = 4096;
  l.max_latent_dim = 4096;
  l.max_rope_dim = 1024;
  l.latent_dim_multiple = 1;
  l.max_page_size = INT_MAX;
  return l;
}

// What a plan covers: the batch description and the index arrays.
uint64_t signature(const mla_absorbed_args* a) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  mix((uint64_t)a->batch);
  mix((uint64_t)a->num_heads);
  mix((uint64_t)a->latent_dim);
  mix((uint64_t)a->rope_dim);
  mix((uint64_t)a->total_q);
  mix((uint64_t)a->max_seqlen_q);
  mix((uint64_t)(uintptr_t)a->cu_seqlens_q);
  mix((uint64_t)(uintptr_t)a->kv.seqlens_k);
  mix((uint64_t)(uintptr_t)a->kv.block_table);
  mix((uint64_t)a->kv.block_table_stride);
  mix((uint64_t)a->kv.page_size);
  return h;
}

mla_status probe(mla_probe_result* r) {
  return mla::guarded("probe", [&] {
    if (mla_status st = mla::validate_probe_result(r); st != MLA_OK) return st;
    const bool known = planted::active_bug() != planted::bug::unknown;
    r->usable = known ? 1 : 0;
    r->score = 1;  // never preferred by MLA_BACKEND=auto
    r->num_devices = 1;
    std::snprintf(r->reason, sizeof r->reason, "%s MLA_PLANTED_BUG=%s (test-only plugin)",
                  known ? "host," : "unusable: unknown", planted::active_bug_text());
    return MLA_OK;
  });
}

const char* last_error() { return mla::last_error_message(); }

mla_status context_create(const mla_context_desc* desc, mla_context** ctx) {
  return mla::guarded("context_create", [&] {
    if (!ctx) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_create: ctx is NULL");
    const mla_status s = mla::validate_context_desc(desc);
    if (s != MLA_OK) return s;
    if (planted::active_bug() == planted::bug::unknown)
      return mla::fail(MLA_ERR_NO_DEVICE, "MLA_PLANTED_BUG=%s: unknown bug", planted::active_bug_text());
    *ctx = new mla_context();
    return MLA_OK;
  });
}

mla_status context_destroy(mla_context* ctx) {
  return mla::guarded("context_destroy", [&] {
    delete ctx;
    return MLA_OK;
  });
}

mla_status get_caps(mla_context* ctx, mla_caps* caps) {
  return mla::guarded("get_caps", [&] {
    if (!ctx) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "get_caps: ctx is NULL");
    char name[sizeof caps->device_name];
    std::snprintf(name, sizeof name, "planted test plugin (bug: %s)", planted::active_bug_text());
    return mla::fill_caps(limits(), name, caps);
  });
}

mla_status workspace_size(mla_context* ctx, const mla_absorbed_args* args, size_t* bytes) {
  return mla::guarded("absorbed_workspace_size", [&] {
    if (!ctx) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "absorbed_workspace_size: ctx is NULL");
    if (!bytes) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "absorbed_workspace_size: bytes is NULL");
    const mla_status s = mla::validate_absorbed(args, limits(), mla::check_level::shape, 0);
    if (s != MLA_OK) return s;
    *bytes = kWorkspaceBytes;
    return MLA_OK;
  });
}

mla_status validate_full(const mla_absorbed_args* args) {
  mla_status s = mla::validate_absorbed(args, limits(), mla::check_level::full, kWorkspaceBytes);
  if (s == MLA_OK) s = mla::validate_absorbed_indices_host(args);
  return s;
}

mla_status plan(mla_context* ctx, const mla_absorbed_args* args) {
  return mla::guarded("absorbed_plan", [&] {
    if (!ctx) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "absorbed_plan: ctx is NULL");
    const mla_status s = validate_full(args);
    if (s != MLA_OK) return s;
    ctx->planned_signature = signature(args);
    ctx->planned_workspace = args->workspace;
    ctx->planned = true;
    std::memcpy(args->workspace, &ctx->planned_signature, sizeof ctx->planned_signature);
    return MLA_OK;
  });
}

mla_status run(mla_context* ctx, const mla_absorbed_args* args) {
  return mla::guarded("absorbed_run", [&] {
    if (!ctx) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "absorbed_run: ctx is NULL");
    const mla_status s = validate_full(args);
    if (s != MLA_OK) return s;
    uint64_t stored = 0;
    std::memcpy(&stored, args->workspace, sizeof stored);
    if (!ctx->planned || ctx->planned_workspace != args->workspace || ctx->planned_signature != signature(args) ||
        stored != ctx->planned_signature)
      return mla::fail(MLA_ERR_NOT_PLANNED,
                       "absorbed_run: no absorbed_plan for this batch description and workspace on this context");
    const bool reverse = planted::active_bug() == planted::bug::nondeterministic && (ctx->runs++ % 2 == 1);
    planted::absorbed_attention(*args, planted::active_bug(), reverse);
    return MLA_OK;
  });
}

mla_status merge(mla_context* ctx, const mla_merge_args* args) {
  return mla::guarded("merge_states", [&] {
    if (!ctx) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "merge_states: ctx is NULL");
    const mla_status s = mla::validate_merge(args, limits());
    if (s != MLA_OK) return s;
    planted::merge_states(*args);
    return MLA_OK;
  });
}

const mla_api kApi = {
    sizeof(mla_api), MLA_ABI_MAJOR, MLA_ABI_MINOR, "planted", "0.1.0-test",
    probe, last_error, context_create, context_destroy, get_caps, workspace_size, plan, run, merge,
};

}  // namespace

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) { return &kApi; }
