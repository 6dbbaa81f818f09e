// SPDX-License-Identifier: MIT
// doctest main of the op-A tests: exits 77 ("SKIPPED") without a CUDA device.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "cuda_case.hpp"

int main(int argc, char** argv) {
  cuda_test::skip_without_device();
  doctest::Context context(argc, argv);
  return context.run();
}
