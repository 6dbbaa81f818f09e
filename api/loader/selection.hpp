// Selection: which discovered plugin MLA_BACKEND / options.backend picks, and
// the message that says why none was picked.
#pragma once
#include "plugin_record.hpp"

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

// Items of the comma-separated list are tried in order: a name takes that
// plugin if usable, "auto" takes the usable plugin with the highest score
// (ties: the first in discovery order).  `searched` is listed in errors.
Selection select_plugin(const std::vector<PluginRecord>& plugins, const BackendRequest& request,
                        const std::vector<std::string>& searched);

}  // namespace mla::loader
