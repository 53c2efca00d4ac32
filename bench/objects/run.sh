#!/usr/bin/env bash
# bench/objects/run.sh - object-layer benchmarks: recycle objects and
# containers against glibc malloc/free and CPython; writes
# docs/BENCHMARKS-objects.md.
#
# Builds librecycle.a (CMake, Release) in build-bench-objects/, compiles
# bench/objects/*.c with gcc -O2 against it, makes sure Debian's python3 is
# installed, then runs every (benchmark, implementation) REPEATS times,
# implementations interleaved round-robin with the order rotated each
# repetition, checks that every implementation printed the same checksums,
# runs the memory measurements once, and writes a Markdown report with
# medians, minimums, maximums, ratios and a PASS/MISS line per target.
#
#   binary-trees  binarytrees {recycle,rcheap,glibc} DEPTH,
#                 binarytrees.py {tuple,slots} DEPTH
#   dict          containers dict time N      / containers.py dict time N
#   list          containers list time N      / containers.py list time N
#   array         containers array time N     / containers.py array time N
#   memory        containers {dict,list,array} mem N (both languages, once)
#   lru           bench/objects/lru.sh: lru N / lru.py N, its own section
#   census        bench/objects/census.sh: objgraph's census, census N /
#                 census.py N (python3-objgraph), its own section
#   sizes         bench/objects/sizes.sh: rc_sizeof of every built-in against
#                 sys.getsizeof (sizes / sizes.py), its own section
#
# Environment (all optional):
#   REPEATS=5           repetitions of every (benchmark, implementation)
#   BT_DEPTH=17         binary-trees depth (same for C and Python)
#   DICT_N=1000000      distinct str keys in the dict benchmark
#   SEQ_N=10000000      appends in the list and array benchmarks
#   BT_PY_SLOTS=1       also run the __slots__-class CPython binary-trees
#   BENCH_QUICK=1       smoke run: REPEATS=1, depth 12, 100k keys, 1M appends;
#                       report in build-bench-objects/ unless BENCH_OUT is set
#   PYTHON=/path/python3   the CPython to compare with (default: Debian's
#                       /usr/bin/python3, else python3 on PATH)
#   BENCH_BUILD_DIR=build-bench-objects   BENCH_OUT=docs/BENCHMARKS-objects.md
#   BENCH_NO_INSTALL=1  never call apt-get
#   BENCH_PERF=auto     auto: for every missed target, profile the recycle run
#                       once with `perf record` (not timed) and put the top
#                       symbols in the report; 0: never; 1: for every benchmark
#   RC_LIB=path/to/librecycle.a   use this library, build nothing
#   CC=gcc BENCH_CFLAGS="-O2 -g"
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-objects    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
    REPEATS=${REPEATS:-1}; BT_DEPTH=${BT_DEPTH:-12}; DICT_N=${DICT_N:-100000}; SEQ_N=${SEQ_N:-1000000}
else
    REPEATS=${REPEATS:-5}; BT_DEPTH=${BT_DEPTH:-17}; DICT_N=${DICT_N:-1000000}; SEQ_N=${SEQ_N:-10000000}
fi
BT_PY_SLOTS=${BT_PY_SLOTS:-1}
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-objects}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
if [[ $QUICK == 1 ]]; then OUT=${BENCH_OUT:-$BUILD/BENCHMARKS-objects-quick.md}
else OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-objects.md}; fi
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CC=${CC:-gcc}
read -r -a CFLAGS <<<"${BENCH_CFLAGS:--O2 -g}"
CFLAGS+=(-std=c11 -Wall -Wextra -pthread)
BIN=$BUILD/bench-objects
mkdir -p "$BIN"
RESULTS=$BIN/results.txt      # rep bench impl metric value
CHECKS=$BIN/checks.txt        # rep bench impl checksum-of-output
MEMRES=$BIN/memory.txt        # the @mem lines
OUTDIR=$BIN/outputs           # every run's stdout
rm -rf "$OUTDIR"; mkdir -p "$OUTDIR"
: >"$RESULTS"; : >"$CHECKS"; : >"$MEMRES"

CMDLOG=()
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
run_logged() {
    local shown="" a
    for a in "$@"; do shown+="$(rel "$a") "; done
    CMDLOG+=("${shown% }")
    "$@"
}

START_TS=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# 1. Debian packages (gcc, cmake, make, python3)
# ---------------------------------------------------------------------------
bench_install_deps gcc cmake make python3

bench_find_python
PY_VERSION=$("$PY" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0])')
PY_BUILD=$("$PY" -c 'import platform; print(" ".join(platform.python_build()), "/", platform.python_compiler())')

# ---------------------------------------------------------------------------
# 2. librecycle.a and the C benchmarks
# ---------------------------------------------------------------------------
# The tree being built (others may commit while the benchmarks run).
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- src include 2>/dev/null | wc -l)
BUILD_DATE=$(date -u '+%H:%M:%S UTC')
bench_build_lib "$ROOT" "$BUILD"
for p in binarytrees containers; do
    run_logged "$CC" "${CFLAGS[@]}" -DRC_STATIC_DEFINE -I"$ROOT/include" "$HERE/$p.c" "$LIB" \
        -o "$BIN/$p" -lm -ldl "${EXTRA_LIBS[@]}" >&2 || die "compiling $p.c failed"
done

# ---------------------------------------------------------------------------
# 3. Timed runs
# ---------------------------------------------------------------------------
BT_IMPLS=(recycle rcheap glibc cpython-tuple)
[[ $BT_PY_SLOTS == 1 ]] && BT_IMPLS+=(cpython-slots)
CT_IMPLS=(recycle cpython)
BENCHES=(bt dict list array)

cmd_for() {  # bench impl -> the command line (words)
    local b=$1 i=$2
    case $b in
    bt)
        case $i in
        cpython-*) echo "$PY $HERE/binarytrees.py ${i#cpython-} $BT_DEPTH" ;;
        *) echo "$BIN/binarytrees $i $BT_DEPTH" ;;
        esac ;;
    *)
        local n=$SEQ_N
        [[ $b == dict ]] && n=$DICT_N
        case $i in
        cpython) echo "$PY $HERE/containers.py $b time $n" ;;
        *) echo "$BIN/containers $b time $n" ;;
        esac ;;
    esac
}

FAILED_RUNS=0
run_one() {  # rep bench impl
    local r=$1 b=$2 i=$3 out cmd
    read -r -a cmd <<<"$(cmd_for "$b" "$i")"
    out=$OUTDIR/$b.$i.$r.txt
    if ! "${cmd[@]}" >"$out" 2>"$out.err"; then
        warn "run failed: $b $i (rep $r): $(head -c 300 "$out.err")"
        FAILED_RUNS=$((FAILED_RUNS + 1))
        return 0
    fi
    # Checksum of everything but the timing lines.
    echo "$r $b $i $(grep -v '^@' "$out" | md5sum | cut -c1-12)" >>"$CHECKS"
    # "@ k=v k=v ..." -> one row per numeric metric ending in _s or _kb.
    grep '^@ ' "$out" | tr ' ' '\n' | grep -E '^[a-z_]+_(s|kb)=' |
        awk -F= -v r="$r" -v b="$b" -v i="$i" '{ print r, b, i, $1, $2 }' >>"$RESULTS"
    log "rep $r/$REPEATS $b $i: $(grep '^@ ' "$out" | tr ' ' '\n' | grep -E '_s=' | grep -v free_s | paste -sd' ' -)"
}

log "python: $PY ($PY_VERSION); depth $BT_DEPTH, dict $DICT_N keys, $SEQ_N appends, $REPEATS repetitions"
for ((r = 1; r <= REPEATS; r++)); do
    for b in "${BENCHES[@]}"; do
        if [[ $b == bt ]]; then impls=("${BT_IMPLS[@]}"); else impls=("${CT_IMPLS[@]}"); fi
        n=${#impls[@]}
        for ((k = 0; k < n; k++)); do
            run_one "$r" "$b" "${impls[$(((k + r - 1) % n))]}"
        done
    done
done

# ---------------------------------------------------------------------------
# 4. Memory (once per container and language; not timed)
# ---------------------------------------------------------------------------
for b in dict list array; do
    n=$SEQ_N; [[ $b == dict ]] && n=$DICT_N
    for i in recycle cpython; do
        if [[ $i == recycle ]]; then cmd=("$BIN/containers" "$b" mem "$n")
        else cmd=("$PY" "$HERE/containers.py" "$b" mem "$n"); fi
        out=$OUTDIR/mem.$b.$i.txt
        if "${cmd[@]}" >"$out" 2>"$out.err"; then
            grep '^@mem ' "$out" >>"$MEMRES" || warn "no @mem line from $i $b"
            log "memory $b $i: $(grep '^@mem ' "$out" | cut -d' ' -f3-)"
        else
            warn "memory run failed: $b $i: $(head -c 300 "$out.err")"
            FAILED_RUNS=$((FAILED_RUNS + 1))
        fi
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START_TS))

# ---------------------------------------------------------------------------
# 5. Statistics: bench impl metric n median min max
# ---------------------------------------------------------------------------
STATS=$BIN/stats.txt
sort -k2,2 -k3,3 -k4,4 -s "$RESULTS" | awk '
    function isort(a, n,    i, j, x) {
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    }
    function med(a, n) { return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function flush() { if (n) { isort(v, n); print key, n, med(v, n), v[1], v[n] } }
    { k = $2 " " $3 " " $4; if (k != key) { flush(); key = k; n = 0 } v[++n] = $5 + 0 }
    END { flush() }' >"$STATS"

st() { awk -v b="$1" -v i="$2" -v m="$3" -v c="$4" '$1 == b && $2 == i && $3 == m { print $c }' "$STATS"; }
med() { st "$1" "$2" "$3" 5; }
lo()  { st "$1" "$2" "$3" 6; }
hi()  { st "$1" "$2" "$3" 7; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x > 0 && y > 0) printf "%.2f", x / y; else printf "n/a" }'; }
fmt() { awk -v x="$1" -v f="$2" 'BEGIN { if (x == "") print "n/a"; else printf f, x }'; }
pass() { awk -v x="$1" -v t="$2" 'BEGIN { if (x == "n/a" || x == "") print "MISS (no data)"; else if (x + 0 >= t + 0) print "PASS"; else print "MISS" }'; }

# Checksums: the same output for every implementation and repetition of a bench.
declare -A CHECK_OK
CHECK_FAIL=0
for b in "${BENCHES[@]}"; do
    k=$(awk -v b="$b" '$2 == b { print $4 }' "$CHECKS" | sort -u | wc -l)
    runs=$(awk -v b="$b" '$2 == b' "$CHECKS" | wc -l)
    if [[ $k == 1 ]]; then CHECK_OK[$b]="agree ($runs runs, every implementation)"
    else CHECK_OK[$b]="**DISAGREE** ($k different outputs in $runs runs)"; CHECK_FAIL=1; fi
done

# Targets: name | faster | slower | metric | threshold
TARGETS=(
    "binary-trees: recycle at least as fast as glibc malloc/free|bt|recycle|glibc|time_s|1"
    "binary-trees: recycle >= 10x faster than CPython (tuples, the Benchmarks Game program)|bt|recycle|cpython-tuple|time_s|10"
    "dict: build keys + insert, >= 5x faster than CPython|dict|recycle|cpython|build_s|5"
    "dict: lookups, >= 5x faster than CPython|dict|recycle|cpython|lookup_s|5"
    "list: appends of ints, >= 5x faster than CPython|list|recycle|cpython|append_s|5"
    "array('q'): appends, >= 5x faster than CPython|array|recycle|cpython|append_s|5"
)
[[ $BT_PY_SLOTS == 1 ]] && TARGETS+=("binary-trees: recycle >= 10x faster than CPython (class with \_\_slots\_\_)|bt|recycle|cpython-slots|time_s|10")

target_line() {  # one TARGETS entry -> "| ... |" table row
    local name b fast slow m thr q ql v
    IFS='|' read -r name b fast slow m thr <<<"$1"
    q=$(ratio "$(med "$b" "$slow" "$m")" "$(med "$b" "$fast" "$m")")
    ql=$(ratio "$(lo "$b" "$slow" "$m")" "$(lo "$b" "$fast" "$m")")
    v=$(pass "$q" "$thr")
    echo "| $name | $slow/$fast >= ${thr}x | ${q}x | ${ql}x | **$v** |"
}

# ---------------------------------------------------------------------------
# 6. Profiles of the recycle runs behind missed targets (perf, not timed)
# ---------------------------------------------------------------------------
BENCH_PERF=${BENCH_PERF:-auto}
declare -A PROFILE=()
if [[ $BENCH_PERF != 0 ]] && command -v perf >/dev/null; then
    for t in "${TARGETS[@]}"; do
        IFS='|' read -r name b fast slow m thr <<<"$t"
        [[ -n ${PROFILE[$b]:-} ]] && continue
        if [[ $BENCH_PERF == auto ]]; then
            q=$(ratio "$(med "$b" "$slow" "$m")" "$(med "$b" "$fast" "$m")")
            [[ $(pass "$q" "$thr") == PASS ]] && continue
        fi
        read -r -a cmd <<<"$(cmd_for "$b" recycle)"
        pdata=$BIN/perf.$b.data
        if perf record -q -o "$pdata" -- "${cmd[@]}" >/dev/null 2>"$BIN/perf.$b.err"; then
            PROFILE[$b]=$(perf report -i "$pdata" --no-children -F overhead,sym --percent-limit 1.5 \
                --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -n 20)
            log "profiled $b (recycle)"
        else
            warn "perf record failed for $b: $(head -c 200 "$BIN/perf.$b.err")"
        fi
    done
fi

# ---------------------------------------------------------------------------
# 7. Report
# ---------------------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')

time_table() {  # bench metric impl... : median/min/max and ratios against recycle
    local b=$1 m=$2; shift 2
    local rc_m rc_l i t
    rc_m=$(med "$b" recycle "$m"); rc_l=$(lo "$b" recycle "$m")
    echo "| implementation | median s | min s | max s | time / recycle (median) | time / recycle (min) |"
    echo "|---|---:|---:|---:|---:|---:|"
    for i in "$@"; do
        t=$(med "$b" "$i" "$m")
        [[ -n $t ]] || { echo "| $i | n/a | | | | |"; continue; }
        echo "| $i | $(fmt "$t" %.3f) | $(fmt "$(lo "$b" "$i" "$m")" %.3f) | $(fmt "$(hi "$b" "$i" "$m")" %.3f) |" \
             "$(ratio "$t" "$rc_m")x | $(ratio "$(lo "$b" "$i" "$m")" "$rc_l")x |"
    done
}

mem_field() {  # container impl field
    awk -v c="$1" -v i="$2" -v f="$3" '
        { ok = 0; val = "" ; for (k = 2; k <= NF; k++) { split($k, kv, "="); if (kv[1] == "container" && kv[2] == c) ok++;
          if (kv[1] == "impl" && kv[2] == i) ok++; if (kv[1] == f) val = kv[2] } if (ok == 2) print val }' "$MEMRES"
}
per() { awk -v x="$1" -v n="$2" -v s="${3:-1}" 'BEGIN { if (x == "" || n == 0) print "n/a"; else printf "%.1f", x * s / n }'; }
mib() { awk -v x="$1" -v s="${2:-1}" 'BEGIN { if (x == "") print "n/a"; else printf "%.1f", x * s / 1048576 }'; }

TMP_OUT=$(mktemp)
{
    echo "# Object benchmarks"
    echo
    echo "Generated by \`bench/objects/run.sh\` on $RUN_DATE in ${ELAPSED}s."
    [[ $QUICK == 1 ]] && echo "**Quick smoke run (BENCH_QUICK=1): figures are indicative only.**"
    echo "Reproduce with \`bash bench/objects/run.sh\` (REPEATS, BT_DEPTH, DICT_N, SEQ_N,"
    echo "BENCH_QUICK=1, PYTHON, ... in the environment; see the head of the script)."
    echo "The heap allocator's own benchmarks are in [BENCHMARKS.md](BENCHMARKS.md)."
    echo
    echo "## Targets"
    echo
    echo "Judged on median times; the ratio of the fastest runs (min times) is shown beside"
    echo "it because the machine is shared and noisy. A ratio is *other time / recycle time*:"
    echo "above 1 means recycle is faster."
    echo
    echo "| target | ratio | median ratio | min-time ratio | verdict |"
    echo "|---|---|---:|---:|---|"
    for t in "${TARGETS[@]}"; do target_line "$t"; done
    echo
    echo "Checksums: binary-trees ${CHECK_OK[bt]}; dict ${CHECK_OK[dict]}; list ${CHECK_OK[list]};"
    echo "array ${CHECK_OK[array]}.$( ((FAILED_RUNS)) && echo " **$FAILED_RUNS run(s) failed; see the warnings of the script.**")"
    echo
    echo "## Setup"
    echo
    echo "- $REPEATS repetition(s) of every (benchmark, implementation), implementations"
    echo "  interleaved round-robin, the order rotated each repetition. Each run is a fresh"
    echo "  process. Times are measured inside the program: CLOCK_MONOTONIC in C,"
    echo "  time.perf_counter in Python, around the workload only (process and interpreter"
    echo "  start-up excluded; binary-trees includes the recycle runtime's creation and"
    echo "  teardown)."
    echo "- C: \`$CC ${CFLAGS[*]}\`, statically linked with librecycle.a: $LIB_HOW;"
    echo "  the tree at $BUILD_DATE: commit $GIT_REV$( ((GIT_DIRTY)) && echo " plus $GIT_DIRTY uncommitted changes in src/ and include/")."
    echo "- CPython: \`$PY\`, $PY_VERSION ($PY_BUILD), the cycle collector enabled (default)."
    echo "- Every program prints a checksum; the script compares them across implementations"
    echo "  and repetitions (binary-trees: the Benchmarks Game's output lines; containers:"
    echo "  length, summed values and summed key lengths)."
    echo
    echo "### Machine"
    echo
    echo '```'
    echo "uname -a:   $(uname -a)"
    echo "CPU:        $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) CPUs online"
    echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "compiler:   $("$CC" --version | head -n1)"
    echo "cmake:      $(cmake --version | head -n1)"
    echo "python:     $PY: $PY_VERSION ($PY_BUILD); Debian package python3 $(ver python3)"
    echo "libc6:      $(ver libc6)"
    echo "load average before: $LOAD_BEFORE   after: $LOAD_AFTER"
    echo '```'
    echo
    echo "### Commands"
    echo
    echo '```sh'
    for c in "${CMDLOG[@]}"; do echo "$c"; done
    for b in "${BENCHES[@]}"; do
        if [[ $b == bt ]]; then impls=("${BT_IMPLS[@]}"); else impls=("${CT_IMPLS[@]}"); fi
        for i in "${impls[@]}"; do echo "$(rel "$(cmd_for "$b" "$i" | sed "s#$HERE/#bench/objects/#g; s#$BIN/#$(rel "$BIN")/#g")")"; done
    done
    for b in dict list array; do
        n=$SEQ_N; [[ $b == dict ]] && n=$DICT_N
        echo "$(rel "$BIN")/containers $b mem $n; $PY bench/objects/containers.py $b mem $n"
    done
    echo '```'

    echo
    echo "## binary-trees (depth $BT_DEPTH)"
    echo
    echo "The Benchmarks Game program: a stretch tree of depth $((BT_DEPTH + 1)), a long-lived tree of"
    echo "depth $BT_DEPTH, and for each depth d = 4, 6, ..., $BT_DEPTH, 2^($BT_DEPTH - d + 4) trees built, walked"
    echo "(check = node count) and freed. Implementations:"
    echo
    echo "- **recycle**: nodes are objects of a user type \`{ rc_obj ob; rc_obj *left, *right; }\`"
    echo "  (32 bytes) without \`RC_TYPE_GC\` (refcounting only), made with \`rc_new\` in one"
    echo "  runtime; a tree is freed by \`rc_decref\` of its root, the type's \`destroy\` decrefs"
    echo "  the children (the runtime's deallocation queue keeps this non-recursive)."
    echo "- **rcheap**: the same tree of plain \`{ left, right }\` structs in \`rc_malloc\`/\`rc_free\`,"
    echo "  freed by a recursive walk: the recycle heap without the object layer."
    echo "- **glibc**: the same with glibc \`malloc\`/\`free\` (16-byte structs, 32-byte chunks)."
    echo "- **cpython-tuple**: nodes are 2-tuples, the Benchmarks Game's Python program (the"
    echo "  fastest idiom in CPython)."
    [[ $BT_PY_SLOTS == 1 ]] && echo "- **cpython-slots**: nodes are instances of a class with \`__slots__ = ('left', 'right')\`, the direct analogue of the C user type."
    echo
    time_table bt time_s "${BT_IMPLS[@]}"
    echo
    echo "Output (identical for every implementation; checksums ${CHECK_OK[bt]}):"
    echo
    echo '```'
    f=$(ls "$OUTDIR"/bt.recycle.*.txt 2>/dev/null | head -n1)
    [[ -n $f ]] && grep -v '^@' "$f"
    echo '```'

    echo
    echo "## dict of $DICT_N str keys"
    echo
    echo "Keys are \"key0\" ... \"key$((DICT_N - 1))\" (C: \`rc_str_n\` of a hand-formatted decimal; Python:"
    echo "\`f\"key{i}\"\`), kept in an array (C) or a list (Python). Phases, timed separately:"
    echo
    echo "- **keys**: build the $DICT_N key strings;"
    echo "- **insert**: \`d[keys[i]] = i\` into an empty dict (C: \`rc_int\` + \`rc_dict_set\` + \`rc_decref\` of the int);"
    echo "- **build** = keys + insert (the target);"
    echo "- **lookup**: \`s += d[k]\` for every key, in the scattered order i * 7919 mod N, the"
    echo "  same key objects (the order array is made before the clock starts);"
    echo "- **free**: drop the keys and the dict (informative)."
    echo
    for m in build_s lookup_s keys_s insert_s free_s; do
        echo "**${m%_s}**"
        echo
        time_table dict "$m" "${CT_IMPLS[@]}"
        echo
    done

    for b in list array; do
        echo "## $b: $SEQ_N appends"
        echo
        if [[ $b == list ]]; then
            echo "C: \`v = rc_int(rt, i); rc_list_append(rt, l, v); rc_decref(v);\` for i in 0..N-1 into \`rc_list\`;"
            echo "Python: \`lst.append(i)\` in a \`for i in range(n)\` loop. Ints above 256 are new objects in both."
        else
            echo "C: \`rc_array_append_i64(rt, a, i)\` into \`rc_array(rt, RC_ARRAY_I64)\`;"
            echo "Python: \`a.append(i)\` on \`array.array('q')\` in a \`for i in range(n)\` loop."
        fi
        echo
        echo "**append**"
        echo
        time_table "$b" append_s "${CT_IMPLS[@]}"
        echo
        echo "**free** (informative)"
        echo
        time_table "$b" free_s "${CT_IMPLS[@]}"
        echo
    done

    echo "## Memory"
    echo
    echo "Measured once per container in a separate run (\`containers X mem N\`), not timed."
    echo "The dict holds the $DICT_N str keys and their int values (no separate key array), the"
    echo "list $SEQ_N ints, the array $SEQ_N int64. What each column counts:"
    echo
    echo "- **container**: recycle \`rc_sizeof(c)\` / CPython \`sys.getsizeof(c)\`: the container's"
    echo "  header plus the item/slot storage it owns (allocated capacity, so over-allocation"
    echo "  is included); not the keys and values."
    echo "- **deep**: recycle \`rc_deep_sizeof(rt, c)\`: rc_sizeof of the container and of every"
    echo "  object reachable from it, each once; CPython: getsizeof(c) + getsizeof of every key"
    echo "  and value (all distinct objects here; small ints are shared static objects in both"
    echo "  and counted like the others). Requested sizes, headers included, no allocator rounding."
    echo "- **allocated**: recycle: the growth of the heap's bytes in use"
    echo "  (\`rc_heap_stats_get\`.bytes_in_use): every block the build left live, objects and"
    echo "  buffers, at its size-class size (rounding included, free slack in pools not);"
    echo "  CPython: the growth of \`tracemalloc\`'s traced memory over a second, identical build:"
    echo "  bytes requested from Python's allocators and still live (no pymalloc rounding)."
    echo "- **RSS**: growth of the process's VmRSS over the build (page granularity; includes"
    echo "  allocator slack and, for CPython, nothing of tracemalloc, which runs afterwards)."
    echo "- recycle also reports \`rc_runtime_object_bytes\` growth (object blocks only) and the"
    echo "  number of new objects, in the raw lines below."
    echo
    echo "| container | N | impl | container B | deep B | allocated B | RSS MiB | container B/entry | deep B/entry | allocated B/entry | RSS B/entry |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for b in dict list array; do
        n=$SEQ_N; [[ $b == dict ]] && n=$DICT_N
        for i in recycle cpython; do
            sz=$(mem_field "$b" "$i" sizeof); dp=$(mem_field "$b" "$i" deep); rs=$(mem_field "$b" "$i" rss_kb)
            if [[ $i == recycle ]]; then al=$(mem_field "$b" "$i" heap); else al=$(mem_field "$b" "$i" traced); fi
            [[ -n $sz ]] || { echo "| $b | $n | $i | n/a | | | | | | | |"; continue; }
            echo "| $b | $n | $i | $sz | $dp | $al | $(mib "$rs" 1024) | $(per "$sz" "$n") | $(per "$dp" "$n") | $(per "$al" "$n") | $(per "$rs" "$n" 1024) |"
        done
    done
    echo
    echo "The timed runs also record the VmRSS growth over the build phase (median over the"
    echo "repetitions; dict: keys + key array + dict):"
    echo
    echo "| benchmark | recycle MiB | CPython MiB | recycle / CPython |"
    echo "|---|---:|---:|---:|"
    for b in dict list array; do
        a=$(med "$b" recycle rss_kb); c=$(med "$b" cpython rss_kb)
        echo "| $b | $(mib "$a" 1024) | $(mib "$c" 1024) | $(ratio "$a" "$c") |"
    done
    echo
    echo "Raw memory lines:"
    echo
    echo '```'
    cat "$MEMRES"
    echo '```'

    if ((${#PROFILE[@]})); then
        echo
        echo "## Profiles of recycle where a target is missed"
        echo
        echo "One extra run of the recycle implementation under \`perf record\` (cpu-clock"
        echo "samples of the whole process: set-up, checksum and teardown included; not timed),"
        echo "symbols with at least 1.5% of the samples:"
        for b in "${BENCHES[@]}"; do
            [[ -n ${PROFILE[$b]:-} ]] || continue
            echo
            echo "**$b** (\`$(rel "$(cmd_for "$b" recycle | sed "s#$BIN/#$(rel "$BIN")/#g")")\`)"
            echo
            echo '```'
            echo "${PROFILE[$b]}"
            echo '```'
        done
    fi

    if [[ -f $HERE/analysis.md ]]; then
        echo
        cat "$HERE/analysis.md"
    fi

    echo
    echo "## Raw results"
    echo
    echo "<details><summary>$(wc -l <"$RESULTS") measurements (rep bench impl metric value)</summary>"
    echo
    echo '```'
    cat "$RESULTS"
    echo '```'
    echo
    echo "Output checksums (rep bench impl md5-prefix of the output without timing lines):"
    echo
    echo '```'
    cat "$CHECKS"
    echo '```'
    echo
    echo "</details>"
} >"$TMP_OUT"
mkdir -p "$(dirname "$OUT")"
mv "$TMP_OUT" "$OUT"
chmod 644 "$OUT"
log "report written to $(rel "$OUT") (${ELAPSED}s)"
# The lru cache against functools.lru_cache: its own section of the page.
LRU_N=${LRU_N:-$([[ $QUICK == 1 ]] && echo 200000 || echo 1000000)} RC_LIB=$LIB REPEATS=$REPEATS \
    BENCH_BUILD_DIR=$BUILD BENCH_OUT=$OUT bash "$HERE/lru.sh" || warn "bench/objects/lru.sh failed"
# objgraph's census against Python's objgraph: its own section too.
CENSUS_N=${CENSUS_N:-$([[ $QUICK == 1 ]] && echo 200000 || echo 1000000)} RC_LIB=$LIB REPEATS=$REPEATS \
    BENCH_BUILD_DIR=$BUILD BENCH_OUT=$OUT bash "$HERE/census.sh" || warn "bench/objects/census.sh failed"
# Every built-in's footprint against CPython's: its own section too.
RC_LIB=$LIB BENCH_BUILD_DIR=$BUILD BENCH_OUT=$OUT bash "$HERE/sizes.sh" || warn "bench/objects/sizes.sh failed"
RC_LIB=$LIB BENCH_BUILD_DIR=$BUILD BENCH_OUT=$OUT bash "$HERE/footprint.sh" || warn "bench/objects/footprint.sh failed"
[[ -z ${VERSUS_BASE:-} ]] || VERSUS_QUICK=${VERSUS_QUICK:-$QUICK} RC_LIB=$LIB BENCH_BUILD_DIR=$BUILD BENCH_OUT=$OUT bash "$HERE/versus.sh" "$VERSUS_BASE" || warn "bench/objects/versus.sh failed"
((CHECK_FAIL == 0)) || die "outputs disagree between implementations (see the report)"
((FAILED_RUNS == 0)) || die "$FAILED_RUNS run(s) failed"
