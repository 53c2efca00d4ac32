#!/usr/bin/env bash
# bench/objects/footprint.sh - what containers of a million entries take, per
# entry, in recycle and in CPython, and how each container's own size grows
# up to ten million items. Writes the "footprint" section of
# docs/BENCHMARKS-objects.md (between its markers, replaced on every run;
# appended when missing).
#
#   1. memory per entry: dict of str keys, dict of int keys, set of ints,
#      list of ints, tuple of ints, list of (i, i) tuples, FOOTPRINT_N
#      entries each. recycle: growth of the heap's bytes in use, of VmRSS,
#      and rc_deep_sizeof (footprint mem NAME N, one process per container).
#      CPython: growth of tracemalloc's traced memory, the traced blocks at
#      pymalloc's sizes, and getsizeof of everything (footprint.py mem NAME
#      N traced), and growth of VmRSS in another process without tracemalloc
#      (footprint.py mem NAME N rss). Target per row: recycle at most
#      CPython's, blocks and RSS both.
#   2. growth: rc_sizeof / sys.getsizeof after N items of a list, dict of int
#      keys, dict of str keys, set and array('q') (footprint grow NAME MAX,
#      footprint.py grow NAME MAX), and how many of the first 100,000
#      additions changed the size. Target per row: recycle at most CPython.
#
# Builds librecycle.a (bench/lib.sh) unless RC_LIB is given, compiles
# footprint.c with gcc -O2, runs every measurement once (sizes are
# deterministic; RSS moves by a page or so between runs), fails if any run
# fails or if the two sides printed different rows.
#
# Environment (all optional): PYTHON=/usr/bin/python3 RC_LIB=...
#   FOOTPRINT_N=1000000 (entries per container in part 1)
#   GROW_MAX=10000000 (items in part 2) GROW_STR_MAX=1000000 (dict of str keys)
#   BENCH_BUILD_DIR=build-bench-objects BENCH_OUT=docs/BENCHMARKS-objects.md
#   CC=gcc BENCH_CFLAGS="-O2 -g" BENCH_NO_INSTALL=1
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_prelude bench-footprint    # LC_ALL=C; HERE, ROOT; cd "$ROOT"; log, warn, die

bench_section_paths footprint

FOOTPRINT_N=${FOOTPRINT_N:-1000000}
GROW_MAX=${GROW_MAX:-10000000}
GROW_STR_MAX=${GROW_STR_MAX:-1000000}
for v in FOOTPRINT_N GROW_MAX GROW_STR_MAX; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
N=$FOOTPRINT_N
MEM_KINDS=(dict-str dict-int set-int list-int tuple-int list-tuple2)
GROW_KINDS=(list dict-int dict-str set array)

bench_install_deps gcc cmake make python3
bench_find_python
PY_VERSION=$("$PY" -c 'import sys; print(sys.version.split()[0])')
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- src include 2>/dev/null | wc -l)
START_TS=$(date +%s)
bench_build_lib "$ROOT" "$BUILD"
"$CC" "${CFLAGS[@]}" -DRC_STATIC_DEFINE -I"$ROOT/include" "$HERE/footprint.c" "$LIB" \
    -o "$BIN/footprint" -lm -ldl "${EXTRA_LIBS[@]}" >&2 || die "compiling footprint.c failed"

RC_OUT=$BIN/recycle.txt
PY_OUT=$BIN/cpython.txt
: >"$RC_OUT"
: >"$PY_OUT"

# run WHAT FILE CMD...: append CMD's output to FILE; any failure (a crash
# included) ends the script with CMD's stderr.
run() {
    local what=$1 file=$2 err=$BIN/last.err
    shift 2
    "$@" >>"$file" 2>"$err" || die "$what failed (exit $?): $(head -c 400 "$err")"
}

for k in "${MEM_KINDS[@]}"; do
    log "memory: $k, $N entries"
    run "footprint mem $k" "$RC_OUT" "$BIN/footprint" mem "$k" "$N"
    run "footprint.py mem $k traced" "$PY_OUT" "$PY" "$HERE/footprint.py" mem "$k" "$N" traced
    run "footprint.py mem $k rss" "$PY_OUT" "$PY" "$HERE/footprint.py" mem "$k" "$N" rss
done
for k in "${GROW_KINDS[@]}"; do
    max=$GROW_MAX
    [[ $k == dict-str ]] && max=$GROW_STR_MAX
    log "growth: $k up to $max items"
    run "footprint grow $k" "$RC_OUT" "$BIN/footprint" grow "$k" "$max"
    run "footprint.py grow $k" "$PY_OUT" "$PY" "$HERE/footprint.py" grow "$k" "$max"
done
ELAPSED=$(($(date +%s) - START_TS))

# Both sides print "WHAT NAME N VALUE" lines in the same order.
cmp -s <(cut -d' ' -f1-3 "$RC_OUT") <(cut -d' ' -f1-3 "$PY_OUT") ||
    die "footprint.c and footprint.py measured different rows"
JOINED=$BIN/joined.txt   # what name n cpython recycle
paste -d' ' "$PY_OUT" "$RC_OUT" | awk '{ print $1, $2, $3, $4, $8 }' >"$JOINED"

# val WHAT NAME N COLUMN: one figure of the joined table (4 CPython, 5 recycle).
val() { awk -v w="$1" -v k="$2" -v n="$3" -v c="$4" '$1 == w && $2 == k && $3 == n { print $c }' "$JOINED"; }

mem_table() {
    echo "| container | N | CPython requested B/entry | CPython blocks B/entry | recycle blocks B/entry | recycle / CPython blocks | CPython RSS B/entry | recycle RSS B/entry | recycle / CPython RSS | target |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    local k
    for k in "${MEM_KINDS[@]}"; do
        echo "$k $N $(val alloc "$k" "$N" 4) $(val blocks "$k" "$N" 4) $(val blocks "$k" "$N" 5) $(val rss "$k" "$N" 4) $(val rss "$k" "$N" 5)"
    done | awk '
        function ratio(r, c) { return c > 0 ? sprintf("%.2fx", r / c) : "n/a" }
        {
            n = $2; creq = $3; cb = $4; rb = $5; cr = $6; rr = $7
            # The verdict compares exact bytes: a miss by a few pages still
            # prints as 1.00x, so the cell says by how much.
            miss = ""
            if (rb > cb) miss = sprintf("blocks +%d B", rb - cb)
            if (rr > cr) miss = miss (miss != "" ? ", " : "") sprintf("RSS +%d B", rr - cr)
            v = miss == "" ? "**PASS**" : "**MISS** (" miss ")"
            printf "| %s | %d | %.2f | %.2f | %.2f | %s | %.2f | %.2f | %s | %s |\n",
                $1, n, creq / n, cb / n, rb / n, ratio(rb, cb), cr / n, rr / n, ratio(rr, cr), v
        }'
}

deep_table() {
    echo "| container | N | CPython B/entry | recycle B/entry | recycle / CPython |"
    echo "|---|---:|---:|---:|---:|"
    awk '$1 == "deep" {
        printf "| %s | %d | %.2f | %.2f | %.2fx |\n", $2, $3, $4 / $3, $5 / $3, $5 / $4 }' "$JOINED"
}

grow_table() {  # NAME
    echo "| N | CPython bytes | recycle bytes | recycle / CPython | target |"
    echo "|---:|---:|---:|---:|---|"
    awk -v k="$1" '$1 == "grow" && $2 == k {
        v = $5 <= $4 ? "**PASS**" : "**MISS**"
        printf "| %d | %d | %d | %.2fx | %s |\n", $3, $4, $5, $5 / $4, v }' "$JOINED"
}

resize_table() {
    echo "| container | additions | CPython size changes | recycle size changes |"
    echo "|---|---:|---:|---:|"
    awk '$1 == "resizes" { printf "| %s | %d | %d | %d |\n", $2, $3, $4, $5 }' "$JOINED"
}

rel_bin=$(rel "$BIN")
SECTION=$(mktemp)
{
    echo "<!-- footprint:begin (written by bench/objects/footprint.sh) -->"
    echo "## Footprint of containers: a million entries, and growth up to ten million"
    echo
    echo "Generated by \`bench/objects/footprint.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${ELAPSED}s:"
    echo "recycle $GIT_REV$( ((GIT_DIRTY)) && echo " plus $GIT_DIRTY uncommitted changes in src/ and include/"),"
    echo "librecycle.a: $LIB_HOW;"
    echo "CPython $PY_VERSION (\`$PY\`). Every figure is one run in a fresh process per"
    echo "container and implementation."
    echo
    echo "### Memory per entry ($N entries)"
    echo
    echo "What is built, the same way on both sides, and kept alive with everything in it:"
    echo "**dict-str** \`d[\"key%d\" % i] = i\`; **dict-int** \`d[i] = i\` (one int object as"
    echo "key and value); **set-int** \`s.add(i)\`; **list-int** \`lst.append(i)\`; **tuple-int**"
    echo "\`tuple(lst)\` of such a list, the list dropped (recycle: \`rc_tuple_from\` of a C array"
    echo "of the ints, the array freed); **list-tuple2** \`lst.append((i, i))\`; for i in"
    echo "0..N-1. The values are counted: ints above 256 are objects of their own in both,"
    echo "-5..256 are cached shared objects in both (CPython's small ints, recycle's immortal"
    echo "static ints)."
    echo
    echo "- **blocks**: the memory the allocator hands out for what the build left alive."
    echo "  recycle: growth of the heap's bytes in use (\`rc_heap_stats_get\`.bytes_in_use):"
    echo "  every live block, objects and buffers, at its size class's size (16-byte steps up"
    echo "  to 512 bytes, four classes per doubling up to 16 KiB, whole 64 KiB pools up to"
    echo "  1 MiB, whole pages above). CPython: every block \`tracemalloc\` traces after the"
    echo "  build and not before, at the size its allocator hands out: pymalloc's 16-byte"
    echo "  steps up to 512 bytes; above, a glibc chunk (the request and 8 bytes of header in"
    echo "  16-byte steps), or from glibc's default 128 KiB mmap threshold on, whole pages"
    echo "  for the request and its 16-byte header."
    echo "- **requested** (CPython, informative): growth of"
    echo "  \`tracemalloc.get_traced_memory()[0]\`: the bytes requested, no rounding at all."
    echo "  Where a CPython object is not a multiple of 16 bytes (a str \"key123456\" is 58"
    echo "  bytes, a pair (i, i) 56 with its collector header) this is below what pymalloc"
    echo "  really uses; recycle's heap counts no such figure."
    echo "- **RSS**: growth of VmRSS (/proc/self/status) over the build; for CPython in a"
    echo "  separate process without tracemalloc, whose own tables would be counted. Includes"
    echo "  what each allocator keeps: partly used pools and arenas, freed tables not yet"
    echo "  returned."
    echo "- Target per row: recycle at most CPython's figure, for blocks and for RSS."
    echo
    mem_table
    echo
    mem_table | awk -F'|' 'NR > 2 { n++; if ($11 ~ /PASS/) ok++ }
        END { printf "- %d of %d containers at most CPython'\''s blocks and RSS.\n", ok, n }'
    echo
    echo "The sum of the sizes (informative): recycle \`rc_deep_sizeof\` of the container;"
    echo "CPython \`sys.getsizeof\` of the container plus that of every distinct object in it"
    echo "(keys, values, tuples and their items), each once. Neither counts allocator rounding."
    echo
    deep_table
    echo
    echo "### Growth: the container's own size after N items"
    echo
    echo "\`rc_sizeof\` against \`sys.getsizeof\` (the header and the storage the container owns,"
    echo "over-allocation included; not the items) after N additions, as a program grows them:"
    echo "list \`append(i)\`, dict of int keys \`d[i] = i\`, dict of str keys \`d[\"key%d\" % i] = i\`"
    echo "(up to $GROW_STR_MAX), set \`add(i)\`, array('q') \`append(i)\` (recycle: an"
    echo "\`RC_ARRAY_I64\` array). Target per row: recycle at most CPython's size."
    for k in "${GROW_KINDS[@]}"; do
        echo
        echo "**$k**"
        echo
        grow_table "$k"
    done
    echo
    awk '$1 == "grow" { n++; if ($5 <= $4) ok++ }
        END { printf "- %d of %d sizes at most CPython'\''s.\n", ok, n }' "$JOINED"
    echo
    echo "How often the size changes over the first additions (each change is a resize of"
    echo "the storage: a new block and a copy, or a rehash), the size read after every one."
    echo "Informative: fewer changes mean less copying, not less memory."
    echo
    resize_table
    echo
    echo "<details><summary>Raw rows (what name N CPython recycle)</summary>"
    echo
    echo '```'
    cat "$JOINED"
    echo '```'
    echo
    echo "</details>"
    echo
    echo '```sh'
    echo "bash bench/objects/footprint.sh"
    echo "# what it runs, per container k and implementation:"
    echo "$rel_bin/footprint mem k $N"
    echo "$PY bench/objects/footprint.py mem k $N traced"
    echo "$PY bench/objects/footprint.py mem k $N rss"
    echo "$rel_bin/footprint grow k $GROW_MAX    # dict-str: $GROW_STR_MAX"
    echo "$PY bench/objects/footprint.py grow k $GROW_MAX"
    echo '```'
    echo "<!-- footprint:end -->"
} >"$SECTION"
bench_write_section "$OUT" footprint "$SECTION"
log "section written to $(rel "$OUT") (${ELAPSED}s of measurements)"
