#!/usr/bin/env bash
# bench/profile/pictures.sh - the pictures and exports of large captures:
# `recycle report` (the reference), `recycle flamegraph`, `plot`, `html`
# and `recycle export --format collapsed|speedscope|massif|pprof|sqlite`,
# each timed REPEATS times (median wall clock, GNU time's peak resident set)
# on full captures of about 10 million events (allocations + frees):
# binary-trees on malloc (bench/profile/binarytrees_malloc.c) and churn_mt
# (4 threads, cross-thread frees); the size of what each writes; how the
# memory grows on a churn_mt capture PIC_GROWTH times longer; and the size
# of the pages (html, flame graph, plot) of many_sites.c, a program with
# 4096 allocation sites and stacks 25 deep, nearly all distinct.
#
# Target: each output of a 10M-event capture in under TARGET_S (5) seconds,
# judged on the median scaled to 10 million events (a shorter capture: its
# own time under TARGET_S); memory bounded as the report's (it grows no more
# than the report's from the capture to the one PIC_GROWTH times longer);
# pages at most PAGE_LIMIT_MB (5) MB.
#
# Run alone (`bash bench/profile/pictures.sh`) it builds recycle as run.sh
# does (or takes RECYCLE=path/to/recycle) and replaces its section,
# "## Pictures and exports of large captures", in docs/BENCHMARKS-profile.md
# (BENCH_QUICK=1: in $BUILD/BENCHMARKS-profile-quick.md). run.sh calls it
# with RECYCLE, PIC_BIN and PIC_FRAGMENT set: the programs are taken from
# PIC_BIN and the section is written to PIC_FRAGMENT for run.sh to include.
#
# Environment (all optional):
#   REPEATS=3  PIC_BT_DEPTH=15  PIC_CHURN_THREADS=4  PIC_CHURN_STEPS=420000
#   PIC_GROWTH=4 (0: no growth run)  PIC_SITES_ITER=20000  PIC_SITES_DEPTH=24
#   TARGET_S=5  PAGE_LIMIT_MB=5
#   BENCH_QUICK=1   REPEATS=1, depth 12, 20 000 steps, growth 2, 2 000 iterations
#   BENCH_NO_INSTALL=1   BENCH_BUILD_DIR=build-bench-profile   BENCH_OUT=...
#   RECYCLE=...   a recycle command to measure instead of building one
#   RECYCLE_REV=...   the commit it was built from, for the report (default HEAD)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-pictures    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die
CMDLOG=()
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
run_logged() { local s="" a; for a in "$@"; do s+="$(rel "$a") "; done; CMDLOG+=("${s% }"); "$@"; }

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
    REPEATS=${REPEATS:-1}; PIC_BT_DEPTH=${PIC_BT_DEPTH:-12}; PIC_CHURN_STEPS=${PIC_CHURN_STEPS:-20000}
    PIC_GROWTH=${PIC_GROWTH:-2}; PIC_SITES_ITER=${PIC_SITES_ITER:-2000}
else
    REPEATS=${REPEATS:-3}; PIC_BT_DEPTH=${PIC_BT_DEPTH:-15}; PIC_CHURN_STEPS=${PIC_CHURN_STEPS:-420000}
    PIC_GROWTH=${PIC_GROWTH:-4}; PIC_SITES_ITER=${PIC_SITES_ITER:-20000}
fi
PIC_CHURN_THREADS=${PIC_CHURN_THREADS:-4}; PIC_SITES_DEPTH=${PIC_SITES_DEPTH:-24}
TARGET_S=${TARGET_S:-5}; PAGE_LIMIT_MB=${PAGE_LIMIT_MB:-5}
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-profile}; [[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
if [[ $QUICK == 1 ]]; then OUT=${BENCH_OUT:-$BUILD/BENCHMARKS-profile-quick.md}
else OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-profile.md}; fi
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CC=${CC:-gcc}
BIN=${PIC_BIN:-$BUILD/bench-profile}; mkdir -p "$BIN"
WORK=$BIN/pictures; rm -rf "$WORK"; mkdir -p "$WORK"
PRES=$WORK/results.txt; : >"$PRES"   # capture output rep time_s maxrss_kb bytes exit cpu_s

if [[ -n ${RECYCLE:-} ]]; then
    [[ -x $RECYCLE ]] || die "RECYCLE=$RECYCLE is not an executable"
    RECYCLE=$(cd "$(dirname "$RECYCLE")" && pwd)/$(basename "$RECYCLE")
    BUILD_HOW=${PIC_BUILD_HOW:-"given by RECYCLE ($(rel "$RECYCLE"))"}
else
    bench_install_deps gcc cmake make time libzstd-dev libdw-dev
    run_logged cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRC_BUILD_TESTS=OFF \
        -DRC_BUILD_EXAMPLES=OFF -DRC_BUILD_BENCH=OFF >&2 || die "cmake configure failed"
    run_logged cmake --build "$BUILD" --target recycle recycle_preload -j "$(nproc)" >&2 ||
        die "building recycle failed"
    RECYCLE=$BUILD/bin/recycle
    [[ -x $RECYCLE ]] || die "no recycle command in $(rel "$BUILD")/bin"
    BUILD_HOW="CMake Release build in $(rel "$BUILD")"
fi
GIT_REV=${RECYCLE_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")}

# The programs: run.sh's, compiled by it when it calls this script (a
# program already compiled and newer than its source is kept; its command
# is listed all the same).
compile() {
    local name=$1 exe=$BIN/$1 src=$HERE/$1.c; shift
    if [[ -x $exe && ! $exe -ot $src ]]; then
        CMDLOG+=("$CC -O2 -g${*:+ $*} -o $(rel "$exe") $(rel "$src")   # already compiled")
        return 0
    fi
    [[ $name == many_sites ]] && log "compiling many_sites.c (4096 functions: about half a minute)"
    run_logged "$CC" -O2 -g "$@" -o "$exe" "$src" >&2 || die "compiling $(rel "$src") failed"
}
compile binarytrees_malloc
compile churn_mt -pthread
compile many_sites

OUTPUTS=(report flamegraph plot html collapsed speedscope massif pprof sqlite)
# out_cmd OUTPUT CAPTURE DEST: sets CMD (stdout goes to DEST for report).
out_cmd() {
    local o=$1 cap=$2 dst=$3
    case $o in
        report) CMD=("$RECYCLE" report "$cap") ;;
        flamegraph) CMD=("$RECYCLE" flamegraph "$cap" --kind allocated -o "$dst") ;;
        plot) CMD=("$RECYCLE" plot "$cap" -o "$dst") ;;
        html) CMD=("$RECYCLE" html "$cap" -o "$dst") ;;
        *) CMD=("$RECYCLE" export "$cap" --format "$o" -o "$dst") ;;
    esac
}
out_ext() { case $1 in report) echo txt ;; flamegraph | html) echo html ;; plot) echo svg ;;
            collapsed) echo collapsed ;; speedscope) echo json ;; massif) echo massif ;;
            pprof) echo pb.gz ;; sqlite) echo db ;; esac; }

json_total() { sed -n "s/.*\"totals\": {.*\"$1\": \([0-9]*\).*/\1/p"; }
declare -A EVENTS CAPBYTES LABEL
# record NAME LABEL PROGRAM ARGS...: the full capture $WORK/NAME.rcap.
record() {
    local name=$1 label=$2 cap=$WORK/$1.rcap json; shift 2
    log "recording $label"
    run_logged "$RECYCLE" run -o "$cap" -- "$@" >/dev/null 2>"$WORK/$name.run.err" ||
        die "recording $label failed (see $(rel "$WORK/$name.run.err"))"
    json=$("$RECYCLE" report "$cap" --json --top 1 2>/dev/null)
    EVENTS[$name]=$(( $(json_total allocations <<<"$json") + $(json_total frees <<<"$json") ))
    CAPBYTES[$name]=$(stat -c %s "$cap")
    LABEL[$name]=$label
}

# measure NAME REPS: each output of NAME's capture REPS times, the outputs'
# order rotated each time (as run.sh interleaves its tools).
measure() {
    local name=$1 reps=$2 cap=$WORK/$1.rcap n=${#OUTPUTS[@]} r k o dst t0 t1 status bytes rss usr sys
    for ((r = 1; r <= reps; r++)); do
        for ((k = 0; k < n; k++)); do
            o=${OUTPUTS[$(((k + r - 1) % n))]}
            dst=$WORK/$name.$(out_ext "$o")
            rm -f "$dst"
            out_cmd "$o" "$cap" "$dst"
            t0=$(date +%s.%N)
            set +e
            /usr/bin/time -f '%M %U %S' -o "$WORK/time.txt" "${CMD[@]}" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt"
            status=$?
            set -e
            t1=$(date +%s.%N)
            [[ $o == report ]] && mv "$WORK/stdout.txt" "$dst"
            ((status == 0)) || warn "$o of $name exited $status: $(head -c 300 "$WORK/stderr.txt")"
            bytes=$(stat -c %s "$dst" 2>/dev/null || echo 0)
            read -r rss usr sys < <(tail -n1 "$WORK/time.txt")
            echo "$name $o $r $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}') $rss $bytes $status $(awk -v u="$usr" -v s="$sys" 'BEGIN{printf "%.2f", u + s}')" >>"$PRES"
            log "$name $o rep $r/$reps: $(tail -n1 "$PRES" | cut -d' ' -f4)s (cpu $(tail -n1 "$PRES" | cut -d' ' -f8)s) $(tail -n1 "$PRES" | cut -d' ' -f5) KiB"
            [[ $o == sqlite ]] && rm -f "$dst"   # hundreds of MB: its size is recorded
        done
    done
    rm -f "$WORK/stdout.txt"
}

# pmed NAME OUTPUT COLUMN: the median of a column of results.txt.
pmed() { awk -v n="$1" -v o="$2" -v c="$3" '$1 == n && $2 == o { print $c }' "$PRES" | sort -g |
         awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
pmin() { awk -v n="$1" -v o="$2" -v c="$3" '$1 == n && $2 == o { print $c }' "$PRES" | sort -g | head -n1; }
pmax() { awk -v n="$1" -v o="$2" -v c="$3" '$1 == n && $2 == o { print $c }' "$PRES" | sort -g | tail -n1; }
pfail() { awk -v n="$1" -v o="$2" '$1 == n && $2 == o && $7 != 0 { f = 1 } END { print f ? 1 : 0 }' "$PRES"; }

CAPTURES=(bt churn)
record bt "binary-trees depth $PIC_BT_DEPTH" "$BIN/binarytrees_malloc" "$PIC_BT_DEPTH"
record churn "churn_mt $PIC_CHURN_THREADS x $PIC_CHURN_STEPS" "$BIN/churn_mt" "$PIC_CHURN_THREADS" "$PIC_CHURN_STEPS"
record sites "many_sites $PIC_SITES_ITER x depth $PIC_SITES_DEPTH" "$BIN/many_sites" "$PIC_SITES_ITER" "$PIC_SITES_DEPTH"
measure bt "$REPEATS"
measure churn "$REPEATS"
measure sites "$REPEATS"
CMDLOG+=("$(rel "$RECYCLE") report|flamegraph --kind allocated|plot|html|export --format collapsed|speedscope|massif|pprof|sqlite CAPTURE.rcap [-o OUT]   # each timed, $REPEATS runs, order rotated")
rm -f "$WORK/bt.rcap" "$WORK/churn.rcap"
if ((PIC_GROWTH > 1)); then
    CAPTURES+=(growth)
    record growth "churn_mt $PIC_CHURN_THREADS x $((PIC_CHURN_STEPS * PIC_GROWTH))" \
        "$BIN/churn_mt" "$PIC_CHURN_THREADS" "$((PIC_CHURN_STEPS * PIC_GROWTH))"
    measure growth 1
    CMDLOG+=("   # the same outputs once on churn_mt $PIC_CHURN_THREADS x $((PIC_CHURN_STEPS * PIC_GROWTH)), for the growth of the memory")
    rm -f "$WORK/growth.rcap"
fi

# ---- the section ----------------------------------------------------------------
verdict() { if [[ $1 == 1 ]]; then echo "**PASS**"; else echo "**MISS**"; fi; }
per10m() { awk -v t="$1" -v e="$2" 'BEGIN { printf "%.2f", (e > 0) ? t * 1e7 / e : 0 }'; }
human() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MB", b / 1048576; else if (b >= 1024) printf "%.0f KB", b / 1024; else printf "%d B", b }'; }
FRAG=${PIC_FRAGMENT:-$WORK/section.md}
MISSES=()
{
    echo "## Pictures and exports of large captures"
    echo
    echo "Written by \`bash bench/profile/pictures.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $GIT_REV, recycle: $BUILD_HOW; REPEATS=$REPEATS)."
    echo "Machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME") (shared and noisy: single runs vary by a third)."
    echo
    echo "Each output of a full capture, written to a file (\`-o\`; the report to stdout redirected to one). Time is the wall-clock median of $REPEATS runs (the outputs' order rotated from run to run; min and max beside it), CPU the median of the process's user + system time (what the wall time would be on an idle core: the command is one thread), memory the median of GNU time's maximum resident set. **Target: under $TARGET_S s for a capture of 10 million events** (allocations + frees), judged on the median, scaled to 10M events for a longer capture (\"s per 10M\"; a shorter one must take under $TARGET_S s itself); the report is the reference the memory is compared with."
    echo
    echo "| capture | events | capture bytes |"
    echo "|---|---|---|"
    for c in "${CAPTURES[@]}" sites; do
        echo "| ${LABEL[$c]} | ${EVENTS[$c]} | ${CAPBYTES[$c]} |"
    done
    for c in bt churn; do
        echo
        echo "**${LABEL[$c]}** (${EVENTS[$c]} events):"
        echo
        echo "| output | median s | min - max s | CPU s | s per 10M | CPU s per 10M | peak RSS KiB | RSS / report's | output bytes | < $TARGET_S s per 10M events |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        rrss=$(pmed "$c" report 5)
        for o in "${OUTPUTS[@]}"; do
            t=$(pmed "$c" "$o" 4)
            [[ -n $t ]] || continue
            s=$(per10m "$t" "${EVENTS[$c]}")
            ok=$(awk -v t="$t" -v e="${EVENTS[$c]}" -v l="$TARGET_S" 'BEGIN { print ((t < l * (e > 1e7 ? e / 1e7 : 1)) ? 1 : 0) }')
            [[ $(pfail "$c" "$o") == 1 ]] && ok=0
            [[ $ok == 1 ]] || MISSES+=("$o on ${LABEL[$c]}: $t s")
            v=$(verdict "$ok"); [[ $(pfail "$c" "$o") == 1 ]] && v="**MISS** (failed)"
            echo "| $o | $t | $(pmin "$c" "$o" 4) - $(pmax "$c" "$o" 4) | $(pmed "$c" "$o" 8) | $s | $(per10m "$(pmed "$c" "$o" 8)" "${EVENTS[$c]}") | $(pmed "$c" "$o" 5) | $(awk -v a="$(pmed "$c" "$o" 5)" -v b="$rrss" 'BEGIN{printf "%.2f", a / b}') | $(pmed "$c" "$o" 6) | $v |"
        done
    done
    if [[ " ${CAPTURES[*]} " == *" growth "* ]]; then
        echo
        echo "**Memory as the capture grows**: each output once on churn_mt with $PIC_GROWTH times the steps (${EVENTS[growth]} events, ${CAPBYTES[growth]} bytes; the program's live set is the same, so a bounded output's memory should not grow), against the ${EVENTS[churn]}-event capture above. Bounded as the report's: grows by no more than the report's factor + 20 %."
        echo
        echo "| output | peak RSS KiB, ${EVENTS[churn]} events | peak RSS KiB, ${EVENTS[growth]} events | growth | the report's growth | time s | s per 10M | bounded |"
        echo "|---|---|---|---|---|---|---|---|"
        rg=$(awk -v a="$(pmed growth report 5)" -v b="$(pmed churn report 5)" 'BEGIN{printf "%.2f", a / b}')
        for o in "${OUTPUTS[@]}"; do
            a=$(pmed churn "$o" 5); b=$(pmed growth "$o" 5)
            [[ -n $a && -n $b ]] || continue
            g=$(awk -v a="$b" -v b="$a" 'BEGIN{printf "%.2f", a / b}')
            ok=$(awk -v g="$g" -v r="$rg" 'BEGIN { print ((g <= r * 1.2) ? 1 : 0) }')
            [[ $ok == 1 ]] || MISSES+=("$o memory grows: x$g from churn to growth")
            echo "| $o | $a | $b | ${g}x | ${rg}x | $(pmed growth "$o" 4) | $(per10m "$(pmed growth "$o" 4)" "${EVENTS[growth]}") | $(verdict "$ok") |"
        done
    fi
    echo
    echo "**Page sizes** (at most $PAGE_LIMIT_MB MB whatever the capture). many_sites: 4096 functions, each allocating from its own site and calling one picked at random, $PIC_SITES_DEPTH deep, $PIC_SITES_ITER times (${EVENTS[sites]} events, nearly every allocation a distinct stack of $((PIC_SITES_DEPTH + 1)) frames of the program); binary-trees has a million distinct stacks (the return addresses of each path down the tree) from one site."
    echo
    echo "| capture | html page | flame graph page | plot svg | html s | flame s | html peak RSS KiB | pages < $PAGE_LIMIT_MB MB |"
    echo "|---|---|---|---|---|---|---|---|"
    for c in sites bt churn; do
        h=$(pmed "$c" html 6); f=$(pmed "$c" flamegraph 6); p=$(pmed "$c" plot 6)
        ok=$(awk -v h="$h" -v f="$f" -v p="$p" -v l="$PAGE_LIMIT_MB" 'BEGIN { m = l * 1048576; print ((h < m && f < m && p < m) ? 1 : 0) }')
        [[ $ok == 1 ]] || MISSES+=("pages of ${LABEL[$c]}: html $h bytes")
        echo "| ${LABEL[$c]} | $h ($(human "$h")) | $f ($(human "$f")) | $p ($(human "$p")) | $(pmed "$c" html 4) | $(pmed "$c" flamegraph 4) | $(pmed "$c" html 5) | $(verdict "$ok") |"
    done
    echo
    echo "The other outputs of many_sites (not bounded by design: one line or sample per distinct stack), median of $REPEATS:"
    echo
    echo "| output | median s | CPU s | peak RSS KiB | output bytes |"
    echo "|---|---|---|---|---|"
    for o in "${OUTPUTS[@]}"; do
        echo "| $o | $(pmed sites "$o" 4) | $(pmed sites "$o" 8) | $(pmed sites "$o" 5) | $(pmed sites "$o" 6) |"
    done
    echo
    echo "Commands:"
    echo
    echo '```'; printf '%s\n' "${CMDLOG[@]}"; echo '```'
    if [[ -f $HERE/pictures-analysis.md ]]; then echo; cat "$HERE/pictures-analysis.md"; fi
} >"$FRAG"
if ((${#MISSES[@]})); then warn "missed: $(printf '%s; ' "${MISSES[@]}")"; fi

# Alone: the section replaces its namesake in OUT (or goes before
# "## Commands", or at the end).
if [[ -z ${PIC_FRAGMENT:-} ]]; then
    [[ -f $OUT ]] || printf '# Profiler benchmarks\n' >"$OUT"
    awk -v frag="$FRAG" '
        function put() { while ((getline l < frag) > 0) print l; print ""; done = 1 }
        /^## Pictures and exports of large captures/ { if (!done) put(); skip = 1; next }
        skip && /^## / { skip = 0 }
        skip { next }
        /^## Commands/ && !done { put() }
        { print }
        END { if (!done) { print ""; put() } }' "$OUT" >"$OUT.tmp"
    mv "$OUT.tmp" "$OUT"
    log "wrote its section into $(rel "$OUT")"
else
    log "wrote $(rel "$FRAG")"
fi
