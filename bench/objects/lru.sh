#!/usr/bin/env bash
# bench/objects/lru.sh - the lru cache against CPython's functools.lru_cache,
# side by side: writes the "lru cache" section of docs/BENCHMARKS-objects.md
# (between the lru markers, replaced on every run; appended when missing).
# bench/objects/run.sh runs it at its end, so `make bench-objects` includes
# it; it also runs alone.
#
# Builds librecycle.a (CMake Release, bench/lib.sh) unless RC_LIB is given,
# compiles bench/objects/lru.c with gcc -O2, then runs `lru N` and
# `python3 lru.py N` REPEATS times, interleaved (the order alternated each
# repetition), checks that both printed the same sums, and reports the
# median and minimum ns per call of each variant and the ratios
# CPython / recycle, with PASS/MISS against the target (>= 5x).
#
# Environment (all optional):
#   REPEATS=5  LRU_N=1000000 (calls per variant, both languages; the C
#   program times LRU_PASSES=10 passes of them, see lru.c)
#   PYTHON=/usr/bin/python3  RC_LIB=path/to/librecycle.a
#   BENCH_BUILD_DIR=build-bench-objects  BENCH_OUT=docs/BENCHMARKS-objects.md
#   CC=gcc BENCH_CFLAGS="-O2 -g"  BENCH_NO_INSTALL=1
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

log()  { printf '[bench-lru] %s\n' "$*" >&2; }
warn() { printf '[bench-lru] warning: %s\n' "$*" >&2; }
die()  { printf '[bench-lru] error: %s\n' "$*" >&2; exit 1; }

REPEATS=${REPEATS:-5}
N=${LRU_N:-1000000}
PASSES=${LRU_PASSES:-10}
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-objects}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-objects.md}
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CC=${CC:-gcc}
read -r -a CFLAGS <<<"${BENCH_CFLAGS:--O2 -g}"
CFLAGS+=(-std=c11 -Wall -Wextra -pthread)
BIN=$BUILD/bench-lru
mkdir -p "$BIN"
CMDLOG=()
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
run_logged() {
    local shown="" a
    for a in "$@"; do shown+="$(rel "$a") "; done
    CMDLOG+=("${shown% }")
    "$@"
}

# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
bench_install_deps gcc cmake make python3
bench_find_python
PY_VERSION=$("$PY" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0])')
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- src include 2>/dev/null | wc -l)
bench_build_lib "$ROOT" "$BUILD"
run_logged "$CC" "${CFLAGS[@]}" -DRC_STATIC_DEFINE -I"$ROOT/include" "$HERE/lru.c" "$LIB" \
    -o "$BIN/lru" -lm -ldl "${EXTRA_LIBS[@]}" >&2 || die "compiling lru.c failed"

RESULTS=$BIN/results.txt      # rep impl metric value
: >"$RESULTS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
declare -A SUMS=()
run_one() {  # rep impl
    local r=$1 i=$2 out=$BIN/out.$2.$1.txt
    if [[ $i == recycle ]]; then "$BIN/lru" "$N" "$PASSES" >"$out" || die "lru failed"
    else "$PY" "$HERE/lru.py" "$N" >"$out" || die "lru.py failed"; fi
    SUMS[$i]=$(grep -v '^@' "$out" | md5sum | cut -c1-12)
    grep '^@ ' "$out" | tr ' ' '\n' | grep -E '_ns=' |
        awk -F= -v r="$r" -v i="$i" '{ print r, i, $1, $2 }' >>"$RESULTS"
    log "rep $r/$REPEATS $i: $(grep '^@ ' "$out" | cut -c3-)"
}
for ((r = 1; r <= REPEATS; r++)); do
    if ((r % 2)); then run_one "$r" recycle; run_one "$r" cpython
    else run_one "$r" cpython; run_one "$r" recycle; fi
done
[[ ${SUMS[recycle]} == "${SUMS[cpython]}" ]] || die "the C and Python sums differ"
ELAPSED=$(($(date +%s) - START_TS))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

stat() {  # impl metric col: 1 median, 2 min, 3 max
    awk -v i="$1" -v m="$2" -v c="$3" '$2 == i && $3 == m { v[++n] = $4 + 0 }
        END { if (!n) exit; for (a = 2; a <= n; a++) { x = v[a]; for (b = a - 1; b >= 1 && v[b] > x; b--) v[b + 1] = v[b]; v[b + 1] = x }
              if (c == 1) print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2; else if (c == 2) print v[1]; else print v[n] }' "$RESULTS"
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x > 0 && y > 0) printf "%.2f", x / y; else printf "n/a" }'; }
pass() { awk -v x="$1" 'BEGIN { if (x == "n/a") print "MISS (no data)"; else if (x + 0 >= 5) print "PASS"; else print "MISS" }'; }
f2() { awk -v x="$1" 'BEGIN { if (x == "") print "n/a"; else printf "%.1f", x }'; }

# target rows: label | python metric | recycle metric
TARGETS=(
    "hit, one int argument (key object exists)|int_hit_ns|int_hit_pre_ns"
    "miss with eviction, one int argument (key object exists)|int_miss_ns|int_miss_pre_ns"
    "hit, three int arguments (rc_lru_call_args)|tuple_hit_ns|args_hit_ns"
    "miss with eviction, three int arguments (rc_lru_call_args)|tuple_miss_ns|args_miss_ns"
    "hit, one int argument, rc_int made per call|int_hit_ns|int_hit_build_ns"
    "miss with eviction, one int argument, rc_int made per call|int_miss_ns|int_miss_build_ns"
    "hit, 3-tuple made per call (rc_tuple + rc_lru_call)|tuple_hit_ns|tuple_hit_build_ns"
    "miss with eviction, 3-tuple made per call (rc_tuple + rc_lru_call)|tuple_miss_ns|tuple_miss_build_ns"
)
SECTION=$(mktemp)
{
    echo "<!-- lru:begin (written by bench/objects/lru.sh) -->"
    echo "## lru cache against functools.lru_cache"
    echo
    echo "Generated by \`bench/objects/lru.sh\` (also run by \`make bench-objects\`) on"
    echo "$(date -u '+%Y-%m-%d %H:%M UTC') in ${ELAPSED}s: $REPEATS repetitions of each program,"
    echo "C and Python interleaved, $N calls per variant and run (C: $PASSES passes of them timed together). recycle: $LIB_HOW, commit $GIT_REV$( ((GIT_DIRTY)) && echo " plus $GIT_DIRTY uncommitted changes in src/ and include/");"
    echo "CPython: \`$PY\`, $PY_VERSION (functools' C implementation). Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n1),"
    echo "$(nproc) CPUs online, load average $LOAD_BEFORE before and $LOAD_AFTER after (shared machine)."
    echo
    echo "A memoized function of maxsize 128 that returns its (first) argument, called in a"
    echo "loop: **hit** cycles over 128 cached keys, **miss with eviction** over 256, so"
    echo "every call misses, calls the function, stores and evicts the least recent. Ints"
    echo "are 1000..1255 (not the small cached ones), prebuilt in both languages. Python:"
    echo "\`for x in keys: s += f(x)\` and \`for a, b, c in triples: s += g(a, b, c)\`"
    echo "(functools keys one int by itself and three arguments by the argument tuple the"
    echo "call makes). C: \`rc_lru_call(rt, cache, fn, key, NULL)\` and"
    echo "\`rc_lru_call_args(rt, cache, fn, 3, args, NULL)\` (the 3-argument form: a hit is"
    echo "found from the items, a miss makes the tuple), each result decref'd. Compared"
    echo "like for like: the key object exists before the call in Python (the argument), so"
    echo "the int rows judged first use a prebuilt key; the rows that make the key per call"
    echo "(\`rc_int\` for a C caller holding an \`int64_t\`, \`rc_tuple\` + \`rc_lru_call\`)"
    echo "are judged too. Ratio = CPython ns / recycle ns per call (medians; min times beside)."
    echo
    echo "| target | CPython ns/call | recycle ns/call | ratio (median) | ratio (min) | verdict |"
    echo "|---|---:|---:|---:|---:|---|"
    for t in "${TARGETS[@]}"; do
        IFS='|' read -r label pm rm <<<"$t"
        p=$(stat cpython "$pm" 1); c=$(stat recycle "$rm" 1)
        q=$(ratio "$p" "$c"); ql=$(ratio "$(stat cpython "$pm" 2)" "$(stat recycle "$rm" 2)")
        echo "| lru: $label, >= 5x faster than functools | $(f2 "$p") | $(f2 "$c") | ${q}x | ${ql}x | **$(pass "$q")** |"
    done
    echo
    echo "Every variant (median / min / max ns per call):"
    echo
    echo "| implementation | variant | median | min | max |"
    echo "|---|---|---:|---:|---:|"
    for i in cpython recycle; do
        for m in $(awk -v i="$i" '$2 == i { print $3 }' "$RESULTS" | sort -u); do
            echo "| $i | ${m%_ns} | $(f2 "$(stat "$i" "$m" 1)") | $(f2 "$(stat "$i" "$m" 2)") | $(f2 "$(stat "$i" "$m" 3)") |"
        done
    done
    echo
    echo "\`loop_*\` is Python's loop alone (\`s += x\`), included in its per-call figures as the"
    echo "C loop's cost is in recycle's. \`get_*_pre\` is \`rc_lru_get\` (and \`rc_lru_put\` after a"
    echo "miss) instead of the memoize helper. The sums of the values returned agree between"
    echo "the two programs."
    echo
    echo '```sh'
    for c in "${CMDLOG[@]}"; do echo "$c"; done
    echo "$(rel "$BIN")/lru $N $PASSES"
    echo "$PY bench/objects/lru.py $N"
    echo '```'
    echo "<!-- lru:end -->"
} >"$SECTION"

bench_write_section "$OUT" lru "$SECTION"
log "section written to $(rel "$OUT")"
