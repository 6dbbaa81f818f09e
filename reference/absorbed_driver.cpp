// SPDX-License-Identifier: MIT
// Op A on the cpu: plan the split schedule into the workspace, run the work
// items as the context's tasks (task_runner.hpp: each task pulls items, task
// i uses scratch i); whoever finishes the last split of a tile merges that
// tile's partials by LSE (in slot order: deterministic).
#include "cpu_context.hpp"
#include "element_access.hpp"
#include "lse_merge.hpp"
#include "split_plan.hpp"

#include <common/plugin_error.hpp>

#include <algorithm>
#include <climits>

namespace mla_cpu {
namespace {

// Combines the partial slots of one split tile into out/lse.
void merge_split_tile(const mla_absorbed_args& a, const split_group& g) {
  const int H = a.num_heads, Dl = a.latent_dim;
  const size_t pairs = (size_t)g.q_count * H;
  for (int i = 0; i < g.q_count; ++i)
    for (int h = 0; h < H; ++h) {
    const size_t pair = (size_t)i * H + h;
    const int64_t row = (int64_t)a.cu_seqlens_q[g.seq] + g.q_begin + i;
    const int64_t at = row * a.out.stride[0] + (int64_t)h * a.out.stride[1];
    const float lse = merge_lse_row(
        g.num_slots, Dl, [&](int p) { return partial_slot(a, g.first_slot + p)[pairs * Dl + pair]; },
        [&](int p, int d) { return partial_slot(a, g.first_slot + p)[pair * Dl + d]; },
        [&](int d, float v) { store_element(a.out.data, a.out.dtype, at + (int64_t)d * a.out.stride[2], v); });
    if (a.lse.data) static_cast<float*>(a.lse.data)[row * a.lse.stride[0] + (int64_t)h * a.lse.stride[1]] = lse;
    }
}

}  // namespace

size_t absorbed_workspace(const mla_context& ctx, const mla_absorbed_args& a) {
  return compute_layout(a, ctx.threads, ctx.flags).total_bytes;
}

void absorbed_plan(const mla_context& ctx, const mla_absorbed_args& a) { build_plan(a, &ctx, ctx.threads, ctx.flags); }

mla_status absorbed_run(const mla_context& ctx, const mla_absorbed_args& args) {
  const mla_absorbed_args* a = &args;
  // The workspace is caller memory: the skeleton checked which plan it
  // should hold; this checks that the plan is still intact before indexing.
  char why[512];
  if (plan_mismatch(*a, &ctx, ctx.threads, ctx.flags, why, sizeof why))
    return mla::fail(MLA_ERR_NOT_PLANNED, "%s", why);

  const plan_header& plan = plan_of(*a);
  const work_item* items = items_of(*a);
  const split_group* groups = groups_of(*a);
  const int64_t num_items = plan.num_items;
  int32_t* finished = split_counters_of(*a);
  std::fill(finished, finished + plan.num_groups, 0);
  const run_item_fn run_item = ctx.kernel.run_item;
  for_each_chunk(*ctx.tasks, num_items, 1, [&](int64_t k, int64_t, int task) {
    const thread_scratch scratch = scratch_for_thread(*a, plan.layout, a->workspace, task);
    const work_item& item = items[k];
    run_item(*a, item, scratch, item.slot >= 0 ? partial_slot(*a, item.slot) : nullptr);
    // acq_rel: the last finisher sees every other split's partial.
    if (item.group >= 0 &&
        __atomic_add_fetch(&finished[item.group], 1, __ATOMIC_ACQ_REL) == groups[item.group].num_slots)
      merge_split_tile(*a, groups[item.group]);
  });
  return MLA_OK;
}

}  // namespace mla_cpu
