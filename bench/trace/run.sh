#!/usr/bin/env bash
# bench/trace/run.sh - the trace layer's benchmarks: binary-trees on
# rc_malloc/rc_free untraced and traced with 1 and 25 frames, built -O2
# without frame pointers (Debian's default) and with -fno-omit-frame-pointer,
# next to CPython's tracemalloc on bench/trace/binarytrees.py in the same run;
# the per-capture cost of each stack-capture method (capture.c); memory per
# live trace and statistics over ~1M traces. Writes docs/BENCHMARKS-trace.md.
#
# Environment (all optional):
#   REPEATS=5  BT_DEPTH=16  MEM_DEPTH=19 (2^20-1 live traces)
#   BENCH_QUICK=1   REPEATS=1, depth 12, mem depth 14; report in the build dir
#   PYTHON=/path/python3   BENCH_NO_INSTALL=1   RC_LIB=path/librecycle.a
#   BENCH_BUILD_DIR=build-bench-trace   BENCH_OUT=docs/BENCHMARKS-trace.md
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-trace    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die
CMDLOG=()
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
run_logged() { local s="" a; for a in "$@"; do s+="$(rel "$a") "; done; CMDLOG+=("${s% }"); "$@"; }

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then REPEATS=${REPEATS:-1}; BT_DEPTH=${BT_DEPTH:-12}; MEM_DEPTH=${MEM_DEPTH:-14}
else REPEATS=${REPEATS:-5}; BT_DEPTH=${BT_DEPTH:-16}; MEM_DEPTH=${MEM_DEPTH:-19}; fi
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-trace}; [[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
if [[ $QUICK == 1 ]]; then OUT=${BENCH_OUT:-$BUILD/BENCHMARKS-trace-quick.md}
else OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS-trace.md}; fi
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CC=${CC:-gcc}
BIN=$BUILD/bench-trace; mkdir -p "$BIN"
RES=$BIN/results.txt; : >"$RES"   # rep impl time_s

bench_install_deps gcc cmake make python3 libdw-dev libunwind-dev   # libunwind: capture.c only
bench_find_python
PY_VERSION=$("$PY" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0])')
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
bench_build_lib "$ROOT" "$BUILD"
# the symbolizer's libdw comes through recycle.pc's Requires.private
read -r -a DW_LIBS <<<"$(pkg-config --libs libdw 2>/dev/null || echo -ldw)"
EXTRA_LIBS+=("${DW_LIBS[@]}")

# -O2 without frame pointers is both GCC's default and Debian's; -fno-omit-frame-pointer the other build.
for v in nofp fp; do
    extra=(); [[ $v == fp ]] && extra=(-fno-omit-frame-pointer)
    run_logged "$CC" -O2 -g "${extra[@]}" -std=c11 -Wall -Wextra -pthread -DRC_STATIC_DEFINE -I"$ROOT/include" \
        "$HERE/binarytrees.c" "$LIB" -o "$BIN/binarytrees-$v" -lm -ldl "${EXTRA_LIBS[@]}" >&2 || die "compiling binarytrees.c failed"
done
HAVE_UNW=0
pkg-config --exists libunwind 2>/dev/null && HAVE_UNW=1
for v in nofp fp; do
    extra=(); [[ $v == fp ]] && extra=(-fno-omit-frame-pointer)
    if [[ $HAVE_UNW == 1 ]]; then
        run_logged "$CC" -O2 -g "${extra[@]}" -DRC_BUILD_CORE -I"$ROOT/src" -I"$ROOT/include" "$HERE/capture.c" \
            "$ROOT/src/trace/stack.c" "$ROOT/src/heap/os/os.c" -o "$BIN/capture-unw-$v" -lunwind >&2 || die "compiling capture.c failed"
    fi
    # libgcc's unwinder must not be interposed by libunwind's _Unwind_Backtrace: a binary without -lunwind
    run_logged "$CC" -O2 -g "${extra[@]}" -DCAPTURE_NO_LIBUNWIND -DRC_BUILD_CORE -I"$ROOT/src" -I"$ROOT/include" \
        "$HERE/capture.c" "$ROOT/src/trace/stack.c" "$ROOT/src/heap/os/os.c" -o "$BIN/capture-$v" >&2 || die "compiling capture.c failed"
done

IMPLS=(c-nofp-0 c-nofp-1 c-nofp-25 c-fp-0 c-fp-1 c-fp-25 py-0 py-1 py-25)
cmd_for() { local i=$1 f=${1##*-}
    case $i in c-*) local v=${i#c-}; v=${v%-*}; echo "$BIN/binarytrees-$v time $f $BT_DEPTH" ;;
               py-*) echo "$PY $HERE/binarytrees.py time $f $BT_DEPTH" ;; esac; }
for ((r = 1; r <= REPEATS; r++)); do
    n=${#IMPLS[@]}
    for ((k = 0; k < n; k++)); do
        i=${IMPLS[$(((k + r - 1) % n))]}
        read -r -a cmd <<<"$(cmd_for "$i")"
        t=$("${cmd[@]}" | sed -n 's/^@ .*time_s=\([0-9.]*\).*/\1/p')
        [[ -n $t ]] || die "run failed: $i"
        echo "$r $i $t" >>"$RES"; log "rep $r/$REPEATS $i: ${t}s"
    done
done

CAP=$BIN/capture.txt; : >"$CAP"
for v in nofp fp; do
    for m in libgcc glibc fp recycle recycle-plain unw unw-thread; do
        exe=$BIN/capture-$v
        if [[ $m == unw* ]]; then [[ $HAVE_UNW == 1 ]] || continue; exe=$BIN/capture-unw-$v; fi
        for f in 1 25; do
            best=""
            for ((r = 0; r < 3; r++)); do
                ns=$("$exe" "$m" "$f" 30 100000 | sed -n 's/^@ .*ns=\([0-9.]*\).*/\1/p')
                [[ -z $best ]] || awk -v a="$ns" -v b="$best" 'BEGIN{exit !(a<b)}' && best=$ns
            done
            note=$("$exe" "$m" "$f" 30 10 | grep -v '^@\|^method=' | head -1 || true)
            echo "$v $m $f $best ${note:+($note)}" >>"$CAP"
        done
    done
done
MEMC=$("$BIN/binarytrees-nofp" mem 1 "$MEM_DEPTH" | grep '^@'); MEMC25=$("$BIN/binarytrees-nofp" mem 25 "$MEM_DEPTH" | grep '^@')
MEMP=$("$PY" "$HERE/binarytrees.py" mem 1 "$MEM_DEPTH" | grep '^@'); MEMP25=$("$PY" "$HERE/binarytrees.py" mem 25 "$MEM_DEPTH" | grep '^@')

med() { awk -v i="$1" '$2 == i { print $3 }' "$RES" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
{
    echo "# Trace benchmarks"
    echo
    echo "Written by \`bash bench/trace/run.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $GIT_REV; REPEATS=$REPEATS, depth $BT_DEPTH)."
    echo "Machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(. /etc/os-release; echo "$PRETTY_NAME"), $($CC --version | head -1), $PY_VERSION. Library: $LIB_HOW."
    echo
    echo "## binary-trees (depth $BT_DEPTH): time relative to untraced, medians of $REPEATS interleaved runs"
    echo
    echo "| program | untraced s | 1 frame s | 25 frames s | 1 frame ratio | 25 frames ratio |"
    echo "|---|---|---|---|---|---|"
    for p in c-nofp c-fp py; do
        a=$(med "$p-0"); b=$(med "$p-1"); c=$(med "$p-25")
        case $p in c-nofp) name="C, -O2 (no frame pointers)";; c-fp) name="C, -O2 -fno-omit-frame-pointer";; py) name="CPython tracemalloc";; esac
        echo "| $name | $a | $b | $c | $(ratio "$b" "$a")x | $(ratio "$c" "$a")x |"
    done
    PY1=$(ratio "$(med py-1)" "$(med py-0)")
    echo
    for p in c-nofp c-fp; do
        r25=$(ratio "$(med "$p-25")" "$(med "$p-0")")
        awk -v r="$r25" -v b="$PY1" -v p="$p" 'BEGIN {
            printf "- %s bar (25 frames %.2fx < tracemalloc 1 frame %.2fx): %s\n", p, r, b, (r < b ? "PASS" : "MISS");
            printf "- %s aim (25 frames %.2fx <= 1.5x): %s\n", p, r, (r <= 1.5 ? "PASS" : "MISS") }'
    done
    echo
    echo "## Stack capture: ns per capture, 30 frames deep (best of 3 runs of 100 000 captures)"
    echo
    echo "| build | method | 1 frame | 25 frames |"
    echo "|---|---|---|---|"
    awk '{ k = $1 " " $2; if (!(k in seen)) { order[++n] = k; seen[k] = 1 } v[k, $3] = $4; if ($5 != "") note[k] = note[k] " " substr($0, index($0, "(")) }
         END { for (i = 1; i <= n; i++) { split(order[i], a, " "); printf "| %s | %s | %s | %s |%s\n", a[1], a[2], v[order[i], 1], v[order[i], 25], note[order[i]] } }' "$CAP"
    echo
    echo "## Memory per live trace and statistics over $(field traces "$MEMC") traces"
    echo
    echo "One live tree: every node is a trace; with 25 frames every trace has a traceback of its own (a distinct path in the tree), with 1 frame they all share one."
    echo
    echo "| | frames | bytes per trace | snapshot s | statistics filename / lineno / traceback s (first call) |"
    echo "|---|---|---|---|---|"
    for who in C Py; do
        for f in 1 25; do
            if [[ $who == C ]]; then name=recycle; m=$MEMC; [[ $f == 25 ]] && m=$MEMC25
            else name=tracemalloc; m=$MEMP; [[ $f == 25 ]] && m=$MEMP25; fi
            st=$(grep 'pass=cold' <<<"$m" | sed -n 's/.*stats_s=\([0-9.]*\).*/\1/p' | paste -sd/ -)
            echo "| $name | $f | $(field bytes_per_trace "$m") | $(field snapshot_s "$m") | $st |"
        done
    done
    echo
    echo "## Commands"
    echo
    echo '```'; printf '%s\n' "${CMDLOG[@]}"; echo '```'
    echo
    cat "$HERE/analysis.md"
} >"$OUT"
log "wrote $(rel "$OUT")"
