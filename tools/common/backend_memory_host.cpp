// Host-memory implementation (the cpu plugin) and the factory.
#include "backend_memory.hpp"

#include <mla/mla_plugin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

namespace mla_tools {

#if defined(MLA_TOOLS_WITH_CUDA)
std::unique_ptr<backend_memory> make_cuda_memory(int device, std::string& error);
#endif
#if defined(MLA_TOOLS_WITH_HIP)
std::unique_ptr<backend_memory> make_hip_memory(int device, std::string& error);
#endif

void backend_memory::copy(void*, const void*, size_t) {
  throw std::runtime_error("backend_memory::copy is not implemented for " + name());
}

std::unique_ptr<captured_work> backend_memory::capture(const std::function<void()>&) { return nullptr; }

namespace {

class host_memory final : public backend_memory {
 public:
  void* alloc(size_t bytes) override {
    void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void release(void* p) override { std::free(p); }
  void upload(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void download(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void* stream() override { return nullptr; }
  void synchronize() override {}
  double time_ms(const std::function<void()>& enqueue, int iters, int repeats) override {
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) enqueue();
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / iters);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  std::string name() const override { return "host"; }
};

}  // namespace

std::unique_ptr<backend_memory> make_backend_memory(const std::string& plugin, int device, std::string& error) {
  (void)device;
  if (plugin == "cuda") {
#if defined(MLA_TOOLS_WITH_CUDA)
    return make_cuda_memory(device, error);
#else
    error = "this build of the tools has no CUDA runtime (configure with MLA_ENABLE_CUDA=ON and nvcc)";
    return nullptr;
#endif
  }
  if (plugin == "hip") {
#if defined(MLA_TOOLS_WITH_HIP)
    return make_hip_memory(device, error);
#else
    error = "this build of the tools has no HIP runtime (configure with MLA_ENABLE_HIP=ON and hipcc)";
    return nullptr;
#endif
  }
  // cpu and every host-memory plugin (test plugins included).
  return std::make_unique<host_memory>();
}

}  // namespace mla_tools

namespace mla_tools {

std::unique_ptr<backend_memory> make_backend_memory(const mla_caps& caps, int device, std::string& error) {
  if (caps.struct_size < MLA_CAPS_SIZE_1_1 || caps.memory_kind == MLA_MEMORY_UNKNOWN) {
    error = "the plugin does not say where its memory lives (caps.memory_kind needs ABI >= 1.1)";
    return nullptr;
  }
  if (caps.memory_kind == MLA_MEMORY_HOST) return make_backend_memory(std::string("cpu"), device, error);
  if (caps.device_api == MLA_DEVICE_API_CUDA) return make_backend_memory(std::string("cuda"), device, error);
  if (caps.device_api == MLA_DEVICE_API_HIP) return make_backend_memory(std::string("hip"), device, error);
  error = "caps.device_api = " + std::to_string(caps.device_api) + ": unknown device runtime";
  return nullptr;
}

}  // namespace mla_tools
