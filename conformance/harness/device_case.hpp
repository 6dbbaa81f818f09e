// SPDX-License-Identifier: MIT
// The buffers of one case in a backend's memory and the calls that run it:
// absorbed_workspace_size, absorbed_plan, absorbed_run (in that order), or
// merge_states; then a synchronize and the read-back of the outputs.
#pragma once
#include "absorbed_problem.hpp"
#include "backend_session.hpp"
#include "merge_problem.hpp"

#include <backend_memory.hpp>

#include <string>
#include <vector>

namespace conformance {

struct call_outcome {
  mla_status status = MLA_OK;
  std::string stage;    // the entry point that failed ("absorbed_plan", ...)
  std::string message;  // its last_error()
  bool ok() const { return status == MLA_OK; }
};

// What the device cases of op A and op B share: q, out, lse and the paged
// cache's arrays in backend memory, the workspace, and the calls
// <op>_workspace_size, <op>_plan, <op>_run of the op that takes Args.
template <class Args>  // mla_absorbed_args, mla_decompressed_args
class device_attention {
 public:
  Args& args() { return args_; }
  size_t workspace_bytes() const { return workspace_.bytes(); }

  // Sizes and allocates the workspace (poisoned), plans and runs, synchronizes.
  call_outcome execute(const mla_api* api, mla_context* ctx);
  // The repeats of the determinism check, each synchronized:
  // another run on the plan already in the workspace (no plan call);
  call_outcome run_again(const mla_api* api, mla_context* ctx);
  // the workspace filled with `pattern` (a byte; -1: pseudo-random bytes of
  // `seed`), then plan and run;
  call_outcome replan(const mla_api* api, mla_context* ctx, int pattern, uint64_t seed);
  // plan and run captured into a CUDA/HIP graph once, then `replays`
  // replays (*supported = false, nothing run, where the memory has no graphs).
  call_outcome graph_replay(const mla_api* api, mla_context* ctx, int replays, bool* supported);
  // Sequence b alone: a batch of one over the same buffers (its q and out
  // rows, its block-table row, max_seqlen_q = its s_q), own workspace.
  call_outcome execute_alone(const mla_api* api, mla_context* ctx, int b);
  // Restores the poisoned outputs (between repeated runs).
  void repoison_outputs();
  // Copies out and lse back into host images shaped like the originals.
  void download_outputs(host_tensor& out, host_tensor& lse);
  void download_workspace(std::vector<unsigned char>& bytes);

 protected:
  // Uploads q, out, lse and paged's cache and index arrays; fills the fields
  // of args() that both ops have (c: the attention part of the case).
  device_attention(mla_tools::backend_memory& mem, const absorbed_images& paged, const absorbed_case& c,
                   const host_tensor& q, const host_tensor& out, const host_tensor& lse);
  // Empty when q (or the paged cache and its index arrays) are as uploaded;
  // else what changed.
  std::string changed_q();
  std::string changed_paged_inputs();
  // Plan + run of `a` with the workspace it names, then a synchronize.
  call_outcome plan_and_run(const mla_api* api, mla_context* ctx, const Args& a);
  // Plan + run of `a` with a workspace of its own size.
  call_outcome with_own_workspace(const mla_api* api, mla_context* ctx, Args a);

  mla_tools::backend_memory& mem_;
  const absorbed_images& paged_;
  const host_tensor &q_image_, &out_image_, &lse_image_;
  mla_tools::device_buffer q_, out_, lse_, cache_, cu_, seqlens_, table_, workspace_;
  Args args_{};
};

// Op A: uploads the images; args() then describes them with backend pointers.
class device_absorbed : public device_attention<mla_absorbed_args> {
 public:
  device_absorbed(mla_tools::backend_memory& mem, const absorbed_images& im);
  // Empty when the backend left q, cache and index arrays as uploaded; else what changed.
  std::string changed_inputs();
};

class device_merge {
 public:
  device_merge(mla_tools::backend_memory& mem, const merge_images& im);
  mla_merge_args& args() { return args_; }
  call_outcome execute(const mla_api* api, mla_context* ctx);
  call_outcome run_again(const mla_api* api, mla_context* ctx) { return execute(api, ctx); }
  void repoison_outputs();
  void download_outputs(host_tensor& out, host_tensor& lse);
  std::string changed_inputs();

 private:
  mla_tools::backend_memory& mem_;
  const merge_images& im_;
  mla_tools::device_buffer parts_out_, parts_lse_, out_, lse_;
  mla_merge_args args_{};
};

// A buffer in backend memory holding a copy of `bytes`.
mla_tools::device_buffer upload_bytes(mla_tools::backend_memory& mem, const void* bytes, size_t n);

// Empty when `b` still holds the n bytes at `original`; else "<what> modified
// (first changed byte i)".
std::string compare_upload(mla_tools::backend_memory& mem, const mla_tools::device_buffer& b,
                           const void* original, size_t n, const char* what);

// mla_tensor over a host_tensor uploaded to `buffer` (origin past the guard).
mla_tensor tensor_view(const host_tensor& t, const mla_tools::device_buffer& buffer);

}  // namespace conformance
