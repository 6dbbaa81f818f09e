# SPDX-License-Identifier: MIT
# cmake -DBUILD_DIR= -DCONSUMER_SOURCE_DIR= -DWORK_DIR= -DGENERATOR= -DC_COMPILER= -DCXX_COMPILER=
#       -DREADELF= -DPKG_CONFIG= -DVERSION= -DWITH_CPU=0|1 -P install_consumer_test.cmake
# What a host engine's maintainer does with a release:
#   1. installs the build into a prefix, then moves the prefix (it must be
#      relocatable);
#   2. runs every installed tool's --help and --version from the moved
#      prefix with no LD_LIBRARY_PATH and no MLA_BACKEND_PATH (--version must
#      say VERSION); none may need a device runtime (libcudart, libamdhip64)
#      at link time;
#   3. with the cpu plugin: runs the quick conformance suite from the prefix;
#   4. builds the consumer, C and C++, with find_package(libmla 1.1) (and
#      checks that 2.0 and 1.2 are refused) and with pkg-config (libmla.pc),
#      and runs each; with WITH_CPU the installed loader must find the
#      installed cpu plugin on its own.
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
foreach(file include/mla/mla.h include/mla/mla_plugin.h lib/pkgconfig/libmla.pc
             lib/cmake/libmla/libmlaConfigVersion.cmake)
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
  foreach(flag --help --version)
    run_step("${name} ${flag}" ${clean_env} ${tool} ${flag})
  endforeach()
  if(NOT step_output MATCHES "^${name} ${VERSION} \\(ABI [0-9]+\\.[0-9]+\\)")
    message(FATAL_ERROR "${name} --version says '${step_output}', expected '${name} ${VERSION} (ABI ...)'")
  endif()
endforeach()

if(WITH_CPU)
  run_step("mla-conformance --suite quick from the prefix" ${clean_env}
    ${prefix}/bin/mla-conformance --backend cpu --suite quick --threads 2)
  if(NOT step_output MATCHES "[1-9][0-9]* passed, 0 failed")
    message(FATAL_ERROR "the installed mla-conformance did not pass:\n${step_output}")
  endif()
endif()

# ---- mla-bench --plot from the prefix: the installed plot_bench.py
if(WITH_CPU)
  execute_process(COMMAND ${clean_env} ${prefix}/bin/mla-bench --backend cpu --cases C1 --iters 1 --repeats 1
                          --plot ${WORK_DIR}/bench.png
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 2 AND err MATCHES "no python3 with matplotlib")
    message(STATUS "mla-bench --plot not checked: ${err}")
  elseif(NOT rc EQUAL 0 OR NOT err MATCHES "plotting with [^\n]* ${prefix}/(bin/\\.\\./)?share/libmla/plot_bench.py"
         OR NOT EXISTS ${WORK_DIR}/bench.png)
    message(FATAL_ERROR "installed mla-bench --plot failed (${rc}) or did not use the installed plotter:\n${out}\n${err}")
  else()
    message(STATUS "installed mla-bench --plot: ok")
  endif()
endif()

# ---- the consumer: find_package, from C and C++
set(backend_args ${prefix})
if(WITH_CPU)
  set(backend_args ${prefix} cpu)
else()
  message(STATUS "no cpu plugin in this build: checking the loader alone")
endif()
set(run_env ${CMAKE_COMMAND} -E env --unset=MLA_BACKEND_PATH --unset=LD_LIBRARY_PATH MLA_BACKEND=cpu)
run_step("configure consumer (find_package(libmla 1.1))" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR}
  -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_PREFIX_PATH=${prefix} -DLIBMLA_VERSION=1.1)
run_step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step("run consumer (C)" ${run_env} ${WORK_DIR}/build/consumer ${backend_args})
run_step("run consumer_cxx (C++)" ${run_env} ${WORK_DIR}/build/consumer_cxx ${backend_args})
# SameMajorVersion: a 1.x request up to this minor is served, 2.0 and a newer minor are not.
foreach(wanted 2.0 1.2)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build_${wanted}
    -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${prefix} -DLIBMLA_VERSION=${wanted}
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "libmla")
    message(FATAL_ERROR "find_package(libmla ${wanted}) was not refused (${rc}):\n${err}")
  endif()
  message(STATUS "find_package(libmla ${wanted}) refused: ok")
endforeach()

# ---- the consumer: pkg-config, from C and C++, no CMake
if(NOT PKG_CONFIG)
  message(STATUS "pkg-config not found: the libmla.pc build is not checked")
  return()
endif()
set(pc_env ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig)
run_step("pkg-config --modversion libmla" ${pc_env} ${PKG_CONFIG} --modversion libmla)
if(NOT step_output MATCHES "^${VERSION}")
  message(FATAL_ERROR "pkg-config says libmla ${step_output}, expected ${VERSION}")
endif()
run_step("pkg-config --cflags --libs libmla" ${pc_env} ${PKG_CONFIG} --cflags --libs libmla)
separate_arguments(pc_flags UNIX_COMMAND "${step_output}")
run_step("pkg-config --variable=libdir libmla" ${pc_env} ${PKG_CONFIG} --variable=libdir libmla)
string(STRIP "${step_output}" pc_libdir)
run_step("cc consumer.c $(pkg-config --cflags --libs libmla)" ${C_COMPILER} -std=gnu99
  ${CONSUMER_SOURCE_DIR}/consumer.c ${pc_flags} -Wl,-rpath,${pc_libdir} -o ${WORK_DIR}/consumer_pc)
run_step("c++ consumer.cpp $(pkg-config --cflags --libs libmla)" ${CXX_COMPILER} -std=c++17
  ${CONSUMER_SOURCE_DIR}/consumer.cpp ${pc_flags} -Wl,-rpath,${pc_libdir} -o ${WORK_DIR}/consumer_pc_cxx)
run_step("run consumer_pc (C)" ${run_env} ${WORK_DIR}/consumer_pc ${backend_args})
run_step("run consumer_pc_cxx (C++)" ${run_env} ${WORK_DIR}/consumer_pc_cxx ${backend_args})
