# capture.cmake - the capture layer (src/capture/), included by the top
# CMakeLists.txt once src/capture/ exists.
#
#   recycle_capture   STATIC library of src/capture/*.c: the record encoder,
#                     the writer (librecycle-preload.so links it, so it is
#                     position-independent) and the reader (recycle report).
#                     Hidden visibility, RC_BUILD_CORE, include/ and src/ on
#                     the include path of whoever links it (every user is
#                     inside recycle); libzstd through pkg-config.
#
# The OS layer. The writer takes its memory from rci_os_* (src/heap/os/os.h).
# recycle_capture does not compile its own copy of src/heap/os/os.c: it
# links recycle_static, whose os.o provides them. So a program that holds
# both (the preload: heap + trace + capture; the report; the tests) has one
# rci_os_* and one fault-injection counter (rci_os_fail_after reaches the
# writer too), never two copies of the same symbols. A target that compiles
# recycle_objects' objects in directly is fine as well: the linker takes a
# member of librecycle.a only for a symbol still undefined, and os.o then
# defines nothing new.
include_guard(GLOBAL)

find_package(PkgConfig REQUIRED)
pkg_check_modules(RC_ZSTD REQUIRED IMPORTED_TARGET libzstd)

file(GLOB rc_capture_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/capture/*.c")
add_library(recycle_capture STATIC ${rc_capture_sources})
set_target_properties(recycle_capture PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
target_compile_definitions(recycle_capture PUBLIC RC_BUILD_CORE)
target_include_directories(recycle_capture PUBLIC
    "${PROJECT_SOURCE_DIR}/include"
    "${PROJECT_SOURCE_DIR}/src")
target_link_libraries(recycle_capture
    PRIVATE recycle_warnings PkgConfig::RC_ZSTD recycle_static)

# Fuzzing builds (tests/fuzz/, -DRC_FUZZ=ON): the reader is what
# fuzz_capture_read explores, so it gets the coverage instrumentation the
# library gets there.
if(RC_FUZZ)
    target_compile_options(recycle_capture PRIVATE -fsanitize=fuzzer-no-link)
endif()

# tests/fuzz/CMakeLists.txt links every fuzz target with recycle_static (and
# recycle_internal); the capture reader's target needs this library too.
# The fuzz targets are created after this file runs (tests/ comes later in
# the top CMakeLists.txt), so the link is deferred to the end of the top
# directory, when they exist.
function(rc_capture_link_fuzz_targets)
    foreach(target fuzz_capture_read fuzz_capture_read_replay)
        if(TARGET ${target})
            target_link_libraries(${target} PRIVATE recycle_capture)
        endif()
    endforeach()
endfunction()
if(CMAKE_VERSION VERSION_LESS 3.19)
    message(WARNING "recycle: CMake ${CMAKE_VERSION} cannot defer a call (3.19 can): "
                    "fuzz_capture_read will not link")
else()
    cmake_language(DEFER CALL rc_capture_link_fuzz_targets)
endif()
