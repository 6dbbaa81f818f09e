// SPDX-License-Identifier: MIT
// The buffers of one op B case in a backend's memory and the calls that run
// it: decompressed_workspace_size, decompressed_plan, decompressed_run, then
// a synchronize and the read-back of the outputs (as device_absorbed for op A;
// what they share is device_attention).
#pragma once
#include "decompressed_problem.hpp"
#include "device_case.hpp"

namespace conformance {

class device_decompressed : public device_attention<mla_decompressed_args> {
 public:
  device_decompressed(mla_tools::backend_memory& mem, const decompressed_images& im);

  // The whole case in another mode, own workspace, same outputs.
  call_outcome execute_mode(const mla_api* api, mla_context* ctx, int32_t mode);
  // Empty when the backend left q, weights, cache and index arrays as uploaded; else what changed.
  std::string changed_inputs();

 private:
  const decompressed_images& im_;
  mla_tools::device_buffer weights_;
};

}  // namespace conformance
