#!/usr/bin/env bash
# check_layers.sh - enforce the layer rules of docs/design/layers.md.
#
#   tools/check_layers.sh [REPO_ROOT]
#
# Checks
#  1. Every #include in src/<layer>/ (quote or angle form, resolved the way
#     the compiler does: the including file's folder, then include/, then
#     src/) stays within the layer or reaches only the layers it may use.
#     A public header counts as the layers it belongs to, followed through
#     the public headers it includes: <recycle/heap.h> is heap, <recycle.h> is
#     every layer it pulls in; a header not named after its layer is mapped
#     in PUBLIC_LAYER (<recycle/timeit.h> is trace). export.h, error.h and
#     annotate.h belong to no layer.
#     Outside src/heap/, the heap is reached through its doors only
#     (HEAP_DOORS below); its other headers (the per-concern internals such
#     as heap/pool.h or heap/tlheap.h) are the heap's own.
#  2. Every internal header (src/**/*.h) refuses to compile without
#     RC_BUILD_CORE: an `#ifndef RC_BUILD_CORE` (or `#if !defined(...)`)
#     whose next directive is `#error`, before its first #include.
#  3. examples/ use only the public headers (<recycle.h>, <recycle/...>) and
#     their own local files, and never define RC_BUILD_CORE.
#  4. Public headers (include/) include nothing from src/.
# Prints each violation and exits 1 if there is any.
set -euo pipefail

root=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"}
cd "$root"

# The table of docs/design/layers.md: what each layer may include
# besides itself. cli may also include any public header.
declare -A ALLOWED=(
    [heap]=""
    [object]="heap"
    [types]="object heap"
    [gc]="types object heap"
    [trace]="symbolize heap"
    [capture]="heap"
    [preload]="trace capture heap"
    [symbolize]="heap"
    [report]="capture symbolize trace heap"
    [cli]="report capture symbolize"
)
# Headers the build generates into build/generated/ (not in the tree),
# each the layer's own: the pprof export's protobuf-c code.
GENERATED=" report/profile.pb-c.h "
# Public headers that belong to no layer: usable by everyone.
NEUTRAL_PUBLIC=" recycle/export.h recycle/error.h recycle/annotate.h "
# Public headers not named after their layer, and the layer they declare.
declare -A PUBLIC_LAYER=(
    [recycle/profile.h]=trace
    [recycle/timeit.h]=trace
)
# The headers of src/heap/ that other layers may include: private heaps (the
# object layer's door), the OS primitives, the raw hash table, the options.
HEAP_DOORS=" src/heap/private.h src/heap/os/os.h src/heap/htable.h src/heap/options.h "

violations=0
nfiles=0
nincludes=0
violation() {
    echo "layers: $*"
    violations=$((violations + 1))
}

# resolve FILE FORM SPEC -> prints the repo-relative path, or nothing
resolve() {
    local file=$1 form=$2 spec=$3 dir cand
    dir=$(dirname "$file")
    local -a cands=()
    if [[ $form == quote ]]; then
        cands+=("$dir/$spec")
    fi
    cands+=("include/$spec" "src/$spec")
    for cand in "${cands[@]}"; do
        if [[ -f $cand ]]; then
            realpath -m --relative-to=. "$cand"
            return
        fi
    done
}

# includes FILE -> lines "FORM SPEC"
includes() {
    sed -nE \
        -e 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/quote \1/p' \
        -e 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<([^>]+)>.*/angle \1/p' \
        "$1"
}

# public_layers PATH -> the layers a public header pulls in (memoised)
declare -A PUBLIC_MEMO=()
public_layers() {
    local path=$1 rel name form spec target out=""
    if [[ -n ${PUBLIC_MEMO[$path]+set} ]]; then
        echo "${PUBLIC_MEMO[$path]}"
        return
    fi
    PUBLIC_MEMO[$path]=""      # cuts include cycles
    rel=${path#include/}
    if [[ $NEUTRAL_PUBLIC != *" $rel "* && $rel == recycle/*.h ]]; then
        name=${rel#recycle/}
        name=${name%.h}
        if [[ -n ${PUBLIC_LAYER[$rel]+set} ]]; then
            out="${PUBLIC_LAYER[$rel]}"
        elif [[ -n ${ALLOWED[$name]+set} ]]; then
            out="$name"
        fi
    fi
    while read -r form spec; do
        target=$(resolve "$path" "$form" "$spec")
        if [[ $target == include/* ]]; then
            out="$out $(public_layers "$target")"
        fi
    done < <(includes "$path")
    out=$(tr ' ' '\n' <<<"$out" | sed '/^$/d' | sort -u | tr '\n' ' ')
    PUBLIC_MEMO[$path]=$out
    echo "$out"
}

may_use() {    # may_use LAYER OTHER
    [[ $1 == "$2" || " ${ALLOWED[$1]} " == *" $2 "* ]]
}

# --- 1. includes of src/ ----------------------------------------------------
if [[ -d src ]]; then
    while IFS= read -r -d '' f; do
        nfiles=$((nfiles + 1))
        rel=${f#src/}
        if [[ $rel != */* ]]; then
            violation "$f: file directly under src/ belongs to no layer"
            continue
        fi
        layer=${rel%%/*}
        if [[ -z ${ALLOWED[$layer]+set} ]]; then
            violation "$f: src/$layer/ is not a layer of docs/design/layers.md (${!ALLOWED[*]})"
            continue
        fi
        while read -r form spec; do
            nincludes=$((nincludes + 1))
            target=$(resolve "$f" "$form" "$spec")
            if [[ -z $target && $form == quote && $GENERATED == *" $spec "* &&
                  ${spec%%/*} == "$layer" ]]; then
                continue
            fi
            if [[ -z $target ]]; then
                if [[ $form == quote ]]; then
                    violation "$f: #include \"$spec\" resolves to no file in the tree"
                fi
                continue       # <system header>
            fi
            case $target in
            src/*)
                tl=${target#src/}
                tl=${tl%%/*}
                if ! may_use "$layer" "$tl"; then
                    violation "$f: $layer must not include $target ($tl layer)"
                elif [[ $tl == heap && $layer != heap && $HEAP_DOORS != *" $target "* ]]; then
                    violation "$f: $layer must not include $target (a heap internal; use one of${HEAP_DOORS% })"
                fi
                ;;
            include/*)
                [[ $layer == cli ]] && continue
                for pl in $(public_layers "$target"); do
                    if ! may_use "$layer" "$pl"; then
                        violation "$f: $layer must not include $target (it pulls in the $pl layer)"
                    fi
                done
                ;;
            *)
                violation "$f: #include \"$spec\" leaves src/ and include/ ($target)"
                ;;
            esac
        done < <(includes "$f")
    done < <(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

    # --- 2. internal headers refuse to compile without RC_BUILD_CORE ---------
    while IFS= read -r -d '' h; do
        if ! awk '
            /^[[:space:]]*#[[:space:]]*include/ { if (!guard) exit 1 }
            guard && /^[[:space:]]*#/ {
                if ($0 ~ /^[[:space:]]*#[[:space:]]*error/) { ok = 1; exit 0 }
                exit 1
            }
            /^[[:space:]]*#[[:space:]]*if(ndef[[:space:]]+RC_BUILD_CORE|[[:space:]]*![[:space:]]*defined[[:space:]]*\(?[[:space:]]*RC_BUILD_CORE)/ {
                guard = 1
            }
            END { exit ok ? 0 : 1 }' "$h"; then
            violation "$h: internal header lacks '#ifndef RC_BUILD_CORE' + '#error' before its first #include"
        fi
    done < <(find src -type f -name '*.h' -print0 | sort -z)
fi

# --- 3. examples use the public headers only ---------------------------------
if [[ -d examples ]]; then
    while IFS= read -r -d '' f; do
        nfiles=$((nfiles + 1))
        if grep -q 'RC_BUILD_CORE' "$f"; then
            violation "$f: examples must not use RC_BUILD_CORE"
        fi
        while read -r form spec; do
            nincludes=$((nincludes + 1))
            if [[ $form == quote ]]; then
                local_file=$(dirname "$f")/$spec
                if [[ -f $local_file && $(realpath -m --relative-to=. "$local_file") == examples/* ]]; then
                    continue
                fi
                violation "$f: #include \"$spec\": examples include <recycle.h>, <recycle/...> or their own files"
                continue
            fi
            if [[ -f src/$spec ]]; then
                violation "$f: #include <$spec> is an internal header"
            elif [[ ($spec == recycle.h || $spec == recycle/*) && ! -f include/$spec ]]; then
                violation "$f: #include <$spec> is not a public header"
            fi
        done < <(includes "$f")
    done < <(find examples -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
fi

# --- 4. public headers include nothing internal --------------------------------
if [[ -d include ]]; then
    while IFS= read -r -d '' f; do
        nfiles=$((nfiles + 1))
        while read -r form spec; do
            nincludes=$((nincludes + 1))
            target=$(resolve "$f" "$form" "$spec")
            if [[ $target == src/* ]]; then
                violation "$f: public header includes internal $target"
            fi
        done < <(includes "$f")
    done < <(find include -type f -name '*.h' -print0 | sort -z)
fi

if ((violations > 0)); then
    echo "layers: $violations violation(s) in $nfiles files"
    exit 1
fi
echo "layers: OK ($nfiles files, $nincludes includes)"
