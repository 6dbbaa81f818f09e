// CUDA runtime implementation; compiled only when the CUDA toolkit is found.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend_memory.hpp"

namespace mla_tools {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

class cuda_graph final : public captured_work {
 public:
  cuda_graph(cudaGraphExec_t exec, cudaStream_t stream) : exec_(exec), stream_(stream) {}
  ~cuda_graph() override { cudaGraphExecDestroy(exec_); }
  void replay() override { check(cudaGraphLaunch(exec_, stream_), "cudaGraphLaunch"); }

 private:
  cudaGraphExec_t exec_;
  cudaStream_t stream_;
};

class cuda_memory final : public backend_memory {
 public:
  explicit cuda_memory(int device) : device_(device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~cuda_memory() override {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
    cudaStreamDestroy(stream_);
  }
  void* alloc(size_t bytes) override {
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void release(void* p) override { cudaFree(p); }
  void upload(void* dst, const void* src, size_t n) override {
    check(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream_), "cudaMemcpy H2D");
    synchronize();
  }
  void download(void* dst, const void* src, size_t n) override {
    check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, stream_), "cudaMemcpy D2H");
    synchronize();
  }
  void copy(void* dst, const void* src, size_t n) override {
    check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, stream_), "cudaMemcpy D2D");
  }
  void* stream() override { return stream_; }
  void synchronize() override {
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    check(cudaGetLastError(), "kernel launch");
  }
  double time_ms(const std::function<void()>& enqueue, int iters, int repeats) override {
    enqueue();  // warm-up (module load, first-touch)
    synchronize();
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      check(cudaEventRecord(start_, stream_), "cudaEventRecord");
      for (int i = 0; i < iters; ++i) enqueue();
      check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
      check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
      float t = 0;
      check(cudaEventElapsedTime(&t, start_, stop_), "cudaEventElapsedTime");
      ms.push_back(double(t) / iters);
    }
    synchronize();
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  std::string name() const override { return "cuda:" + std::to_string(device_); }
  std::unique_ptr<captured_work> capture(const std::function<void()>& enqueue) override {
    cudaGraph_t graph = nullptr;
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      enqueue();
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiateWithFlags(&exec, graph, 0);
    cudaGraphDestroy(graph);
    check(e, "cudaGraphInstantiate");
    return std::make_unique<cuda_graph>(exec, stream_);
  }

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace

std::unique_ptr<backend_memory> make_cuda_memory(int device, std::string& error) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    error = std::string("no CUDA device: ") + (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return nullptr;
  }
  if (device >= count) {
    error = "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)";
    return nullptr;
  }
  try {
    return std::make_unique<cuda_memory>(device);
  } catch (const std::exception& ex) {
    error = ex.what();
    return nullptr;
  }
}

}  // namespace mla_tools
