# SPDX-License-Identifier: MIT
# cmake -DEXE=<program> "-DARGS=<a;b>" -DEXPECT_RC=<n> "-DEXPECT=<regex>" [-DREJECT=<regex>]
#       [-DENV=<VAR=value;...>] -P check_command.cmake
# Runs a tool and checks its exit status and that its output (stdout and
# stderr together) matches EXPECT and, if given, does not match REJECT: the
# shape of the tools' command-line tests.
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ENV} ${EXE} ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE "\n" " " flat "${out} ${err}")
get_filename_component(name ${EXE} NAME)
message(STATUS "${name} ${ARGS} -> ${rc}\n${out}${err}")
if(NOT rc STREQUAL EXPECT_RC)
  message(FATAL_ERROR "${name} exited ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT flat MATCHES "${EXPECT}")
  message(FATAL_ERROR "${name}'s output does not match '${EXPECT}'")
endif()
if(REJECT AND flat MATCHES "${REJECT}")
  message(FATAL_ERROR "${name}'s output matches '${REJECT}', which it must not")
endif()
