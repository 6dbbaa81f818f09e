// mla-info: lists every plugin the libmla loader sees (path, name, ABI
// version, state, score, reason) and the capabilities of the usable ones.
//   mla-info [--backend SPEC] [--path DIRS] [--ignore-environment]
// Exit status: 0 if a plugin was selected, 1 if none (the reason is
// printed), 2 for a bad command line.
#include <mla/mla.h>

#include "caps_report.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct CommandLine {
  const char* backend = nullptr;
  const char* path = nullptr;
  bool ignore_environment = false;
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: mla-info [--backend SPEC] [--path DIRS] [--ignore-environment]\n"
               "  --backend SPEC        a name, a comma list or auto (default: $MLA_BACKEND)\n"
               "  --path DIRS           colon-separated plugin folders (default: $MLA_BACKEND_PATH)\n"
               "  --ignore-environment  read neither variable\n");
}

// Returns false on a bad command line.
bool parse(int argc, char** argv, CommandLine* line, bool* help) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      *help = true;
    } else if (arg == "--ignore-environment") {
      line->ignore_environment = true;
    } else if ((arg == "--backend" || arg == "--path") && i + 1 < argc) {
      (arg == "--backend" ? line->backend : line->path) = argv[++i];
    } else {
      std::fprintf(stderr, "mla-info: unknown or incomplete argument '%s'\n", argv[i]);
      return false;
    }
  }
  return true;
}

const char* state_name(int32_t state) {
  switch (state) {
    case MLA_PLUGIN_SELECTED: return "selected";
    case MLA_PLUGIN_USABLE: return "usable";
    case MLA_PLUGIN_SKIPPED: return "skipped";
  }
  return "?";
}

void print_setting(const char* label, const char* from_option, const char* variable,
                   bool ignore_environment) {
  if (from_option != nullptr) {
    std::printf("  %-17s %s (command line)\n", label, from_option);
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
  std::printf("libmla loader %s (plugin ABI %d.%d)\n", found ? info.dli_fname : "(unknown path)",
              MLA_ABI_MAJOR, MLA_ABI_MINOR);
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
  bool help = false;
  if (!parse(argc, argv, &line, &help)) {
    print_usage(stderr);
    return 2;
  }
  if (help) {
    print_usage(stdout);
    return 0;
  }

  mla_loader_options options{};
  options.struct_size = sizeof options;
  options.backend = line.backend;
  options.search_path = line.path;
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
