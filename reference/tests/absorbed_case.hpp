// SPDX-License-Identifier: MIT
// One random op A case for the cpu plugin: paged cache with permuted pages,
// NaN in every byte no result may depend on (unused rows and pages, row
// padding, gaps of strided q), outputs poisoned and framed by guard regions,
// and the fp64 oracle's answer on the same decoded inputs.
#pragma once
#include "oracle.hpp"

#include <mla/mla_plugin.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cpu_test {

struct case_spec {
  uint64_t seed = 1;
  int heads = 16, latent = 512, rope = 64;
  std::vector<int> s_q, s_k;  // per sequence
  int page_size = 16;
  bool causal = true;
  int q_dtype = MLA_DTYPE_BF16, cache_dtype = MLA_DTYPE_BF16, out_dtype = MLA_DTYPE_BF16;
  bool strided = false;   // padded strides everywhere, rope before latent in the row, lse transposed
  bool want_lse = true;
  double q_amplitude = 1.0;  // larger: peakier softmax
  std::string describe() const;
};

class absorbed_case {
 public:
  explicit absorbed_case(const case_spec& spec);
  const case_spec& spec() const { return spec_; }

  // Arguments pointing at this case's buffers; workspace from set_workspace.
  mla_absorbed_args args{};
  // Allocates a fresh 256-byte-aligned workspace of `bytes`, zero-filled.
  void set_workspace(size_t bytes);
  // Re-poisons out and lse (and their guards).
  void poison_outputs();
  // "" if out/lse match the oracle within tolerance, every output element was
  // written and nothing else in the output buffers changed; else the reason.
  std::string check() const;

  // Raw output buffers (guards included), for byte-identity checks.
  const std::vector<unsigned char>& out_bytes() const { return out_buf_; }
  const std::vector<unsigned char>& lse_bytes() const { return lse_buf_; }
  const unsigned char* workspace() const { return workspace_; }
  size_t workspace_size() const { return workspace_bytes_; }

  std::vector<int32_t> cu_seqlens_q, seqlens_k, block_table;

 private:
  case_spec spec_;
  oracle::absorbed_problem problem_;
  std::vector<double> want_out_, want_lse_;
  std::vector<unsigned char> q_buf_, cache_buf_, out_buf_, lse_buf_;
  int64_t out_span_ = 0, lse_span_ = 0;  // elements between the guards
  std::unique_ptr<unsigned char, void (*)(void*)> workspace_owner_{nullptr, nullptr};
  unsigned char* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
};

constexpr int64_t kGuard = 64;  // poisoned elements before and after each output

}  // namespace cpu_test
