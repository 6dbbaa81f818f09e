// SPDX-License-Identifier: MIT
#include "selection.hpp"

namespace mla::loader {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split_list(const std::string& spec) {
  std::vector<std::string> items;
  size_t begin = 0;
  while (begin <= spec.size()) {
    size_t end = spec.find(',', begin);
    if (end == std::string::npos) end = spec.size();
    std::string item = trim(spec.substr(begin, end - begin));
    if (!item.empty()) items.push_back(std::move(item));
    begin = end + 1;
  }
  if (items.empty()) items.push_back("auto");
  return items;
}

// The first record carrying `name` is the one that was loaded; later ones
// are shadowed duplicates.
int find_by_name(const std::vector<PluginRecord>& plugins, const std::string& name) {
  for (size_t i = 0; i < plugins.size(); ++i)
    if (plugins[i].name == name) return static_cast<int>(i);
  return -1;
}

int best_usable(const std::vector<PluginRecord>& plugins) {
  int best = -1;
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (plugins[i].state == MLA_PLUGIN_SKIPPED) continue;
    if (best < 0 || plugins[i].score > plugins[best].score) best = static_cast<int>(i);
  }
  return best;
}

// "(seen: cpu, cuda [skipped: no CUDA device]; searched: /a, /b)"; a
// plugin that was never loaded is listed by name only.
std::string seen_summary(const std::vector<PluginRecord>& plugins,
                         const std::vector<std::string>& searched) {
  std::string text = "(seen: ";
  if (plugins.empty()) text += "nothing";
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (i > 0) text += ", ";
    text += plugins[i].name.empty() ? plugins[i].path : plugins[i].name;
    if (plugins[i].state == MLA_PLUGIN_SKIPPED && !plugins[i].candidate)
      text += " [skipped: " + plugins[i].reason + "]";
  }
  text += "; searched: ";
  if (searched.empty()) text += "nothing";
  for (size_t i = 0; i < searched.size(); ++i) text += (i > 0 ? ", " : "") + searched[i];
  return text + ")";
}

// Why one list item gave nothing.
std::string item_failure(const std::vector<PluginRecord>& plugins, const std::string& item) {
  if (item == "auto") return "auto: no usable plugin";
  const int index = find_by_name(plugins, item);
  if (index < 0) return "no plugin named '" + item + "'";
  return "plugin '" + item + "' (" + plugins[index].path + ") is not usable: " + plugins[index].reason;
}

}  // namespace

Selection select_plugin(std::vector<PluginRecord>& plugins, const BackendRequest& request,
                        const std::vector<std::string>& searched, const LoadPlugin& load) {
  const std::vector<std::string> items = split_list(request.spec);
  const std::string asked = request.origin.empty() ? "backend auto (MLA_BACKEND unset)"
                                                   : request.origin + "=" + request.spec;
  // Candidates still unloaded when the selection is over say why.
  auto finish = [&](Selection result) {
    for (PluginRecord& p : plugins) {
      if (!p.candidate) continue;
      p.candidate = false;
      bool named = false;
      for (const std::string& item : items) named = named || item == p.name;
      p.reason = "not loaded: " + asked + (named ? " chose an earlier item" : " does not name it");
    }
    return result;
  };
  for (const std::string& item : items) {
    int index = -1;
    if (item == "auto") {
      for (PluginRecord& p : plugins)
        if (p.candidate) load(p);
      index = best_usable(plugins);
    } else {
      index = find_by_name(plugins, item);
      if (index >= 0 && plugins[index].candidate) load(plugins[index]);
    }
    if (index >= 0 && plugins[index].state != MLA_PLUGIN_SKIPPED) return finish({index, ""});
  }

  std::string error = asked + ": ";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) error += "; ";
    error += item_failure(plugins, items[i]);
  }
  return finish({-1, error + " " + seen_summary(plugins, searched)});
}

}  // namespace mla::loader
