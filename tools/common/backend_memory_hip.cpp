// HIP runtime implementation of backend_memory; compiled (as C++ against
// libamdhip64) only when the HIP plugin is built (backends/hip adds it).
#include <hip/hip_runtime_api.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend_memory.hpp"

namespace mla_tools {
namespace {

void check(hipError_t e, const char* what) {
  if (e != hipSuccess) throw std::runtime_error(std::string(what) + ": " + hipGetErrorString(e));
}

class hip_memory final : public backend_memory {
 public:
  explicit hip_memory(int device) : device_(device) {
    check(hipSetDevice(device), "hipSetDevice");
    check(hipStreamCreateWithFlags(&stream_, hipStreamNonBlocking), "hipStreamCreate");
    check(hipEventCreate(&start_), "hipEventCreate");
    check(hipEventCreate(&stop_), "hipEventCreate");
  }
  ~hip_memory() override {  // nothing to report from a destructor
    (void)hipEventDestroy(start_);
    (void)hipEventDestroy(stop_);
    (void)hipStreamDestroy(stream_);
  }
  void* alloc(size_t bytes) override {
    void* p = nullptr;
    check(hipMalloc(&p, bytes), "hipMalloc");
    return p;
  }
  void release(void* p) override { (void)hipFree(p); }
  void upload(void* dst, const void* src, size_t n) override {
    check(hipMemcpyAsync(dst, src, n, hipMemcpyHostToDevice, stream_), "hipMemcpy H2D");
    synchronize();
  }
  void download(void* dst, const void* src, size_t n) override {
    check(hipMemcpyAsync(dst, src, n, hipMemcpyDeviceToHost, stream_), "hipMemcpy D2H");
    synchronize();
  }
  void copy(void* dst, const void* src, size_t n) override {
    check(hipMemcpyAsync(dst, src, n, hipMemcpyDeviceToDevice, stream_), "hipMemcpy D2D");
  }
  void* stream() override { return stream_; }
  void synchronize() override {
    check(hipStreamSynchronize(stream_), "hipStreamSynchronize");
    check(hipGetLastError(), "kernel launch");
  }
  double time_ms(const std::function<void()>& enqueue, int iters, int repeats) override {
    enqueue();  // warm-up (code object load, first touch)
    synchronize();
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      check(hipEventRecord(start_, stream_), "hipEventRecord");
      for (int i = 0; i < iters; ++i) enqueue();
      check(hipEventRecord(stop_, stream_), "hipEventRecord");
      check(hipEventSynchronize(stop_), "hipEventSynchronize");
      float t = 0;
      check(hipEventElapsedTime(&t, start_, stop_), "hipEventElapsedTime");
      ms.push_back(double(t) / iters);
    }
    synchronize();
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  std::string name() const override { return "hip:" + std::to_string(device_); }

 private:
  int device_;
  hipStream_t stream_ = nullptr;
  hipEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace

std::unique_ptr<backend_memory> make_hip_memory(int device, std::string& error) {
  int count = 0;
  const hipError_t e = hipGetDeviceCount(&count);
  if (e != hipSuccess || count == 0) {  // hipErrorNoDevice on a machine without an AMD GPU
    error = std::string("no HIP device: ") + (e != hipSuccess ? hipGetErrorName(e) : "0 devices");
    return nullptr;
  }
  if (device < 0 || device >= count) {
    error = "HIP device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)";
    return nullptr;
  }
  try {
    return std::make_unique<hip_memory>(device);
  } catch (const std::exception& ex) {
    error = ex.what();
    return nullptr;
  }
}

}  // namespace mla_tools
