# SPDX-License-Identifier: MIT
# MlaHip.cmake — makes enable_language(HIP) work with Debian's ROCm 5.2
# packages (hipcc, libamdhip64-dev, rocm-device-libs, clang-15), or says why not.
#
#   include(MlaHip)
#   mla_hip_setup(<ok_var> <reason_var>)   # before enable_language(HIP)
#   if(<ok_var>) enable_language(HIP) endif()
#
# What CMake 3.25 expects and Debian does not provide:
#   - the ROCm root must hold lib/cmake/hip-lang/hip-lang-config.cmake; Debian
#     installs it under the multiarch dir lib/<triplet>/cmake/hip-lang, so we
#     point CMAKE_HIP_COMPILER_ROCM_ROOT at a small forwarding tree in the
#     build directory that includes the real file;
#   - /usr/bin/clang++ is clang-14 (no gfx940); the HIP compiler must be
#     clang-15 from /usr/lib/llvm-15 (its ../lib/clang holds the compiler-rt
#     builtins hip-lang links);
#   - clang-15 does not find the device bitcode (lib/<triplet>/amdgcn/bitcode)
#     nor the HIP version by itself: we pass --rocm-path, --rocm-device-lib-path
#     and --hip-version, as hipcc does;
#   - without CMAKE_HIP_ARCHITECTURES CMake asks rocm_agent_enumerator (needs a
#     GPU) and the compiler silently defaults to gfx803: we set the explicit
#     list gfx90a;gfx940;gfx1030 (override with -DCMAKE_HIP_ARCHITECTURES=...).
# Each failing step becomes a one-line reason instead of a fatal error, so a
# machine without the toolchain still configures (HIP backend: OFF — <why>).

set(MLA_HIP_DEFAULT_ARCHITECTURES "gfx90a;gfx940;gfx1030")

function(_mla_hip_find_rocm_root out_var)
  set(candidates)
  if(DEFINED ENV{ROCM_PATH})
    list(APPEND candidates "$ENV{ROCM_PATH}")
  endif()
  list(APPEND candidates /usr /opt/rocm)
  foreach(root IN LISTS candidates)
    if(EXISTS "${root}/include/hip/hip_runtime.h")
      set(${out_var} "${root}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out_var} "" PARENT_SCOPE)
endfunction()

# First existing "<root>/<dir>/<file>" over the plain and the multiarch lib dir.
function(_mla_hip_find_under root file out_var)
  set(dirs ${ARGN})
  foreach(dir IN LISTS dirs)
    string(REPLACE "<arch>" "${CMAKE_LIBRARY_ARCHITECTURE}" dir "${dir}")
    if(EXISTS "${root}/${dir}/${file}")
      set(${out_var} "${root}/${dir}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out_var} "" PARENT_SCOPE)
endfunction()

function(mla_hip_setup ok_var reason_var)
  set(${ok_var} OFF PARENT_SCOPE)
  if(CMAKE_HIP_COMPILER_LOADED)  # already enabled by an earlier call
    set(${ok_var} ON PARENT_SCOPE)
    return()
  endif()
  if(NOT CMAKE_GENERATOR MATCHES "Make|Ninja")
    set(${reason_var} "CMake supports HIP only with Makefile or Ninja generators" PARENT_SCOPE)
    return()
  endif()

  _mla_hip_find_rocm_root(rocm)
  if(NOT rocm)
    set(${reason_var} "HIP headers not found (install libamdhip64-dev or set ROCM_PATH)" PARENT_SCOPE)
    return()
  endif()

  _mla_hip_find_under("${rocm}" hip-lang-config.cmake hip_lang_dir
    lib/cmake/hip-lang lib/<arch>/cmake/hip-lang lib64/cmake/hip-lang)
  if(NOT hip_lang_dir)
    set(${reason_var} "hip-lang CMake config not found under ${rocm} (libamdhip64-dev)" PARENT_SCOPE)
    return()
  endif()

  _mla_hip_find_under("${rocm}" ocml.bc bitcode_dir
    lib/<arch>/amdgcn/bitcode lib/amdgcn/bitcode amdgcn/bitcode lib/llvm/lib/clang/amdgcn/bitcode)
  if(NOT bitcode_dir)
    set(${reason_var} "ROCm device bitcode (ocml.bc) not found under ${rocm} (rocm-device-libs)" PARENT_SCOPE)
    return()
  endif()

  # The compiler: a HIP-capable clang++ (never the hipcc wrapper: CMake refuses it).
  if(CMAKE_HIP_COMPILER)
    set(compiler "${CMAKE_HIP_COMPILER}")
  elseif(DEFINED ENV{HIPCXX})
    set(compiler "$ENV{HIPCXX}")
  else()
    find_program(MLA_HIP_CLANGXX NAMES clang++
      PATHS /usr/lib/llvm-15/bin "${rocm}/llvm/bin" NO_DEFAULT_PATH)
    set(compiler "${MLA_HIP_CLANGXX}")
  endif()
  if(NOT compiler OR NOT EXISTS "${compiler}")
    set(${reason_var} "no HIP-capable clang++ (install clang-15, or set CMAKE_HIP_COMPILER)" PARENT_SCOPE)
    return()
  endif()

  set(hip_version "")
  if(EXISTS "${rocm}/include/hip/hip_version.h")
    file(STRINGS "${rocm}/include/hip/hip_version.h" v REGEX "#define HIP_VERSION_(MAJOR|MINOR|PATCH) ")
    string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3" hip_version "${v}")
  endif()
  set(flags "--rocm-path=${rocm}" "--rocm-device-lib-path=${bitcode_dir}")
  if(hip_version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
    list(APPEND flags "--hip-version=${hip_version}")
  endif()

  if(NOT DEFINED CMAKE_HIP_ARCHITECTURES)
    set(archs "${MLA_HIP_DEFAULT_ARCHITECTURES}")
  else()
    set(archs "${CMAKE_HIP_ARCHITECTURES}")
  endif()

  # Probe: compile a kernel for every architecture before enable_language(),
  # which would stop the configure with a fatal error on failure.
  set(probe_dir "${CMAKE_BINARY_DIR}/CMakeFiles/mla_hip_probe")
  file(WRITE "${probe_dir}/probe.hip"
    "#include <hip/hip_runtime.h>\n__global__ void mla_probe(float* p) { p[threadIdx.x] = warpSize; }\n")
  set(arch_flags)
  foreach(a IN LISTS archs)
    list(APPEND arch_flags "--offload-arch=${a}")
  endforeach()
  execute_process(
    COMMAND "${compiler}" -x hip ${flags} ${arch_flags} -O1 -c probe.hip -o probe.o
    WORKING_DIRECTORY "${probe_dir}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REGEX MATCH "[^\n]*error[^\n]*" first_error "${err}")
    set(${reason_var} "${compiler} cannot compile HIP for ${archs}: ${first_error}" PARENT_SCOPE)
    return()
  endif()

  # Forwarding ROCm root: lib/cmake/hip-lang/* include the real multiarch files.
  # CMake's compiler checks run hip-lang-config.cmake inside try_compile
  # projects where the multiarch dir is not searched yet, so the forwarder
  # also says where hip-lang's own dependencies live.
  set(fwd "${CMAKE_BINARY_DIR}/CMakeFiles/mla_hip_root")
  if(NOT hip_lang_dir STREQUAL "${rocm}/lib/cmake/hip-lang")
    set(deps "")
    foreach(dep amd_comgr AMDDeviceLibs)
      _mla_hip_find_under("${rocm}" "${dep}Config.cmake" dep_dir
        lib/cmake/${dep} lib/<arch>/cmake/${dep} lib64/cmake/${dep})
      if(NOT dep_dir)
        _mla_hip_find_under("${rocm}" "${dep}-config.cmake" dep_dir
          lib/cmake/${dep} lib/<arch>/cmake/${dep} lib64/cmake/${dep})
      endif()
      if(dep_dir)
        string(APPEND deps "if(NOT ${dep}_DIR)\n  set(${dep}_DIR \"${dep_dir}\")\nendif()\n")
      endif()
    endforeach()
    # hip-lang adds <prefix>/include as -isystem; for prefix /usr that is
    # /usr/include, which breaks libstdc++'s #include_next <math.h>.  It is a
    # default search dir anyway, so the forwarder removes it again.
    set(strip "")
    if(rocm STREQUAL "/usr")
      string(APPEND strip
        "foreach(t hip-lang::device hip-lang::amdhip64)\n"
        "  foreach(p INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)\n"
        "    get_target_property(v \${t} \${p})\n"
        "    if(v)\n"
        "      string(REGEX REPLACE \"/usr/include/*(;|>)\" \"\\\\1\" v \"\${v}\")\n"
        "      string(REGEX REPLACE \"/usr/include/*(;|>)\" \"\\\\1\" v \"\${v}\")\n"
        "      set_target_properties(\${t} PROPERTIES \${p} \"\${v}\")\n"
        "    endif()\n"
        "  endforeach()\n"
        "endforeach()\n")
    endif()
    file(WRITE "${fwd}/lib/cmake/hip-lang/hip-lang-config.cmake"
      "# Generated by cmake/MlaHip.cmake: forwards to the multiarch install.\n"
      "${deps}include(\"${hip_lang_dir}/hip-lang-config.cmake\")\n${strip}")
    if(EXISTS "${hip_lang_dir}/hip-lang-config-version.cmake")
      file(WRITE "${fwd}/lib/cmake/hip-lang/hip-lang-config-version.cmake"
        "include(\"${hip_lang_dir}/hip-lang-config-version.cmake\")\n")
    endif()
    set(root_for_cmake "${fwd}")
  else()
    set(root_for_cmake "${rocm}")
  endif()

  set(CMAKE_HIP_COMPILER "${compiler}" CACHE FILEPATH "HIP compiler (clang++ with HIP support)")
  set(CMAKE_HIP_COMPILER_ROCM_ROOT "${root_for_cmake}" CACHE PATH "ROCm root as CMake's HIP support expects it")
  set(CMAKE_HIP_ARCHITECTURES "${archs}" CACHE STRING "AMD GPU architectures to build for")
  list(JOIN flags " " flags_str)
  if(NOT CMAKE_HIP_FLAGS MATCHES "--rocm-device-lib-path")
    set(CMAKE_HIP_FLAGS "${flags_str} ${CMAKE_HIP_FLAGS}" CACHE STRING "HIP compile flags" FORCE)
  endif()
  set(MLA_HIP_ROCM_PATH "${rocm}" CACHE INTERNAL "ROCm prefix used by the HIP backend")
  set(${ok_var} ON PARENT_SCOPE)
  set(${reason_var} "" PARENT_SCOPE)
endfunction()

# Tools the code-object checks need: clang-offload-bundler, llvm-objdump,
# llvm-readelf, objcopy of the same LLVM as the compiler.  Sets
# MLA_HIP_BUNDLER, MLA_HIP_OBJDUMP, MLA_HIP_READELF, MLA_HIP_OBJCOPY.
function(mla_hip_find_binary_tools)
  get_filename_component(bindir "${CMAKE_HIP_COMPILER}" DIRECTORY)
  find_program(MLA_HIP_BUNDLER NAMES clang-offload-bundler clang-offload-bundler-15 HINTS "${bindir}")
  find_program(MLA_HIP_OBJDUMP NAMES llvm-objdump llvm-objdump-15 HINTS "${bindir}")
  find_program(MLA_HIP_READELF NAMES llvm-readelf llvm-readelf-15 HINTS "${bindir}")
  find_program(MLA_HIP_OBJCOPY NAMES llvm-objcopy llvm-objcopy-15 objcopy HINTS "${bindir}")
endfunction()
