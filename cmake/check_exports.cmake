# SPDX-License-Identifier: MIT
# cmake -DLIBRARY=<file> [-DEXPECTED="sym1;sym2"] -P check_exports.cmake
# Fails unless the library's defined dynamic symbols are exactly EXPECTED
# (default: mla_get_api, the one symbol a plugin exports).
if(NOT DEFINED EXPECTED)
  set(EXPECTED mla_get_api)
endif()
find_program(NM nm REQUIRED)
execute_process(COMMAND ${NM} -D --defined-only ${LIBRARY}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIBRARY}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(exported "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] +" "" sym "${line}")
  string(REGEX REPLACE "@.*" "" sym "${sym}")
  # Linker-made section markers and weak/undefined entries are not exports of ours.
  if(NOT sym MATCHES "^(_init|_fini|_edata|_end|__bss_start)$" AND NOT line MATCHES " [wWUu] ")
    list(APPEND exported ${sym})
  endif()
endforeach()
list(SORT exported)
list(SORT EXPECTED)
if(NOT exported STREQUAL EXPECTED)
  message(FATAL_ERROR "${LIBRARY} exports [${exported}], expected exactly [${EXPECTED}]")
endif()
message(STATUS "${LIBRARY}: exports exactly [${EXPECTED}]")
