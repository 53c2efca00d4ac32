# preload.cmake - the preload layer (src/preload/): librecycle-preload.so,
# the library `recycle run` puts in front of a program with LD_PRELOAD.
# Included by the top CMakeLists.txt after capture.cmake.
#
#   recycle_preload_core  STATIC: the parts of the layer that know nothing of
#                         interposition or of the capture format (call tree,
#                         live blocks, sampling, loaded objects, leak scan,
#                         environment), built like the library, sanitizers
#                         included, for the white-box tests.
#   recycle_preload       MODULE librecycle-preload.so, when the capture layer
#                         (recycle_capture) exists. Its own copy of every
#                         source it runs (the shim, the core, src/trace/
#                         stack.c, src/heap/os/os.c, the capture sources),
#                         compiled:
#                           - without sanitizers, whatever RC_SANITIZE says:
#                             it is loaded into programs that are not
#                             instrumented, before their libraries, and an
#                             instrumented shim would need its run-time
#                             loaded first;
#                           - with initial-exec TLS: reading a thread-local
#                             never calls __tls_get_addr, which may allocate;
#                           - with hidden visibility: only the interposed
#                             functions are exported (RCPL_EXPORT).
#   recycle_preload_test  INTERFACE for tests/unit/test_preload*.c (marker
#                         link=recycle_preload_test): the paths of the library
#                         and of the programs in tests/preload/ as macros,
#                         the core library, and a build dependency on them.
#
# The programs of tests/preload/ are built without sanitizers too (an ASan
# program refuses a preloaded library loaded before its run-time).
include_guard(GLOBAL)

set(rc_preload_src "${PROJECT_SOURCE_DIR}/src/preload")
set(rc_preload_core_sources
    core.c stacktree.c live.c sample.c modules.c leaks.c env.c)
list(TRANSFORM rc_preload_core_sources PREPEND "${rc_preload_src}/")

add_library(recycle_preload_core STATIC ${rc_preload_core_sources})
target_compile_definitions(recycle_preload_core PUBLIC RC_BUILD_CORE)
target_include_directories(recycle_preload_core PUBLIC
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/src")
target_link_libraries(recycle_preload_core
    PUBLIC recycle_static m
    PRIVATE recycle_warnings)

# Options that take what RecycleSanitize.cmake put on every target away.
function(rc_preload_plain target)
    set_property(TARGET ${target} PROPERTY COMPILE_OPTIONS "")
    set_property(TARGET ${target} PROPERTY LINK_OPTIONS "")
    set_property(TARGET ${target} PROPERTY COMPILE_DEFINITIONS "")
    if(RC_SANITIZE)
        target_compile_options(${target} PRIVATE -fno-sanitize=all)
        target_link_options(${target} PRIVATE -fno-sanitize=all)
    endif()
    if(CMAKE_C_COMPILER_ID MATCHES "Clang" AND RC_HAVE_DEBUG_DEFAULT_VERSION)
        target_compile_options(${target} PRIVATE
            "$<$<COMPILE_LANGUAGE:C>:-fdebug-default-version=4>")
    endif()
endfunction()

if(TARGET recycle_capture)
    get_target_property(rc_preload_capture_sources recycle_capture SOURCES)
    add_library(recycle_preload MODULE
        "${rc_preload_src}/shim.c"
        "${rc_preload_src}/tracker.c"
        ${rc_preload_core_sources}
        "${PROJECT_SOURCE_DIR}/src/trace/stack.c"
        "${PROJECT_SOURCE_DIR}/src/heap/os/os.c"
        ${rc_preload_capture_sources})
    rc_preload_plain(recycle_preload)
    set_target_properties(recycle_preload PROPERTIES
        OUTPUT_NAME recycle-preload
        PREFIX lib
        C_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON
        LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin")
    target_compile_definitions(recycle_preload PRIVATE RC_BUILD_CORE)
    target_include_directories(recycle_preload PRIVATE
        "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/src")
    target_compile_options(recycle_preload PRIVATE
        -ftls-model=initial-exec -ffunction-sections -fdata-sections -g)
    if(TARGET PkgConfig::RC_ZSTD)
        set(rc_preload_zstd PkgConfig::RC_ZSTD)
    else()
        find_package(PkgConfig REQUIRED)
        pkg_check_modules(RC_PRELOAD_ZSTD REQUIRED IMPORTED_TARGET libzstd)
        set(rc_preload_zstd PkgConfig::RC_PRELOAD_ZSTD)
    endif()
    target_link_libraries(recycle_preload PRIVATE
        recycle_warnings ${rc_preload_zstd} Threads::Threads m ${CMAKE_DL_LIBS})
    # Every symbol resolved at link time (a missing one would otherwise
    # fail inside a program's malloc); unused code dropped (the capture
    # reader is linked in but never called here).
    target_link_options(recycle_preload PRIVATE
        "LINKER:--no-undefined" "LINKER:--gc-sections" "LINKER:-z,now")
    if(RC_INSTALL)
        install(TARGETS recycle_preload
                LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT runtime)
    endif()
else()
    message(STATUS "recycle: librecycle-preload.so needs the capture layer (recycle_capture); not built")
endif()

# ---------------------------------------------------------------------------
# Tests: programs with known allocation patterns, run under the library by
# tests/unit/test_preload*.c.
# ---------------------------------------------------------------------------
add_library(recycle_preload_test INTERFACE)
target_link_libraries(recycle_preload_test INTERFACE recycle_preload_core)
if(RC_BUILD_TESTS AND IS_DIRECTORY "${PROJECT_SOURCE_DIR}/tests/preload")
    set(rc_preload_tests "${PROJECT_SOURCE_DIR}/tests/preload")
    set(rc_preload_bin "${PROJECT_BINARY_DIR}/tests/preload")

    function(rc_preload_test_program target)
        rc_preload_plain(${target})
        target_compile_options(${target} PRIVATE -g -O1)
        set_target_properties(${target} PROPERTIES
            RUNTIME_OUTPUT_DIRECTORY "${rc_preload_bin}"
            LIBRARY_OUTPUT_DIRECTORY "${rc_preload_bin}")
        add_dependencies(recycle_preload_test ${target})
    endfunction()

    add_executable(rcpl_prog "${rc_preload_tests}/prog.c")
    target_link_libraries(rcpl_prog PRIVATE Threads::Threads ${CMAKE_DL_LIBS} recycle_warnings)
    # -rdynamic: the program lists where its pattern functions lie (dladdr1)
    set_target_properties(rcpl_prog PROPERTIES OUTPUT_NAME prog ENABLE_EXPORTS ON)
    rc_preload_test_program(rcpl_prog)

    add_library(rcpl_plugin MODULE "${rc_preload_tests}/plugin.c")
    target_link_libraries(rcpl_plugin PRIVATE recycle_warnings)
    set_target_properties(rcpl_plugin PROPERTIES PREFIX "lib" OUTPUT_NAME "rcpl_plugin")
    rc_preload_test_program(rcpl_plugin)

    include(CheckLanguage)
    check_language(CXX)
    set(rc_preload_have_cxx 0)
    if(CMAKE_CXX_COMPILER)
        enable_language(CXX)
        add_executable(rcpl_prog_cxx "${rc_preload_tests}/prog_cxx.cpp")
        set_target_properties(rcpl_prog_cxx PROPERTIES OUTPUT_NAME prog_cxx CXX_STANDARD 17)
        rc_preload_test_program(rcpl_prog_cxx)
        set(rc_preload_have_cxx 1)
    endif()

    if(TARGET recycle_preload)
        add_dependencies(recycle_preload_test recycle_preload)
        target_compile_definitions(recycle_preload_test INTERFACE
            "RCPL_TEST_LIB=\"$<TARGET_FILE:recycle_preload>\"")
    endif()
    target_compile_definitions(recycle_preload_test INTERFACE
        "RCPL_TEST_BIN=\"${rc_preload_bin}\""
        "RCPL_TEST_HAVE_CXX=${rc_preload_have_cxx}")
endif()
