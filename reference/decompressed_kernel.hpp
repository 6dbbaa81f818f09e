// SPDX-License-Identifier: MIT
// Op B on the cpu: one work item of the decompressed plan
// (decompressed_plan.hpp), either form.
//
// The kernel source (decompressed_kernel.cpp) is compiled twice, as op A's:
// a baseline build (any x86-64) and an AVX2+FMA+F16C build; the GEMMs go to
// oneDNN (onednn_gemm.hpp), which picks its own ISA.
#pragma once
#include "absorbed_kernel.hpp"
#include "decompressed_plan.hpp"

namespace mla_cpu {

// false when a GEMM failed (nothing else can).  `absorbed` is op A's item
// kernel of the same build, used by absorbed-form items.
using run_decompressed_item_fn = bool (*)(const mla_decompressed_args& a, const decompressed_item& item,
                                          const decompressed_layout& L, const decompressed_scratch& s,
                                          run_item_fn absorbed);

namespace isa_baseline {
bool run_decompressed_item(const mla_decompressed_args& a, const decompressed_item& item, const decompressed_layout& L,
                           const decompressed_scratch& s, run_item_fn absorbed);
}
namespace isa_avx2 {
bool run_decompressed_item(const mla_decompressed_args& a, const decompressed_item& item, const decompressed_layout& L,
                           const decompressed_scratch& s, run_item_fn absorbed);
}

// The build matching op A's kernel of the context ("avx2" or "baseline").
run_decompressed_item_fn decompressed_kernel_for(const absorbed_kernel& k);

}  // namespace mla_cpu
