// SPDX-License-Identifier: MIT
// What the loader knows about one plugin file (or one unreadable search
// directory): the C++ side of an mla_plugin_entry.
#pragma once
#include <mla/mla.h>

#include <string>
#include <utility>

namespace mla::loader {

// A dlopen handle that dlcloses itself; move-only.
class SharedLibrary {
 public:
  SharedLibrary() = default;
  explicit SharedLibrary(void* handle) : handle_(handle) {}
  SharedLibrary(SharedLibrary&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  SharedLibrary& operator=(SharedLibrary&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary() { reset(); }

  void* get() const { return handle_; }
  void reset();  // dlclose, if open

 private:
  void* handle_ = nullptr;
};

struct PluginRecord {
  std::string path;    // the file (or the unreadable directory)
  // A file that may be loaded when the selection asks for it: discovery
  // found it, nothing has opened it yet (state skipped, reason "").
  bool candidate = false;
  std::string name;    // the plugin's name; the file's <name> when never loaded; "" for a directory
  mla_plugin_state state = MLA_PLUGIN_SKIPPED;
  int32_t score = 0;   // the probe's, clamped to [0, MLA_MAX_SCORE]
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::string reason;  // why skipped, or the probe's device summary
  const mla_api* api = nullptr;  // set only while `library` is open (usable plugins)
  SharedLibrary library;
};

}  // namespace mla::loader
