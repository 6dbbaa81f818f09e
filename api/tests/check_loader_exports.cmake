# SPDX-License-Identifier: MIT
# cmake -DLIBRARY=<libmla.so> -DCHECK_EXPORTS=<cmake/check_exports.cmake> -P check_loader_exports.cmake
# Fails unless libmla's defined dynamic symbols are exactly the functions of
# mla.h, and unless it reads the environment only through secure_getenv.
set(EXPECTED mla_dtype_name mla_loader_api mla_loader_close mla_loader_error
    mla_loader_open mla_loader_plugin mla_loader_plugin_count mla_loader_version mla_status_name)
include(${CHECK_EXPORTS})

find_program(NM nm REQUIRED)
execute_process(COMMAND ${NM} -D --undefined-only ${LIBRARY} OUTPUT_VARIABLE undefined)
if(NOT undefined MATCHES "[ \n]secure_getenv(@|\n)")
  message(FATAL_ERROR "${LIBRARY} does not use secure_getenv")
endif()
if(undefined MATCHES "[ \n]getenv(@|\n)")
  message(FATAL_ERROR "${LIBRARY} calls getenv: setuid processes must not read the environment")
endif()
message(STATUS "${LIBRARY}: reads the environment securely")
