// SPDX-License-Identifier: MIT
// The command line of every libmla tool: CLI11 (Debian libcli11-dev), one
// --version line, one way to fail.  `--opt VALUE` and `--opt=VALUE` are the
// same; an error names the option as typed ("mla-bench: --iters: Value 0 not
// in range 1 to 100000000") and exits 2; --help and --version exit 0.
#pragma once
#include <mla/mla_plugin.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#ifndef MLA_PACKAGE_VERSION
#error "MLA_PACKAGE_VERSION (the package version, e.g. \"1.1.0\") comes from the mla_tools_cli target"
#endif

namespace mla_tools {

// "<tool> 1.1.0 (ABI 1.1)": the package version and the plugin ABI this
// tool was built against.
inline std::string version_line(const char* tool) {
  return std::string(tool) + " " + MLA_PACKAGE_VERSION + " (ABI " + std::to_string(MLA_ABI_MAJOR) + "." +
         std::to_string(MLA_ABI_MINOR) + ")";
}

// Adds --version to `app` (call before parse_command_line).
inline void add_version_flag(CLI::App& app, const char* tool) { app.set_version_flag("--version", version_line(tool)); }

// Parses; returns -1 to go on, else the exit status: 0 after --help or
// --version, 2 for a bad command line (the message on stderr, prefixed with
// the tool's name).
inline int parse_command_line(CLI::App& app, const char* tool, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e), 0;
    std::fprintf(stderr, "%s: %s\nRun with --help for more information.\n", tool, e.what());
    return 2;
  }
}

// An output file named on the command line, checked before any work is
// done: "" when `path` can be written (an existing file is left as it is, a
// new one is not left behind), else why not.
inline std::string check_writable(const std::string& path) {
  const bool existed = std::ifstream(path).good();
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return path + ": cannot open for writing (" + std::strerror(errno) + ")";
  std::fclose(f);
  if (!existed) std::remove(path.c_str());
  return "";
}

}  // namespace mla_tools
