# SPDX-License-Identifier: MIT
# cmake -DEXE=<mla-info> -DARGS=<a;b> -DEXPECT_RC=<n> -DEXPECT=<regex> -P check_mla_info.cmake
# Runs mla-info with MLA_BACKEND/MLA_BACKEND_PATH unset and checks its exit
# code and that its output (stdout and stderr) matches EXPECT.
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=MLA_BACKEND --unset=MLA_BACKEND_PATH
                        ${EXE} ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE "\n" " " flat "${out} ${err}")
message(STATUS "mla-info ${ARGS} -> ${rc}\n${out}${err}")
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "mla-info exited ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT flat MATCHES "${EXPECT}")
  message(FATAL_ERROR "mla-info output does not match '${EXPECT}'")
endif()
