# cmake -DPLUGIN=<file> -P check_exports.cmake
# Fails unless the plugin's defined dynamic symbols are exactly mla_get_api.
find_program(NM nm REQUIRED)
execute_process(COMMAND ${NM} -D --defined-only ${PLUGIN}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${PLUGIN}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(exported "")
foreach(l IN LISTS lines)
  string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] +" "" sym "${l}")
  # Linker-made section markers are not exports of ours.
  if(NOT sym MATCHES "^(_init|_fini|_edata|_end|__bss_start)$" AND NOT l MATCHES " [wWUu] ")
    list(APPEND exported ${sym})
  endif()
endforeach()
if(NOT exported STREQUAL "mla_get_api")
  message(FATAL_ERROR "${PLUGIN} exports [${exported}], expected exactly [mla_get_api]")
endif()
message(STATUS "${PLUGIN}: exports only mla_get_api")
