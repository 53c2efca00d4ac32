# RecycleWarnings.cmake - the project's warning flags as an INTERFACE target.
#
#   target_link_libraries(<target> PRIVATE recycle_warnings)
#
# The library and the examples link it; tests and benchmarks may. Each flag is
# probed, so the list works with gcc and clang of any recent version. With
# RC_WERROR=ON (CI) every warning is an error.
#
# Deliberately absent: -Wconversion / -Wsign-conversion (noise in size
# arithmetic that is overflow-checked explicitly), -Wcast-qual (the allocator
# turns `const void *` back into its block headers), -Wdouble-promotion
# (printf of floats), -Wnull-dereference (false positives at -O2 in gcc 12),
# -Wswitch-default (fights -Wswitch on enums), -Wjump-misses-init (the
# `goto fail` clean-up idiom), clang's -Wcomma and -Wunreachable-code (compile-
# time knobs make dead branches on purpose).
include_guard(GLOBAL)
include(CheckCCompilerFlag)

set(RC_WARNING_CANDIDATES
    -Wall
    -Wextra
    -Wpedantic
    -Wshadow
    -Wstrict-prototypes
    -Wmissing-prototypes
    -Wold-style-definition
    -Wpointer-arith
    -Wcast-align
    -Wformat=2
    -Wundef
    -Wvla
    -Wwrite-strings
    -Wredundant-decls
    -Wnested-externs
    -Wmissing-include-dirs
    -Wimplicit-fallthrough
    -Winit-self
    # gcc only (probed away on clang)
    -Wlogical-op
    -Wduplicated-cond
    -Wduplicated-branches
    # clang only (probed away on gcc)
    -Wmissing-variable-declarations
    # real bugs even without RC_WERROR
    -Werror=implicit-function-declaration
    -Werror=incompatible-pointer-types
    -Werror=int-conversion
    -Werror=return-type
)

set(RC_WARNING_FLAGS "")
foreach(flag IN LISTS RC_WARNING_CANDIDATES)
    string(MAKE_C_IDENTIFIER "RC_CC_HAS${flag}" var)
    # Probe the positive form: gcc accepts any -Wno-... silently.
    check_c_compiler_flag("${flag}" ${var})
    if(${var})
        list(APPEND RC_WARNING_FLAGS "${flag}")
    endif()
endforeach()
if(RC_WERROR)
    list(APPEND RC_WARNING_FLAGS -Werror)
endif()

if(NOT TARGET recycle_warnings)
    add_library(recycle_warnings INTERFACE)
    target_compile_options(recycle_warnings INTERFACE ${RC_WARNING_FLAGS})
endif()
