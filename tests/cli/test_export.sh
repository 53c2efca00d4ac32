#!/usr/bin/env bash
# test_export.sh - `recycle export` on captures with known content (captures.h)
# and on a real program (progs/export_tree.c): the collapsed lines of every
# kind and unit add up to `recycle report --json`'s totals, one line per
# distinct stack, each line parseable; speedscope's JSON parses (python3) and
# its weights add up to the totals; ms_print reads the massif output and its
# peak is the report's; -o writes a file or nothing (a full disk, a missing
# folder, a damaged capture); damaged or missing captures; usage errors;
# valgrind on each format in the plain build.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
cd "$TMP"
captures=(basic threads sampled signal noexit dlclose weird many stats incomplete empty)
for name in "${captures[@]}"; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done
have_python=false
if command -v python3 > /dev/null 2>&1; then
    have_python=true
else
    echo "note: python3 is missing: the JSON and the sums are not checked"
fi
have_ms_print=false
if command -v ms_print > /dev/null 2>&1; then
    have_ms_print=true
else
    echo "note: ms_print (valgrind) is missing: the massif output is checked without it"
fi

# py_check NAME PYTHON ARGS...: runs PYTHON with sys.argv[1:] = ARGS and
# helpers: totals(report) the "totals" of a report --json file, lines(file)
# a collapsed file's (stack, value) pairs; passes when it prints nothing.
py_check() {
    $have_python || return 0
    local name=$1 code=$2
    shift 2
    local out
    out=$(python3 - "$@" 2>&1 <<PY
import json, re, sys
problems = []
def eq(what, got, expected):
    if got != expected:
        problems.append("%s: %r, expected %r" % (what, got, expected))
def totals(path):
    with open(path) as f:
        return json.load(f)["totals"]
LINE = re.compile(r"^([^ ;]+(?:;[^ ;]+)*) ([1-9][0-9]*)$")
def lines(path):
    out = []
    with open(path) as f:
        for line in f.read().split("\n")[:-1]:
            m = LINE.match(line)
            if not m:
                problems.append("%s: not a collapsed line: %r" % (path, line))
                continue
            out.append((m.group(1), int(m.group(2))))
    return out
$code
for p in problems:
    print(p)
PY
)
    if [[ -z $out ]]; then ok "$name"; else fail "$name" "$out"; fi
}

# Each kind and unit of collapsed: the lines add up to the totals.
sums_check='
t = totals(sys.argv[1])
keys = {("allocated", "bytes"): "bytes_allocated", ("allocated", "allocations"): "allocations",
        ("peak", "bytes"): "peak_bytes", ("peak", "allocations"): "peak_allocations",
        ("leaked", "bytes"): "leaked_bytes", ("leaked", "allocations"): "leaked_allocations"}
for path in sys.argv[2:]:
    kind, unit = path.rsplit(".", 2)[-2].split("-")
    got = lines(path)
    eq(path + ": sum", sum(v for _, v in got), t[keys[(kind, unit)]])
    stacks = [s for s, _ in got]
    eq(path + ": one line per stack", len(stacks), len(set(stacks)))
'
# collapsed_sums NAME CAPTURE: every kind and unit against report --json.
collapsed_sums() {
    local name=$1 capture=$2 files=() kind unit bad=()
    "$RECYCLE" report "$capture" --json > "$capture.report.json" 2> /dev/null \
        || bad+=("report --json failed")
    for kind in allocated peak leaked; do
        for unit in bytes allocations; do
            "$RECYCLE" export "$capture" --format collapsed --kind "$kind" --unit "$unit" \
                > "$capture.$kind-$unit.folded" 2> "$capture.err" \
                || bad+=("export --kind $kind --unit $unit: exit $?: $(cat "$capture.err")")
            files+=("$capture.$kind-$unit.folded")
        done
    done
    if ((${#bad[@]})); then fail "$name: exports" "${bad[@]}"; else ok "$name: exports"; fi
    py_check "$name: collapsed sums are the report's totals" "$sums_check" \
        "$capture.report.json" "${files[@]}"
}

# speedscope_check NAME CAPTURE [--unit allocations]
speedscope_check() {
    local name=$1 capture=$2
    shift 2
    run_cmd "$RECYCLE" export "$capture" --format speedscope "$@"
    expect "$name: speedscope exit 0" 0 - ""
    printf '%s\n' "$OUT" > "$capture.speedscope.json"
    py_check "$name: speedscope's schema, weights add up to the totals" '
t = totals(sys.argv[1])
with open(sys.argv[2]) as f:
    d = json.load(f)
alloc = sys.argv[3] == "allocations"
eq("$schema", d["$schema"], "https://www.speedscope.app/file-format-schema.json")
frames = d["shared"]["frames"]
eq("frames have names", all(isinstance(f["name"], str) and f["name"] for f in frames), True)
eq("profiles", [p["name"] for p in d["profiles"]],
   ["allocations", "allocations live at the peak", "leaked allocations"] if alloc else
   ["allocated bytes", "bytes live at the peak", "leaked bytes"])
expected = [t[k] for k in (("allocations", "peak_allocations", "leaked_allocations") if alloc
                           else ("bytes_allocated", "peak_bytes", "leaked_bytes"))]
for p, total in zip(d["profiles"], expected):
    eq(p["name"] + " type", p["type"], "sampled")
    eq(p["name"] + " unit", p["unit"], "none" if alloc else "bytes")
    eq(p["name"] + " samples and weights", len(p["samples"]), len(p["weights"]))
    eq(p["name"] + " weights", sum(p["weights"]), total)
    eq(p["name"] + " endValue", (p["startValue"], p["endValue"]), (0, total))
    eq(p["name"] + " frame indexes", all(s and all(0 <= i < len(frames) for i in s)
                                         for s in p["samples"]), True)
    eq(p["name"] + " no zero weight", all(w > 0 for w in p["weights"]), True)
' "$capture.report.json" "$capture.speedscope.json" "${2:-bytes}"
}

# massif_check NAME CAPTURE: the peak snapshot is the report's peak, ms_print
# reads the file.
massif_check() {
    local name=$1 capture=$2
    run_cmd "$RECYCLE" export "$capture" --format massif
    expect "$name: massif exit 0" 0 - ""
    printf '%s\n' "$OUT" > "$capture.massif"
    local peak snapshots
    peak=$(awk '/^mem_heap_B=/ {b = substr($0, 12)} /^heap_tree=peak/ {print b}' "$capture.massif")
    snapshots=$(grep -c '^snapshot=' "$capture.massif")
    if $have_python; then
        expect_eq "$name: massif's peak snapshot is the report's peak" "$peak" \
            "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["totals"]["peak_bytes"])' \
                "$capture.report.json")"
    fi
    if ((snapshots >= 2 && snapshots <= 50)); then
        ok "$name: 2 to 50 snapshots ($snapshots)"
    else
        fail "$name: 2 to 50 snapshots" "$snapshots"
    fi
    if $have_ms_print; then
        run_cmd ms_print "$capture.massif"
        expect "$name: ms_print reads it" 0 - ""
        expect_match "$name: ms_print shows the peak" "$OUT" "Detailed snapshots: \[[0-9]+ \(peak\)\]"
    fi
}

# ---- basic: the whole output ------------------------------------------------------------
run_cmd "$RECYCLE" export basic.rcap --format collapsed
expect "basic: collapsed, allocated bytes" 0 "app+0x1000;app+0x2000 300
app+0x1000;app+0x3000 50
app+0x1000;app+0x4000 1030
app+0x5000;app+0x2000 8" ""
run_cmd "$RECYCLE" export basic.rcap --format=collapsed --kind peak
expect "basic: collapsed, peak bytes" 0 "app+0x1000;app+0x2000 300
app+0x1000;app+0x3000 50
app+0x1000;app+0x4000 1000" ""
run_cmd "$RECYCLE" export basic.rcap -f collapsed --kind leaked --unit allocations
expect "basic: collapsed, leaked allocations" 0 "app+0x1000;app+0x2000 1
app+0x1000;app+0x3000 1" ""

run_cmd "$RECYCLE" export basic.rcap --format massif
expect_match "basic: massif's header" "$STATUS $OUT" \
    $'^0 desc: recycle export --format massif\ncmd: /opt/app/bin/app --rounds 3\ntime_unit: ms\n#-----------\nsnapshot=0\n'
expect_match "basic: massif's peak tree" "$OUT" \
    $'\nheap_tree=peak\nn3: 1350 \\(heap allocation functions\\) malloc/new/new\\[\\], --alloc-fns, etc\\.\n n1: 1000 0x404000: \\?\\?\\? \\(in /opt/app/bin/app\\)\n  n0: 1000 0x401000: \\?\\?\\? \\(in /opt/app/bin/app\\)\n n1: 300 0x402000: \\?\\?\\? \\(in /opt/app/bin/app\\)\n  n0: 300 0x401000: \\?\\?\\? \\(in /opt/app/bin/app\\)\n n1: 50 0x403000: '

# ---- every synthetic capture: sums, speedscope, massif ---------------------------------------
for name in "${captures[@]}"; do
    collapsed_sums "$name" "$name.rcap"
    speedscope_check "$name" "$name.rcap"
    massif_check "$name" "$name.rcap"
done
speedscope_check "stats, in allocations" stats.rcap --unit allocations

run_cmd "$RECYCLE" export empty.rcap --format collapsed
expect "empty: no line" 0 "" ""
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
collapsed_sums "cut" cut.rcap
run_cmd "$RECYCLE" export cut.rcap --format collapsed
expect_match "cut: exported with a warning" "$STATUS $ERR" \
    '^0 recycle export: warning: cut\.rcap is incomplete: '

# ---- -o -----------------------------------------------------------------------------------
"$RECYCLE" export stats.rcap --format speedscope > expected.json 2>/dev/null
mkdir dest
run_cmd "$RECYCLE" export stats.rcap --format speedscope -o dest/stats.json
expect "-o: exit 0, nothing on stdout" 0 "" ""
if cmp -s expected.json dest/stats.json; then ok "-o: the same as stdout"; else fail "-o: the same as stdout"; fi
expect_eq "-o: no temporary file left" "$(ls dest)" "stats.json"
expect_eq "-o: an ordinary file's mode" "$(stat -c %a dest/stats.json)" \
    "$(printf '%o' $((0666 & ~$(umask))))"
run_cmd "$RECYCLE" export stats.rcap --format collapsed --output=dest/stats.json
expect "-o: replaces the file" 0 "" ""
expect_eq "-o: with the new content" "$(cat dest/stats.json)" \
    "$("$RECYCLE" export stats.rcap --format collapsed 2>/dev/null)"
cp stats.rcap damaged.rcap
printf '\x55' | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
printf 'old\n' > dest/kept
run_cmd "$RECYCLE" export damaged.rcap --format massif -o dest/kept
expect "-o, damaged capture: exit 1" 1 "" -
expect_match "-o, damaged capture: the reader's message" "$ERR" '^recycle export: damaged\.rcap: .+$'
expect_eq "-o, damaged capture: the file as it was" "$(cat dest/kept)" "old"
expect_eq "-o, damaged capture: no temporary file left" "$(ls dest | tr '\n' ' ')" "kept stats.json "
run_cmd "$RECYCLE" export basic.rcap --format collapsed -o no/such/folder/out.txt
expect_match "-o into a missing folder: exit 1" "$STATUS $ERR" \
    "^1 recycle export: cannot write 'no/such/folder/out.txt': No such file or directory$"
run_cmd "$RECYCLE" export basic.rcap --format collapsed -o -
expect "-o -: stdout" 0 "$("$RECYCLE" export basic.rcap --format collapsed 2>/dev/null)" ""
if [[ -w /dev/full ]]; then
    run_cmd "$RECYCLE" export stats.rcap --format speedscope -o /dev/full
    expect "-o /dev/full: exit 1" 1 "" \
        "recycle export: error writing '/dev/full': No space left on device"
    "$RECYCLE" export stats.rcap --format massif > /dev/full 2> "$TMP/err"
    STATUS=$?
    ERR=$(cat "$TMP/err")
    expect "stdout on a full disk: exit 1" 1 - \
        "recycle: write error on standard output: No space left on device"
fi

# ---- damaged, missing ---------------------------------------------------------------------
run_cmd "$RECYCLE" export damaged.rcap --format collapsed
expect "damaged: exit 1, nothing printed" 1 "" -
expect_match "damaged: the reader's message" "$ERR" '^recycle export: damaged\.rcap: .+$'
run_cmd "$RECYCLE" export missing.rcap --format speedscope
expect "missing file" 1 "" "recycle export: missing.rcap: cannot open: No such file or directory"

# ---- usage --------------------------------------------------------------------------------
usage="usage: recycle export FILE --format collapsed|speedscope|massif|pprof|sqlite [-o OUT]
              [--kind allocated|peak|leaked] [--unit bytes|allocations]
Try 'recycle export --help' for more information."
run_cmd "$RECYCLE" export basic.rcap
expect "no format" 2 "" "recycle export: no --format given (collapsed, speedscope, massif, pprof or sqlite)
$usage"
run_cmd "$RECYCLE" export --format collapsed
expect "no file" 2 "" "recycle export: no capture file given
$usage"
run_cmd "$RECYCLE" export a.rcap b.rcap --format collapsed
expect "two files" 2 "" "recycle export: one capture at a time ('a.rcap' and 'b.rcap')
$usage"
run_cmd "$RECYCLE" export basic.rcap --format sqlite
expect "--format sqlite to stdout" 2 "" "recycle export: --format sqlite writes a database file: give it with -o FILE
$usage"
run_cmd "$RECYCLE" export basic.rcap --format sqlite -o -
expect "--format sqlite -o -" 2 "" "recycle export: --format sqlite writes a database file: give it with -o FILE
$usage"
run_cmd "$RECYCLE" export basic.rcap --format svg
expect "--format svg" 2 "" "recycle export: --format: 'svg' is not a format (collapsed, speedscope, massif, pprof, sqlite)
$usage"
run_cmd "$RECYCLE" export basic.rcap --format collapsed --kind freed
expect "--kind freed" 2 "" "recycle export: --kind: 'freed' is not allocated, peak or leaked
$usage"
run_cmd "$RECYCLE" export basic.rcap --format collapsed --unit pages
expect "--unit pages" 2 "" "recycle export: --unit: 'pages' is not bytes or allocations
$usage"
run_cmd "$RECYCLE" export basic.rcap --format collapsed -o ""
expect "-o ''" 2 "" "recycle export: -o: an empty file name
$usage"
run_cmd "$RECYCLE" export basic.rcap --format
expect_match "--format without a value" "$STATUS $ERR" "^2 recycle export: option '--format' needs an argument"
run_cmd "$RECYCLE" export --help
expect_match "--help: the usage and the formats" "$STATUS $OUT" \
    $'^0 usage: recycle export FILE --format collapsed\\|speedscope\\|massif\\|pprof\\|sqlite .*\n  collapsed .*\n  speedscope .*\n  massif .*\n  pprof .*\n  sqlite '

# ---- under valgrind: no leak, no invalid read --------------------------------------------------
vg_clean() {
    [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind > /dev/null
}
if vg_clean; then
    for f in collapsed speedscope massif; do
        run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect "$RECYCLE" export stats.rcap --format $f -o vg.out
        expect "valgrind: --format $f -o is clean" 0 "" ""
    done
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect "$RECYCLE" export damaged.rcap --format massif -o vg.out
    expect "valgrind: a damaged capture is clean" 1 "" -
fi

# ---- a real program ---------------------------------------------------------------------------
if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "note: the preload is not built: the real program is not recorded"
    finish
fi
export RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD
run_cmd "$RECYCLE" run -o real.rcap -- "$RC_CLI_BIN/export_tree"
expect "real: recorded" 0 - -
collapsed_sums "real" real.rcap
speedscope_check "real" real.rcap
massif_check "real" real.rcap
# The stacks end at the functions that called malloc (the allocator's frames
# are left out), the inlined grab expanded inside right.
expect_match "real: allocated, by stack" "$(cat real.rcap.allocated-bytes.folded)" \
    $'(^|\n)([^\n]*;)?main;left;leaf 3000\n([^\n]*;)?main;right;leaf 3000\n([^\n]*;)?main;right;grab 400$'
expect_match "real: peak" "$(cat real.rcap.peak-bytes.folded)" \
    $'^([^\n]*;)?main;left;leaf 2000\n([^\n]*;)?main;right;leaf 3000$'
expect_match "real: leaked" "$(cat real.rcap.leaked-allocations.folded)" \
    $'^([^\n]*;)?main;left;leaf 1$'
if vg_clean; then
    for f in collapsed speedscope massif; do
        run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect "$RECYCLE" export real.rcap --format $f
        expect "real: valgrind: --format $f is clean (symbols read)" 0 - ""
    done
fi
expect_match "real: massif's tree names the functions and lines" "$(cat real.rcap.massif)" \
    $'\n n2: 5000 0x[0-9A-F]+: leaf \\([^\n]*export_tree\\.c:[0-9]+\\)\n  n1: 3000 0x[0-9A-F]+: right \\([^\n]*export_tree\\.c:[0-9]+\\)\n'
finish
