// SPDX-License-Identifier: MIT
// mla-bench --plot: runs tools/bench/plot_bench.py (python3 + matplotlib) on
// the JSON of the run.  The script is looked for beside the installed tool
// (<prefix>/share/libmla/plot_bench.py), then in the source tree it was
// built from; the interpreter is $MLA_PYTHON, else the python3 the build
// found with matplotlib, else python3 on PATH.
#pragma once
#include <string>

namespace mla_bench {

struct plotter {
  std::string python, script;
};

// Finds the script and an interpreter that imports matplotlib; "" when
// found (`out` filled), else why not.  Called before any case runs.
std::string find_plotter(plotter& out);

// Writes `png` from the mla-bench JSON file `json`; "" or why it failed.
// The plotter's own output goes to stderr.
std::string run_plotter(const plotter& p, const std::string& json, const std::string& png);

}  // namespace mla_bench
