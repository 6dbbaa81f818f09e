# SPDX-License-Identifier: MIT
# cmake -DREADME=<README.md> -DEXAMPLE=<host_example.c> -P check_readme_example.cmake
# Fails when README.md does not show host_example.c verbatim, so the example
# a reader copies is the one CI compiles and runs.
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "${example}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not contain ${EXAMPLE} verbatim: copy the file into its ```c block")
endif()
