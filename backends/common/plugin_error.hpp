// SPDX-License-Identifier: MIT
// Per-thread error message and the catch-all guard every plugin entry point
// goes through, so no exception or abort ever reaches the host.
#pragma once
#include <mla/mla_plugin.h>

#include <exception>
#include <new>

namespace mla {

// Records a printf-style message for last_error() and returns `status`.
mla_status fail(mla_status status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void clear_error();
const char* last_error_message();  // the calling thread's message, "" if none

// Runs `body` (returning mla_status) with the error cleared first and every
// exception turned into a status and a message naming `where`.
template <class Body>
mla_status guarded(const char* where, Body&& body) noexcept {
  clear_error();
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(MLA_ERR_OUT_OF_MEMORY, "%s: out of host memory", where);
  } catch (const std::exception& e) {
    return fail(MLA_ERR_INTERNAL, "%s: internal error: %s", where, e.what());
  } catch (...) {
    return fail(MLA_ERR_INTERNAL, "%s: internal error: unknown exception", where);
  }
}

}  // namespace mla
