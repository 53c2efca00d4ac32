#!/usr/bin/env bash
# bench/heap/run.sh - heap benchmarks: the recycle heap (rc_malloc/rc_free
# from the repo's librecycle.a) against glibc malloc, mimalloc, jemalloc and
# tcmalloc on three workloads (bench/README.md); writes docs/BENCHMARKS.md.
#
# Installs missing Debian packages, builds librecycle.a (CMake, Release) in
# build-bench-heap/, compiles bench/heap/heap_churn.c once per allocator,
# runs every scenario for every allocator REPEATS times (allocators
# interleaved round-robin, the order rotated each repetition), takes medians
# and writes a Markdown report with bench/heap/analysis.md appended.
#
# Environment (all optional):
#   BENCH_QUICK=1        smoke run: 2M ops, 1 repetition, report written to
#                        build-bench-heap/BENCHMARKS-quick.md unless BENCH_OUT is set
#   REPEATS=5            repetitions per (scenario, allocator)
#   BENCH_OPS=20000000   churn operations per thread
#   BENCH_PC_OPS=$BENCH_OPS  blocks passed producer -> consumer
#   BENCH_SLOTS=100000   live blocks per churn working set
#   BENCH_THREADS=2      threads in the "threads" scenario
#   BENCH_MIN=8 BENCH_MAX=512 BENCH_SEED=42 BENCH_BATCH=256 BENCH_RING=64
#   BENCH_ALLOCATORS="recycle glibc mimalloc jemalloc tcmalloc"
#   BENCH_SCENARIOS="churn threads prodcons floor"
#   BENCH_BUILD_DIR=build-bench-heap   BENCH_OUT=docs/BENCHMARKS.md
#   BENCH_NO_INSTALL=1   never call apt-get
#   BENCH_REPORT_ONLY=1  run nothing: rewrite the report from the last run's
#                        results (build-bench-heap/bench-heap/results.txt, run-meta.sh)
#   RC_LIB=path/to/librecycle.a   use this library, build nothing
#   BENCH_RC_BASE_LIB=path/to/librecycle.a   also run this other build of the
#                        library as allocator "recycle-base" (before/after a
#                        change: build the old commit's librecycle.a first)
#   BENCH_RC_LIBS="-lfoo"         extra libraries for linking librecycle.a
#                        (besides its pkg-config Libs.private)
#   CC=gcc BENCH_CFLAGS="-O2 -g"
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then def_ops=2000000; def_rep=1; else def_ops=20000000; def_rep=5; fi
OPS=${BENCH_OPS:-$def_ops}
PC_OPS=${BENCH_PC_OPS:-$OPS}
REPEATS=${REPEATS:-$def_rep}
SLOTS=${BENCH_SLOTS:-100000}
THREADS=${BENCH_THREADS:-2}
MIN=${BENCH_MIN:-8}
MAX=${BENCH_MAX:-512}
SEED=${BENCH_SEED:-42}
BATCH=${BENCH_BATCH:-256}
RING=${BENCH_RING:-64}
read -r -a ALLOCS <<<"${BENCH_ALLOCATORS:-recycle glibc mimalloc jemalloc tcmalloc}"
RC_BASE_LIB=${BENCH_RC_BASE_LIB:-}
if [[ -n $RC_BASE_LIB && " ${ALLOCS[*]} " != *" recycle-base "* ]]; then ALLOCS+=(recycle-base); fi
read -r -a SCENARIOS <<<"${BENCH_SCENARIOS:-churn threads prodcons floor}"
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench-heap}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
CC=${CC:-gcc}
read -r -a CFLAGS <<<"${BENCH_CFLAGS:--O2 -g}"
CFLAGS+=(-std=c11 -Wall -Wextra -pthread)
# A quick run keeps its results apart, so that it never replaces the last
# full run that BENCH_REPORT_ONLY=1 reports again.
if [[ $QUICK == 1 ]]; then BIN=$BUILD/bench-heap-quick; else BIN=$BUILD/bench-heap; fi
mkdir -p "$BIN"
RESULTS=$BIN/results.txt
META=$BIN/run-meta.sh
REPORT_ONLY=${BENCH_REPORT_ONLY:-0}
if [[ $REPORT_ONLY == 1 ]]; then
    # Rewrite the report from the last run's results without running again.
    [[ -s $RESULTS && -f $META ]] || { echo "[bench] error: no earlier run in $BIN" >&2; exit 1; }
    # shellcheck disable=SC1090
    source "$META"
fi
if [[ $QUICK == 1 ]]; then OUT=${BENCH_OUT:-$BUILD/BENCHMARKS-quick.md}
else OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS.md}; fi
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
CMDLOG=()            # commands worth printing in the report
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }
run_logged() {       # run a command and remember it (paths relative to the repo)
    local shown="" a
    for a in "$@"; do shown+="$(rel "$a") "; done
    CMDLOG+=("${shown% }")
    "$@"
}

START_TS=$(date +%s)
[[ $REPORT_ONLY == 1 ]] || LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------
bench_install_deps gcc cmake make libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev

# ---------------------------------------------------------------------------
# 2. librecycle.a
# ---------------------------------------------------------------------------
LIB=""
LIB_HOW="not built"
EXTRA_LIBS=()
if [[ " ${ALLOCS[*]} " == *" recycle "* ]]; then
    bench_build_lib "$ROOT" "$BUILD"
fi

# ---------------------------------------------------------------------------
# 3. Bench binaries, one per allocator, and a check that each uses its own
# ---------------------------------------------------------------------------
SRC=$HERE/heap_churn.c
compile_bench() {  # alloc -> binary path on stdout, or fail
    local a=$1 out=$BIN/heap_churn_$1
    case $a in
    recycle) [[ -n $LIB ]] || return 1
             # shellcheck disable=SC2086
             run_logged "$CC" "${CFLAGS[@]}" -DBENCH_ALLOC_RC -DRC_STATIC_DEFINE \
                 -I"$ROOT/include" "$SRC" "$LIB" -o "$out" -lm -ldl "${EXTRA_LIBS[@]}" ${BENCH_RC_LIBS:-} >&2 ;;
    recycle-base) [[ -n $RC_BASE_LIB && -f $RC_BASE_LIB ]] || return 1
             # shellcheck disable=SC2086
             run_logged "$CC" "${CFLAGS[@]}" -DBENCH_ALLOC_RC -DRC_STATIC_DEFINE \
                 "-DBENCH_ALLOC_NAME=\"recycle-base\"" -I"$ROOT/include" "$SRC" "$RC_BASE_LIB" \
                 -o "$out" -lm -ldl "${EXTRA_LIBS[@]}" ${BENCH_RC_LIBS:-} >&2 ;;
    glibc)    run_logged "$CC" "${CFLAGS[@]}" -DBENCH_ALLOC_LIBC "$SRC" -o "$out" -ldl >&2 ;;
    mimalloc) run_logged "$CC" "${CFLAGS[@]}" -DBENCH_ALLOC_MI "$SRC" -o "$out" -lmimalloc -ldl >&2 ;;
    jemalloc) run_logged "$CC" "${CFLAGS[@]}" -DBENCH_ALLOC_JE "$SRC" -o "$out" \
                 -Wl,--no-as-needed -ljemalloc -Wl,--as-needed -ldl >&2 ;;
    tcmalloc) run_logged "$CC" "${CFLAGS[@]}" -DBENCH_ALLOC_TC "$SRC" -o "$out" \
                 -Wl,--no-as-needed -ltcmalloc_minimal -Wl,--as-needed -ldl >&2 ;;
    *) die "unknown allocator '$a' (recycle recycle-base glibc mimalloc jemalloc tcmalloc)" ;;
    esac || return 1   # (errexit does not apply inside the caller's if)
    echo "$out"
}

declare -A BINOF CHECK LDD
ACTIVE=()
SKIPPED=()
for a in "${ALLOCS[@]}"; do
    if ! b=$(compile_bench "$a"); then
        warn "$a: could not build its bench binary: left out"; SKIPPED+=("$a (build failed)"); continue
    fi
    if ! c=$("$b" check); then
        warn "$a: allocator not verified: $c"; SKIPPED+=("$a (not verified: $c)"); continue
    fi
    BINOF[$a]=$b
    CHECK[$a]=$c
    LDD[$a]=$(ldd "$b" | awk '/malloc|libc\.so/ {print $1}' | paste -sd' ' -)
    ACTIVE+=("$a")
    log "$c"
done
((${#ACTIVE[@]})) || die "no allocator could be built and verified"

# ---------------------------------------------------------------------------
# 4. Runs
# ---------------------------------------------------------------------------
scen_args() {
    local common="--slots $SLOTS --min $MIN --max $MAX --seed $SEED"
    case $1 in
    churn)    echo "churn --ops $OPS $common" ;;
    threads)  echo "churn --threads $THREADS --ops $OPS $common" ;;
    prodcons) echo "prodcons --ops $PC_OPS --min $MIN --max $MAX --seed $SEED --batch $BATCH --ring $RING" ;;
    floor)    echo "floor --ops $OPS $common" ;;
    *) die "unknown scenario '$1' (churn threads prodcons floor)" ;;
    esac
}

n=${#ACTIVE[@]}
if [[ $REPORT_ONLY != 1 ]]; then
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit yet")
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- src include 2>/dev/null | wc -l)
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
: >"$RESULTS"
log "running ${SCENARIOS[*]} x ${ACTIVE[*]} x $REPEATS repetitions (ops=$OPS)"
for ((r = 1; r <= REPEATS; r++)); do
    for s in "${SCENARIOS[@]}"; do
        read -r -a args <<<"$(scen_args "$s")"
        for ((k = 0; k < n; k++)); do
            a=${ACTIVE[$(((k + r - 1) % n))]}
            if ! line=$("${BINOF[$a]}" "${args[@]}"); then
                warn "run failed: $a $s (rep $r)"; continue
            fi
            echo "rep=$r bench=$s $line" >>"$RESULTS"
            log "rep $r/$REPEATS $s $a: $(sed -n 's/.*\(time_s=[^ ]*\).*\(peak_rss_kb=[^ ]*\).*/\1 \2/p' <<<"$line")"
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START_TS))
declare -p LOAD_BEFORE LOAD_AFTER ELAPSED RUN_DATE GIT_REV GIT_DIRTY LIB_HOW QUICK OPS PC_OPS \
    REPEATS SLOTS THREADS MIN MAX SEED BATCH RING SCENARIOS | sed 's/^declare -[a-z-]* //; s/^/declare -g /' >"$META"
else
    log "BENCH_REPORT_ONLY=1: reporting the run of $RUN_DATE again"
fi

# ---------------------------------------------------------------------------
# 5. Statistics: one line per (bench, alloc):
#    bench alloc n median_time min_time max_time median_ops_per_s median_rss_kb ops checksums
# ---------------------------------------------------------------------------
STATS=$BIN/stats.txt
awk '
    function isort(a, n,    i, j, x) {
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    }
    function med(a, n) { return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function flush(   nn) {
        if (!n) return
        isort(t, n); isort(o, n); isort(m, n)
        print key, n, med(t, n), t[1], t[n], med(o, n), med(m, n), ops, sum
    }
    {
        b = a = ""
        for (i = 1; i <= NF; i++) {
            eq = index($i, "="); k = substr($i, 1, eq - 1); v = substr($i, eq + 1)
            if (k == "bench") b = v; else if (k == "alloc") a = v
            else if (k == "time_s") ts = v + 0; else if (k == "ops_per_s") os = v + 0
            else if (k == "peak_rss_kb") rs = v + 0; else if (k == "ops") op = v
            else if (k == "checksum") cs = v
        }
        if (b " " a != key) { flush(); key = b " " a; n = 0; sum = cs }
        n++; t[n] = ts; o[n] = os; m[n] = rs; ops = op
        if (cs != sum) sum = "MIXED"
    }
    END { flush() }' < <(awk '{ b = $2; sub(/^bench=/, "", b); a = $4; sub(/^alloc=/, "", a); print b, a, $0 }' "$RESULTS" | sort -s -k1,1 -k2,2 | cut -d' ' -f3-) >"$STATS"
# STATS columns: 1 bench 2 alloc 3 n 4 median_s 5 min_s 6 max_s 7 ops_per_s 8 rss_kb 9 ops 10 checksum

st() { awk -v b="$1" -v a="$2" -v c="$3" '$1 == b && $2 == a { print $c }' "$STATS"; }

# ---------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
fmt() { awk -v x="$1" -v f="$2" 'BEGIN { printf f, x }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x > 0 && y > 0) printf "%.2f", x / y; else printf "n/a" }'; }
have() { [[ -n $(st "$1" "$2" 4) ]]; }

TMP_OUT=$(mktemp)
{
    echo "# Heap benchmarks"
    echo
    echo "Generated by \`bench/heap/run.sh\` on $RUN_DATE in ${ELAPSED}s."
    [[ $QUICK == 1 ]] && echo "**Quick smoke run (BENCH_QUICK=1): figures are indicative only.**"
    echo "What each scenario measures: [bench/README.md](../bench/README.md)."
    echo "Reproduce with \`make bench-heap\` or \`bash bench/heap/run.sh\` (REPEATS, BENCH_OPS,"
    echo "BENCH_QUICK=1, ... in the environment; see the head of bench/heap/run.sh)."
    echo
    echo "This page is the heap's. The object layer's benchmarks (binary-trees, dict,"
    echo "list, array against glibc and CPython) are in [BENCHMARKS-objects.md](BENCHMARKS-objects.md)"
    echo "and the cycle collector's (against CPython and Boehm GC) in"
    echo "[BENCHMARKS-gc.md](BENCHMARKS-gc.md); tracing's (binary-trees traced, against CPython's"
    echo "tracemalloc) in [BENCHMARKS-trace.md](BENCHMARKS-trace.md), the profiler's (recycle run against"
    echo "heaptrack and massif) in [BENCHMARKS-profile.md](BENCHMARKS-profile.md); \`make bench\` runs them all."
    # The targets of all three reports side by side, as those reports last
    # judged them (a report that does not exist yet is skipped).
    for other in BENCHMARKS-objects.md BENCHMARKS-gc.md BENCHMARKS-trace.md; do
        [[ -f $ROOT/docs/$other ]] || continue
        echo
        echo "Targets in [$other]($other) (from its last run):"
        echo
        grep -E '\*\*(PASS|MISS)\*\*' "$ROOT/docs/$other" | grep -E '^\| [0-9a-z]' | grep -vE '^\| (pairs|ring) ' \
            | sed -e 's/^| */- /' -e 's/ *|$//' -e 's/ | / ; /g' || true
        grep -E '^- \*\*(PASS|MISS)\*\*' "$ROOT/docs/$other" || true
        grep -E '^- c-(nofp|fp) (bar|aim) ' "$ROOT/docs/$other" || true
    done
    echo
    echo "## Setup"
    echo
    echo "- Workload: $SLOTS live blocks per working set, sizes uniform in [$MIN, $MAX] bytes,"
    echo "  seed $SEED; churn $OPS operations per thread (free + malloc + touch of 8 bytes);"
    echo "  producer/consumer $PC_OPS blocks in batches of $BATCH pointers, ring of $RING batches."
    echo "- $REPEATS repetition(s) per (scenario, allocator), allocators interleaved round-robin"
    echo "  (order rotated each repetition). Times are wall clock (CLOCK_MONOTONIC) of the"
    echo "  whole workload: filling the working set, the operations, freeing everything."
    echo "  Peak RSS is VmHWM of the bench process (harness included: ~1.4 MiB + the slot arrays)."
    echo "- Ratios are median time of the other allocator / median time of recycle:"
    echo "  above 1 means recycle is faster."
    echo "- PASS/MISS is judged on medians; the same ratio on the fastest run of each"
    echo "  (min times) is shown beside it, as it is less sensitive to other load."
    echo "- recycle library: $LIB_HOW; commit $GIT_REV$( ((GIT_DIRTY)) && echo " plus $GIT_DIRTY uncommitted changes in src/ and include/")."
    echo
    echo "### Machine"
    echo
    echo '```'
    echo "uname -a:   $(uname -a)"
    echo "CPU:        $(lscpu | sed -n 's/^Model name: *//p' | head -n1) ($(nproc) CPUs online)"
    echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "compiler:   $("$CC" --version | head -n1)"
    echo "cmake:      $(cmake --version 2>/dev/null | head -n1 || echo none)"
    echo "libc6 $(ver libc6), libmimalloc2.0 $(ver libmimalloc2.0), libjemalloc2 $(ver libjemalloc2), libtcmalloc-minimal4 $(ver libtcmalloc-minimal4)"
    echo "load average before: $LOAD_BEFORE   after: $LOAD_AFTER"
    echo '```'
    worst=$(awk '$1 != "floor" && $5 > 0 { r = $6 / $5; if (r > w) { w = r; k = $1 "/" $2 } }
                 END { if (w) printf "%.2f %s", w, k }' "$STATS")
    if [[ -n $worst ]] && awk -v w="${worst%% *}" 'BEGIN { exit !(w > 1.25) }'; then
        echo
        echo "**Noisy run:** the slowest repetition of a (scenario, allocator) took up to"
        echo "${worst%% *}x the fastest (${worst#* }). The machine has $(nproc) cores shared with other"
        echo "work (see the load averages), so differences under ~10% are not significant"
        echo "here, the two-thread scenarios least of all; rerun on a quiet machine, or with a"
        echo "higher REPEATS, before tuning on them."
    fi
    echo
    echo "### Allocators (each binary checked at start-up)"
    echo
    echo "| allocator | check output | malloc-related shared objects (ldd) |"
    echo "|---|---|---|"
    for a in "${ACTIVE[@]}"; do
        echo "| $a | \`${CHECK[$a]#ALLOC }\` | ${LDD[$a]:-none} |"
    done
    for s in "${SKIPPED[@]}"; do echo "| ${s%% *} | left out: ${s#* } | |"; done
    echo
    echo "### Commands"
    echo
    echo '```sh'
    for c in "${CMDLOG[@]}"; do echo "$c"; done
    for s in "${SCENARIOS[@]}"; do
        echo "$(rel "$BIN")/heap_churn_<allocator> $(scen_args "$s")   # $s"
    done
    echo '```'

    title() {
        case $1 in
        churn)    echo "Small-object churn, 1 thread" ;;
        threads)  echo "Churn, $THREADS threads, independent working sets" ;;
        prodcons) echo "Producer/consumer, cross-thread free" ;;
        floor)    echo "Harness floor (churn loop without malloc/free)" ;;
        esac
    }
    for s in "${SCENARIOS[@]}"; do
        echo
        echo "## $(title "$s")"
        echo
        [[ $s == floor ]] && {
            echo "The churn loop with the allocator calls removed (each operation rewrites the block"
            echo "already in its slot): the harness's own cost, mostly cache misses on random blocks."
            echo "Allocator cost per operation is roughly churn ns/op minus this."
            echo
        }
        echo "| allocator | median s | min s | max s | Mops/s | ns/op | peak RSS MiB | time vs recycle |"
        echo "|---|---:|---:|---:|---:|---:|---:|---|"
        rc_t=$(st "$s" recycle 4)
        for a in "${ACTIVE[@]}"; do
            have "$s" "$a" || continue
            t=$(st "$s" "$a" 4)
            ops=$(st "$s" "$a" 9)
            if [[ $s == floor ]]; then rv="(harness only)"
            elif [[ $a == recycle ]]; then rv="baseline"
            elif [[ -n $rc_t ]]; then rv="$a/recycle = $(ratio "$t" "$rc_t")x"
            else rv="n/a"; fi
            echo "| $a | $(fmt "$t" %.3f) | $(fmt "$(st "$s" "$a" 5)" %.3f) | $(fmt "$(st "$s" "$a" 6)" %.3f) |" \
                 "$(awk -v x="$(st "$s" "$a" 7)" 'BEGIN {printf "%.2f", x / 1e6}') |" \
                 "$(awk -v t="$t" -v o="$ops" 'BEGIN {printf "%.1f", t * 1e9 / o}') |" \
                 "$(awk -v x="$(st "$s" "$a" 8)" 'BEGIN {printf "%.1f", x / 1024}') | $rv |"
        done
        sums=$(awk -v b="$s" '$1 == b {print $10}' "$STATS" | sort -u | wc -l)
        echo
        if [[ $sums == 1 ]]; then echo "Checksums of the freed blocks' contents agree across allocators."
        else echo "**Checksums differ across allocators: a run is broken.**"; fi
        [[ $s == floor ]] && continue
        echo
        if [[ -z $rc_t ]]; then
            echo "Targets: not evaluated (no recycle figures)."
            continue
        fi
        g_t=$(st "$s" glibc 4); m_t=$(st "$s" mimalloc 4)
        rc_m=$(st "$s" recycle 8); g_m=$(st "$s" glibc 8)
        pf() { if awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN { exit !((op == ">=") ? x >= y : x <= y) }'; then echo PASS; else echo MISS; fi; }
        rc_lo=$(st "$s" recycle 5); g_lo=$(st "$s" glibc 5); m_lo=$(st "$s" mimalloc 5)
        if [[ -n $g_t ]]; then
            q=$(ratio "$g_t" "$rc_t"); echo "- $(pf "$q" ">=" 2.0): glibc/recycle = ${q}x (target >= 2.00x; on min times $(ratio "$g_lo" "$rc_lo")x)"
            q=$(ratio "$rc_m" "$g_m"); echo "- $(pf "$rc_m" "<=" "$g_m"): peak RSS recycle $(awk -v x="$rc_m" 'BEGIN{printf "%.1f", x/1024}') MiB vs glibc $(awk -v x="$g_m" 'BEGIN{printf "%.1f", x/1024}') MiB = ${q}x (target <= 1.00x)"
        fi
        if [[ -n $m_t ]]; then
            q=$(ratio "$rc_t" "$m_t"); echo "- $(pf "$q" "<=" 1.25): recycle/mimalloc = ${q}x (target <= 1.25x; on min times $(ratio "$rc_lo" "$m_lo")x)"
        fi
    done

    if [[ " ${SCENARIOS[*]} " == *" churn "* && " ${SCENARIOS[*]} " == *" floor "* ]]; then
        echo
        echo "## Allocator cost alone (churn ns/op minus floor ns/op, same allocator)"
        echo
        echo "| allocator | churn ns/op | floor ns/op | allocator ns/op | vs recycle |"
        echo "|---|---:|---:|---:|---|"
        rc_x=""
        if have churn recycle && have floor recycle; then
            rc_x=$(awk -v c="$(st churn recycle 4)" -v co="$(st churn recycle 9)" \
                       -v f="$(st floor recycle 4)" -v fo="$(st floor recycle 9)" \
                       'BEGIN {printf "%.2f", c * 1e9 / co - f * 1e9 / fo}')
        fi
        for a in "${ACTIVE[@]}"; do
            if ! { have churn "$a" && have floor "$a"; }; then continue; fi
            read -r c f x < <(awk -v c="$(st churn "$a" 4)" -v co="$(st churn "$a" 9)" \
                -v f="$(st floor "$a" 4)" -v fo="$(st floor "$a" 9)" \
                'BEGIN {c = c * 1e9 / co; f = f * 1e9 / fo; printf "%.1f %.1f %.2f\n", c, f, c - f}')
            if [[ $a == recycle ]]; then rv=baseline
            elif [[ -n $rc_x ]]; then rv="$a/recycle = $(ratio "$x" "$rc_x")x"; else rv=n/a; fi
            echo "| $a | $c | $f | $(fmt "$x" %.1f) | $rv |"
        done
    fi

    if [[ -f $HERE/analysis.md ]]; then
        echo
        cat "$HERE/analysis.md"
    fi
    echo
    echo "## Raw results"
    echo
    echo "<details><summary>$(wc -l <"$RESULTS") runs</summary>"
    echo
    echo '```'
    cat "$RESULTS"
    echo '```'
    echo
    echo "</details>"
} >"$TMP_OUT"
mkdir -p "$(dirname "$OUT")"
mv "$TMP_OUT" "$OUT"
chmod 644 "$OUT"
log "report written to $(rel "$OUT") (${ELAPSED}s)"
