// MLA_BACKEND=cpu through the real libmla and the real cpu plugin of this
// build tree (registered only when the mla_backend_cpu target exists).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mla/mla.h>

#include <limits.h>
#include <stdlib.h>

#include <string>

namespace {

std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) != nullptr ? buffer : path;
}

}  // namespace

TEST_CASE("MLA_BACKEND=cpu selects the build tree's cpu plugin") {
  setenv("MLA_BACKEND", "cpu", 1);
  unsetenv("MLA_BACKEND_PATH");
  mla_loader* loader = nullptr;
  REQUIRE(mla_loader_open(nullptr, &loader) == MLA_OK);
  const mla_api* api = mla_loader_api(loader);
  INFO("loader error: " << mla_loader_error(loader));
  REQUIRE(api != nullptr);
  CHECK(std::string(api->name) == "cpu");
  CHECK(api->abi_major == MLA_ABI_MAJOR);

  bool found = false;
  for (int32_t i = 0; i < mla_loader_plugin_count(loader); ++i) {
    mla_plugin_entry entry{};
    entry.struct_size = sizeof entry;
    REQUIRE(mla_loader_plugin(loader, i, &entry) == MLA_OK);
    if (entry.state != MLA_PLUGIN_SELECTED) continue;
    found = true;
    // Found beside the loader, in build/lib/mla.
    CHECK(real_path(entry.path) == real_path(MLA_TEST_PLUGIN_DIR "/libmla_backend_cpu.so"));
  }
  CHECK(found);

  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.num_threads = 1;
  mla_context* ctx = nullptr;
  REQUIRE(api->context_create(&desc, &ctx) == MLA_OK);
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  CHECK(api->get_caps(ctx, &caps) == MLA_OK);
  CHECK((caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED)) != 0);
  CHECK(std::string(caps.device_name) != "");
  CHECK(api->context_destroy(ctx) == MLA_OK);
  mla_loader_close(loader);
  unsetenv("MLA_BACKEND");
}

TEST_CASE("a preference list falls through to cpu") {
  mla_loader_options options{};
  options.struct_size = sizeof options;
  options.backend = "no-such-backend,cpu";
  options.ignore_environment = 1;
  mla_loader* loader = nullptr;
  REQUIRE(mla_loader_open(&options, &loader) == MLA_OK);
  const mla_api* api = mla_loader_api(loader);
  REQUIRE(api != nullptr);
  CHECK(std::string(api->name) == "cpu");
  mla_loader_close(loader);
}
