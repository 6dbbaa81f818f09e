// SPDX-License-Identifier: MIT
// Loads libmla_backend_hip.so the way the loader does (dlopen + mla_get_api)
// and checks what it says about this machine: with no AMD GPU (CI), probe
// reports usable = 0 with hipErrorNoDevice as the reason and context_create
// fails with MLA_ERR_NO_DEVICE and a message; with one, probe is usable.
// Which case applies is asked of the HIP runtime directly.
#include <mla/mla_plugin.h>

#include <dlfcn.h>
#include <hip/hip_runtime_api.h>

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#ifndef MLA_HIP_PLUGIN_PATH
#error "MLA_HIP_PLUGIN_PATH must name libmla_backend_hip.so"
#endif

namespace {

const mla_api* load_api() {
  void* handle = dlopen(MLA_HIP_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
  REQUIRE_MESSAGE(handle != nullptr, dlerror());
  void* symbol = dlsym(handle, "mla_get_api");
  REQUIRE(symbol != nullptr);
  return reinterpret_cast<mla_get_api_fn>(symbol)();
}

int devices_seen_by_runtime() {
  int count = 0;
  if (hipGetDeviceCount(&count) != hipSuccess) return 0;
  return count;
}

}  // namespace

TEST_CASE("the hip plugin loads and reports its device situation") {
  const mla_api* api = load_api();
  REQUIRE(api != nullptr);
  CHECK(api->abi_major == MLA_ABI_MAJOR);
  CHECK(std::string(api->name) == "hip");

  mla_probe_result probe{};
  probe.struct_size = sizeof probe;
  REQUIRE(api->probe(&probe) == MLA_OK);
  INFO("probe reason: " << probe.reason);

  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  mla_context* ctx = nullptr;
  const mla_status created = api->context_create(&desc, &ctx);

  if (devices_seen_by_runtime() == 0) {
    CHECK(probe.usable == 0);
    CHECK(probe.num_devices == 0);
    CHECK(std::strstr(probe.reason, "no HIP device") != nullptr);
    CHECK(std::strstr(probe.reason, "hipErrorNoDevice") != nullptr);
    CHECK(created == MLA_ERR_NO_DEVICE);
    CHECK(ctx == nullptr);
    CHECK(std::strstr(api->last_error(), "no HIP device") != nullptr);
  } else {
    CHECK(probe.usable == 1);
    CHECK(created == MLA_OK);
    CHECK(api->context_destroy(ctx) == MLA_OK);
  }
}
