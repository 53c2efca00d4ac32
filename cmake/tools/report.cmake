# report.cmake - the report layer (src/report/), included by the top
# CMakeLists.txt once src/report/ exists, after capture.cmake.
#
#   recycle_report   STATIC library of src/report/*.c: the replay of a
#                    capture, the sites, the text and JSON renderers.
#                    RC_BUILD_CORE, include/ and src/ on the include path of
#                    whoever links it (the `recycle` command, the tests).
#                    It reads captures with recycle_capture and uses the
#                    heap's hash table and the symbolizer of librecycle
#                    (recycle_static).
#
# Without recycle_capture (its reader) there is nothing to read captures
# with: the target is not defined, and `recycle report` says it is not
# available yet.
include_guard(GLOBAL)

if(NOT TARGET recycle_capture)
    message(STATUS "recycle: the report layer waits for the capture layer (recycle_capture)")
    return()
endif()

file(GLOB rc_report_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/report/*.c")
add_library(recycle_report STATIC ${rc_report_sources})
target_compile_definitions(recycle_report PUBLIC RC_BUILD_CORE)
target_include_directories(recycle_report PUBLIC
    "${PROJECT_SOURCE_DIR}/include"
    "${PROJECT_SOURCE_DIR}/src")
target_link_libraries(recycle_report
    PUBLIC recycle_capture recycle_static
    PRIVATE recycle_warnings)
