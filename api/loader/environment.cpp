// SPDX-License-Identifier: MIT
#include "environment.hpp"

#include <cstdlib>

namespace mla::loader {

std::optional<std::string> read_environment(const char* name, bool ignore_environment) {
  if (ignore_environment) return std::nullopt;
  // secure_getenv returns NULL in "secure execution" mode (AT_SECURE: setuid,
  // setgid, file capabilities), whatever the variable holds.
  const char* value = secure_getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace mla::loader
