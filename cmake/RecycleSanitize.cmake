# RecycleSanitize.cmake - RC_SANITIZE applied to everything built in this tree.
#
#   cmake -DRC_SANITIZE=address,undefined ...   ASan + LSan + UBSan
#   cmake -DRC_SANITIZE=thread ...              TSan (use clang)
#
# The flags are added with add_compile_options/add_link_options at the top
# directory, before any target exists, so the library, tests, examples and
# benchmarks are all instrumented the same way. Every report is fatal
# (-fno-sanitize-recover=all) so that a test run cannot pass over one.
# Run-time options used by `make test`:
#   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
#   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
#   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
include_guard(GLOBAL)
include(CheckCSourceCompiles)

if(RC_SANITIZE)
    string(REPLACE ";" "," RC_SANITIZE "${RC_SANITIZE}")
    string(REPLACE "," ";" rc_sanitizers "${RC_SANITIZE}")
    foreach(s IN LISTS rc_sanitizers)
        if(NOT s MATCHES "^(address|undefined|leak|thread)$")
            message(FATAL_ERROR "RC_SANITIZE: unknown sanitizer '${s}' "
                    "(use \"address,undefined\" or \"thread\")")
        endif()
    endforeach()
    if("thread" IN_LIST rc_sanitizers AND
       ("address" IN_LIST rc_sanitizers OR "leak" IN_LIST rc_sanitizers))
        message(FATAL_ERROR "RC_SANITIZE: thread cannot be combined with address or leak")
    endif()

    set(RC_SANITIZE_FLAGS
        "-fsanitize=${RC_SANITIZE}"
        -fno-omit-frame-pointer
        -fno-sanitize-recover=all)

    # Fail early, with a clear message, when the compiler or its run-time
    # libraries cannot do it (e.g. TSan with a gcc lacking libtsan).
    set(CMAKE_REQUIRED_FLAGS "${RC_SANITIZE_FLAGS}")
    string(REPLACE ";" " " CMAKE_REQUIRED_FLAGS "${CMAKE_REQUIRED_FLAGS}")
    set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=${RC_SANITIZE}")
    check_c_source_compiles("int main(void) { return 0; }" RC_SANITIZE_WORKS)
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_LINK_OPTIONS)
    if(NOT RC_SANITIZE_WORKS)
        message(FATAL_ERROR "RC_SANITIZE=${RC_SANITIZE}: ${CMAKE_C_COMPILER} "
                "cannot build with these sanitizers (missing run-time library?)")
    endif()

    add_compile_options(${RC_SANITIZE_FLAGS})
    add_link_options("-fsanitize=${RC_SANITIZE}")
    # The heap and tests may want to know (e.g. to skip fork-based tests).
    if("address" IN_LIST rc_sanitizers)
        add_compile_definitions(RC_SANITIZE_ADDRESS=1)
    endif()
    if("thread" IN_LIST rc_sanitizers)
        add_compile_definitions(RC_SANITIZE_THREAD=1)
    endif()
    if("undefined" IN_LIST rc_sanitizers)
        add_compile_definitions(RC_SANITIZE_UNDEFINED=1)
    endif()
    message(STATUS "recycle: sanitizers: ${RC_SANITIZE}")
endif()
