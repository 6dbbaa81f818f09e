// SPDX-License-Identifier: MIT
#include "plugin_load.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mla::loader {
namespace {

// The table's first three fields (struct_size, abi_major, abi_minor) are
// the same in every major, so they may be read before the major is checked.
constexpr size_t kApiVersionPrefix = offsetof(mla_api, abi_minor) + sizeof(uint32_t);

std::string dl_error_text() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dynamic loader error";
}

PluginRecord skipped(PluginRecord record, std::string reason) {
  record.state = MLA_PLUGIN_SKIPPED;
  record.reason = std::move(reason);
  record.api = nullptr;
  record.library.reset();
  return record;
}

// The name of the first ABI 1.0 entry that is NULL, or nullptr.
const char* missing_entry(const mla_api& api) {
  if (api.probe == nullptr) return "probe";
  if (api.last_error == nullptr) return "last_error";
  if (api.context_create == nullptr) return "context_create";
  if (api.context_destroy == nullptr) return "context_destroy";
  if (api.get_caps == nullptr) return "get_caps";
  if (api.absorbed_workspace_size == nullptr) return "absorbed_workspace_size";
  if (api.absorbed_plan == nullptr) return "absorbed_plan";
  if (api.absorbed_run == nullptr) return "absorbed_run";
  if (api.merge_states == nullptr) return "merge_states";
  return nullptr;
}

const mla_api* call_get_api(mla_get_api_fn get_api, std::string* failure) {
  try {
    return get_api();
  } catch (...) {
    *failure = "mla_get_api threw a C++ exception";
    return nullptr;
  }
}

mla_status call_probe(const mla_api& api, mla_probe_result* result, std::string* failure) {
  try {
    return api.probe(result);
  } catch (...) {
    *failure = "probe threw a C++ exception";
    return MLA_ERR_INTERNAL;
  }
}

std::string plugin_last_error(const mla_api& api) {
  try {
    const char* text = api.last_error();
    return text != nullptr ? text : "";
  } catch (...) {
    return "last_error threw a C++ exception";
  }
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a plain file";
}

}  // namespace

std::string not_a_regular_file(const std::string& path) {
  // O_PATH opens nothing: no FIFO rendezvous, no device open side effect.
  const int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return std::string("cannot open: ") + std::strerror(errno);
  struct stat st {};
  const int rc = fstat(fd, &st);
  const int error = errno;
  close(fd);
  if (rc != 0) return std::string("cannot fstat: ") + std::strerror(error);
  if (!S_ISREG(st.st_mode)) return std::string("not a regular file (") + file_kind(st.st_mode) + ")";
  return {};
}

PluginRecord load_plugin(const std::string& path, const std::string& file_plugin_name) {
  PluginRecord record;
  record.path = path;
  record.name = file_plugin_name;

  // A FIFO would block dlopen's read forever, a device could be read with
  // side effects.  (A folder writer could swap the file after this check,
  // but one who can write the folder can plant any library anyway.)
  if (std::string why = not_a_regular_file(path); !why.empty()) return skipped(std::move(record), why);

  dlerror();  // clear any stale message
  record.library = SharedLibrary(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (record.library.get() == nullptr)
    return skipped(std::move(record), "dlopen failed: " + dl_error_text());

  dlerror();
  void* symbol = dlsym(record.library.get(), "mla_get_api");
  if (symbol == nullptr)
    return skipped(std::move(record), "not a libmla plugin: no mla_get_api symbol (" + dl_error_text() + ")");

  std::string failure;
  const mla_api* api = call_get_api(reinterpret_cast<mla_get_api_fn>(symbol), &failure);
  if (api == nullptr)
    return skipped(std::move(record), failure.empty() ? "mla_get_api returned NULL" : failure);

  if (api->struct_size < kApiVersionPrefix)
    return skipped(std::move(record), "mla_get_api table is " + std::to_string(api->struct_size) +
                                          " bytes, too small to hold an ABI version");
  record.abi_major = api->abi_major;
  record.abi_minor = api->abi_minor;
  if (api->abi_major != MLA_ABI_MAJOR)
    return skipped(std::move(record), "built for ABI major " + std::to_string(api->abi_major) +
                                          ", this loader speaks " + std::to_string(MLA_ABI_MAJOR));
  if (api->struct_size < kApiSizeV1_0)
    return skipped(std::move(record), "mla_api table is " + std::to_string(api->struct_size) +
                                          " bytes, smaller than the ABI 1.0 table (" +
                                          std::to_string(kApiSizeV1_0) + " bytes)");
  if (api->name == nullptr || api->name[0] == '\0')
    return skipped(std::move(record), "mla_api.name is empty");
  // The file name is the plugin's name, so that a name picks one file.
  if (file_plugin_name != api->name)
    return skipped(std::move(record), "file is named for '" + file_plugin_name +
                                          "' but the plugin calls itself '" + api->name + "'");
  if (const char* entry = missing_entry(*api))
    return skipped(std::move(record), std::string("mla_api.") + entry + " is NULL");

  mla_probe_result probe{};
  probe.struct_size = sizeof probe;
  const mla_status status = call_probe(*api, &probe, &failure);
  probe.reason[sizeof probe.reason - 1] = '\0';  // never trust the terminator
  if (status != MLA_OK) {
    if (failure.empty()) failure = plugin_last_error(*api);
    return skipped(std::move(record), std::string("probe failed: ") +
                                          mla_status_name(status) + ": " + failure);
  }
  // Scores are documented in [0, MLA_MAX_SCORE]: a plugin cannot win auto by
  // reporting INT32_MAX.
  record.score = std::clamp<int32_t>(probe.score, 0, MLA_MAX_SCORE);
  if (probe.usable != 1)
    return skipped(std::move(record), probe.reason[0] != '\0' ? probe.reason
                                                               : "probe reports it unusable");
  record.state = MLA_PLUGIN_USABLE;
  record.reason = probe.reason;
  if (record.score != probe.score)
    record.reason += " (probe score " + std::to_string(probe.score) + " clamped to " + std::to_string(record.score) + ")";
  record.api = api;
  return record;
}

void SharedLibrary::reset() {
  if (handle_ != nullptr) dlclose(handle_);
  handle_ = nullptr;
}

}  // namespace mla::loader
