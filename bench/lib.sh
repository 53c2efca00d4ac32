# bench/lib.sh - pieces shared by the benchmark scripts under bench/.
# Sourced (it only defines functions); the caller then runs bench_prelude,
# and defines run_logged and rel for bench_build_lib.

# Is Debian package $1 installed?
bench_pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Install the missing ones of the packages given (apt-get, as root or with
# sudo), unless BENCH_NO_INSTALL=1.
bench_install_deps() {
    local need=() p sudo=""
    command -v dpkg-query >/dev/null || { warn "no dpkg: not checking packages"; return 0; }
    for p in "$@"; do bench_pkg_ok "$p" || need+=("$p"); done
    ((${#need[@]} == 0)) && return 0
    if [[ ${BENCH_NO_INSTALL:-0} == 1 ]]; then
        warn "missing packages (BENCH_NO_INSTALL=1, not installing): ${need[*]}"
        return 0
    fi
    command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get"
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    log "installing: ${need[*]}"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}"
}

# Sets PY to the CPython to compare with: $PYTHON, else Debian's, else any.
bench_find_python() {
    if [[ -n ${PYTHON:-} ]]; then PY=$PYTHON
    elif [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3
    else PY=$(command -v python3 || true); fi
    [[ -n $PY ]] && "$PY" -c 'import sys; sys.exit(sys.version_info[0] != 3)' ||
        die "no usable python3 (set PYTHON=...)"
}

# librecycle.a for the C programs: RC_LIB if set, else a CMake Release build
# (-O2 -DNDEBUG, no tests, examples or benches) in $2 of the tree at $1. Sets
# LIB, LIB_HOW (for the report) and EXTRA_LIBS (what the static library
# itself needs: pkg-config's Libs.private). Uses the caller's run_logged and
# rel as well.
bench_build_lib() {
    local root=$1 build=$2
    if [[ -n ${RC_LIB:-} ]]; then
        LIB=$RC_LIB; LIB_HOW="given by RC_LIB ($RC_LIB)"
    else
        run_logged cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRC_BUILD_TESTS=OFF \
            -DRC_BUILD_EXAMPLES=OFF -DRC_BUILD_BENCH=OFF >&2 || die "cmake configure failed"
        run_logged cmake --build "$build" --target recycle_static -j "$(nproc)" >&2 ||
            die "building librecycle.a failed"
        LIB=$(find "$build" -maxdepth 2 -name librecycle.a | head -n1)
        [[ -n $LIB ]] || die "librecycle.a not found in $(rel "$build")"
        LIB_HOW="CMake Release build (-O2 -DNDEBUG) in $(rel "$build")"
    fi
    EXTRA_LIBS=()
    if [[ -f $build/recycle.pc ]]; then
        read -r -a EXTRA_LIBS <<<"$(sed -n 's/^Libs.private: *//p' "$build/recycle.pc")"
    fi
}

# bench_write_section OUT NAME SECTION_FILE: put the lines of SECTION_FILE
# (which begin with "<!-- NAME:begin" and end with "<!-- NAME:end -->") in
# place of OUT's section NAME, or at the end of OUT when it has none; the
# rest of OUT is kept as it is. SECTION_FILE is removed.
bench_write_section() {
    local out=$1 name=$2 section=$3 tmp
    mkdir -p "$(dirname "$out")"
    touch "$out"
    tmp=$(mktemp)
    if grep -q "^<!-- $name:begin" "$out"; then
        awk -v sec="$section" -v b="^<!-- $name:begin" -v e="^<!-- $name:end" '
            $0 ~ b { while ((getline l < sec) > 0) print l; skip = 1; next }
            $0 ~ e { skip = 0; next }
            !skip' "$out" >"$tmp"
    else
        { cat "$out"; echo; cat "$section"; } >"$tmp"
    fi
    mv "$tmp" "$out"
    chmod 644 "$out"
    rm -f "$section"
}

# bench_section_paths NAME: what the scripts that write one section of
# docs/BENCHMARKS-objects.md (lru.sh, census.sh, sizes.sh) share: BUILD
# (BENCH_BUILD_DIR, default build-bench-objects), OUT (BENCH_OUT, default
# docs/BENCHMARKS-objects.md), CC, CFLAGS, BIN ($BUILD/bench-NAME, made),
# and the rel and run_logged that bench_build_lib uses (a script may
# define its own run_logged afterwards). Needs ROOT.
bench_section_paths() {
    BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-objects}
    [[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
    OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-objects.md}
    [[ $OUT = /* ]] || OUT=$ROOT/$OUT
    CC=${CC:-gcc}
    read -r -a CFLAGS <<<"${BENCH_CFLAGS:--O2 -g}"
    CFLAGS+=(-std=c11 -Wall -Wextra -pthread)
    BIN=$BUILD/bench-$1
    mkdir -p "$BIN"
    rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
    run_logged() { "$@"; }
}

# bench_log_as TAG: define log, warn and die, which print "[TAG] message"
# (warn and die with "warning:" / "error:") on stderr; die exits 1.
bench_log_as() {
    BENCH_TAG=$1
    log()  { printf '[%s] %s\n' "$BENCH_TAG" "$*" >&2; }
    warn() { printf '[%s] warning: %s\n' "$BENCH_TAG" "$*" >&2; }
    die()  { printf '[%s] error: %s\n' "$BENCH_TAG" "$*" >&2; exit 1; }
}

# bench_prelude TAG: what every benchmark script does first: the C locale,
# HERE (the calling script's directory) and ROOT (the repository, two levels
# up), ROOT as the working directory, and log, warn and die (bench_log_as).
bench_prelude() {
    export LC_ALL=C
    HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
    ROOT=$(cd "$HERE/../.." && pwd)
    cd "$ROOT"
    bench_log_as "$1"
}
