// SPDX-License-Identifier: MIT
// Device memory, a stream, events and graphs of the CUDA or HIP runtime, one
// implementation for both through the dlopen'ed table of device_runtime.hpp.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend_memory.hpp"
#include "device_runtime.hpp"

namespace mla_tools {
namespace {

class device_graph final : public captured_work {
 public:
  device_graph(const device_runtime& rt, void* exec, void* stream) : rt_(rt), exec_(exec), stream_(stream) {}
  ~device_graph() override { rt_.GraphExecDestroy(exec_); }
  void replay() override { rt_.check(rt_.GraphLaunch(exec_, stream_), "GraphLaunch"); }

 private:
  const device_runtime& rt_;
  void* exec_;
  void* stream_;
};

class device_memory final : public backend_memory {
 public:
  device_memory(const device_runtime& rt, int device) : rt_(rt), device_(device) {
    rt_.check(rt_.SetDevice(device), "SetDevice");
    rt_.check(rt_.StreamCreateWithFlags(&stream_, kStreamNonBlocking), "StreamCreateWithFlags");
    rt_.check(rt_.EventCreate(&start_), "EventCreate");
    rt_.check(rt_.EventCreate(&stop_), "EventCreate");
  }
  ~device_memory() override {  // nothing to report from a destructor
    if (start_) rt_.EventDestroy(start_);
    if (stop_) rt_.EventDestroy(stop_);
    if (stream_) rt_.StreamDestroy(stream_);
  }
  void* alloc(size_t bytes) override {
    void* p = nullptr;
    rt_.check(rt_.Malloc(&p, bytes), ("Malloc of " + std::to_string(bytes) + " bytes").c_str());
    return p;
  }
  void release(void* p) override { rt_.Free(p); }
  void upload(void* dst, const void* src, size_t n) override {
    rt_.check(rt_.MemcpyAsync(dst, src, n, kMemcpyHostToDevice, stream_), "MemcpyAsync host to device");
    synchronize();
  }
  void download(void* dst, const void* src, size_t n) override {
    rt_.check(rt_.MemcpyAsync(dst, src, n, kMemcpyDeviceToHost, stream_), "MemcpyAsync device to host");
    synchronize();
  }
  void copy(void* dst, const void* src, size_t n) override {
    rt_.check(rt_.MemcpyAsync(dst, src, n, kMemcpyDeviceToDevice, stream_), "MemcpyAsync device to device");
  }
  void* stream() override { return stream_; }
  void synchronize() override {
    rt_.check(rt_.StreamSynchronize(stream_), "StreamSynchronize");
    rt_.check(rt_.GetLastError(), "GetLastError (a kernel launch)");
  }
  double time_ms(const std::function<void()>& enqueue, int iters, int repeats) override {
    enqueue();  // warm-up (module load, first touch)
    synchronize();
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      rt_.check(rt_.EventRecord(start_, stream_), "EventRecord");
      for (int i = 0; i < iters; ++i) enqueue();
      rt_.check(rt_.EventRecord(stop_, stream_), "EventRecord");
      rt_.check(rt_.EventSynchronize(stop_), "EventSynchronize");
      float t = 0;
      rt_.check(rt_.EventElapsedTime(&t, start_, stop_), "EventElapsedTime");
      ms.push_back(double(t) / iters);
    }
    synchronize();
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  std::string name() const override { return rt_.prefix + ":" + std::to_string(device_); }
  size_t available_bytes() override {
    size_t free_bytes = 0, total_bytes = 0;
    return rt_.MemGetInfo(&free_bytes, &total_bytes) == 0 ? free_bytes : 0;
  }
  std::unique_ptr<captured_work> capture(const std::function<void()>& enqueue) override {
    void* graph = nullptr;
    rt_.check(rt_.StreamBeginCapture(stream_, kStreamCaptureModeThreadLocal), "StreamBeginCapture");
    try {
      enqueue();
    } catch (...) {
      rt_.StreamEndCapture(stream_, &graph);
      if (graph) rt_.GraphDestroy(graph);
      throw;
    }
    rt_.check(rt_.StreamEndCapture(stream_, &graph), "StreamEndCapture");
    void* exec = nullptr;
    const int e = rt_.GraphInstantiateWithFlags(&exec, graph, 0);
    rt_.GraphDestroy(graph);
    rt_.check(e, "GraphInstantiateWithFlags");
    return std::make_unique<device_graph>(rt_, exec, stream_);
  }

 private:
  const device_runtime& rt_;
  int device_;
  void* stream_ = nullptr;
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

}  // namespace

std::unique_ptr<backend_memory> make_device_memory(mla_device_api api, int device, std::string& error) {
  const device_runtime* rt = open_device_runtime(api, error);
  if (!rt) return nullptr;
  const char* vendor = api == MLA_DEVICE_API_CUDA ? "CUDA" : "HIP";
  int count = 0;
  const int e = rt->GetDeviceCount(&count);
  if (e != 0 || count == 0) {
    error = std::string("no ") + vendor + " device (" + rt->path + "): " +
            (e != 0 ? rt->GetErrorString(e) : "0 devices");
    return nullptr;
  }
  if (device < 0 || device >= count) {
    error = std::string(vendor) + " device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
            " found)";
    return nullptr;
  }
  try {
    return std::make_unique<device_memory>(*rt, device);
  } catch (const std::exception& ex) {
    error = ex.what();
    return nullptr;
  }
}

}  // namespace mla_tools
