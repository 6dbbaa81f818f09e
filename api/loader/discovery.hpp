// SPDX-License-Identifier: MIT
// Discovery: which directories are searched, in which order, and which files
// in them look like plugins (libmla_backend_<name>.so).
#pragma once
#include <string>
#include <vector>

namespace mla::loader {

struct SearchDirectory {
  std::string path;
  // Named by the user (MLA_BACKEND_PATH / options.search_path): a directory
  // that cannot be read is reported.  The built-in ones are skipped quietly.
  bool from_user = false;
};

// The search order: the user's colon-separated list (empty items ignored),
// then the loader's own directory and its "mla" subdirectory, then the
// install directory.  A directory already listed (same real path) is dropped.
std::vector<SearchDirectory> search_directories(const std::string* user_path);

// One step of discovery: a plugin file, a file whose <name> could never be
// selected (`problem` set), or a user directory that could not be read
// (`problem` set, `plugin_name` empty).
struct DiscoveredItem {
  std::string path;
  std::string plugin_name;  // <name> of libmla_backend_<name>.so
  std::string problem;
};

// "" when `name` can be selected by MLA_BACKEND; else why not.  A name holds
// only letters, digits, '_', '-' and '.' (so no list separator ',', no
// blank, no '[' of mla-conformance's NAME[config]) and is not "auto".
std::string plugin_name_problem(const std::string& name);

// Files of `dir` named libmla_backend_<name>.so, sorted by name so that the
// order does not depend on the file system.
std::vector<DiscoveredItem> scan_directory(const SearchDirectory& dir);

// "<name>" for "libmla_backend_<name>.so", "" for any other file name.
std::string plugin_name_from_file(const std::string& file_name);

}  // namespace mla::loader
