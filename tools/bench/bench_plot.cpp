// SPDX-License-Identifier: MIT
#include "bench_plot.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

namespace mla_bench {
namespace {

// Runs argv (stdout sent to stderr, or discarded); the exit status, or -1.
int run(const std::vector<std::string>& argv, bool quiet) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (quiet) {
      const int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) dup2(null_fd, 1), dup2(null_fd, 2);
    } else {
      dup2(2, 1);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string exe_dir() {
  std::vector<char> buf(4096);
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  std::string path(buf.data(), (size_t)n);
  return path.substr(0, path.rfind('/'));
}

}  // namespace

std::string find_plotter(plotter& out) {
  std::vector<std::string> scripts = {exe_dir() + "/" + MLA_PLOT_SCRIPT_FROM_BINDIR, MLA_PLOT_SCRIPT_SOURCE};
  out.script.clear();
  for (const std::string& s : scripts)
    if (std::ifstream(s).good()) {
      out.script = s;
      break;
    }
  if (out.script.empty()) return "plot_bench.py not found (looked at " + scripts[0] + " and " + scripts[1] + ")";
  std::vector<std::string> pythons;
  if (const char* env = std::getenv("MLA_PYTHON"); env && *env) pythons.push_back(env);
  pythons.push_back(MLA_PLOT_PYTHON);
  pythons.push_back("python3");
  for (const std::string& py : pythons)
    if (run({py, "-c", "import matplotlib"}, true) == 0) {
      out.python = py;
      return "";
    }
  return "no python3 with matplotlib (Debian: apt-get install python3-matplotlib; or set MLA_PYTHON)";
}

std::string run_plotter(const plotter& p, const std::string& json, const std::string& png) {
  const int rc = run({p.python, p.script, json, "--out", png}, false);
  if (rc == 0) return "";
  return p.script + " exited " + std::to_string(rc);
}

}  // namespace mla_bench
