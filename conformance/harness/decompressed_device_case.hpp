// SPDX-License-Identifier: MIT
// The buffers of one op B case in a backend's memory and the calls that run
// it: decompressed_workspace_size, decompressed_plan, decompressed_run, then
// a synchronize and the read-back of the outputs (as device_absorbed for op A).
#pragma once
#include "decompressed_problem.hpp"
#include "device_case.hpp"

namespace conformance {

class device_decompressed {
 public:
  device_decompressed(mla_tools::backend_memory& mem, const decompressed_images& im);
  mla_decompressed_args& args() { return args_; }

  // Sizes and allocates the workspace (poisoned), plans and runs, synchronizes.
  call_outcome execute(const mla_api* api, mla_context* ctx);
  // The repeats of the determinism check (as device_absorbed's).
  call_outcome run_again(const mla_api* api, mla_context* ctx);
  call_outcome replan(const mla_api* api, mla_context* ctx, int pattern, uint64_t seed);
  call_outcome graph_replay(const mla_api* api, mla_context* ctx, int replays, bool* supported);
  // Sequence b alone: a batch of one over the same buffers, own workspace.
  call_outcome execute_alone(const mla_api* api, mla_context* ctx, int b);
  // The whole case in another mode, own workspace, same outputs.
  call_outcome execute_mode(const mla_api* api, mla_context* ctx, int32_t mode);
  void repoison_outputs();
  void download_outputs(host_tensor& out, host_tensor& lse);
  std::string changed_inputs();

 private:
  call_outcome plan_and_run(const mla_api* api, mla_context* ctx, const mla_decompressed_args& a);
  call_outcome with_own_workspace(const mla_api* api, mla_context* ctx, mla_decompressed_args a);

  mla_tools::backend_memory& mem_;
  const decompressed_images& im_;
  mla_tools::device_buffer q_, weights_, out_, lse_, cache_, cu_, seqlens_, table_, workspace_;
  mla_decompressed_args args_{};
};

}  // namespace conformance
