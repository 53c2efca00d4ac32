#!/usr/bin/env bash
# test_export_pprof.sh - `recycle export --format pprof` read back by
# `go tool pprof` (Debian golang-go): on the test captures (captures.h) and
# a real program (progs/export_tree.c), the samples of each of the six
# types add up to `recycle report --json`'s totals; the output is gzip; the
# profile decoded by hand (python3: gzip and a varint walker) has "" first
# in its string table, the sample types in order and inuse_space as the
# default; unsymbolized locations are an address and a mapping; the real
# program's functions with their files and lines, its stacks leaf first,
# the inlined helper as an inlined line of its caller, its mapping with a
# build id; C++ names demangled (progs/lines_cpp.cc, when c++ is there);
# a sampled capture (period, comment, estimates); an empty
# capture; -o (the same bytes as stdout; a damaged capture leaves the old
# file); valgrind in the plain build.
#
# Without go: skipped (exit 77), or a failure when CI=true.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
if ! command -v go > /dev/null 2>&1; then
    if [[ ${CI:-} == true ]]; then
        fail "go is missing (Debian golang-go): go tool pprof cannot read the export back"
        finish
    fi
    echo "skipped: go is missing (Debian golang-go): go tool pprof cannot read the export back"
    exit 77
fi
have_python=false
if command -v python3 > /dev/null 2>&1; then
    have_python=true
else
    echo "note: python3 is missing: the sums and the decoded profile are not checked"
fi

# go tool pprof writes its settings and downloads under HOME and
# PPROF_TMPDIR: both in the test's folder; it never reaches the network
# for a local file.
export HOME=$TMP/home GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOFLAGS= GOPROXY=off
mkdir -p "$HOME" "$PPROF_TMPDIR"
# The test captures name files that do not exist here: no symbolization.
pprof() { go tool pprof -symbolize=none "$@"; }

cd "$TMP"
captures=(basic threads sampled signal noexit dlclose weird many stats incomplete empty)
for name in "${captures[@]}"; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done

# py_check NAME PYTHON ARGS...: runs PYTHON with sys.argv[1:] = ARGS and the
# helpers below; passes when it prints nothing.
#   totals(path)      the "totals" of a report --json file
#   raw_sums(path)    {sample type: sum of its values} of `pprof -raw` output
#   profile(path)     the gzipped profile decoded: strings, sample types,
#                     default type, period type and period, samples (their
#                     location ids), location ids
py_check() {
    $have_python || return 0
    local name=$1 code=$2
    shift 2
    local out
    out=$(python3 - "$@" 2>&1 <<PY
import gzip, json, re, sys
problems = []
def eq(what, got, expected):
    if got != expected:
        problems.append("%s: %r, expected %r" % (what, got, expected))
def totals(path):
    with open(path) as f:
        return json.load(f)["totals"]
def raw_sums(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    start = lines.index("Samples:")
    types = [t.split("/")[0] for t in lines[start + 1].replace("[dflt]", "").split()]
    sums = dict((t, 0) for t in types)
    for line in lines[start + 2:]:
        m = re.match(r"^\s*([0-9 ]+):", line)
        if not m:
            break
        for t, v in zip(types, m.group(1).split()):
            sums[t] += int(v)
    return sums
def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i
def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        kind = key & 7
        if kind == 0:
            v, i = varint(b, i)
        elif kind == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif kind == 1:
            v, i = b[i:i + 8], i + 8
        elif kind == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % kind)
        yield key >> 3, kind, v
def packed(kind, v):
    if kind == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out
def profile(path):
    with open(path, "rb") as f:
        b = gzip.decompress(f.read())
    p = {"strings": [], "types": [], "default": 0, "period_type": None, "period": 0,
         "samples": [], "locations": []}
    for field, kind, v in fields(b):
        if field == 6:
            p["strings"].append(v.decode("utf-8"))
        elif field in (1, 11):
            vt = dict((f, x) for f, _, x in fields(v))
            pair = (vt.get(1, 0), vt.get(2, 0))
            if field == 1:
                p["types"].append(pair)
            else:
                p["period_type"] = pair
        elif field == 14:
            p["default"] = v
        elif field == 12:
            p["period"] = v
        elif field == 2:
            ids = []
            for f, k, x in fields(v):
                if f == 1:
                    ids += packed(k, x)
            p["samples"].append(ids)
        elif field == 4:
            p["locations"].append(dict((f, x) for f, _, x in fields(v) if f != 4).get(1, 0))
    s = p["strings"]
    p["types"] = ["%s/%s" % (s[t], s[u]) for t, u in p["types"]]
    p["default"] = s[p["default"]]
    p["period_type"] = "%s/%s" % (s[p["period_type"][0]], s[p["period_type"][1]])
    return p
$code
for p in problems:
    print(p)
PY
)
    if [[ -z $out ]]; then ok "$name"; else fail "$name" "$out"; fi
}

sums_check='
t = totals(sys.argv[1])
got = raw_sums(sys.argv[2])
keys = {"alloc_objects": "allocations", "alloc_space": "bytes_allocated",
        "inuse_objects": "leaked_allocations", "inuse_space": "leaked_bytes",
        "peak_objects": "peak_allocations", "peak_space": "peak_bytes"}
eq("sample types", sorted(got), sorted(keys))
for k, total in keys.items():
    eq(k, got.get(k), t[total])
'
decode_check='
p = profile(sys.argv[1])
eq("string_table[0]", p["strings"][:1], [""])
eq("sample types", p["types"], ["alloc_objects/count", "alloc_space/bytes",
    "inuse_objects/count", "inuse_space/bytes", "peak_objects/count", "peak_space/bytes"])
eq("default sample type", p["default"], "inuse_space")
eq("period type", p["period_type"], "space/bytes")
eq("period", p["period"], int(sys.argv[2]))
ids = set(p["locations"])
eq("location ids distinct, not 0", (len(ids), 0 in ids), (len(p["locations"]), False))
eq("samples name locations", all(s and set(s) <= ids for s in p["samples"]), True)
stacks = [tuple(s) for s in p["samples"]]
eq("one sample per stack", len(stacks), len(set(stacks)))
'

# pprof_check NAME CAPTURE [PERIOD]: exported, gzip, read by pprof, sums
# equal the report's, decoded by hand.
pprof_check() {
    local name=$1 capture=$2 period=${3:-1}
    "$RECYCLE" report "$capture" --json > "$capture.report.json" 2> /dev/null
    run_cmd "$RECYCLE" export "$capture" --format pprof -o "$capture.pb.gz"
    expect "$name: exported" 0 "" -
    expect_eq "$name: gzip" "$(head -c 2 "$capture.pb.gz" | od -An -tx1 | tr -d ' \n')" "1f8b"
    run_cmd pprof -raw "$capture.pb.gz"
    expect "$name: go tool pprof -raw reads it" 0 - -
    printf '%s\n' "$OUT" > "$capture.raw"
    py_check "$name: each sample type sums to the report's total" "$sums_check" \
        "$capture.report.json" "$capture.raw"
    py_check "$name: decoded: string table, types, default, ids" "$decode_check" \
        "$capture.pb.gz" "$period"
}

for name in "${captures[@]}"; do
    pprof_check "$name" "$name.rcap" "$([[ $name == sampled ]] && echo 4096 || echo 1)"
done
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
pprof_check "cut" cut.rcap
run_cmd "$RECYCLE" export cut.rcap --format pprof -o cut.pb.gz
expect_match "cut: the reader's warning" "$STATUS $ERR" \
    '^0 recycle export: warning: cut\.rcap is incomplete: '
run_cmd pprof -raw cut.pb.gz
expect_match "cut: said so in a comment" "$OUT" $'(^|\n)Comment: incomplete: the capture ends early'

# ---- the content of known captures ---------------------------------------------------------
# basic: no symbols (the module is not here): locations are addresses in
# the mapping, no line; the samples leaf first.
expect_match "basic: unsymbolized locations: an address and a mapping" "$(cat basic.rcap.raw)" \
    $'\nLocations\n +1: 0x402000 M=1 \n +2: 0x401000 M=1 \n +3: 0x403000 M=1 \n +4: 0x404000 M=1 \n +5: 0x405000 M=1 \nMappings\n1: 0x400000/0x500000/0x0 /opt/app/bin/app  $'
expect_match "basic: samples, leaf first" "$(cat basic.rcap.raw)" \
    $'\n +2 +300 +1 +200 +2 +300: 1 2 \n +1 +50 +1 +50 +1 +50: 3 2 \n +3 +1030 +0 +0 +1 +1000: 4 2 \n +1 +8 +0 +0 +0 +0: 1 5 \n'
expect_match "basic: comments, time, period" "$(cat basic.rcap.raw)" \
    $'^Comment: program: /opt/app/bin/app\nComment: command line: /opt/app/bin/app --rounds 3\nPeriodType: space bytes\nPeriod: 1\nTime: 2023-11-14 22:13:20 \\+0000 UTC\nDuration: '
run_cmd pprof -top basic.rcap.pb.gz
expect_match "basic: inuse_space shown first" "$STATUS $OUT" $'^0 .*\nType: inuse_space\n'
run_cmd pprof -traces -addresses -sample_index=alloc_space basic.rcap.pb.gz
expect_match "basic: pprof names unsymbolized frames by their address and module" "$OUT" \
    $'\n +300B +0+402000 \\[app\\]\n +0+401000 \\[app\\]\n'

# sampled: the period is the sampling interval, the values the estimates
run_cmd pprof -raw sampled.rcap.pb.gz
expect_match "sampled: period and comment" "$OUT" \
    $'\nComment: sampled: one allocation recorded per 4096 bytes on average; the values are estimates\nPeriodType: space bytes\nPeriod: 4096\n'

# empty: a valid profile without samples
run_cmd pprof -top -sample_index=alloc_space empty.rcap.pb.gz
expect_match "empty: pprof reads it, nothing in it" "$STATUS $OUT" $'^0 .*of 0 total'

# ---- -o ---------------------------------------------------------------------------------------
"$RECYCLE" export stats.rcap --format pprof > stdout.pb.gz 2> /dev/null
if cmp -s stdout.pb.gz stats.rcap.pb.gz; then ok "-o: the same bytes as stdout"; else fail "-o: the same bytes as stdout"; fi
mkdir dest
printf 'old\n' > dest/kept
cp stats.rcap damaged.rcap
printf '\x55' | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
run_cmd "$RECYCLE" export damaged.rcap --format pprof -o dest/kept
expect "-o, damaged capture: exit 1" 1 "" -
expect_match "-o, damaged capture: the reader's message" "$ERR" '^recycle export: damaged\.rcap: .+$'
expect_eq "-o, damaged capture: the file as it was, no temporary file" \
    "$(cat dest/kept) $(ls dest | tr '\n' ' ')" "old kept "
run_cmd "$RECYCLE" export damaged.rcap --format pprof
expect "damaged, to stdout: exit 1, nothing written" 1 "" -
run_cmd "$RECYCLE" export missing.rcap --format pprof
expect "missing file" 1 "" "recycle export: missing.rcap: cannot open: No such file or directory"

# ---- under valgrind -----------------------------------------------------------------------------
vg_clean() {
    [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind > /dev/null
}
if vg_clean; then
    for name in stats weird; do
        run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect "$RECYCLE" export $name.rcap --format pprof -o vg.out
        expect "valgrind: $name is clean" 0 "" ""
        if cmp -s vg.out $name.rcap.pb.gz; then ok "valgrind: $name, the same bytes"; else fail "valgrind: $name, the same bytes"; fi
    done
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect "$RECYCLE" export damaged.rcap --format pprof -o vg.out
    expect "valgrind: a damaged capture is clean" 1 "" -
fi

# ---- a real program -------------------------------------------------------------------------------
if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "note: the preload is not built: the real program is not recorded"
    finish
fi
export RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD
run_cmd "$RECYCLE" run -o real.rcap -- "$RC_CLI_BIN/export_tree"
expect "real: recorded" 0 - -
pprof_check "real" real.rcap
raw=$(cat real.rcap.raw)
# The lines the program's functions allocate and call from, read from its
# source so that editing it does not break the test.
src=$RC_CLI_SRC/progs/export_tree.c
line_of() { grep -nF -- "$1" "$src" | head -n 1 | cut -d: -f1; }
l_leaf=$(line_of 'void *p = malloc(n);')
l_grab=$(line_of 'keep[3] = malloc(n);')
l_right_grab=$(line_of 'grab(400);')
l_left=$(line_of 'keep[0] = leaf(1000);')
l_right=$(line_of 'keep[1] = leaf(3000);')
expect_match "real: leaf at its malloc's line" "$raw" \
    $'\n +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ leaf [^\n]*tests/cli/progs/export_tree\\.c:'"$l_leaf"' '
expect_match "real: left and right at their calls' lines" "$raw" \
    $'\n +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ left [^\n]*export_tree\\.c:'"$l_left"$' [^\n]*\n(.*\n)* +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ right [^\n]*export_tree\\.c:'"$l_right"' '
expect_match "real: grab inlined into right: one location, the inlinee first" "$raw" \
    $'\n +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ grab [^\n]*export_tree\\.c:'"$l_grab"$' [^\n]*\n +right [^\n]*export_tree\\.c:'"$l_right_grab"' '
expect_match "real: the program's mapping: build id, symbolized" "$raw" \
    $'\n[0-9]+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ [^\n]*/export_tree [0-9a-f]{16,} \\[FN\\]\\[FL\\]\\[LN\\]\\[IN\\]\n'
if [[ $raw =~ M=[0-9]+\ (malloc|calloc|realloc|operator\ new) ]]; then
    fail "real: no frame inside the allocator" "$raw"
else
    ok "real: no frame inside the allocator"
fi
run_cmd pprof -traces -sample_index=alloc_space real.rcap.pb.gz
traces=$OUT
expect_match "real: -traces, leaf first: leaf, left, main" "$traces" \
    $'\n +1000B +leaf\n +left\n +main\n'
expect_match "real: -traces: leaf, right, main" "$traces" \
    $'\n +2.93kB +leaf\n +right\n +main\n'
expect_match "real: -traces: the inlined grab in right" "$traces" \
    $'\n +400B +grab \\(inline\\)\n +right\n +main\n'
run_cmd pprof -top -unit=byte -sample_index=peak_space real.rcap.pb.gz
expect_match "real: -top, peak_space: the report's peak" "$OUT" $'\nShowing nodes accounting for 5000B, 100% of 5000B total\n'
run_cmd pprof -top -unit=byte real.rcap.pb.gz
expect_match "real: -top, inuse_space by default: the leak" "$OUT" \
    $'\nType: inuse_space\n(.*\n)*Showing nodes accounting for 2000B, 100% of 2000B total\n(.*\n)* +2000B +100% +100% +2000B +100% +leaf\n'
if vg_clean; then
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect "$RECYCLE" export real.rcap --format pprof -o vg.out
    expect "real: valgrind is clean (symbols read)" 0 "" ""
fi

# C++ (progs/lines_cpp.cc, built here when a C++ compiler is there): the
# functions are named as people read them, overloads apart.
if command -v c++ > /dev/null; then
    c++ -g -O0 -o lines_cpp "$RC_CLI_SRC/progs/lines_cpp.cc" || fail "c++ -g"
    run_cmd "$RECYCLE" run -o cpp.rcap -- ./lines_cpp
    expect "C++: recorded" 0 - -
    pprof_check "C++" cpp.rcap
    expect_match "C++: demangled names, overloads apart" "$(cat cpp.rcap.raw)" \
        $'M=[0-9]+ shapes::area\\(int\\) [^\n]*lines_cpp\\.cc:[0-9]+ (.*\n)*.*M=[0-9]+ shapes::area\\(double\\) [^\n]*lines_cpp\\.cc:[0-9]+ (.*\n)*.*M=[0-9]+ shapes::Box<int>::make\\(int\\) [^\n]*lines_cpp\\.cc:[0-9]+ '
else
    echo "note: no C++ compiler (c++): C++ names not tested"
fi
finish
