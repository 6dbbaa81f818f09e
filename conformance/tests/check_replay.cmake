# SPDX-License-Identifier: MIT
# cmake -DHARNESS=<mla-conformance> -DPLUGIN_DIR=<dir> -P check_replay.cmake
# A failure's printed replay command must reproduce it exactly: run the
# planted plugin with a bug and a non-default seed, take the first FAIL line
# and its replay filter, run again with only that filter, and compare.
set(ENV{MLA_BACKEND_PATH} "${PLUGIN_DIR}")
set(ENV{MLA_PLANTED_BUG} "read_past_seqlen")
execute_process(COMMAND ${HARNESS} --backend planted --suite quick --seed 97 --max-failures 1
  OUTPUT_VARIABLE first ERROR_QUIET)
string(REGEX MATCH "FAIL [^\n]*" fail_line "${first}")
string(REGEX MATCH "replay: mla-conformance --suite quick --seed 97 --backend '([^']+)' --filter '([^']+)'" replay "${first}")
if(NOT fail_line OR NOT replay)
  message(FATAL_ERROR "no FAIL line with a replay command:\n${first}")
endif()
set(backend "${CMAKE_MATCH_1}")
set(name "${CMAKE_MATCH_2}")
execute_process(COMMAND ${HARNESS} --backend "${backend}" --suite quick --seed 97 --filter "${name}"
  OUTPUT_VARIABLE again RESULT_VARIABLE rc ERROR_QUIET)
string(REGEX MATCH "FAIL [^\n]*" fail_again "${again}")
if(rc EQUAL 0 OR NOT fail_again STREQUAL fail_line)
  message(FATAL_ERROR "replay of '${name}' did not reproduce\n first: ${fail_line}\n again: ${fail_again}")
endif()
message(STATUS "replayed: ${fail_line}")
