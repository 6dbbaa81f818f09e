// SPDX-License-Identifier: MIT
// Loading one plugin file: dlopen, find mla_get_api, check the table's ABI
// version, size and entries, then ask probe() whether it is usable here.
#pragma once
#include "plugin_record.hpp"

#include <string>

namespace mla::loader {

// Size of the ABI 1.0 mla_api table: through the last 1.0 function pointer
// (merge_states).  A table smaller than this is rejected.
constexpr size_t kApiSizeV1_0 = offsetof(mla_api, merge_states) + sizeof(mla_api::merge_states);

// Returns a record in state MLA_PLUGIN_USABLE (library kept open, api set)
// or MLA_PLUGIN_SKIPPED (library closed, reason set).  Only a regular file
// is handed to dlopen (open with O_PATH + fstat first: a FIFO, a device or
// a directory named like a plugin never blocks or reaches dlopen).  Never
// throws for a bad plugin; a crash inside the plugin's own
// mla_get_api/probe cannot be caught, exceptions escaping them are: which
// is why only the plugins the selection names are loaded (selection.hpp).
PluginRecord load_plugin(const std::string& path, const std::string& file_plugin_name);

// Why `path` is not a regular file ("" when it is), from open + fstat.
std::string not_a_regular_file(const std::string& path);

}  // namespace mla::loader
