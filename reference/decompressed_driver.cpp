// SPDX-License-Identifier: MIT
// Op B on the cpu: plan the items into the workspace, run them as the
// context's tasks (task_runner.hpp: task i uses scratch i; items take their
// rows' outputs whole, so no merge pass and no order dependence).
#include "decompressed_driver.hpp"

#include "cpu_context.hpp"
#include "decompressed_kernel.hpp"
#include "decompressed_plan.hpp"

#include <common/plugin_error.hpp>

#include <atomic>
#include <cstring>

namespace mla_cpu {

run_decompressed_item_fn decompressed_kernel_for(const absorbed_kernel& k) {
  return std::strcmp(k.name, "avx2") == 0 ? isa_avx2::run_decompressed_item : isa_baseline::run_decompressed_item;
}

size_t decompressed_workspace(const mla_context& ctx, const mla_decompressed_args& a) {
  return decompressed_layout_for(a, ctx.threads, kDecompressedBreakEvenQ).total_bytes;
}

void decompressed_plan(const mla_context& ctx, const mla_decompressed_args& a) {
  build_decompressed_plan(a, &ctx, ctx.threads, ctx.flags, kDecompressedBreakEvenQ);
}

mla_status decompressed_run(const mla_context& ctx, const mla_decompressed_args& a) {
  char why[512];
  if (decompressed_plan_mismatch(a, &ctx, ctx.threads, ctx.flags, kDecompressedBreakEvenQ, why, sizeof why))
    return mla::fail(MLA_ERR_NOT_PLANNED, "%s", why);
  const decompressed_plan_header& plan = decompressed_plan_of(a);
  const decompressed_item* items = decompressed_items_of(a);
  const int64_t n = plan.num_items;
  const run_decompressed_item_fn run = decompressed_kernel_for(ctx.kernel);
  const run_item_fn absorbed = ctx.kernel.run_item;
  std::atomic<bool> failed{false};
  for_each_chunk(*ctx.tasks, n, 1, [&](int64_t k, int64_t, int task) {
    const decompressed_scratch s = decompressed_scratch_for(a, plan.layout, a.workspace, task);
    if (!run(a, items[k], plan.layout, s, absorbed)) failed.store(true, std::memory_order_relaxed);
  });
  if (failed.load()) return mla::fail(MLA_ERR_INTERNAL, "decompressed_run: a oneDNN sgemm call failed");
  return MLA_OK;
}

}  // namespace mla_cpu
