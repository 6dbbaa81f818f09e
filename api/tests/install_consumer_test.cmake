# cmake -DBUILD_DIR= -DCONSUMER_SOURCE_DIR= -DWORK_DIR= -DGENERATOR= -DC_COMPILER= -DCXX_COMPILER=
#       -DREADELF= -DWITH_CPU=0|1 -P install_consumer_test.cmake
# What a host engine's maintainer does with a release:
#   1. installs the build into a prefix, then moves the prefix (it must be
#      relocatable);
#   2. runs every installed tool's --help from the moved prefix with no
#      LD_LIBRARY_PATH and no MLA_BACKEND_PATH; none may need a device
#      runtime (libcudart, libamdhip64) at link time;
#   3. with the cpu plugin: runs the quick conformance suite from the prefix;
#   4. builds the consumer project against the prefix and runs it; with
#      WITH_CPU the installed loader must find the installed cpu plugin on its
#      own.
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok\n${out}")
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

# Runs a command with the environment of a user who just unpacked the prefix.
set(clean_env ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH --unset=MLA_BACKEND_PATH --unset=MLA_BACKEND)

set(staging ${WORK_DIR}/staging)
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${staging})
file(RENAME ${staging} ${prefix})  # relocated: nothing may remember the staging path
foreach(file include/mla/mla.h include/mla/mla_plugin.h)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "install: ${file} missing")
  endif()
endforeach()

# ---- the installed tools
file(GLOB tools ${prefix}/bin/*)
if(NOT tools)
  message(FATAL_ERROR "install: no tool in ${prefix}/bin")
endif()
foreach(tool IN LISTS tools)
  get_filename_component(name ${tool} NAME)
  execute_process(COMMAND ${READELF} -d ${tool} OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
  string(REGEX MATCHALL "NEEDED[^\n]*\\[(libamdhip64|libcudart)[^]]*\\]" runtime_needed "${dynamic}")
  if(runtime_needed)
    message(FATAL_ERROR "${name} links a device runtime (${runtime_needed}); it must dlopen it instead")
  endif()
  foreach(flag --help)
    run_step("${name} ${flag}" ${clean_env} ${tool} ${flag})
  endforeach()
endforeach()

if(WITH_CPU)
  run_step("mla-conformance --suite quick from the prefix" ${clean_env}
    ${prefix}/bin/mla-conformance --backend cpu --suite quick --threads 2)
  if(NOT step_output MATCHES "[1-9][0-9]* passed, 0 failed")
    message(FATAL_ERROR "the installed mla-conformance did not pass:\n${step_output}")
  endif()
endif()

# ---- the consumer
run_step("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
  -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix})
run_step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(WITH_CPU)
  run_step("run consumer with MLA_BACKEND=cpu" ${CMAKE_COMMAND} -E env --unset=MLA_BACKEND_PATH
    MLA_BACKEND=cpu ${WORK_DIR}/build/consumer ${prefix} cpu)
else()
  message(STATUS "no cpu plugin in this build: checking the loader alone")
  run_step("run consumer" ${CMAKE_COMMAND} -E env --unset=MLA_BACKEND_PATH
    ${WORK_DIR}/build/consumer ${prefix})
endif()
