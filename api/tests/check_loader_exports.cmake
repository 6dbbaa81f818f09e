# cmake -DLIBRARY=<libmla.so> -P check_loader_exports.cmake
# Fails unless libmla's defined dynamic symbols are exactly the functions of
# mla.h, and unless it reads the environment only through secure_getenv.
find_program(NM nm REQUIRED)
set(expected mla_dtype_name mla_loader_api mla_loader_close mla_loader_error
    mla_loader_open mla_loader_plugin mla_loader_plugin_count mla_status_name)

execute_process(COMMAND ${NM} -D --defined-only ${LIBRARY} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIBRARY}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(exported "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] +" "" sym "${line}")
  string(REGEX REPLACE "@.*" "" sym "${sym}")
  if(NOT sym MATCHES "^(_init|_fini|_edata|_end|__bss_start)$" AND NOT line MATCHES " [wWUu] ")
    list(APPEND exported ${sym})
  endif()
endforeach()
list(SORT exported)
if(NOT exported STREQUAL expected)
  message(FATAL_ERROR "${LIBRARY} exports [${exported}], expected [${expected}]")
endif()

execute_process(COMMAND ${NM} -D --undefined-only ${LIBRARY} OUTPUT_VARIABLE undefined)
if(NOT undefined MATCHES "[ \n]secure_getenv(@|\n)")
  message(FATAL_ERROR "${LIBRARY} does not use secure_getenv")
endif()
if(undefined MATCHES "[ \n]getenv(@|\n)")
  message(FATAL_ERROR "${LIBRARY} calls getenv: setuid processes must not read the environment")
endif()
message(STATUS "${LIBRARY}: exports exactly the mla.h functions, reads the environment securely")
