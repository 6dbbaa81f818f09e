# SPDX-License-Identifier: MIT
# cmake -DHARNESS=<mla-conformance> -DBUG=<name> -DEXPECT=<check> -DPLUGIN_DIR=<dir>
#       -DREPORT=<file.json> [-DFILTER=<text>] -P check_planted.cmake
# Passes only when the harness rejects the planted plugin carrying BUG: it
# exits non-zero, its last line counts failures, and the JSON report holds a
# failed verdict of the check EXPECT (the check that should catch this bug;
# "a|b" accepts either check).
foreach(v HARNESS BUG EXPECT PLUGIN_DIR REPORT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_planted.cmake: -D${v}=... is required")
  endif()
endforeach()
file(REMOVE ${REPORT})
set(ENV{MLA_BACKEND_PATH} "${PLUGIN_DIR}")
set(ENV{MLA_PLANTED_BUG} "${BUG}")
# --max-failures 1: the first case that fails finishes with all its checks, then the run stops.
# FILTER (optional): only the cases whose name contains it.
set(filter_args "")
if(DEFINED FILTER AND NOT FILTER STREQUAL "")
  set(filter_args --filter ${FILTER})
endif()
execute_process(COMMAND ${HARNESS} --backend planted --suite quick --max-failures 1 --report ${REPORT} ${filter_args}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "MLA_PLANTED_BUG=${BUG}: the harness PASSED a plugin with a planted bug\n${out}")
endif()
string(REGEX MATCH "[0-9]+ passed, ([0-9]+) failed[^\n]*\n?$" last "${out}")
if(NOT last OR CMAKE_MATCH_1 EQUAL 0)
  message(FATAL_ERROR "MLA_PLANTED_BUG=${BUG}: exit ${rc} but no failure count on the last line\n${out}\n${err}")
endif()
if(NOT EXISTS ${REPORT})
  message(FATAL_ERROR "MLA_PLANTED_BUG=${BUG}: no report written (exit ${rc})\n${err}")
endif()
file(READ ${REPORT} report)
string(REGEX MATCH "\"check\": \"(${EXPECT})\", \"verdict\": \"fail\"" found "${report}")
if(NOT found)
  message(FATAL_ERROR "MLA_PLANTED_BUG=${BUG}: rejected, but not by the '${EXPECT}' check\n${out}")
endif()
message(STATUS "MLA_PLANTED_BUG=${BUG}: rejected by '${EXPECT}' as expected (${last})")
