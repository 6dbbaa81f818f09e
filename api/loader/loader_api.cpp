// SPDX-License-Identifier: MIT
// The C API of mla.h: mla_loader_open and the queries on an open loader.
// Every entry point catches everything; nothing unwinds into C callers.
#include <mla/mla.h>

#include "discovery.hpp"
#include "environment.hpp"
#include "plugin_load.hpp"
#include "selection.hpp"

#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

struct mla_loader {
  // In discovery order.  Destroyed in reverse order, which unloads the
  // usable plugins (skipped ones were closed as soon as they were rejected).
  std::vector<mla::loader::PluginRecord> plugins;
  int selected = -1;
  std::string error;
};

namespace {

using mla::loader::PluginRecord;

// Size of mla_loader_options / mla_plugin_entry in ABI 1.0 (frozen).
constexpr size_t kOptionsSizeV1_0 = sizeof(mla_loader_options);
constexpr size_t kEntrySizeV1_0 = sizeof(mla_plugin_entry);

struct OpenRequest {
  std::optional<std::string> search_path;
  mla::loader::BackendRequest backend;
};

OpenRequest read_request(const mla_loader_options* options) {
  const bool ignore_environment = options != nullptr && options->ignore_environment != 0;
  OpenRequest request;
  if (options != nullptr && options->search_path != nullptr)
    request.search_path = std::string(options->search_path);
  else
    request.search_path = mla::loader::read_environment("MLA_BACKEND_PATH", ignore_environment);

  if (options != nullptr && options->backend != nullptr) {
    request.backend = {options->backend, "options.backend"};
  } else if (auto env = mla::loader::read_environment("MLA_BACKEND", ignore_environment)) {
    request.backend = {*env, "MLA_BACKEND"};
  }
  return request;
}

// Discovers every plugin file without loading any; the first file of each
// name wins, later ones are shadowed.  Files whose name could never be
// selected are listed as skipped with the reason.
std::vector<PluginRecord> discover(const OpenRequest& request, std::vector<std::string>* searched) {
  std::vector<PluginRecord> plugins;
  std::map<std::string, std::string> first_path_of_name;
  const std::string* user_path = request.search_path ? &*request.search_path : nullptr;
  for (const auto& dir : mla::loader::search_directories(user_path)) {
    searched->push_back(dir.path);
    for (auto& item : mla::loader::scan_directory(dir)) {
      PluginRecord record;
      record.path = item.path;
      record.name = item.plugin_name;
      if (!item.problem.empty()) {
        record.reason = item.problem;
        plugins.push_back(std::move(record));
        continue;
      }
      const auto first = first_path_of_name.find(item.plugin_name);
      if (first != first_path_of_name.end()) {
        record.reason = "shadowed by " + first->second;
        plugins.push_back(std::move(record));
        continue;
      }
      first_path_of_name.emplace(item.plugin_name, item.path);
      record.candidate = true;  // loaded only if the selection asks for it
      plugins.push_back(std::move(record));
    }
  }
  return plugins;
}

void load_candidate(PluginRecord& record) {
  PluginRecord loaded = mla::loader::load_plugin(record.path, record.name);
  record = std::move(loaded);
}

}  // namespace

extern "C" {

mla_status mla_loader_open(const mla_loader_options* options, mla_loader** out) {
  if (out == nullptr) return MLA_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (options != nullptr) {
    if (options->struct_size < kOptionsSizeV1_0) return MLA_ERR_VERSION;
    if (options->ignore_environment != 0 && options->ignore_environment != 1)
      return MLA_ERR_INVALID_ARGUMENT;
    if (options->reserved0 != 0) return MLA_ERR_INVALID_ARGUMENT;
  }
  try {
    auto loader = std::make_unique<mla_loader>();
    const OpenRequest request = read_request(options);
    std::vector<std::string> searched;
    loader->plugins = discover(request, &searched);
    const auto selection = mla::loader::select_plugin(loader->plugins, request.backend, searched, load_candidate);
    loader->selected = selection.index;
    loader->error = selection.error;
    if (selection.index >= 0) loader->plugins[selection.index].state = MLA_PLUGIN_SELECTED;
    *out = loader.release();
    return MLA_OK;
  } catch (const std::bad_alloc&) {
    return MLA_ERR_OUT_OF_MEMORY;
  } catch (...) {
    return MLA_ERR_INTERNAL;
  }
}

void mla_loader_close(mla_loader* loader) {
  if (loader == nullptr) return;
  // Unload in reverse discovery order.
  while (!loader->plugins.empty()) loader->plugins.pop_back();
  delete loader;
}

const mla_api* mla_loader_api(const mla_loader* loader) {
  if (loader == nullptr || loader->selected < 0) return nullptr;
  return loader->plugins[loader->selected].api;
}

const char* mla_loader_error(const mla_loader* loader) {
  if (loader == nullptr) return "mla_loader_error: loader is NULL";
  return loader->error.c_str();
}

int32_t mla_loader_plugin_count(const mla_loader* loader) {
  if (loader == nullptr) return 0;
  return static_cast<int32_t>(loader->plugins.size());
}

mla_status mla_loader_plugin(const mla_loader* loader, int32_t index, mla_plugin_entry* entry) {
  if (loader == nullptr || entry == nullptr) return MLA_ERR_INVALID_ARGUMENT;
  if (entry->struct_size < kEntrySizeV1_0) return MLA_ERR_VERSION;
  if (index < 0 || static_cast<size_t>(index) >= loader->plugins.size())
    return MLA_ERR_INVALID_ARGUMENT;
  const PluginRecord& record = loader->plugins[static_cast<size_t>(index)];
  // Only the 1.0 fields are written; struct_size stays the caller's.
  entry->path = record.path.c_str();
  entry->name = record.name.c_str();
  entry->state = record.state;
  entry->score = record.score;
  entry->abi_major = record.abi_major;
  entry->abi_minor = record.abi_minor;
  entry->reason = record.reason.c_str();
  entry->api = record.api;
  return MLA_OK;
}

}  // extern "C"
