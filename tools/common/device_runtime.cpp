// SPDX-License-Identifier: MIT
// Opens the CUDA or HIP runtime with dlopen and fills the entry table.
#include "device_runtime.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace mla_tools {
namespace {

// What the dynamic linker is asked for, in order: bare names first (the
// linker's own search, LD_LIBRARY_PATH included), then the same names in the
// usual install folders.
std::vector<std::string> candidates(mla_device_api api) {
  std::vector<std::string> names, dirs;
  auto env = [](const char* var) {
    const char* v = std::getenv(var);
    return std::string(v ? v : "");
  };
  if (api == MLA_DEVICE_API_CUDA) {
    if (!env("MLA_CUDART").empty()) names.push_back(env("MLA_CUDART"));
    std::vector<int> majors;
#if defined(MLA_CUDART_BUILD_MAJOR)
    majors.push_back(MLA_CUDART_BUILD_MAJOR);
#endif
    for (int m : {13, 12, 11})
      if (majors.empty() || majors[0] != m) majors.push_back(m);
    for (int m : majors) names.push_back("libcudart.so." + std::to_string(m));
    names.push_back("libcudart.so");
    for (const char* var : {"CUDA_HOME", "CUDA_PATH"})
      if (!env(var).empty()) dirs.push_back(env(var) + "/lib64");
    dirs.push_back("/usr/local/cuda/lib64");
#if defined(MLA_CUDART_BUILD_DIR)
    if (dirs.back() != MLA_CUDART_BUILD_DIR) dirs.push_back(MLA_CUDART_BUILD_DIR);
#endif
  } else if (api == MLA_DEVICE_API_HIP) {
    if (!env("MLA_AMDHIP64").empty()) names.push_back(env("MLA_AMDHIP64"));
    names.insert(names.end(), {"libamdhip64.so.5", "libamdhip64.so", "libamdhip64.so.6"});
    if (!env("ROCM_PATH").empty()) dirs.push_back(env("ROCM_PATH") + "/lib");
    dirs.push_back("/opt/rocm/lib");
  }
  std::vector<std::string> out = names;
  for (const std::string& d : dirs)
    for (const std::string& n : names)
      if (n.find('/') == std::string::npos) out.push_back(d + "/" + n);
  return out;
}

const char* prefix_of(mla_device_api api) { return api == MLA_DEVICE_API_CUDA ? "cuda" : "hip"; }

// Fills the table from `lib`; false with `missing` naming the first absent entry.
bool fill(device_runtime& rt, void* lib, std::string& missing) {
#define MLA_DEVICE_RUNTIME_LOAD(name, ret, params)                            \
  rt.name = reinterpret_cast<ret(*) params>(dlsym(lib, (rt.prefix + #name).c_str())); \
  if (!rt.name) return missing = rt.prefix + #name, false;
  MLA_DEVICE_RUNTIME_ENTRIES(MLA_DEVICE_RUNTIME_LOAD)
#undef MLA_DEVICE_RUNTIME_LOAD
  return true;
}

const device_runtime* open_once(mla_device_api api, std::string& error) {
  auto rt = std::make_unique<device_runtime>();
  rt->api = api;
  rt->prefix = prefix_of(api);
  const std::vector<std::string> tried = candidates(api);
  // A runtime some plugin already loaded (the HIP plugin links libamdhip64)
  // is the one to share: same handles, same device state.
  void* lib = nullptr;
  for (const std::string& name : tried)
    if ((lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD))) {
      rt->path = name;
      break;
    }
  std::string last_error;
  for (size_t i = 0; !lib && i < tried.size(); ++i) {
    if ((lib = dlopen(tried[i].c_str(), RTLD_NOW | RTLD_LOCAL))) rt->path = tried[i];
    else if (const char* e = dlerror()) last_error = e;
  }
  if (!lib) {
    error = std::string("cannot open the ") + (api == MLA_DEVICE_API_CUDA ? "CUDA" : "HIP") + " runtime; tried " +
            device_runtime_search_list(api) + " (last: " + last_error + "); set " +
            (api == MLA_DEVICE_API_CUDA ? "MLA_CUDART" : "MLA_AMDHIP64") + " to its path";
    return nullptr;
  }
  std::string missing;
  if (!fill(*rt, lib, missing)) {
    error = rt->path + " has no " + missing + " (too old a runtime?)";
    return nullptr;  // the library stays loaded: unloading a runtime is never safe
  }
  return rt.release();  // lives as long as the process
}

}  // namespace

void device_runtime::check(int e, const char* what) const {
  if (e != 0) throw std::runtime_error(prefix + what + ": " + GetErrorString(e));
}

std::string device_runtime_search_list(mla_device_api api) {
  std::string s;
  for (const std::string& c : candidates(api)) s += (s.empty() ? "" : ", ") + c;
  return s;
}

const device_runtime* open_device_runtime(mla_device_api api, std::string& error) {
  if (api != MLA_DEVICE_API_CUDA && api != MLA_DEVICE_API_HIP) {
    error = "device_api " + std::to_string((int)api) + " is not a device runtime (1 CUDA, 2 HIP)";
    return nullptr;
  }
  static std::mutex lock;
  static const device_runtime* opened[3] = {nullptr, nullptr, nullptr};
  static std::string errors[3];
  std::lock_guard<std::mutex> guard(lock);
  if (!opened[api] && errors[api].empty()) opened[api] = open_once(api, errors[api]);
  if (!opened[api]) error = errors[api];
  return opened[api];
}

}  // namespace mla_tools
