// SPDX-License-Identifier: MIT
// libFuzzer target: the loader's parsing of MLA_BACKEND and MLA_BACKEND_PATH
// (or options.backend / options.search_path), discovery and selection, over
// a scratch folder of hostile files (fuzz/CMakeLists.txt links the loader's
// sources in, built with -fsanitize=fuzzer,address,undefined).
//
//   build-fuzz/bin/mla_fuzz_loader_env [libFuzzer flags] CORPUS_DIR fuzz/corpus/loader_env
//
// Input: [mode][backend spec, up to a NUL][search path, the rest].
//   mode bit 0: through the environment (setenv) instead of the options
//        bit 1: options.backend NULL (MLA_BACKEND or auto)
//        bits 2-3: options.ignore_environment (2 and 3 must be refused)
//        bit 4: options NULL altogether
// The scratch folder /tmp/mla-fuzz-loader/special holds a FIFO, a folder, a
// text file, a dangling and a looping symlink, all named like plugins, and
// files whose names hold separators.  Checked on every input: open returns
// a loader (or refuses bad options), every entry's strings are set, scores
// lie in [0, MLA_MAX_SCORE], a usable entry has a table, a selected plugin
// has a name the spec asked for (or the spec asked for auto).
#include <mla/mla.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

constexpr const char* kScratch = "/tmp/mla-fuzz-loader/special";

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "mla_fuzz_loader_env: %s\n", what);
  std::abort();
}

void make_scratch() {
  mkdir("/tmp/mla-fuzz-loader", 0755);
  mkdir(kScratch, 0755);
  const std::string dir = kScratch;
  mkfifo((dir + "/libmla_backend_fifo.so").c_str(), 0644);
  mkdir((dir + "/libmla_backend_folder.so").c_str(), 0755);
  std::ofstream(dir + "/libmla_backend_text.so") << "not a shared library\n";
  std::ofstream(dir + "/libmla_backend_a,b.so") << "a name with a list separator\n";
  std::ofstream(dir + "/libmla_backend_x[1].so") << "a name with a bracket\n";
  std::ofstream(dir + "/libmla_backend_auto.so") << "a reserved name\n";
  symlink((dir + "/nowhere").c_str(), (dir + "/libmla_backend_dangling.so").c_str());
  symlink((dir + "/libmla_backend_loop.so").c_str(), (dir + "/libmla_backend_loop.so").c_str());
}

// Whether the selection spec (as selection.cpp splits and trims it) asks
// for `name`, or for auto (an explicit item, or no item at all).
bool names_item(const std::string& spec, const std::string& name) {
  bool any = false;
  size_t begin = 0;
  while (begin <= spec.size()) {
    size_t end = spec.find(',', begin);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(begin, end - begin);
    const size_t a = item.find_first_not_of(" \t"), z = item.find_last_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, z - a + 1);
    if (item == name || item == "auto") return true;
    any = any || !item.empty();
    begin = end + 1;
  }
  return !any;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  make_scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const char* text = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  const size_t nul = strnlen(text, n);
  const std::string spec(text, nul), path(nul < n ? std::string(text + nul + 1, n - nul - 1) : std::string());
  if (spec.find('\0') != std::string::npos) return 0;
  const std::string path_c = path.substr(0, path.find('\0'));

  mla_loader_options options{};
  options.struct_size = sizeof options;
  options.ignore_environment = (mode >> 2) & 3;
  const bool via_env = mode & 1;
  if (via_env) {
    setenv("MLA_BACKEND", spec.c_str(), 1);
    setenv("MLA_BACKEND_PATH", path_c.c_str(), 1);
  } else {
    unsetenv("MLA_BACKEND");
    unsetenv("MLA_BACKEND_PATH");
    options.backend = mode & 2 ? nullptr : spec.c_str();
    options.search_path = path_c.c_str();
  }
  const bool no_options = mode & 0x10;
  mla_loader* loader = nullptr;
  const mla_status st = mla_loader_open(no_options ? nullptr : &options, &loader);
  if (!no_options && options.ignore_environment > 1) {
    if (st != MLA_ERR_INVALID_ARGUMENT || loader != nullptr) finding("ignore_environment > 1 was accepted");
    return 0;
  }
  if (st != MLA_OK || loader == nullptr) finding("mla_loader_open failed on valid options");

  // What was asked: the environment's spec when it was read, else the options'.
  const bool env_read = via_env && (no_options || options.ignore_environment == 0);
  const std::string asked = no_options || options.backend == nullptr ? (env_read ? spec : "auto") : spec;
  const int32_t count = mla_loader_plugin_count(loader);
  if (count < 0) finding("negative plugin count");
  for (int32_t i = 0; i < count; ++i) {
    mla_plugin_entry e{};
    e.struct_size = sizeof e;
    if (mla_loader_plugin(loader, i, &e) != MLA_OK) finding("mla_loader_plugin failed on a valid index");
    if (e.path == nullptr || e.name == nullptr || e.reason == nullptr) finding("an entry's string is NULL");
    if (e.state < MLA_PLUGIN_SELECTED || e.state > MLA_PLUGIN_SKIPPED) finding("an entry's state is out of range");
    if (e.score < 0 || e.score > MLA_MAX_SCORE) finding("a score outside [0, MLA_MAX_SCORE]");
    if ((e.state != MLA_PLUGIN_SKIPPED) != (e.api != nullptr)) finding("a usable entry without a table, or the reverse");
  }
  const mla_api* api = mla_loader_api(loader);
  if (api == nullptr && mla_loader_error(loader)[0] == '\0') finding("nothing selected and no error");
  if (api != nullptr && !names_item(asked, api->name)) finding("selected a plugin nobody asked for");
  mla_loader_close(loader);
  return 0;
}
