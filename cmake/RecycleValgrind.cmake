# RecycleValgrind.cmake - run registered ctest tests under valgrind memcheck.
#
#   cmake -DBUILD_DIR=build-test [-DLABEL=unit] [-DEXCLUDE_LABEL=novalgrind]
#         [-DVALGRIND=valgrind] -P cmake/RecycleValgrind.cmake
#
# Reads the tests from `ctest --show-only=json-v1` and runs every test that
# carries LABEL and not EXCLUDE_LABEL exactly as ctest would (its command,
# arguments, working directory and ENVIRONMENT), with valgrind in front. Only
# commands that are programs built in BUILD_DIR are run under valgrind
# (a wrapper script would make valgrind check the shell). Tests marked
# WILL_FAIL or DISABLED are skipped. Any valgrind error, definite leak or
# test failure fails the run; the summary line reads "N passed, N failed".
#
# Valgrind sees only what libc allocates: blocks of the recycle heap live in
# its mmap'ed arenas. What it adds over the sanitizers here is uninitialised
# reads, and a second opinion on libc-level leaks and invalid accesses.
cmake_minimum_required(VERSION 3.19)   # string(JSON)

if(NOT BUILD_DIR)
    message(FATAL_ERROR "usage: cmake -DBUILD_DIR=<build> [-DLABEL=unit] -P RecycleValgrind.cmake")
endif()
get_filename_component(BUILD_DIR "${BUILD_DIR}" ABSOLUTE)
if(NOT DEFINED LABEL)
    set(LABEL unit)
endif()
if(NOT DEFINED EXCLUDE_LABEL)
    set(EXCLUDE_LABEL novalgrind)
endif()
if(NOT VALGRIND)
    find_program(VALGRIND valgrind)
    if(NOT VALGRIND)
        message(FATAL_ERROR "valgrind not found (make deps installs it)")
    endif()
endif()
if(NOT DEFINED TIMEOUT)
    set(TIMEOUT 900)
endif()
set(VALGRIND_ARGS
    --error-exitcode=99
    --leak-check=full
    --errors-for-leak-kinds=definite
    --show-leak-kinds=definite
    --track-origins=no
    --child-silent-after-fork=yes
    -q)
get_filename_component(rc_source_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(EXISTS "${rc_source_dir}/cmake/valgrind.supp")
    list(APPEND VALGRIND_ARGS "--suppressions=${rc_source_dir}/cmake/valgrind.supp")
endif()

get_filename_component(rc_cmake_bindir "${CMAKE_COMMAND}" DIRECTORY)
find_program(CTEST ctest HINTS "${rc_cmake_bindir}" NO_DEFAULT_PATH)
if(NOT CTEST)
    find_program(CTEST ctest)
endif()
execute_process(COMMAND "${CTEST}" --show-only=json-v1
                WORKING_DIRECTORY "${BUILD_DIR}"
                OUTPUT_VARIABLE json
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ctest --show-only=json-v1 failed in ${BUILD_DIR}")
endif()

string(JSON ntests ERROR_VARIABLE err LENGTH "${json}" tests)
if(err OR ntests EQUAL 0)
    set(ntests 0)
endif()

set(passed 0)
set(failed 0)
set(skipped 0)
set(failed_names "")
if(ntests GREATER 0)
    math(EXPR last "${ntests} - 1")
    foreach(i RANGE ${last})
        string(JSON name GET "${json}" tests ${i} name)
        string(JSON ncmd ERROR_VARIABLE err LENGTH "${json}" tests ${i} command)
        if(err OR ncmd EQUAL 0)
            continue()   # no command (NOT_AVAILABLE in this configuration)
        endif()
        set(cmd "")
        math(EXPR lastarg "${ncmd} - 1")
        foreach(j RANGE ${lastarg})
            string(JSON arg GET "${json}" tests ${i} command ${j})
            list(APPEND cmd "${arg}")
        endforeach()

        set(labels "")
        set(workdir "${BUILD_DIR}")
        set(envvars "")
        set(skip_reason "")
        string(JSON nprops ERROR_VARIABLE err LENGTH "${json}" tests ${i} properties)
        if(NOT err AND nprops GREATER 0)
            math(EXPR lastprop "${nprops} - 1")
            foreach(k RANGE ${lastprop})
                string(JSON pname GET "${json}" tests ${i} properties ${k} name)
                string(JSON ptype TYPE "${json}" tests ${i} properties ${k} value)
                set(pvalues "")
                if(ptype STREQUAL "ARRAY")
                    string(JSON nv LENGTH "${json}" tests ${i} properties ${k} value)
                    if(nv GREATER 0)
                        math(EXPR lastv "${nv} - 1")
                        foreach(v RANGE ${lastv})
                            string(JSON pv GET "${json}" tests ${i} properties ${k} value ${v})
                            list(APPEND pvalues "${pv}")
                        endforeach()
                    endif()
                else()
                    string(JSON pvalues GET "${json}" tests ${i} properties ${k} value)
                endif()
                if(pname STREQUAL "LABELS")
                    set(labels "${pvalues}")
                elseif(pname STREQUAL "WORKING_DIRECTORY")
                    set(workdir "${pvalues}")
                elseif(pname STREQUAL "ENVIRONMENT")
                    set(envvars "${pvalues}")
                elseif(pname STREQUAL "WILL_FAIL" AND pvalues)
                    set(skip_reason "WILL_FAIL")
                elseif(pname STREQUAL "DISABLED" AND pvalues)
                    set(skip_reason "DISABLED")
                endif()
            endforeach()
        endif()

        if(LABEL AND NOT LABEL IN_LIST labels)
            continue()
        endif()
        if(EXCLUDE_LABEL AND EXCLUDE_LABEL IN_LIST labels)
            message(STATUS "valgrind: skip ${name} (label ${EXCLUDE_LABEL})")
            math(EXPR skipped "${skipped} + 1")
            continue()
        endif()
        list(GET cmd 0 program)
        string(FIND "${program}" "${BUILD_DIR}/" at)
        if(NOT at EQUAL 0)
            set(skip_reason "not a program built in ${BUILD_DIR}")
        endif()
        if(skip_reason)
            message(STATUS "valgrind: skip ${name} (${skip_reason})")
            math(EXPR skipped "${skipped} + 1")
            continue()
        endif()

        message(STATUS "valgrind: ${name}")
        execute_process(
            COMMAND "${CMAKE_COMMAND}" -E env ${envvars}
                    "${VALGRIND}" ${VALGRIND_ARGS} ${cmd}
            WORKING_DIRECTORY "${workdir}"
            RESULT_VARIABLE res
            TIMEOUT ${TIMEOUT})
        if(res STREQUAL "0")
            math(EXPR passed "${passed} + 1")
        else()
            message("valgrind: FAILED ${name} (exit: ${res})")
            math(EXPR failed "${failed} + 1")
            list(APPEND failed_names "${name}")
        endif()
    endforeach()
endif()

message("valgrind: ${passed} passed, ${failed} failed, ${skipped} skipped")
if(failed GREATER 0)
    string(REPLACE ";" " " failed_names "${failed_names}")
    message(FATAL_ERROR "valgrind: failing tests: ${failed_names}")
endif()
if(passed EQUAL 0)
    message(WARNING "valgrind: no test labelled '${LABEL}' was run")
endif()
