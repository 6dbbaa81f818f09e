// SPDX-License-Identifier: MIT
// The cpu plugin's context and the entry points of its ops, called by the
// plugin skeleton (backends/common/plugin_skeleton.hpp) with validated
// arguments.
#pragma once
#include "absorbed_kernel.hpp"
#include "task_runner.hpp"

#include <mla/mla_plugin.h>
#include <common/plugin_skeleton.hpp>

#include <cstdint>
#include <memory>

// Opaque to the host (mla_plugin.h); used by one host thread at a time.
struct mla_context : mla::context_base {
  int threads = 1;                  // tasks per call (num_threads), fixes the split plan
  std::unique_ptr<mla_cpu::task_runner> tasks;  // where the tasks run: host pool or own workers
  mla_cpu::absorbed_kernel kernel;  // the ISA build picked at creation
  char device_name[128] = {0};      // caps.device_name
};

namespace mla_cpu {

// What caps reports and the validator enforces.
mla::backend_limits cpu_limits();

// Op A and op C; arguments already validated (indices included).
size_t absorbed_workspace(const mla_context& ctx, const mla_absorbed_args& a);
void absorbed_plan(const mla_context& ctx, const mla_absorbed_args& a);
mla_status absorbed_run(const mla_context& ctx, const mla_absorbed_args& a);
void merge_states(const mla_context& ctx, const mla_merge_args& a);

}  // namespace mla_cpu
