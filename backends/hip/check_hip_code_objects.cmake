# SPDX-License-Identifier: MIT
# Checks the device code a HIP module really ships, for one architecture:
#   cmake -DMODULE=<.so> [-DOBJECTS=<its .o files>] -DARCH=gfx90a -DWAVE=64
#         -DHOT_KERNELS="a;b" [-DMFMA_KERNEL=<name part>] [-DFORBID_MFMA=ON]
#         -DOBJCOPY=.. -DBUNDLER=.. -DOBJDUMP=.. -DREADELF=.. -DWORK_DIR=..
#         -P check_hip_code_objects.cmake
# Without -fgpu-rdc every translation unit carries its own offload bundle and
# the linker concatenates them into the module's .hip_fatbin section; the
# bundler reads one bundle per file, so the bundles are taken from OBJECTS
# (after checking that MODULE holds exactly that many), else from MODULE.
# 1. each bundle holds a code object for ARCH (objcopy + clang-offload-bundler);
# 2. every kernel was compiled for wavefront size WAVE (code-object metadata);
# 3. each kernel whose name contains an entry of HOT_KERNELS exists and has no
#    scratch (.private_segment_fixed_size 0) and no SGPR/VGPR spills;
# 4. MFMA_KERNEL: every kernel matching it contains v_mfma instructions
#    (llvm-objdump); FORBID_MFMA: no v_mfma anywhere (RDNA has none).
# Fails with a message naming the kernel and the offending number.
cmake_minimum_required(VERSION 3.25)  # IN_LIST etc. in script mode

foreach(v MODULE ARCH WAVE OBJCOPY BUNDLER OBJDUMP READELF WORK_DIR)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_hip_code_objects: -D${v}=... is required")
  endif()
endforeach()
file(MAKE_DIRECTORY "${WORK_DIR}")
set(target "hipv4-amdgcn-amd-amdhsa--${ARCH}")

function(run_tool out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "'${cmd}' failed (${rc}): ${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

# The .hip_fatbin section of `file` into `out`; false when it has none.
function(dump_fatbin file out ok_var)
  file(REMOVE "${out}")
  execute_process(COMMAND "${OBJCOPY}" --dump-section ".hip_fatbin=${out}" "${file}" "${WORK_DIR}/objcopy-scratch"
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0 AND EXISTS "${out}")
    set(${ok_var} ON PARENT_SCOPE)
  else()
    set(${ok_var} OFF PARENT_SCOPE)
  endif()
endfunction()

set(bundle_magic "5f5f434c414e475f4f46464c4f41445f42554e444c455f5f")  # "__CLANG_OFFLOAD_BUNDLE__"
function(count_bundles fatbin out_var)
  file(READ "${fatbin}" hex HEX)
  string(REGEX MATCHALL "${bundle_magic}" found "${hex}")
  list(LENGTH found n)
  set(${out_var} ${n} PARENT_SCOPE)
endfunction()

# 1. the code object of ARCH from every bundle
dump_fatbin("${MODULE}" "${WORK_DIR}/module.fatbin" module_has_fatbin)
if(NOT module_has_fatbin)
  message(FATAL_ERROR "${MODULE}: no .hip_fatbin section (no device code)")
endif()
count_bundles("${WORK_DIR}/module.fatbin" module_bundles)
set(sources "")
if(OBJECTS)
  foreach(obj IN LISTS OBJECTS)
    get_filename_component(name "${obj}" NAME)
    dump_fatbin("${obj}" "${WORK_DIR}/${name}.fatbin" has)
    if(has)
      list(APPEND sources "${WORK_DIR}/${name}.fatbin")
    endif()
  endforeach()
  list(LENGTH sources object_bundles)
  if(NOT object_bundles EQUAL module_bundles)
    message(FATAL_ERROR "${MODULE} holds ${module_bundles} offload bundles but its objects ${object_bundles}")
  endif()
elseif(module_bundles EQUAL 1)
  set(sources "${WORK_DIR}/module.fatbin")
else()
  message(FATAL_ERROR "${MODULE} holds ${module_bundles} offload bundles: pass its objects with -DOBJECTS=")
endif()

set(kernels "")
set(count 0)
set(index 0)
foreach(fatbin IN LISTS sources)
  math(EXPR index "${index} + 1")
  run_tool(bundles "${BUNDLER}" --list --type=o "--input=${fatbin}")
  string(REGEX MATCHALL "[^\n]+" bundle_list "${bundles}")
  if(NOT target IN_LIST bundle_list)
    message(FATAL_ERROR "${fatbin}: no code object for ${ARCH}; bundles: ${bundle_list}")
  endif()
  set(code_object "${WORK_DIR}/code-object-${ARCH}-${index}.o")
  run_tool(ignored "${BUNDLER}" --unbundle --type=o "--targets=${target}" "--input=${fatbin}"
           "--output=${code_object}")
  # 2./3. kernel metadata (YAML from the NT_AMDGPU_METADATA note)
  run_tool(notes "${READELF}" --notes "${code_object}")
  string(REGEX MATCHALL "[^\n]+" lines "${notes}")
  set(current "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^  - (\\.[a-z_]+):[ ]*(.*)$")  # a new kernel record starts
      math(EXPR count "${count} + 1")
      set(current "kernel${count}")
      list(APPEND kernels ${current})
      set(${current}_object "${code_object}")
      set(key "${CMAKE_MATCH_1}")
      set(value "${CMAKE_MATCH_2}")
    elseif(current AND line MATCHES "^    (\\.[a-z_]+):[ ]*(.*)$")
      set(key "${CMAKE_MATCH_1}")
      set(value "${CMAKE_MATCH_2}")
    else()
      continue()
    endif()
    string(REPLACE "." "" key "${key}")
    set(${current}_${key} "${value}")
  endforeach()
endforeach()
if(NOT kernels)
  message(FATAL_ERROR "${ARCH}: no kernel metadata found in the code objects")
endif()

set(failures "")
foreach(k IN LISTS kernels)
  if(NOT "${${k}_wavefront_size}" STREQUAL "${WAVE}")
    string(APPEND failures "\n  ${${k}_name}: wavefront_size ${${k}_wavefront_size}, expected ${WAVE}")
  endif()
endforeach()

foreach(hot IN LISTS HOT_KERNELS)
  set(found OFF)
  foreach(k IN LISTS kernels)
    string(FIND "${${k}_name}" "${hot}" at)
    if(at EQUAL -1)
      continue()
    endif()
    set(found ON)
    message(STATUS "${ARCH} ${${k}_name}: vgpr ${${k}_vgpr_count} agpr ${${k}_agpr_count} "
                   "sgpr ${${k}_sgpr_count} scratch ${${k}_private_segment_fixed_size} "
                   "spills sgpr ${${k}_sgpr_spill_count} vgpr ${${k}_vgpr_spill_count} "
                   "lds ${${k}_group_segment_fixed_size} wave ${${k}_wavefront_size}")
    foreach(field private_segment_fixed_size sgpr_spill_count vgpr_spill_count)
      if(NOT "${${k}_${field}}" STREQUAL "0")
        string(APPEND failures "\n  ${${k}_name}: ${field} = ${${k}_${field}} (must be 0)")
      endif()
    endforeach()
  endforeach()
  if(NOT found)
    string(APPEND failures "\n  hot kernel '${hot}' not found in the ${ARCH} code object")
  endif()
endforeach()

# 4. MFMA instructions
if(MFMA_KERNEL OR FORBID_MFMA)
  set(selected "")
  foreach(k IN LISTS kernels)
    string(FIND "${${k}_name}" "${MFMA_KERNEL}" at)
    if(FORBID_MFMA OR NOT at EQUAL -1)
      list(APPEND selected ${k})
    endif()
  endforeach()
  if(NOT FORBID_MFMA AND NOT selected)
    string(APPEND failures "\n  MFMA kernel '${MFMA_KERNEL}' not found in the ${ARCH} code objects")
  endif()
  foreach(k IN LISTS selected)
    run_tool(asm "${OBJDUMP}" -d "--disassemble-symbols=${${k}_name}" "${${k}_object}")
    string(REGEX MATCHALL "v_mfma_[a-z0-9_]+" mfma "${asm}")
    list(LENGTH mfma n)
    list(REMOVE_DUPLICATES mfma)
    if(FORBID_MFMA AND n GREATER 0)
      string(APPEND failures "\n  ${${k}_name}: ${n} MFMA instructions on ${ARCH}, which has none")
    elseif(NOT FORBID_MFMA)
      message(STATUS "${ARCH} ${${k}_name}: ${n} MFMA instructions (${mfma})")
      if(n EQUAL 0)
        string(APPEND failures "\n  ${${k}_name}: no v_mfma instruction on ${ARCH} (fast path missing)")
      endif()
    endif()
  endforeach()
endif()

if(failures)
  message(FATAL_ERROR "${MODULE} (${ARCH}):${failures}")
endif()
list(LENGTH kernels n)
message(STATUS "${ARCH}: ${n} kernels, wave${WAVE}, checks passed")
