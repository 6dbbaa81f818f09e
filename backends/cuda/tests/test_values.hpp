// SPDX-License-Identifier: MIT
// What the op A and op B test cases share: host encoding of test values in
// the API's dtypes, device buffers, the paged layout of a batch, and the
// check of a call's outputs against the oracle.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cuda_test {

// Throws std::runtime_error("<what>: <CUDA error>") unless e is cudaSuccess.
void check(cudaError_t e, const char* what);
int elem_size(int dtype);  // bytes of one element of an MLA_DTYPE_* (f32, f16, bf16)
// Host encoding of one value in `dtype` at dst, and its decoded (rounded) value.
double encode(int dtype, double v, unsigned char* dst);
double decode(int dtype, const unsigned char* src);
// cudaMalloc of at least 256 bytes (a zero-sized tensor still gets an address).
void* device_alloc(size_t bytes);

// A batch's paged layout: max_pages table entries per sequence (one spare),
// num_pages pages of which three belong to nobody, pages handed out by a
// random permutation (rng); unused table entries point at page 0 (never read).
struct paged_layout {
  std::vector<int> cu;           // cu_seqlens_q, [batch + 1]
  std::vector<int> block_table;  // [batch][max_pages]
  int total_q = 0, max_pages = 0, num_pages = 0;
};
paged_layout make_paged_layout(const std::vector<int>& s_q, const std::vector<int>& s_k, int page_size,
                               std::mt19937_64& rng);

// What checking a call's outputs found.
struct output_check {
  double max_err = 0, ref_max = 0;  // out, max |ref|
  double lse_err = 0;
  long unwritten = 0;     // elements left poisoned (invalid rows: not all NaN)
  long stray_writes = 0;  // padding changed, or an lse written that was not asked for
  std::string error;      // API failure, if any

  // Folds in one more check of the same case: the relative error, the
  // largest lse error, the sums of the counts (ref_max becomes 1).
  void take_worst(const output_check& r);
};

// Captures plan_and_run() -- the plugin's plan and run on `stream`,
// returning "" or the plugin's last_error() -- into a CUDA graph and
// instantiates it.  nullptr (and the message in `error`) when a call failed.
template <class PlanRun>
cudaGraphExec_t capture_graph(cudaStream_t stream, PlanRun&& plan_and_run, std::string& error) {
  cudaGraph_t graph = nullptr;
  check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
  error = plan_and_run();
  check(cudaStreamEndCapture(stream, &graph), "end capture");
  cudaGraphExec_t exec = nullptr;
  if (error.empty()) check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
  cudaGraphDestroy(graph);
  return exec;
}

// Checks the outputs of a call, downloaded after it, against the oracle.
// out: [total_q][heads][stride] elements of out_dtype, `width` of them
// written, the rest padding; lse: [total_q][heads][2] floats (lse, padding);
// all poisoned with 0x7f bytes before the call.  Rows of an `invalid`
// sequence must be all NaN (their lse too when asked for); padding, and lse
// when not asked for, must stay poisoned.  ref: [total_q][heads][width],
// ref_lse: [total_q][heads].
void check_outputs(const std::vector<unsigned char>& out, int out_dtype, int width, int64_t stride,
                   const std::vector<float>& lse, bool lse_asked, const std::vector<int>& cu, int heads,
                   const std::vector<int>& invalid, const std::vector<double>& ref,
                   const std::vector<double>& ref_lse, output_check& r);

}  // namespace cuda_test
