# cmake -DBUILD_DIR= -DCONSUMER_SOURCE_DIR= -DWORK_DIR= -DGENERATOR= -DC_COMPILER=
#       -DWITH_CPU=0|1 -P install_consumer_test.cmake
# Installs the build into WORK_DIR/prefix, builds the consumer project with
# find_package(libmla) against it and runs it; with WITH_CPU the installed
# loader must find the installed cpu plugin on its own (no MLA_BACKEND_PATH).
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok\n${out}")
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(file include/mla/mla.h include/mla/mla_plugin.h)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "install: ${file} missing")
  endif()
endforeach()
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
