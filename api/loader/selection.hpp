// SPDX-License-Identifier: MIT
// Selection: which discovered plugin MLA_BACKEND / options.backend picks, and
// the message that says why none was picked.
#pragma once
#include "plugin_record.hpp"

#include <functional>
#include <string>
#include <vector>

namespace mla::loader {

struct BackendRequest {
  std::string spec;    // "cpu", "cuda,hip,cpu", "auto"; "" means auto
  std::string origin;  // how it reads in messages: "MLA_BACKEND", "options.backend", ""
};

struct Selection {
  int index = -1;     // into the plugin list, -1 if none
  std::string error;  // why none, "" when index >= 0
};

// Opens and probes one candidate record in place (load_plugin).
using LoadPlugin = std::function<void(PluginRecord&)>;

// Items of the comma-separated list are tried in order: a name takes that
// plugin if usable, "auto" takes the usable plugin with the highest score
// (ties: the first in discovery order).  Plugins are loaded (dlopen +
// probe) only when an item needs them: a name loads that one plugin,
// "auto" every candidate; so MLA_BACKEND=cpu never runs another plugin's
// code.  Candidates left unloaded get the reason "not loaded: ...".
// `searched` is listed in errors.
Selection select_plugin(std::vector<PluginRecord>& plugins, const BackendRequest& request,
                        const std::vector<std::string>& searched, const LoadPlugin& load);

}  // namespace mla::loader
