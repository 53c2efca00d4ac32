# cli.cmake - the `recycle` command (src/cli/), its tests (tests/cli/) and
# its man page (docs/recycle.1). Included by the top CMakeLists.txt after
# the capture, preload and report layers, so their targets may exist:
#
#   recycle           the executable, installed to bin/. It links the report
#                     layer when recycle_report exists; without it, `recycle
#                     report` answers "not available yet". It never links the
#                     preload shim: `recycle run` finds librecycle-preload.so
#                     next to itself (the build tree: both are built into the
#                     same folder) or in ../lib*/recycle/ and ../lib*/ (an
#                     install), or takes RECYCLE_PRELOAD.
#
# Tests (label "cli"), with RC_BUILD_TESTS: tests/cli/*.sh driven by ctest,
# with small programs of tests/cli/progs/ and a stub preload library that
# records the environment it was given. Tests that need the real preload
# exit 77 (ctest: skipped) while recycle_preload does not exist.

set(RC_CLI_SOURCES
    src/cli/main.c
    src/cli/args.c
    src/cli/cmd_run.c)
if(TARGET recycle_report)
    list(APPEND RC_CLI_SOURCES
        src/cli/cmd_report.c src/cli/cmd_lines.c src/cli/cmd_stats.c src/cli/cmd_diff.c
        src/cli/cmd_flamegraph.c src/cli/cmd_plot.c src/cli/cmd_export.c
        src/cli/cmd_html.c)
endif()
list(TRANSFORM RC_CLI_SOURCES PREPEND "${PROJECT_SOURCE_DIR}/")

add_executable(recycle ${RC_CLI_SOURCES})
target_compile_definitions(recycle PRIVATE RC_BUILD_CORE)
target_include_directories(recycle PRIVATE
    "${PROJECT_SOURCE_DIR}/include"
    "${PROJECT_SOURCE_DIR}/src")
target_link_libraries(recycle PRIVATE recycle_warnings)
if(TARGET recycle_report)
    target_compile_definitions(recycle PRIVATE RC_CLI_HAVE_REPORT)
    target_link_libraries(recycle PRIVATE recycle_report)
endif()

# Where an installed recycle looks for the preload: the install's libdir
# seen from its bindir ("../lib", "../lib/x86_64-linux-gnu", ...).
if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}" AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    file(RELATIVE_PATH rc_cli_libdir "/rc/${CMAKE_INSTALL_BINDIR}" "/rc/${CMAKE_INSTALL_LIBDIR}")
else()
    file(RELATIVE_PATH rc_cli_libdir "${CMAKE_INSTALL_BINDIR}" "${CMAKE_INSTALL_LIBDIR}")
endif()
target_compile_definitions(recycle PRIVATE "RC_CLI_LIBDIR_FROM_BINDIR=\"${rc_cli_libdir}\"")

# In the build tree the executable sits beside the preload library.
if(TARGET recycle_preload)
    get_target_property(rc_preload_dir recycle_preload LIBRARY_OUTPUT_DIRECTORY)
    if(rc_preload_dir)
        set_target_properties(recycle PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${rc_preload_dir}")
    endif()
endif()

if(RC_INSTALL)
    install(TARGETS recycle RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT runtime)
    if(EXISTS "${PROJECT_SOURCE_DIR}/docs/recycle.1")
        install(FILES "${PROJECT_SOURCE_DIR}/docs/recycle.1"
                DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT runtime)
    endif()
endif()

# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
if(RC_BUILD_TESTS AND IS_DIRECTORY "${PROJECT_SOURCE_DIR}/tests/cli")
    enable_testing()
    set(rc_cli_tests "${PROJECT_SOURCE_DIR}/tests/cli")
    set(rc_cli_bin "${PROJECT_BINARY_DIR}/tests/cli")

    # The programs recycle runs in the tests, and the stub preload, are
    # built without sanitizers: an ASan program refuses a preloaded library
    # that is loaded before the ASan run-time, and what the tests check
    # under the sanitizers is recycle itself.
    # No sibling calls either: the tests name frames (a function's line
    # that calls another) that a tail call would take off the stack.
    function(rc_cli_plain target)
        target_compile_options(${target} PRIVATE -fno-sanitize=all -g -fno-optimize-sibling-calls)
        target_link_options(${target} PRIVATE -fno-sanitize=all)
        target_link_libraries(${target} PRIVATE recycle_warnings)
        set_target_properties(${target} PROPERTIES
            RUNTIME_OUTPUT_DIRECTORY "${rc_cli_bin}"
            LIBRARY_OUTPUT_DIRECTORY "${rc_cli_bin}")
    endfunction()

    file(GLOB rc_cli_progs CONFIGURE_DEPENDS "${rc_cli_tests}/progs/*.c")
    set(rc_cli_prog_targets "")
    foreach(src IN LISTS rc_cli_progs)
        get_filename_component(name "${src}" NAME_WE)
        add_executable(rc_cli_${name} "${src}")
        set_target_properties(rc_cli_${name} PROPERTIES OUTPUT_NAME "${name}")
        target_link_libraries(rc_cli_${name} PRIVATE Threads::Threads)
        rc_cli_plain(rc_cli_${name})
        list(APPEND rc_cli_prog_targets rc_cli_${name})
    endforeach()

    # Programs on librecycle itself (tests/cli/progs_recycle/), linked to
    # the shared library: only in builds without sanitizers, where that
    # library is uninstrumented like the programs.
    if(TARGET recycle_shared AND NOT RC_SANITIZE)
        file(GLOB rc_cli_recycle_progs CONFIGURE_DEPENDS "${rc_cli_tests}/progs_recycle/*.c")
        foreach(src IN LISTS rc_cli_recycle_progs)
            get_filename_component(name "${src}" NAME_WE)
            add_executable(rc_cli_${name} "${src}")
            set_target_properties(rc_cli_${name} PROPERTIES OUTPUT_NAME "${name}")
            target_link_libraries(rc_cli_${name} PRIVATE recycle_shared)
            rc_cli_plain(rc_cli_${name})
            list(APPEND rc_cli_prog_targets rc_cli_${name})
        endforeach()
    endif()

    add_library(rc_cli_stub_preload MODULE "${rc_cli_tests}/stub_preload.c")
    set_target_properties(rc_cli_stub_preload PROPERTIES PREFIX "" OUTPUT_NAME "stub_preload")
    rc_cli_plain(rc_cli_stub_preload)

    if(TARGET recycle_preload)
        set(rc_cli_real_preload "$<TARGET_FILE:recycle_preload>")
    else()
        set(rc_cli_real_preload "")
    endif()

    # Captures with known content (tests/cli/captures.h), written with the
    # capture layer's writer, for the report's tests.
    set(rc_cli_make_capture "")
    if(TARGET recycle_report)
        add_executable(rc_cli_make_capture
            "${rc_cli_tests}/make_capture.c" "${rc_cli_tests}/captures.c")
        target_link_libraries(rc_cli_make_capture PRIVATE recycle_capture recycle_warnings)
        set_target_properties(rc_cli_make_capture PROPERTIES
            OUTPUT_NAME make_capture
            RUNTIME_OUTPUT_DIRECTORY "${rc_cli_bin}")
        set(rc_cli_make_capture "$<TARGET_FILE:rc_cli_make_capture>")

        # The replay against a model, and the whole report on every test
        # capture, in one process: label "unit" too, so that `make
        # test-valgrind` runs it under valgrind.
        add_executable(rc_cli_test_replay
            "${rc_cli_tests}/test_replay.c" "${rc_cli_tests}/captures.c")
        target_link_libraries(rc_cli_test_replay PRIVATE recycle_report recycle_warnings)
        set_target_properties(rc_cli_test_replay PROPERTIES
            OUTPUT_NAME test_replay
            RUNTIME_OUTPUT_DIRECTORY "${rc_cli_bin}")
        add_test(NAME cli_replay COMMAND rc_cli_test_replay)
        set_tests_properties(cli_replay PROPERTIES LABELS "cli;unit" TIMEOUT 600)
    endif()

    # Each tests/cli/test_<name>.sh is the ctest test cli_<name>; it gets
    # the paths it needs in its environment and exits 77 to be skipped.
    file(GLOB rc_cli_scripts CONFIGURE_DEPENDS "${rc_cli_tests}/test_*.sh")
    foreach(script IN LISTS rc_cli_scripts)
        get_filename_component(stem "${script}" NAME_WE)
        string(REGEX REPLACE "^test_" "" name "${stem}")
        add_test(NAME cli_${name} COMMAND bash "${script}")
        set_tests_properties(cli_${name} PROPERTIES
            LABELS "cli"
            SKIP_RETURN_CODE 77
            TIMEOUT 300
            ENVIRONMENT
                "RECYCLE=$<TARGET_FILE:recycle>;RC_CLI_BIN=${rc_cli_bin};RC_CLI_SRC=${rc_cli_tests};RC_CLI_STUB_PRELOAD=$<TARGET_FILE:rc_cli_stub_preload>;RC_CLI_REAL_PRELOAD=${rc_cli_real_preload};RC_CLI_MAKE_CAPTURE=${rc_cli_make_capture};RC_CLI_SANITIZE=${RC_SANITIZE}")
    endforeach()
endif()
