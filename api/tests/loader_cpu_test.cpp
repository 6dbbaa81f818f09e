// SPDX-License-Identifier: MIT
// MLA_BACKEND=cpu through the real libmla and the real cpu plugin of this
// build tree (registered only when the mla_backend_cpu target exists).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mla/mla.h>

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
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

namespace {

std::string mapped_files() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str();
}

}  // namespace

// Issue 11: only the plugins MLA_BACKEND names are opened.  Before, every
// plugin of the folder was dlopened and probed, so MLA_BACKEND=cpu mapped
// the CUDA plugin and its runtime (and ran its probe).  Checked in a fresh
// child process, whose maps no earlier test has touched.
TEST_CASE("MLA_BACKEND=cpu maps neither the CUDA nor the HIP plugin or runtime") {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGALRM}) signal(sig, SIG_DFL);
    alarm(60);
    setenv("MLA_BACKEND", "cpu", 1);
    unsetenv("MLA_BACKEND_PATH");
    mla_loader* loader = nullptr;
    if (mla_loader_open(nullptr, &loader) != MLA_OK || mla_loader_api(loader) == nullptr) _exit(10);
    const std::string maps = mapped_files();
    if (maps.find("libmla_backend_cpu.so") == std::string::npos) _exit(11);  // the check can see a plugin
    int code = 0, bit = 1;
    for (const char* absent : {"libmla_backend_cuda.so", "libmla_backend_hip.so", "libcudart", "libcuda.so",
                               "libamdhip64", "libhsa-runtime"}) {
      if (maps.find(absent) != std::string::npos) {
        std::fprintf(stderr, "MLA_BACKEND=cpu mapped %s\n", absent);
        code |= bit;
      }
      bit <<= 1;
    }
    mla_loader_close(loader);
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child status " << status << " (exit code bits: 1 cuda plugin, 2 hip plugin, 4 cudart, 8 libcuda, "
       "16 amdhip64, 32 hsa; 10/11: the loader or the cpu plugin failed)");
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // The GPU plugins of this build (when built) are listed, not loaded.
  setenv("MLA_BACKEND", "cpu", 1);
  unsetenv("MLA_BACKEND_PATH");
  mla_loader* loader = nullptr;
  REQUIRE(mla_loader_open(nullptr, &loader) == MLA_OK);
  for (int32_t i = 0; i < mla_loader_plugin_count(loader); ++i) {
    mla_plugin_entry entry{};
    entry.struct_size = sizeof entry;
    REQUIRE(mla_loader_plugin(loader, i, &entry) == MLA_OK);
    if (std::string(entry.name) == "cpu") continue;
    INFO(entry.path << ": " << entry.reason);
    CHECK(entry.state == MLA_PLUGIN_SKIPPED);
    CHECK(std::string(entry.reason).rfind("not loaded: MLA_BACKEND=cpu", 0) == 0);
  }
  mla_loader_close(loader);
  unsetenv("MLA_BACKEND");
}
