// SPDX-License-Identifier: MIT
// Op A on the cpu: one work item of the split plan (split_plan.hpp).
//
// The kernel source (absorbed_kernel.cpp) is compiled twice: a baseline
// build for any x86-64 (SSE up to x86-64-v2) and an AVX2+FMA+F16C build.
// The context picks one at creation from what the CPU reports.
#pragma once
#include "split_plan.hpp"

namespace mla_cpu {

// Reads the item's cache rows once and uses each for all heads and query
// rows of the item's tile.  Writes out/lse directly (item.slot < 0) or the
// item's partial slot: o [q_count][H][Dl] then lse [q_count][H], both f32.
using run_item_fn = void (*)(const mla_absorbed_args& a, const work_item& item, const thread_scratch& scratch,
                             float* slot);

namespace isa_baseline {
void run_work_item(const mla_absorbed_args& a, const work_item& item, const thread_scratch& scratch, float* slot);
}
namespace isa_avx2 {
void run_work_item(const mla_absorbed_args& a, const work_item& item, const thread_scratch& scratch, float* slot);
}

struct absorbed_kernel {
  run_item_fn run_item = nullptr;
  const char* name = "";  // "avx2" or "baseline" (caps.kernels)
};
// The builds this CPU can run, fastest first: "avx2,baseline" or "baseline".
const char* available_kernels();
// The build named `name` (NULL: the fastest, unless MLA_CPU_ISA=baseline);
// false when this CPU cannot run it or no build has that name.
bool select_absorbed_kernel(const char* name, absorbed_kernel* out);

}  // namespace mla_cpu
