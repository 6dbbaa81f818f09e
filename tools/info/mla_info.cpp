// SPDX-License-Identifier: MIT
// mla-info: lists every plugin the libmla loader sees (path, name, ABI
// version, state, score, reason) and the capabilities of the usable ones.
//   mla-info [--backend SPEC] [--path DIRS] [--ignore-environment] [--version]
// Exit status: 0 if a plugin was selected, 1 if none (the reason is
// printed), 2 for a bad command line.
#include <mla/mla.h>

#include "caps_report.hpp"
#include "tool_cli.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct CommandLine {
  std::string backend, path;  // empty: not given
  bool ignore_environment = false;
};

void add_options(CLI::App& app, CommandLine& line) {
  app.description(
      "mla-info: every plugin the libmla loader sees (path, name, ABI version, state, score, reason) and the "
      "capabilities of the usable ones.  Exit status: 0 a plugin was selected, 1 none (the reason is printed), "
      "2 a bad command line.");
  app.add_option("--backend", line.backend, "a name, a comma list or auto (default: $MLA_BACKEND)");
  app.add_option("--path", line.path, "colon-separated plugin folders (default: $MLA_BACKEND_PATH)");
  app.add_flag("--ignore-environment", line.ignore_environment, "read neither variable");
}

const char* state_name(int32_t state) {
  switch (state) {
    case MLA_PLUGIN_SELECTED: return "selected";
    case MLA_PLUGIN_USABLE: return "usable";
    case MLA_PLUGIN_SKIPPED: return "skipped";
  }
  return "?";
}

void print_setting(const char* label, const std::string& from_option, const char* variable,
                   bool ignore_environment) {
  if (!from_option.empty()) {
    std::printf("  %-17s %s (command line)\n", label, from_option.c_str());
  } else if (ignore_environment) {
    std::printf("  %-17s (environment ignored)\n", label);
  } else {
    const char* value = std::getenv(variable);
    std::printf("  %-17s %s\n", label, value != nullptr ? value : "(unset)");
  }
}

void print_loader(const CommandLine& line) {
  Dl_info info{};
  const bool found = dladdr(reinterpret_cast<void*>(&mla_loader_open), &info) != 0 &&
                     info.dli_fname != nullptr;
  uint32_t abi_major = 0, abi_minor = 0;
  const char* package = nullptr;
  mla_loader_version(&abi_major, &abi_minor, &package);
  std::printf("libmla loader %s, version %s (plugin ABI %u.%u)\n", found ? info.dli_fname : "(unknown path)",
              package ? package : "?", abi_major, abi_minor);
  print_setting("MLA_BACKEND", line.backend, "MLA_BACKEND", line.ignore_environment);
  print_setting("MLA_BACKEND_PATH", line.path, "MLA_BACKEND_PATH", line.ignore_environment);
}

void print_plugins(const mla_loader* loader) {
  const int32_t count = mla_loader_plugin_count(loader);
  std::printf("\n%d plugin file(s) seen, in discovery order:\n", count);
  for (int32_t i = 0; i < count; ++i) {
    mla_plugin_entry entry{};
    entry.struct_size = sizeof entry;
    if (mla_loader_plugin(loader, i, &entry) != MLA_OK) continue;
    // ABI 0.0 means the table was never read (dlopen or mla_get_api failed).
    char abi[32] = "-";
    if (entry.abi_major != 0) std::snprintf(abi, sizeof abi, "%u.%u", entry.abi_major, entry.abi_minor);
    std::printf("  [%d] %-8s %-10s ABI %-4s score %d\n", i, state_name(entry.state),
                entry.name[0] != '\0' ? entry.name : "-", abi, entry.score);
    std::printf("      path    %s\n", entry.path);
    std::printf("      %s  %s\n", entry.state == MLA_PLUGIN_SKIPPED ? "reason" : "probe ",
                entry.reason);
    if (entry.api != nullptr) {
      std::printf("      version %s\n", entry.api->version != nullptr ? entry.api->version : "?");
      mla::info::print_caps(stdout, *entry.api, "      ");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine line;
  CLI::App app;
  add_options(app, line);
  mla_tools::add_version_flag(app, "mla-info");
  const int parsed = mla_tools::parse_command_line(app, "mla-info", argc, argv);
  if (parsed >= 0) return parsed;

  mla_loader_options options{};
  options.struct_size = sizeof options;
  options.backend = line.backend.empty() ? nullptr : line.backend.c_str();
  options.search_path = line.path.empty() ? nullptr : line.path.c_str();
  options.ignore_environment = line.ignore_environment ? 1 : 0;
  mla_loader* loader = nullptr;
  const mla_status status = mla_loader_open(&options, &loader);
  if (status != MLA_OK) {
    std::fprintf(stderr, "mla-info: mla_loader_open failed: %s\n", mla_status_name(status));
    return 1;
  }

  print_loader(line);
  print_plugins(loader);

  const mla_api* selected = mla_loader_api(loader);
  int exit_code = 0;
  if (selected != nullptr) {
    std::printf("\nselected: %s\n", selected->name);
  } else {
    std::fflush(stdout);
    std::fprintf(stderr, "\nno plugin selected: %s\n", mla_loader_error(loader));
    exit_code = 1;
  }
  mla_loader_close(loader);
  return exit_code;
}
