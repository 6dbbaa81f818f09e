# SPDX-License-Identifier: MIT
# mla_add_plugin(<target> NAME <name> SOURCES ... [NO_INSTALL] [OUTPUT_DIR dir])
# Builds libmla_backend_<name>.so: hidden visibility, only mla_get_api
# exported (version script), linked with the shared validator.
function(mla_add_plugin target)
  cmake_parse_arguments(P "NO_INSTALL" "NAME;OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${MLA_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME mla_backend_${P_NAME}
    PREFIX lib
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    CUDA_VISIBILITY_PRESET hidden
    HIP_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR})
  target_link_libraries(${target} PRIVATE mla_backend_common)
  # mla_plugin.h declares mla_get_api only for plugin sources.
  target_compile_definitions(${target} PRIVATE MLA_PLUGIN_IMPLEMENTATION MLA_PLUGIN_VERSION="${PROJECT_VERSION}")
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${CMAKE_CURRENT_FUNCTION_LIST_DIR}/plugin.map"
    "LINKER:--no-undefined")
  if(NOT P_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${MLA_PLUGIN_INSTALL_DIR})
  endif()
  if(MLA_BUILD_TESTS)
    # The exported-symbol check: exactly one dynamic symbol, mla_get_api.
    add_test(NAME ${target}_exports
      COMMAND ${CMAKE_COMMAND} -DLIBRARY=$<TARGET_FILE:${target}>
              -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_exports.cmake)
  endif()
endfunction()
