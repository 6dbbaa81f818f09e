// SPDX-License-Identifier: MIT
// Environment access for the loader: MLA_BACKEND and MLA_BACKEND_PATH are
// read with secure_getenv, so a setuid/setgid process cannot be steered into
// loading code from a directory its invoker chose.
#pragma once
#include <optional>
#include <string>

namespace mla::loader {

// The variable's value, or nothing when it is unset, when the process runs
// with elevated privileges, or when `ignore_environment` is set.
std::optional<std::string> read_environment(const char* name, bool ignore_environment);

}  // namespace mla::loader
