// SPDX-License-Identifier: MIT
#include "discovery.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

namespace mla::loader {
namespace {

constexpr char kPrefix[] = "libmla_backend_";
constexpr char kSuffix[] = ".so";

// The directory holding this library, found from the address of one of its
// own functions (an internal one: an exported name could be interposed by
// another copy of libmla in the process).
std::string loader_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&loader_directory), &info) == 0 || info.dli_fname == nullptr)
    return {};
  std::string file = info.dli_fname;
  const auto slash = file.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : file.substr(0, slash);
}

std::string real_path_or_self(const std::string& path) {
  char buffer[PATH_MAX];
  if (realpath(path.c_str(), buffer) != nullptr) return buffer;
  return path;
}

std::string join(const std::string& dir, const std::string& file) {
  if (!dir.empty() && dir.back() == '/') return dir + file;
  return dir + "/" + file;
}

}  // namespace

std::vector<SearchDirectory> search_directories(const std::string* user_path) {
  std::vector<SearchDirectory> candidates;
  if (user_path != nullptr) {
    size_t begin = 0;
    while (begin <= user_path->size()) {
      size_t end = user_path->find(':', begin);
      if (end == std::string::npos) end = user_path->size();
      // An empty item is not taken to mean the current directory.
      if (end > begin) candidates.push_back({user_path->substr(begin, end - begin), true});
      begin = end + 1;
    }
  }
  const std::string own = loader_directory();
  if (!own.empty()) {
    candidates.push_back({own, false});
    candidates.push_back({join(own, "mla"), false});
  }
  candidates.push_back({MLA_PLUGIN_INSTALL_FULLDIR, false});

  std::vector<SearchDirectory> unique;
  std::set<std::string> seen;
  for (auto& dir : candidates) {
    if (seen.insert(real_path_or_self(dir.path)).second) unique.push_back(std::move(dir));
  }
  return unique;
}

std::string plugin_name_from_file(const std::string& file_name) {
  const size_t prefix = sizeof kPrefix - 1, suffix = sizeof kSuffix - 1;
  if (file_name.size() <= prefix + suffix) return {};
  if (file_name.compare(0, prefix, kPrefix) != 0) return {};
  if (file_name.compare(file_name.size() - suffix, suffix, kSuffix) != 0) return {};
  return file_name.substr(prefix, file_name.size() - prefix - suffix);
}

std::string plugin_name_problem(const std::string& name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  };
  const auto bad = std::find_if_not(name.begin(), name.end(), allowed);
  if (bad != name.end()) {
    const unsigned char c = static_cast<unsigned char>(*bad);
    char shown[16];
    if (c >= 0x20 && c < 0x7f) std::snprintf(shown, sizeof shown, "'%c'", c);
    else std::snprintf(shown, sizeof shown, "byte 0x%02x", c);
    return "plugin name '" + name + "' holds " + shown +
           ": a name may hold only letters, digits, '_', '-' and '.', or MLA_BACKEND could never select it";
  }
  if (name == "auto") return "plugin name 'auto' is reserved: MLA_BACKEND=auto means every plugin";
  return {};
}

std::vector<DiscoveredItem> scan_directory(const SearchDirectory& dir) {
  std::vector<DiscoveredItem> items;
  std::unique_ptr<DIR, int (*)(DIR*)> handle(opendir(dir.path.c_str()), &closedir);
  if (!handle) {
    const int error = errno;
    if (dir.from_user) {
      items.push_back({dir.path, "",
                       std::string("search directory cannot be read: ") + std::strerror(error)});
    }
    return items;
  }
  while (const dirent* entry = readdir(handle.get())) {
    std::string name = plugin_name_from_file(entry->d_name);
    if (name.empty()) continue;
    std::string problem = plugin_name_problem(name);
    items.push_back({join(dir.path, entry->d_name), std::move(name), std::move(problem)});
  }
  std::sort(items.begin(), items.end(),
            [](const DiscoveredItem& a, const DiscoveredItem& b) { return a.path < b.path; });
  return items;
}

}  // namespace mla::loader
