// SPDX-License-Identifier: MIT
#include "plugin_error.hpp"

#include <cstdarg>
#include <cstdio>

namespace mla {
namespace {
thread_local char g_message[1024];
}

mla_status fail(mla_status status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(g_message, sizeof g_message, fmt, ap);
  va_end(ap);
  return status;
}

void clear_error() { g_message[0] = '\0'; }

const char* last_error_message() { return g_message; }

}  // namespace mla
