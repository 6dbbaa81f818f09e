// The cpu plugin's context and the limits it validates against.
#pragma once
#include "absorbed_kernel.hpp"

#include <mla/mla_plugin.h>
#include <common/validate.hpp>

#include <cstdint>

constexpr uint64_t kCpuContextMagic = 0x5458544355504340ull;  // "@CPUCTXT"

// Opaque to the host (mla_plugin.h); one per thread of use.
struct mla_context {
  uint64_t magic = kCpuContextMagic;
  int threads = 1;                  // OpenMP team size of every call
  mla_cpu::absorbed_kernel kernel;  // ISA build picked at creation
};

namespace mla_cpu {

// What caps reports and the validator enforces.
mla::backend_limits cpu_limits();

// MLA_OK, or INVALID_ARGUMENT naming `where` when ctx is NULL or not ours.
mla_status check_context(const mla_context* ctx, const char* where);

// Op A and op C on a checked context (arguments not yet validated).
mla_status absorbed_workspace_size(const mla_context& ctx, const mla_absorbed_args* args, size_t* bytes);
mla_status absorbed_plan(const mla_context& ctx, const mla_absorbed_args* args);
mla_status absorbed_run(const mla_context& ctx, const mla_absorbed_args* args);
mla_status merge_states(const mla_context& ctx, const mla_merge_args* args);

}  // namespace mla_cpu
