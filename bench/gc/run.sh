#!/usr/bin/env bash
# bench/gc/run.sh - cycle collector benchmarks: recycle's rc_gc_* against
# CPython's gc module and the Boehm collector; writes docs/BENCHMARKS-gc.md.
#
# Installs missing Debian packages (libgc-dev, python3; gcc, cmake, make),
# builds librecycle.a (CMake Release) in build-bench-gc/, compiles
# bench/gc/gcbench.c and bench/gc/boehm_live.c with gcc -O2, runs every case
# of every benchmark REPEATS times, implementations interleaved round-robin
# with the order rotated each repetition, profiles the recycle side of missed
# targets with perf, and writes a Markdown report (bench/gc/report.py) with
# medians, min/max, ratios and PASS/MISS per target; bench/gc/analysis.md (the
# hand-written reading of the profiles) is appended to it.
#
#   1 cycles  N unreachable objects in cycles (2-cycles, one ring of N) of a
#             user type with four reference slots, a payload and a destroy:
#             gcbench cycles SHAPE N  vs  cycles.py SHAPE N   (ns per object)
#   2 live    full collection of N live nodes with two references each, no
#             garbage; seq (i -> i+1, i+2) and rand (a PRNG shared by all):
#             gcbench live SHAPE N  vs  live.py SHAPE N  vs
#             boehm_live SHAPE N (1 and 2 markers)
#   3 pauses  collection pauses at the default thresholds in an allocation loop:
#             gcbench pauses N WINDOW  (pauses.py N WINDOW for context)
#   4 bt      binary-trees with GC nodes: gcbench bt on|off DEPTH, time and
#             peak RSS (bt.py on|off BT_PY_DEPTH: CPython's own ratio, for scale)
#   5 incr    bounded pauses: a random heap of INCR_N nodes, 10% garbage
#             2-cycles, collected incrementally while the program allocates:
#             gcbench incr N STEP [STEP_US]; one stop-the-world collection
#             (STEP 0), steps bounded by time (INCR_TIME_STEP objects and
#             INCR_STEP_US us) and by objects only (INCR_OBJ_STEPS)
#   6 steady  steady cyclic garbage for STEADY_SECONDS with automatic
#             collection, adaptive young threshold on (default) and off:
#             gcbench steady adaptive|fixed SECONDS (RSS, rc heap sampled 1/s)
#
# Every program checks its own results and exits nonzero on a mismatch; a
# failed run makes this script fail (after writing the report).
#
# Environment (all optional):
#   REPEATS=5                  repetitions of every case
#   CYCLE_NS="100000 1000000 3000000"   CYCLE_SHAPES="pairs ring"
#   LIVE_NS="1000000 10000000" LIVE_SHAPES="seq rand"
#   LIVE_BIG=10000000 LIVE_BIG_REPEATS=3
#                              (cases with N >= LIVE_BIG run LIVE_BIG_REPEATS times)
#   LIVE_COLLECTS=3            timed full collections per live run (best and
#                              median of them reported; the best is the figure)
#   PAUSE_N=5000000 PAUSE_WINDOW=20000   BT_DEPTH=17   BT_PY_DEPTH=15
#   INCR_N=10000000 INCR_STEP_US=500 INCR_TIME_STEP=1000000
#   INCR_OBJ_STEPS="5000 20000" INCR_REPEATS=3
#   STEADY_SECONDS=30 STEADY_REPEATS=3
#   BENCH_BENCHES="cycles live pauses bt incr steady"
#   BENCH_QUICK=1              smoke run: 1 repetition, small sizes (INCR_N
#                              2e5, STEADY_SECONDS 3), report in
#                              build-bench-gc/ unless BENCH_OUT is set
#   BENCH_PERF=auto            auto: profile the recycle side of every missed
#                              target once (perf record -e cpu-clock, only the
#                              measured region) and add the top symbols to the
#                              report; 1: profile every benchmark; 0: never
#   PYTHON=/usr/bin/python3    the CPython to compare with
#   BENCH_BUILD_DIR=build-bench-gc   BENCH_OUT=docs/BENCHMARKS-gc.md
#   BENCH_NO_INSTALL=1         never call apt-get
#   RC_LIB=path/to/librecycle.a   use this library, build nothing
#   CC=gcc BENCH_CFLAGS="-O2 -g"
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-gc    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
    REPEATS=${REPEATS:-1}
    CYCLE_NS=${CYCLE_NS:-"100000 300000"}
    LIVE_NS=${LIVE_NS:-"100000 300000"}
    PAUSE_N=${PAUSE_N:-500000}
    BT_DEPTH=${BT_DEPTH:-12}
    BT_PY_DEPTH=${BT_PY_DEPTH:-10}
    INCR_N=${INCR_N:-200000}
    INCR_REPEATS=${INCR_REPEATS:-1}
    STEADY_SECONDS=${STEADY_SECONDS:-3}
    STEADY_REPEATS=${STEADY_REPEATS:-1}
else
    REPEATS=${REPEATS:-5}
    CYCLE_NS=${CYCLE_NS:-"100000 1000000 3000000"}
    LIVE_NS=${LIVE_NS:-"1000000 10000000"}
    PAUSE_N=${PAUSE_N:-5000000}
    BT_DEPTH=${BT_DEPTH:-17}
    BT_PY_DEPTH=${BT_PY_DEPTH:-15}
    INCR_N=${INCR_N:-10000000}
    INCR_REPEATS=${INCR_REPEATS:-3}
    STEADY_SECONDS=${STEADY_SECONDS:-30}
    STEADY_REPEATS=${STEADY_REPEATS:-3}
fi
CYCLE_SHAPES=${CYCLE_SHAPES:-"pairs ring"}
LIVE_SHAPES=${LIVE_SHAPES:-"seq rand"}
LIVE_BIG=${LIVE_BIG:-10000000}
LIVE_BIG_REPEATS=${LIVE_BIG_REPEATS:-3}
LIVE_COLLECTS=${LIVE_COLLECTS:-3}
PAUSE_WINDOW=${PAUSE_WINDOW:-20000}
INCR_STEP_US=${INCR_STEP_US:-500}
INCR_TIME_STEP=${INCR_TIME_STEP:-1000000}
INCR_OBJ_STEPS=${INCR_OBJ_STEPS:-"5000 20000"}
BENCHES=${BENCH_BENCHES:-"cycles live pauses bt incr steady"}
PERF_MODE=${BENCH_PERF:-auto}
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-gc}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
if [[ $QUICK == 1 ]]; then OUT=${BENCH_OUT:-$BUILD/BENCHMARKS-gc-quick.md}
else OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-gc.md}; fi
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CC=${CC:-gcc}
read -r -a CFLAGS <<<"${BENCH_CFLAGS:--O2 -g}"
CFLAGS+=(-std=c11 -Wall -Wextra -pthread)
BIN=$BUILD/bench-gc
mkdir -p "$BIN"
RESULTS=$BIN/results.txt      # "rep=R @ key=value ..." per run
META=$BIN/meta.txt            # key=value lines for the report
CMDS=$BIN/commands.txt        # commands shown in the report
OUTDIR=$BIN/outputs
PERFDIR=$BIN/perf
rm -rf "$OUTDIR" "$PERFDIR"; mkdir -p "$OUTDIR" "$PERFDIR"
: >"$RESULTS"; : >"$META"; : >"$CMDS"

rel() { local p=$1; p=${p//"$ROOT"\//}; printf '%s' "$p"; }
logcmd() { rel "$*" >>"$CMDS"; echo >>"$CMDS"; }
run_logged() { logcmd "$@"; "$@"; }
meta() { printf '%s=%s\n' "$1" "$2" >>"$META"; }

START_TS=$(date +%s)
meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------
bench_install_deps gcc cmake make python3 libgc-dev

bench_find_python

# The sources the library is built from: commit, and whether src/, include/
# or CMakeLists.txt differ from it (checked again after the runs).
tree_state() {
    local c d=""
    c=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || { echo "? (not a git checkout)"; return; }
    git -C "$ROOT" diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null ||
        d=" + uncommitted changes in src/, include/ or CMakeLists.txt"
    echo "$c$d"
}
# What the library is built from, as content: the tree objects of src/,
# include/ and CMakeLists.txt and any uncommitted change to them, so that a
# commit of other files during the run does not count as a change.
sources_id() {
    git -C "$ROOT" rev-parse HEAD:src HEAD:include HEAD:CMakeLists.txt 2>/dev/null | tr '\n' ' ' ||
        echo "?"
    git -C "$ROOT" diff HEAD -- src include CMakeLists.txt 2>/dev/null | cksum
}
TREE_BEFORE=$(tree_state)
SOURCES_BEFORE=$(sources_id)

# ---------------------------------------------------------------------------
# 2. librecycle.a and the C programs
# ---------------------------------------------------------------------------
bench_build_lib "$ROOT" "$BUILD"
run_logged "$CC" "${CFLAGS[@]}" -DRC_STATIC_DEFINE -I"$ROOT/include" "$HERE/gcbench.c" "$LIB" \
    -o "$BIN/gcbench" -lm -ldl "${EXTRA_LIBS[@]}" >&2 || die "compiling gcbench.c failed"
run_logged "$CC" "${CFLAGS[@]}" "$HERE/boehm_live.c" -o "$BIN/boehm_live" -lgc >&2 ||
    die "compiling boehm_live.c failed (libgc-dev installed?)"

# ---------------------------------------------------------------------------
# 3. Metadata
# ---------------------------------------------------------------------------
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta uname "$(uname -a)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)"
meta cores "$(nproc) online ($(grep -c '^processor' /proc/cpuinfo) in /proc/cpuinfo)"
meta memory "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta gcc "$("$CC" --version | head -n1)"
meta cmake "$(cmake --version 2>/dev/null | head -n1 || echo none)"
meta python "$("$PY" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0], "(" + " ".join(platform.python_build()) + ", " + platform.python_compiler() + ")")') at $PY"
meta python_pkg "$(pkgver python3)"
meta libgc "$(pkgver libgc-dev) (libgc1 $(pkgver libgc1))"
meta perf "$(perf --version 2>/dev/null || echo none)"
meta commit "$TREE_BEFORE"
meta lib "$LIB_HOW"
meta cflags "${CFLAGS[*]}"
meta quick "$QUICK"
meta repeats "$REPEATS"
meta cycle_ns "$CYCLE_NS"
meta cycle_shapes "$CYCLE_SHAPES"
meta live_ns "$LIVE_NS"
meta live_shapes "$LIVE_SHAPES"
meta live_big "$LIVE_BIG"
meta live_big_repeats "$LIVE_BIG_REPEATS"
meta live_collects "$LIVE_COLLECTS"
meta pause_n "$PAUSE_N"
meta pause_window "$PAUSE_WINDOW"
meta bt_depth "$BT_DEPTH"
meta bt_py_depth "$BT_PY_DEPTH"
meta incr_n "$INCR_N"
meta incr_step_us "$INCR_STEP_US"
meta incr_time_step "$INCR_TIME_STEP"
meta incr_obj_steps "$INCR_OBJ_STEPS"
meta incr_repeats "$INCR_REPEATS"
meta steady_seconds "$STEADY_SECONDS"
meta steady_repeats "$STEADY_REPEATS"
meta benches "$BENCHES"

# ---------------------------------------------------------------------------
# 4. Timed runs
# ---------------------------------------------------------------------------
G=$BIN/gcbench
cmd_for() {   # bench case impl -> command words
    local b=$1 c=$2 i=$3
    case $b:$i in
    cycles:recycle) echo "$G cycles ${c%:*} ${c#*:}" ;;
    cycles:cpython) echo "$PY $HERE/cycles.py ${c%:*} ${c#*:}" ;;
    live:recycle)   echo "$G live ${c%:*} ${c#*:} $LIVE_COLLECTS" ;;
    live:cpython)   echo "$PY $HERE/live.py ${c%:*} ${c#*:} $LIVE_COLLECTS" ;;
    live:boehm)     echo "$BIN/boehm_live ${c%:*} ${c#*:} $LIVE_COLLECTS 1" ;;
    live:boehm2)    echo "$BIN/boehm_live ${c%:*} ${c#*:} $LIVE_COLLECTS 2" ;;
    pauses:recycle) echo "$G pauses $PAUSE_N $PAUSE_WINDOW" ;;
    pauses:cpython) echo "$PY $HERE/pauses.py $PAUSE_N $PAUSE_WINDOW" ;;
    bt:on)          echo "$G bt on $BT_DEPTH" ;;
    bt:off)         echo "$G bt off $BT_DEPTH" ;;
    bt:untracked)   echo "$G bt untracked $BT_DEPTH" ;;
    bt:py-on)       echo "$PY $HERE/bt.py on $BT_PY_DEPTH" ;;
    bt:py-off)      echo "$PY $HERE/bt.py off $BT_PY_DEPTH" ;;
    incr:recycle)
        case $c in
        stw)  echo "$G incr $INCR_N 0" ;;
        time) echo "$G incr $INCR_N $INCR_TIME_STEP $INCR_STEP_US" ;;
        obj*) echo "$G incr $INCR_N ${c#obj}" ;;
        esac ;;
    steady:recycle) echo "$G steady $c $STEADY_SECONDS" ;;
    *) die "no command for $b/$i" ;;
    esac
}
cases_for() {
    local b=$1 s n
    case $b in
    cycles) for s in $CYCLE_SHAPES; do for n in $CYCLE_NS; do echo "$s:$n"; done; done ;;
    live) for s in $LIVE_SHAPES; do for n in $LIVE_NS; do echo "$s:$n"; done; done ;;
    incr) echo stw; echo time; for n in $INCR_OBJ_STEPS; do echo "obj$n"; done ;;
    steady) echo adaptive; echo fixed ;;
    *) echo "-" ;;
    esac
}
impls_for() {
    case $1 in
    cycles) echo "recycle cpython" ;;
    live) echo "recycle cpython boehm boehm2" ;;
    pauses) echo "recycle cpython" ;;
    bt) echo "on off untracked py-on py-off" ;;
    incr|steady) echo "recycle" ;;
    esac
}

# The commands, once each, for the report.
for b in $BENCHES; do
    for c in $(cases_for "$b"); do
        for i in $(impls_for "$b"); do logcmd $(cmd_for "$b" "$c" "$i"); done
    done
done

FAILED=0
run_one() {  # rep bench case impl
    local r=$1 b=$2 c=$3 i=$4 cmd out line
    read -r -a cmd <<<"$(cmd_for "$b" "$c" "$i")"
    out=$OUTDIR/$b.${c//:/-}.$i.$r.txt
    if ! "${cmd[@]}" >"$out" 2>"$out.err"; then
        warn "run FAILED: $b $c $i (rep $r): $(tail -c 400 "$out.err")"
        echo "$r $b $c $i" >>"$BIN/failed.txt"
        FAILED=$((FAILED + 1))
        return 0
    fi
    line=$(grep '^@ ' "$out" | tail -n1 || true)
    [[ -n $line ]] || { warn "no result line: $b $c $i (rep $r)"; FAILED=$((FAILED + 1)); return 0; }
    echo "rep=$r case=$c $line" >>"$RESULTS"
    log "rep $r/$REPEATS $b $c $i: $(tr ' ' '\n' <<<"$line" | grep -E '^(ns_per_obj|g0_max_us|g0_med_us|time_s|peak_rss_kb|pause_max_us|pause_med_us|steps|rss_kb_max_h[12]|heap_kb_max_h[12])=' | paste -sd' ' - || true)"
}

rm -f "$BIN/failed.txt"
log "python $PY; $REPEATS repetitions; benches: $BENCHES"
for ((r = 1; r <= REPEATS; r++)); do
    for b in $BENCHES; do
        for c in $(cases_for "$b"); do
            if [[ $b == live && ${c#*:} -ge $LIVE_BIG && $r -gt $LIVE_BIG_REPEATS ]]; then continue; fi
            if [[ $b == incr && $r -gt $INCR_REPEATS ]]; then continue; fi
            if [[ $b == steady && $r -gt $STEADY_REPEATS ]]; then continue; fi
            read -r -a impls <<<"$(impls_for "$b")"
            n=${#impls[@]}
            for ((k = 0; k < n; k++)); do
                run_one "$r" "$b" "$c" "${impls[$(((k + r - 1) % n))]}"
            done
        done
    done
done
meta failed_runs "$FAILED"
TREE_AFTER=$(tree_state)
if [[ $(sources_id) != "$SOURCES_BEFORE" ]]; then
    warn "the sources changed during the run: $TREE_BEFORE -> $TREE_AFTER (the library was built from the first)"
    meta tree_after "$TREE_AFTER"
fi
meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------
# 5. Profiles of the recycle side (missed targets), not timed
# ---------------------------------------------------------------------------
perf_one() {  # id event command...
    local id=$1 ev=$2; shift 2
    local ctl=$PERFDIR/$id.ctl ack=$PERFDIR/$id.ack data=$PERFDIR/$id.data
    mkfifo "$ctl" "$ack"
    if GCBENCH_PERF_CTL=$ctl GCBENCH_PERF_ACK=$ack perf record -q -e "$ev" -F 10000 -D -1 \
        --control "fifo:$ctl,$ack" -o "$data" -- "$@" >"$PERFDIR/$id.out" 2>"$PERFDIR/$id.err"; then
        perf report -i "$data" --no-children --stdio --sort sym --percent-limit 0.5 2>/dev/null |
            grep -v '^#' | grep -v '^[[:space:]]*$' | head -n 25 >"$PERFDIR/$id.txt" || true
        echo "perf record -e $ev -F 10000 -D -1 --control fifo:CTL,ACK -- $(rel "$*")" >"$PERFDIR/$id.cmd"
        log "profiled $id"
    else
        warn "perf failed for $id: $(tail -c 300 "$PERFDIR/$id.err")"
    fi
    rm -f "$ctl" "$ack" "$data"
}
if [[ $PERF_MODE != 0 ]] && command -v perf >/dev/null; then
    # report.py lists the cases to profile: "id bench case impl"
    while read -r id b c i; do
        [[ -n $id ]] || continue
        read -r -a cmd <<<"$(cmd_for "$b" "$c" "$i")"
        # The pause profile toggles perf at every generation-0 collection:
        # user space only, or the toggling itself (fifo I/O) shows up.
        ev=cpu-clock; [[ $b == pauses || $b == incr ]] && ev=cpu-clock:u
        perf_one "$id" "$ev" "${cmd[@]}"
    done < <("$PY" "$HERE/report.py" --profile-list "$PERF_MODE" "$BIN")
fi

# ---------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------
meta elapsed_s "$(($(date +%s) - START_TS))"
"$PY" "$HERE/report.py" --write "$BIN" "$OUT" || die "report.py failed"
log "report: $(rel "$OUT") ($(($(date +%s) - START_TS)) s)"
((FAILED == 0)) || die "$FAILED run(s) failed (see the warnings above and $(rel "$OUTDIR"))"
