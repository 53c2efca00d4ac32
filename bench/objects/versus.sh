#!/usr/bin/env bash
# bench/objects/versus.sh - the object-layer benchmarks run against two
# builds of librecycle.a, a base git revision and the working tree, side by
# side in one run: evidence that a change made no operation slower than the
# noise. Writes the "versus" section of docs/BENCHMARKS-objects.md (between
# its markers, replaced on every run; appended when missing) and prints the
# table on stdout.
#
#   bash bench/objects/versus.sh [BASE]
#
# BASE is any git revision. Default: $VERSUS_BASE; else HEAD when src/ or
# include/ have uncommitted changes (the change under test is the
# uncommitted one); else HEAD~1 (the change under test is the last commit).
#
# The base is checked out in a temporary `git worktree` under /tmp (removed
# at exit, failure and interruption included) and built as a CMake Release
# static library (bench/lib.sh) in $BUILD/bench-versus/base-lib; the working
# tree's library is built in $BUILD, or is RC_LIB when given. Both binaries
# are compiled from one copy of the working tree's containers.c and
# binarytrees.c, so only the library differs: the base binary with the
# base's include/ (its inline functions belong to its library), falling back
# to the working tree's include/ when the programs use something the base's
# headers lack (the report says so).
#
# Workloads, each printing its times on an "@ name=value ..." line:
#   bt       binarytrees recycle BT_DEPTH     time_s
#   dict     containers dict time DICT_N      keys/insert/build/lookup/free_s
#   list     containers list time SEQ_N       append_s, free_s
#   array    containers array time SEQ_N      append_s, free_s
#   dictops  containers dictops time DICTOPS_N  ns per call of ten dict ops
# Every repetition runs every workload once with each library, back to back:
# base first on odd repetitions, current first on even ones, so drift in
# the machine's load and in cache or frequency state falls on both sides.
# The checksum lines (the output without its "@" lines) must agree between
# the sides and the repetitions; any failed run or disagreement ends the
# script without writing.
#
# Verdict per (workload, metric), on the ratios current / base of the
# medians and of the minimums (lower is better for every time):
#   faster  median ratio < 0.95
#   same    median ratio <= 1.05, or minimum ratio <= 1.03 (a noisy shared
#           machine slows single runs, rarely the best of several)
#   SLOWER  otherwise
# The rss_kb figures are shown apart, informative, without a verdict.
#
# Environment (all optional):
#   VERSUS_BASE=rev     the default BASE
#   REPEATS=7           repetitions (per workload and library)
#   BT_DEPTH=17 DICT_N=1000000 SEQ_N=10000000 DICTOPS_N=1000000
#   VERSUS_QUICK=1      smoke run: REPEATS=3, depth 12, 100k keys, 1M appends,
#                       100k dict-op calls (each still overridable)
#   RC_LIB=...          the working tree's library, built elsewhere
#   BENCH_BUILD_DIR=build-bench-objects BENCH_OUT=docs/BENCHMARKS-objects.md
#   CC=gcc BENCH_CFLAGS="-O2 -g" BENCH_NO_INSTALL=1
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-versus    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die

bench_section_paths versus

if [[ ${VERSUS_QUICK:-0} == 1 ]]; then
    REPEATS=${REPEATS:-3}; BT_DEPTH=${BT_DEPTH:-12}; DICT_N=${DICT_N:-100000}
    SEQ_N=${SEQ_N:-1000000}; DICTOPS_N=${DICTOPS_N:-100000}
else
    REPEATS=${REPEATS:-7}; BT_DEPTH=${BT_DEPTH:-17}; DICT_N=${DICT_N:-1000000}
    SEQ_N=${SEQ_N:-10000000}; DICTOPS_N=${DICTOPS_N:-1000000}
fi
for v in REPEATS BT_DEPTH DICT_N SEQ_N DICTOPS_N; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
WORKLOADS=(bt dict list array dictops)

(($# <= 1)) || die "usage: bash bench/objects/versus.sh [BASE]"
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- src include 2>/dev/null | wc -l)
if (($# == 1)); then BASE=$1
elif [[ -n ${VERSUS_BASE:-} ]]; then BASE=$VERSUS_BASE
elif ((GIT_DIRTY)); then BASE=HEAD
else BASE=HEAD~1; fi
BASE_REV=$(git -C "$ROOT" rev-parse --verify --quiet "$BASE^{commit}") ||
    die "'$BASE' is not a git revision"
BASE_SHORT=$(git -C "$ROOT" rev-parse --short "$BASE_REV")
CUR_SHORT=$(git -C "$ROOT" rev-parse --short HEAD)
CUR_DESC=$CUR_SHORT
((GIT_DIRTY == 0)) || CUR_DESC+=" plus $GIT_DIRTY uncommitted changes in src/ include/"

bench_install_deps gcc cmake make git

# The worktree and the scratch files live under one /tmp directory; the
# trap removes both however the script ends.
TMPD=$(mktemp -d /tmp/recycle-versus.XXXXXX)
WT=$TMPD/base
cleanup() {
    if [[ -d $WT ]]; then
        git -C "$ROOT" worktree remove --force "$WT" >&2 || warn "could not remove the worktree $WT"
    fi
    rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START_TS=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "base $BASE ($BASE_SHORT) against the working tree ($CUR_DESC)"
git -C "$ROOT" worktree add --detach --quiet "$WT" "$BASE_REV" >&2 ||
    die "git worktree add of $BASE_SHORT failed"

# One copy of the programs' sources: both binaries are made from the same
# bytes even if someone edits bench/objects/ while this runs.
SRC=$TMPD/src
mkdir -p "$SRC"
cp "$HERE/containers.c" "$HERE/binarytrees.c" "$SRC/"

# compile SIDE INCLUDE_DIR: both programs against $LIB; 0 when both built.
compile() {
    local side=$1 inc=$2 p
    for p in binarytrees containers; do
        "$CC" "${CFLAGS[@]}" -DRC_STATIC_DEFINE -I"$inc" "$SRC/$p.c" "$LIB" \
            -o "$BIN/$side/$p" -lm -ldl "${EXTRA_LIBS[@]}" 2>>"$BIN/$side/compile.log" || return 1
    done
}

# The base library: always built here (RC_LIB names the current one only).
# Its build directory is made afresh since the worktree's path changes on
# every run and CMake's cache remembers the source directory.
rm -rf "$BIN/base-lib" "$BIN/base" "$BIN/current"
mkdir -p "$BIN/base" "$BIN/current"
RC_LIB='' bench_build_lib "$WT" "$BIN/base-lib"
BASE_LIB_HOW="CMake Release build (-O2 -DNDEBUG) of $BASE_SHORT in a git worktree, in $(rel "$BIN/base-lib")"
BASE_INC="the base's include/"
if ! compile base "$WT/include"; then
    warn "the programs do not compile with $BASE_SHORT's include/ (see $(rel "$BIN/base/compile.log")); using the working tree's"
    BASE_INC="the working tree's include/ (the base's lacks what the programs use)"
    compile base "$ROOT/include" || die "compiling the programs against $BASE_SHORT failed: $(tail -c 600 "$BIN/base/compile.log")"
fi

bench_build_lib "$ROOT" "$BUILD"
CUR_LIB_HOW=$LIB_HOW
compile current "$ROOT/include" ||
    die "compiling the programs against the working tree failed: $(tail -c 600 "$BIN/current/compile.log")"

cmd_for() {  # workload -> the arguments after the program's path
    case $1 in
    bt) echo "binarytrees recycle $BT_DEPTH" ;;
    dict) echo "containers dict time $DICT_N" ;;
    list | array) echo "containers $1 time $SEQ_N" ;;
    dictops) echo "containers dictops time $DICTOPS_N" ;;
    esac
}

RESULTS=$BIN/results.txt   # rep workload side metric value
CHECKS=$BIN/checks.txt     # rep workload side checksum-of-output
OUTDIR=$BIN/outputs
rm -rf "$OUTDIR"; mkdir -p "$OUTDIR"
: >"$RESULTS"; : >"$CHECKS"

run_one() {  # rep workload side
    local r=$1 w=$2 s=$3 out args
    read -r -a args <<<"$(cmd_for "$w")"
    args[0]=$BIN/$s/${args[0]}
    out=$OUTDIR/$w.$s.$r.txt
    "${args[@]}" >"$out" 2>"$out.err" ||
        die "run failed: $w $s (rep $r, exit $?): $(head -c 400 "$out.err")"
    echo "$r $w $s $(grep -v '^@' "$out" | md5sum | cut -c1-12)" >>"$CHECKS"
    grep '^@ ' "$out" | tr ' ' '\n' | grep -E '^[a-z_]+_(s|ns|kb)=' |
        awk -F= -v r="$r" -v w="$w" -v s="$s" '{ print r, w, s, $1, $2 }' >>"$RESULTS"
}

log "depth $BT_DEPTH, dict $DICT_N keys, $SEQ_N appends, $DICTOPS_N dict-op calls, $REPEATS repetitions"
for ((r = 1; r <= REPEATS; r++)); do
    if ((r % 2)); then sides=(base current); else sides=(current base); fi
    for w in "${WORKLOADS[@]}"; do
        for s in "${sides[@]}"; do run_one "$r" "$w" "$s"; done
    done
    log "repetition $r/$REPEATS done"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START_TS))

for w in "${WORKLOADS[@]}"; do
    k=$(awk -v w="$w" '$2 == w { print $4 }' "$CHECKS" | sort -u | wc -l)
    ((k == 1)) || die "$w: the outputs differ between runs ($k distinct checksums; see $(rel "$CHECKS"))"
done

# workload metric base_median current_median base_min current_min, in the
# order the programs print the metrics.
STATS=$BIN/stats.txt
awk '
    function isort(a, n,    i, j, x) {
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    }
    function med(a, n) { return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    {
        k = $2 " " $4
        if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
        c = k " " $3; n[c]++; v[c, n[c]] = $5 + 0
    }
    END {
        for (i = 1; i <= nk; i++) {
            line = order[i]
            split("base current", sides, " ")
            for (s = 1; s <= 2; s++) {
                c = order[i] " " sides[s]
                m = n[c]; delete a
                for (j = 1; j <= m; j++) a[j] = v[c, j]
                isort(a, m)
                md[s] = m ? med(a, m) : ""; mn[s] = m ? a[1] : ""
            }
            print line, md[1], md[2], mn[1], mn[2]
        }
    }' "$RESULTS" >"$STATS"

time_table() {
    echo "| workload | metric | base median | current median | current / base (median) | base min | current min | current / base (min) | verdict |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
    awk '$2 !~ /_kb$/ {
        f = $2 ~ /_ns$/ ? "%.1f" : "%.6f"
        rm = $3 > 0 ? $4 / $3 : 0; rn = $5 > 0 ? $6 / $5 : 0
        if ($3 <= 0 || $5 <= 0) v = "n/a (zero time)"
        else if (rm < 0.95) v = "faster"
        else if (rm <= 1.05 || rn <= 1.03) v = "same"
        else v = "**SLOWER**"
        fmt = "| %s | %s | " f " | " f " | %.3f | " f " | " f " | %.3f | %s |\n"
        printf fmt, $1, $2, $3, $4, rm, $5, $6, rn, v
    }' "$STATS"
}

mem_table() {
    echo "| workload | metric | base median | current median | current / base |"
    echo "|---|---|---:|---:|---:|"
    awk '$2 ~ /_kb$/ {
        r = $3 > 0 ? sprintf("%.3f", $4 / $3) : "n/a"
        printf "| %s | %s | %d | %d | %s |\n", $1, $2, $3, $4, r
    }' "$STATS"
}

TABLE=$(time_table)
SUMMARY=$(awk -F'|' 'NR > 2 {
        n++
        if ($10 ~ /SLOWER/) slow++; else if ($10 ~ /faster/) fast++; else if ($10 ~ /same/) same++; else other++
    }
    END {
        printf "%d metrics: %d same, %d faster, %d SLOWER", n, same, fast, slow
        if (other) printf ", %d without a verdict", other
        print "."
    }' <<<"$TABLE")

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)
BIN_REL=$(rel "$BIN")
SECTION=$(mktemp)
{
    echo "<!-- versus:begin (written by bench/objects/versus.sh) -->"
    echo "## Before and after: the object benchmarks against a base revision"
    echo
    echo "Generated by \`bench/objects/versus.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${ELAPSED}s."
    echo
    echo "- base: $BASE_SHORT$([[ $BASE != "$BASE_SHORT" ]] && echo " (\`$BASE\`)"), librecycle.a: $BASE_LIB_HOW;"
    echo "  programs compiled with $BASE_INC"
    echo "- current: $CUR_DESC, librecycle.a: $CUR_LIB_HOW"
    echo "- both programs compiled once per library from the same copy of the working tree's"
    echo "  \`bench/objects/containers.c\` and \`binarytrees.c\` ($CC ${CFLAGS[*]})"
    echo "- machine: $CPU_MODEL, $(nproc) CPUs online; load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo
    echo "Each of $REPEATS repetitions runs every workload with the base library and then the"
    echo "current one, or the other way round on even repetitions. Times in seconds (\`_s\`)"
    echo "or nanoseconds per call (\`_ns\`), lower is better. The machine is a shared 2-core"
    echo "box where other builds run: a single run can be slowed by tens of percent, so the"
    echo "table gives both the median and the minimum of the repetitions. Verdict: **faster**"
    echo "when the median ratio is below 0.95; **same** when the median ratio is at most 1.05"
    echo "or the minimum ratio at most 1.03 (the best run of each side, the least disturbed);"
    echo "**SLOWER** otherwise. Every run's output (without its timing line) agreed between"
    echo "the two libraries."
    echo
    echo "$TABLE"
    echo
    echo "- $SUMMARY"
    echo
    echo "Memory growth over each workload (VmRSS, KiB; informative, no verdict):"
    echo
    mem_table
    echo
    echo '```sh'
    echo "$([[ ${VERSUS_QUICK:-0} == 1 ]] && echo "VERSUS_QUICK=1 ")REPEATS=$REPEATS bash bench/objects/versus.sh $BASE"
    echo "# what it runs, for SIDE in base and current:"
    for w in "${WORKLOADS[@]}"; do echo "$BIN_REL/SIDE/$(cmd_for "$w")"; done
    echo '```'
    echo "<!-- versus:end -->"
} >"$SECTION"
bench_write_section "$OUT" versus "$SECTION"
log "section written to $(rel "$OUT") (${ELAPSED}s)"
echo "base $BASE_SHORT, current $CUR_DESC, $REPEATS repetitions"
echo "$TABLE"
echo "$SUMMARY"
