// SPDX-License-Identifier: MIT
// Reading structs that grow by appended fields (mla_plugin.h, Versioning):
// a field is there when the caller's struct_size covers it; otherwise the
// field's documented default applies.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mla {

// Byte offset of `member` in the C struct T (offsetof for a pointer to
// member; the compiler folds it to a constant).
template <class T, class M>
size_t offset_of(M T::*member) {
  const T t{};
  return (size_t)(reinterpret_cast<const char*>(&(t.*member)) - reinterpret_cast<const char*>(&t));
}

// True when the caller's struct (as its struct_size says) holds `member`.
template <class T, class M>
bool has_field(const T& s, M T::*member) {
  return s.struct_size >= offset_of(member) + sizeof(M);
}

// s.*member when the caller's struct holds it, else `fallback`.
template <class T, class M>
M field_or(const T& s, M T::*member, M fallback) {
  return has_field(s, member) ? s.*member : fallback;
}

}  // namespace mla
