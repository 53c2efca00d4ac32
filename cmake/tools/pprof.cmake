# pprof.cmake - the pprof export's profile.proto (src/report/profile.proto)
# compiled with protoc-c into recycle_report; included by report.cmake.
#
#   recycle_pprof_proto   OBJECT library of the generated profile.pb-c.c,
#                         its objects added to recycle_report. The
#                         generated code is protoc-c's, not ours: it is
#                         compiled without recycle_warnings so that a newer
#                         protoc-c or compiler cannot break a -Werror build
#                         with a warning in code nobody here edits.
#
# The generated files go to ${PROJECT_BINARY_DIR}/generated/report/ and are
# included as "report/profile.pb-c.h". They are rebuilt when
# profile.proto changes. export_pprof.c gzips the profile with zlib; both
# libraries come from pkg-config (libprotobuf-c, zlib).
include_guard(GLOBAL)

find_program(RC_PROTOC_C protoc-c)
if(NOT RC_PROTOC_C)
    message(FATAL_ERROR "recycle: protoc-c not found (Debian: protobuf-c-compiler); "
                        "the pprof export compiles src/report/profile.proto with it")
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(RC_PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(RC_ZLIB REQUIRED IMPORTED_TARGET zlib)

set(rc_pprof_dir "${PROJECT_BINARY_DIR}/generated/report")
set(rc_pprof_proto "${PROJECT_SOURCE_DIR}/src/report/profile.proto")
file(MAKE_DIRECTORY "${rc_pprof_dir}")
add_custom_command(
    OUTPUT "${rc_pprof_dir}/profile.pb-c.c" "${rc_pprof_dir}/profile.pb-c.h"
    COMMAND "${RC_PROTOC_C}" "--c_out=${rc_pprof_dir}"
            "--proto_path=${PROJECT_SOURCE_DIR}/src/report" "${rc_pprof_proto}"
    DEPENDS "${rc_pprof_proto}"
    COMMENT "protoc-c: src/report/profile.proto"
    VERBATIM)

add_library(recycle_pprof_proto OBJECT "${rc_pprof_dir}/profile.pb-c.c")
target_link_libraries(recycle_pprof_proto PRIVATE PkgConfig::RC_PROTOBUF_C)

target_sources(recycle_report PRIVATE
    $<TARGET_OBJECTS:recycle_pprof_proto> "${rc_pprof_dir}/profile.pb-c.h")
target_include_directories(recycle_report PRIVATE "${PROJECT_BINARY_DIR}/generated")
target_link_libraries(recycle_report PRIVATE PkgConfig::RC_PROTOBUF_C PkgConfig::RC_ZLIB)
