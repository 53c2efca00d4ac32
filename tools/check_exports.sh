#!/usr/bin/env bash
# check_exports.sh - librecycle.so exports exactly the public API.
#
#   tools/check_exports.sh [BUILD_DIR | path/to/librecycle.so]    (default: build)
#
# Compares `nm -D --defined-only` of the shared library with the functions
# declared RC_API in include/ (the allow-list):
#  - every exported symbol must start with rc_ (toolchain symbols such as
#    _init, _fini, _edata, _end, __bss_start are allowed);
#  - every exported rc_ symbol must be declared RC_API in a public header
#    (an internal function that escaped -fvisibility=hidden);
#  - every RC_API function must be exported (declared but never defined).
# Prints each problem and exits 1 if there is any.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arg=${1:-build}
if [[ -d $arg ]]; then
    lib=$(find "$arg" -maxdepth 2 -name 'librecycle.so' \( -type f -o -type l \) | head -n 1)
else
    lib=$arg
fi
if [[ -z ${lib:-} || ! -e $lib ]]; then
    echo "exports: librecycle.so not found in '$arg' (build first)"
    exit 1
fi

problems=0
problem() {
    echo "exports: $*"
    problems=$((problems + 1))
}

# Exported = defined in the dynamic symbol table with default (or
# protected) visibility. The linker may list a hidden symbol there (the
# __start_/__stop_ symbols of a section, see src/heap/private.h): no other
# module can bind to it, so it is not exported.
exported=$(readelf --dyn-syms -W "$lib" |
    awk '$1 ~ /^[0-9]+:$/ && $5 != "LOCAL" && $7 != "UND" && $6 != "HIDDEN" && $6 != "INTERNAL" && $8 != "" { print $8 }' |
    sed 's/@.*//' | sort -u)

# The allow-list: names declared RC_API in include/. Comments and
# preprocessor lines are dropped, declarations are split at ';', '{' and '}',
# attribute macros with arguments (RC_ALLOC_SIZE(1), ...) are removed, and the
# first identifier followed by '(' is the function's name.
declared=$(
    find "$root/include" -name '*.h' -print0 | sort -z |
    xargs -0 cat |
    perl -0777 -pe 's{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g' |
    grep -v '^[[:space:]]*#' |
    tr '\n' ' ' |
    tr ';{}' '\n\n\n' |
    grep -w 'RC_API' |
    sed -E -e 's/\<RC_[A-Z0-9_]+[[:space:]]*\([^()]*\)//g' |
    sed -nE -e 's/^[^(]*\<([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(.*/\1/p' \
            -e 't' -e 's/.*\<([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*(\[[^]]*\])?[[:space:]]*$/\1/p' |
    sort -u
)

toolchain='^(_init|_fini|_edata|_end|__bss_start|_IO_stdin_used|__data_start|data_start|__dso_handle|_DYNAMIC|_GLOBAL_OFFSET_TABLE_)$'

while read -r sym; do
    [[ -z $sym ]] && continue
    if [[ $sym =~ $toolchain ]]; then
        continue
    fi
    if [[ $sym != rc_* ]]; then
        problem "$sym is exported but does not start with rc_"
    elif ! grep -qxF "$sym" <<<"$declared"; then
        problem "$sym is exported but not declared RC_API in include/ (make it static or rci_-prefixed and hidden)"
    fi
done <<<"$exported"

while read -r sym; do
    [[ -z $sym ]] && continue
    if ! grep -qxF "$sym" <<<"$exported"; then
        problem "$sym is declared RC_API in include/ but librecycle.so does not export it"
    fi
done <<<"$declared"

n_exported=$(grep -c . <<<"$exported" || true)
n_declared=$(grep -c . <<<"$declared" || true)
if ((problems > 0)); then
    echo "exports: $problems problem(s) in $lib ($n_exported exported, $n_declared declared)"
    exit 1
fi
echo "exports: OK ($lib exports the $n_declared RC_API functions and nothing else)"
