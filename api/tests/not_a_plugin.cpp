// SPDX-License-Identifier: MIT
// A real shared library that lacks mla_get_api: the loader must skip it.
extern "C" __attribute__((visibility("default"))) int not_a_plugin_answer(void) { return 42; }
