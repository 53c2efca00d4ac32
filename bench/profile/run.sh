#!/usr/bin/env bash
# bench/profile/run.sh - the profilers on unmodified programs, side by side:
# each program runs plain, under `recycle run` (full, and --sample 512K),
# under heaptrack and under valgrind massif, REPEATS times interleaved.
# Reported: wall time and slowdown against plain (medians), the capture's
# size, and the peak memory of the whole run (GNU time's maximum resident
# set of the profiler and program together). Writes docs/BENCHMARKS-profile.md.
#
# Programs (bench/profile/): binarytrees_malloc.c (binary-trees on
# malloc/free, depth BT_DEPTH) and churn_mt.c (CHURN_THREADS threads
# replacing requests, cross-thread frees).
#
# Environment (all optional):
#   REPEATS=3  BT_DEPTH=16  CHURN_THREADS=4  CHURN_STEPS=200000
#   BENCH_QUICK=1   REPEATS=1, depth 12, 20 000 steps; report in the build dir
#   BENCH_NO_INSTALL=1   BENCH_BUILD_DIR=build-bench-profile   BENCH_OUT=...
#   BENCH_PICTURES=0   leave out bench/profile/pictures.sh (the pictures and
#                      exports of 10M-event captures; runnable alone)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-profile    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die
CMDLOG=()
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
run_logged() { local s="" a; for a in "$@"; do s+="$(rel "$a") "; done; CMDLOG+=("${s% }"); "$@"; }

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then REPEATS=${REPEATS:-1}; BT_DEPTH=${BT_DEPTH:-12}; CHURN_STEPS=${CHURN_STEPS:-20000}
else REPEATS=${REPEATS:-3}; BT_DEPTH=${BT_DEPTH:-16}; CHURN_STEPS=${CHURN_STEPS:-200000}; fi
CHURN_THREADS=${CHURN_THREADS:-4}
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-profile}; [[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
if [[ $QUICK == 1 ]]; then OUT=${BENCH_OUT:-$BUILD/BENCHMARKS-profile-quick.md}
else OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-profile.md}; fi
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CC=${CC:-gcc}
BIN=$BUILD/bench-profile; mkdir -p "$BIN"
WORK=$BIN/work; rm -rf "$WORK"; mkdir -p "$WORK"
RES=$BIN/results.txt; : >"$RES"   # rep program tool time_s maxrss_kb capture_bytes

bench_install_deps gcc cmake make time heaptrack valgrind libzstd-dev libdw-dev
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")

# recycle's command and preload shim: a Release build of the tree.
run_logged cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRC_BUILD_TESTS=OFF \
    -DRC_BUILD_EXAMPLES=OFF -DRC_BUILD_BENCH=OFF >&2 || die "cmake configure failed"
HAVE_RECYCLE=0
if run_logged cmake --build "$BUILD" --target recycle recycle_preload -j "$(nproc)" >&2; then
    RECYCLE=$BUILD/bin/recycle   # the command and librecycle-preload.so land side by side in bin/
    [[ -x $RECYCLE ]] && HAVE_RECYCLE=1
fi
[[ $HAVE_RECYCLE == 1 ]] || warn "no recycle command in this tree yet: its columns stay empty"

run_logged "$CC" -O2 -g -o "$BIN/binarytrees_malloc" "$HERE/binarytrees_malloc.c" >&2 || die "compiling failed"
run_logged "$CC" -O2 -g -pthread -o "$BIN/churn_mt" "$HERE/churn_mt.c" >&2 || die "compiling failed"

PROGRAMS=(bt churn)
prog_cmd() { case $1 in bt) echo "$BIN/binarytrees_malloc $BT_DEPTH" ;; churn) echo "$BIN/churn_mt $CHURN_THREADS $CHURN_STEPS" ;; esac; }
TOOLS=(plain heaptrack massif)
[[ $HAVE_RECYCLE == 1 ]] && TOOLS+=(recycle recycle-sample)

# run_one REP PROGRAM TOOL: time (the wrapper's wall clock), peak RSS and
# capture size of one run, appended to $RES.
run_one() {
    local rep=$1 prog=$2 tool=$3 out=$WORK/$2-$3-$1 pre=() cmd
    read -r -a cmd <<<"$(prog_cmd "$prog")"
    case $tool in
        plain) pre=() ;;
        heaptrack) pre=(heaptrack -o "$out") ;;
        massif) pre=(valgrind --tool=massif "--massif-out-file=$out.massif") ;;
        recycle) pre=("$RECYCLE" run -o "$out.rcap" --) ;;
        recycle-sample) pre=("$RECYCLE" run --sample 524288 -o "$out.rcap" --) ;;
    esac
    local t0 t1 rss
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$out.time" "${pre[@]}" "${cmd[@]}" >"$out.stdout" 2>"$out.stderr" ||
        die "$tool on $prog failed (see $(rel "$out.stderr"))"
    t1=$(date +%s.%N)
    rss=$(tail -n1 "$out.time")
    local bytes=0 f
    for f in "$out".zst "$out".gz "$out.massif" "$out.rcap"; do [[ -f $f ]] && bytes=$(stat -c %s "$f"); done
    echo "$rep $prog $tool $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b - a}') $rss $bytes" >>"$RES"
    log "rep $rep/$REPEATS $prog $tool: $(tail -n1 "$RES" | cut -d' ' -f4)s"
    rm -f "$out".zst "$out".gz "$out.massif" "$out.rcap"
}

for ((r = 1; r <= REPEATS; r++)); do
    for prog in "${PROGRAMS[@]}"; do
        n=${#TOOLS[@]}
        for ((k = 0; k < n; k++)); do run_one "$r" "$prog" "${TOOLS[$(((k + r - 1) % n))]}"; done
    done
done

# ---- sampling overhead on longer runs -----------------------------------------
# The programs above run a fraction of a second plain, where starting
# recycle and the program weighs as much as the sampling itself; the
# sampled overhead is measured again on runs of a few seconds.
if [[ $QUICK == 1 ]]; then SAMPLE_BT_DEPTH=${SAMPLE_BT_DEPTH:-14}; SAMPLE_CHURN_STEPS=${SAMPLE_CHURN_STEPS:-100000}
else SAMPLE_BT_DEPTH=${SAMPLE_BT_DEPTH:-18}; SAMPLE_CHURN_STEPS=${SAMPLE_CHURN_STEPS:-2000000}; fi
SAMPLE_LINES=()
IR_LINES=()
if [[ $HAVE_RECYCLE == 1 ]]; then
    SRES=$BIN/sample-results.txt; : >"$SRES"
    for ((r = 1; r <= REPEATS; r++)); do
        for prog in bt churn; do
            case $prog in
                bt) cmd=("$BIN/binarytrees_malloc" "$SAMPLE_BT_DEPTH") ;;
                churn) cmd=("$BIN/churn_mt" "$CHURN_THREADS" "$SAMPLE_CHURN_STEPS") ;;
            esac
            for tool in plain sample; do
                pre=()
                [[ $tool == sample ]] && pre=("$RECYCLE" run --sample 524288 -o "$WORK/sample.rcap" --)
                t0=$(date +%s.%N)
                "${pre[@]}" "${cmd[@]}" >/dev/null 2>&1 || die "$tool ${cmd[*]} failed"
                t1=$(date +%s.%N)
                echo "$r $prog $tool $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b - a}')" >>"$SRES"
                rm -f "$WORK/sample.rcap"
            done
        done
        log "sampling overhead: rep $r/$REPEATS"
    done
    smed() { awk -v p="$1" -v t="$2" '$2 == p && $3 == t { print $4 }' "$SRES" | sort -g |
             awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
    for prog in bt churn; do
        case $prog in
            bt) label="binary-trees depth $SAMPLE_BT_DEPTH" ;;
            churn) label="churn_mt $CHURN_THREADS x $SAMPLE_CHURN_STEPS" ;;
        esac
        p=$(smed "$prog" plain); q=$(smed "$prog" sample)
        SAMPLE_LINES+=("| $label | $p | $q | $(awk -v a="$q" -v b="$p" 'BEGIN{printf "%+.1f %%", (a / b - 1) * 100}') |")
    done
    CMDLOG+=("$(rel "$RECYCLE") run --sample 524288 -o sample.rcap -- binarytrees_malloc $SAMPLE_BT_DEPTH   # and churn_mt $CHURN_THREADS $SAMPLE_CHURN_STEPS, each against plain, $REPEATS runs interleaved")

    # Wall-clock times on a shared 2-core machine vary by a third from run
    # to run; the instructions executed do not. valgrind's cachegrind
    # counts them (the program's, plus recycle's launcher and preload).
    ir() { valgrind --tool=cachegrind --cache-sim=no --trace-children=yes \
               --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
           sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d , | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
    for prog in bt churn; do
        case $prog in
            bt) cmd=("$BIN/binarytrees_malloc" "$BT_DEPTH"); label="binary-trees depth $BT_DEPTH" ;;
            churn) cmd=("$BIN/churn_mt" "$CHURN_THREADS" "$CHURN_STEPS"); label="churn_mt $CHURN_THREADS x $CHURN_STEPS" ;;
        esac
        p=$(ir "${cmd[@]}")
        q=$(ir "$RECYCLE" run --sample 524288 -o "$WORK/sample.rcap" -- "${cmd[@]}")
        rm -f "$WORK/sample.rcap"
        IR_LINES+=("| $label | $p | $q | $(awk -v a="$q" -v b="$p" 'BEGIN{printf "%+.1f %%", (a / b - 1) * 100}') |")
    done
    CMDLOG+=("valgrind --tool=cachegrind --cache-sim=no --trace-children=yes [$(rel "$RECYCLE") run --sample 524288 --] PROGRAM   # instructions executed")
fi

# ---- reports on large captures ------------------------------------------------
# The time of `recycle report` on the capture of binary-trees (REPORT_DEPTH),
# and a report on a capture larger than the memory it is allowed: churn_mt
# with BOUNDED_STEPS steps per thread, reported under `ulimit -v`.
if [[ $QUICK == 1 ]]; then REPORT_DEPTH=${REPORT_DEPTH:-12}; BOUNDED_STEPS=${BOUNDED_STEPS:-50000}
else REPORT_DEPTH=${REPORT_DEPTH:-16}; BOUNDED_STEPS=${BOUNDED_STEPS:-4000000}; fi
BOUNDED_LIMIT_KB=${BOUNDED_LIMIT_KB:-150000}
REPORT_LINES=()
json_total() { sed -n "s/.*\"totals\": {.*\"$1\": \([0-9]*\).*/\1/p"; }
if [[ $HAVE_RECYCLE == 1 ]]; then
    cap=$WORK/report-bt.rcap
    run_logged "$RECYCLE" run -o "$cap" -- "$BIN/binarytrees_malloc" "$REPORT_DEPTH" >/dev/null 2>&1 ||
        die "recording binary-trees for the report timing failed"
    json=$("$RECYCLE" report "$cap" --json --top 1 2>/dev/null)
    events=$(( $(json_total allocations <<<"$json") + $(json_total frees <<<"$json") ))
    times=()
    for ((r = 1; r <= REPEATS; r++)); do
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M' -o "$WORK/report.time" "$RECYCLE" report "$cap" >/dev/null 2>&1 ||
            die "recycle report on $(rel "$cap") failed"
        t1=$(date +%s.%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')")
    done
    rtime=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    REPORT_LINES+=("| binary-trees depth $REPORT_DEPTH, full | $events | $(stat -c %s "$cap") | no limit | 0 | $rtime | $(tail -n1 "$WORK/report.time") |")
    CMDLOG+=("$(rel "$RECYCLE") report $(rel "$cap")   # timed, $REPEATS runs")
    rm -f "$cap"

    cap=$WORK/bounded.rcap
    run_logged "$RECYCLE" run -o "$cap" -- "$BIN/churn_mt" "$CHURN_THREADS" "$BOUNDED_STEPS" >/dev/null 2>&1 ||
        die "recording churn_mt for the bounded report failed"
    size=$(stat -c %s "$cap")
    t0=$(date +%s.%N)
    set +e
    (ulimit -v "$BOUNDED_LIMIT_KB"; exec /usr/bin/time -f '%M' -o "$WORK/bounded.time" \
        "$RECYCLE" report "$cap" --json --top 1 >"$WORK/bounded.json" 2>"$WORK/bounded.err")
    status=$?
    set -e
    t1=$(date +%s.%N)
    CMDLOG+=("(ulimit -v $BOUNDED_LIMIT_KB; $(rel "$RECYCLE") report $(rel "$cap") --json --top 1)")
    json=$(cat "$WORK/bounded.json")
    events=$(( $(json_total allocations <<<"$json") + $(json_total frees <<<"$json") ))
    REPORT_LINES+=("| churn_mt $CHURN_THREADS x $BOUNDED_STEPS, full | $events | $size | ulimit -v $BOUNDED_LIMIT_KB KiB | $status | $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}') | $(tail -n1 "$WORK/bounded.time" 2>/dev/null) |")
    [[ $status == 0 ]] || warn "the bounded report failed: $(head -c 300 "$WORK/bounded.err")"
    rm -f "$cap"
fi

# ---- pictures and exports of large captures ------------------------------------
# bench/profile/pictures.sh (runnable alone): flamegraph, plot, html and each
# export timed against the report on 10M-event captures; its section goes
# before the commands. BENCH_PICTURES=0 leaves it out.
PICTURES_MD=""
if [[ $HAVE_RECYCLE == 1 && ${BENCH_PICTURES:-1} == 1 ]]; then
    PICTURES_MD=$BIN/pictures.md; rm -f "$PICTURES_MD"
    RECYCLE=$RECYCLE PIC_BUILD_HOW="CMake Release build in $(rel "$BUILD"), run.sh's" \
        PIC_BIN=$BIN PIC_FRAGMENT=$PICTURES_MD BENCH_QUICK=$QUICK REPEATS=$REPEATS \
        BENCH_BUILD_DIR=$BUILD BENCH_NO_INSTALL=1 bash "$HERE/pictures.sh" ||
        { warn "bench/profile/pictures.sh failed: its section is left out"; PICTURES_MD=""; }
fi

med() { awk -v p="$1" -v t="$2" -v c="$3" '$2 == p && $3 == t { print $c }' "$RES" | sort -g |
        awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
{
    echo "# Profiler benchmarks"
    echo
    echo "Written by \`bash bench/profile/run.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $GIT_REV; REPEATS=$REPEATS)."
    echo "Machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(. /etc/os-release; echo "$PRETTY_NAME"), $($CC --version | head -1), $(heaptrack --version 2>/dev/null | head -1), $(valgrind --version)."
    echo
    echo "Programs: binary-trees on malloc/free, depth $BT_DEPTH; churn_mt with $CHURN_THREADS threads x $CHURN_STEPS steps. Times are wall-clock medians of the whole run (for heaptrack: recording and its interpreter; the report is not run); peak memory is GNU time's maximum resident set of the run."
    echo
    echo "| program | tool | time s | slowdown | capture bytes | peak RSS KiB |"
    echo "|---|---|---|---|---|---|"
    for prog in "${PROGRAMS[@]}"; do
        base=$(med "$prog" plain 4)
        for tool in "${TOOLS[@]}"; do
            t=$(med "$prog" "$tool" 4)
            echo "| $prog | $tool | $t | $(awk -v a="$t" -v b="$base" 'BEGIN{printf "%.2fx", a / b}') | $(med "$prog" "$tool" 6) | $(med "$prog" "$tool" 5) |"
        done
    done
    if ((${#SAMPLE_LINES[@]})); then
        echo
        echo "## Sampling overhead on longer runs"
        echo
        echo "\`recycle run --sample 512K\` against the plain program, wall-clock medians of $REPEATS interleaved runs."
        echo
        echo "| program | plain s | sampled s | overhead |"
        echo "|---|---|---|---|"
        printf '%s\n' "${SAMPLE_LINES[@]}"
    fi
    if ((${#IR_LINES[@]})); then
        echo
        echo "Instructions executed (valgrind cachegrind; the same from run to run), plain and with \`--sample 512K\`:"
        echo
        echo "| program | plain | sampled | overhead |"
        echo "|---|---|---|---|"
        printf '%s\n' "${IR_LINES[@]}"
    fi
    if ((${#REPORT_LINES[@]})); then
        echo
        echo "## Reports on large captures"
        echo
        echo "\`recycle report\` (text) on a full capture; the second is reported with its virtual memory limited below the capture's own size. Time is wall-clock (the median of $REPEATS runs for the first), memory GNU time's maximum resident set."
        echo
        echo "| capture | events | capture bytes | memory limit | exit | report s | peak RSS KiB |"
        echo "|---|---|---|---|---|---|---|"
        printf '%s\n' "${REPORT_LINES[@]}"
    fi
    if [[ -n $PICTURES_MD && -f $PICTURES_MD ]]; then echo; cat "$PICTURES_MD"; fi
    echo
    echo "## Commands"
    echo
    echo '```'; printf '%s\n' "${CMDLOG[@]}"; echo '```'
    if [[ -f $HERE/analysis.md ]]; then echo; cat "$HERE/analysis.md"; fi
} >"$OUT"
log "wrote $(rel "$OUT")"
