#!/usr/bin/env bash
# test_stats.sh - `recycle stats` on captures with known content (captures.h,
# written by make_capture): the text exactly, every JSON figure (parsed with
# python3), sampled captures, captures cut short, damaged or missing, usage
# errors; then a real program recorded with the real preload (progs/
# stats_threads.c: two named threads allocating known counts of known sizes),
# in full and sampled.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
cd "$TMP"
for name in basic threads sampled signal empty stats stats-swapped coarse; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done
have_python=false
if command -v python3 > /dev/null 2>&1; then
    have_python=true
else
    echo "note: python3 is missing: the JSON figures are not checked"
fi

# json_check NAME FILE PYTHON: runs PYTHON with `d` the JSON document in FILE;
# the check passes when it prints nothing (each problem it finds is a line).
json_check() {
    $have_python || return 0
    local out
    out=$(python3 - "$2" 2>&1 <<PY
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
problems = []
def eq(what, got, expected):
    if got != expected:
        problems.append("%s: %r, expected %r" % (what, got, expected))
$3
for p in problems:
    print(p)
PY
)
    if [[ -z $out ]]; then ok "$1"; else fail "$1" "$out"; fi
}

# ---- the capture made for stats: the whole text ---------------------------------------
run_cmd "$RECYCLE" stats stats.rcap
expect "stats: the whole text" 0 "$(cat <<'TXT'
program          /opt/app/bin/app --rounds 3 (pid 4242)
ended            exited with status 0 after 950.000 ms

allocations      24 (13 freed)
bytes allocated  1.0 MiB (1,058,484 B)
peak heap        1.0 MiB (1,057,778 B) in 7 blocks at 150.000 ms
leaked at exit   4.4 KiB (4,494 B) in 11 blocks
temporary        0 allocations (0.0%)
peak RSS         4.0 MiB (4,194,304 B)

allocations by requested size (a realloc counts at its new size):
          size  allocations       %        bytes       %
           0 B            1    4.2%          0 B    0.0%  ###
           1 B            1    4.2%          1 B    0.0%  ###
           2 B            1    4.2%          2 B    0.0%  ###
         3-4 B            1    4.2%          3 B    0.0%  ###
         5-8 B            1    4.2%          8 B    0.0%  ###
        9-16 B            0    0.0%          0 B    0.0%
       17-32 B           10   41.7%        240 B    0.0%  ##############################
       33-64 B            3   12.5%        192 B    0.0%  #########
      65-128 B            2    8.3%        165 B    0.0%  ######
     129-256 B            1    4.2%        200 B    0.0%  ###
     257-512 B            0    0.0%          0 B    0.0%
    513-1024 B            0    0.0%          0 B    0.0%
       1-2 KiB            0    0.0%          0 B    0.0%
       2-4 KiB            1    4.2%      4.0 KiB    0.4%  ###
       4-8 KiB            1    4.2%      4.9 KiB    0.5%  ###
      8-16 KiB            0    0.0%          0 B    0.0%
     16-32 KiB            0    0.0%          0 B    0.0%
     32-64 KiB            0    0.0%          0 B    0.0%
    64-128 KiB            0    0.0%          0 B    0.0%
   128-256 KiB            0    0.0%          0 B    0.0%
   256-512 KiB            0    0.0%          0 B    0.0%
 512 KiB-1 MiB            0    0.0%          0 B    0.0%
       1-2 MiB            1    4.2%      1.0 MiB   99.1%  ###

over time: 20 intervals of 50 ms (rates per second; heap and RSS at the end of each):
      from   allocations/s        bytes/s         frees/s         heap          RSS
      0 ms              80        120 B/s               0          6 B      1.0 MiB
     50 ms              40     82.0 KiB/s               0      4.1 KiB      1.0 MiB
    100 ms              20     20.0 MiB/s               0      1.0 MiB      1.0 MiB
    150 ms              20     97.7 KiB/s              20      1.0 MiB      1.0 MiB
    200 ms               0          0 B/s              20      1.0 MiB      1.0 MiB
    250 ms               0          0 B/s              20      9.0 KiB      1.0 MiB
    300 ms               0          0 B/s               0      9.0 KiB      1.0 MiB
    350 ms               0          0 B/s               0      9.0 KiB      1.0 MiB
    400 ms              80      1.9 KiB/s               0      9.1 KiB      1.0 MiB
    450 ms             160      6.1 KiB/s               0      9.4 KiB      1.0 MiB
    500 ms              20        480 B/s               0      9.4 KiB      2.0 MiB
    550 ms              20      1.3 KiB/s              60      9.3 KiB      2.0 MiB
    600 ms               0          0 B/s             100      9.2 KiB      2.0 MiB
    650 ms               0          0 B/s               0      9.2 KiB      2.0 MiB
    700 ms              20        160 B/s              20      9.1 KiB      2.0 MiB
    750 ms               0          0 B/s               0      9.1 KiB      2.0 MiB
    800 ms               0          0 B/s               0      9.1 KiB      4.0 MiB
    850 ms               0          0 B/s              20      4.2 KiB      4.0 MiB
    900 ms              20      3.9 KiB/s               0      4.4 KiB      4.0 MiB
    950 ms               0          0 B/s               0      4.4 KiB      4.0 MiB

4 threads by bytes allocated:
  thread        tid  allocations        frees    allocated        freed       leaked  name
       1       5000            8            4      1.0 MiB      1.0 MiB      4.0 KiB  main
       2       5001           11            6        440 B        220 B        320 B  worker-1
       3       5002            4            3        257 B        192 B         65 B  worker-2
       4          -            1            0          8 B          0 B          8 B  -
TXT
)" ""

# ---- the same figures in JSON ----------------------------------------------------------------
"$RECYCLE" stats stats.rcap --json > stats.json 2> stats.err
STATUS=$?
ERR=$(cat stats.err)
expect "stats --json: exit 0, no message" 0 - ""
json_check "stats --json: the run and the totals (report's keys)" stats.json '
eq("keys", list(d), ["program", "command_line", "pid", "exit_status", "end", "duration_s",
                     "complete", "sampled", "sample_bytes", "totals", "sizes", "rate", "threads"])
eq("program", d["program"], "/opt/app/bin/app")
eq("exit_status", d["exit_status"], 0)
eq("duration_s", d["duration_s"], 0.95)
eq("complete", d["complete"], True)
eq("sampled", d["sampled"], False)
t = d["totals"]
for k, v in [("allocations", 24), ("frees", 13), ("bytes_allocated", 1058484),
             ("peak_bytes", 1057778), ("peak_allocations", 7), ("peak_time_s", 0.15),
             ("leaked_bytes", 4494), ("leaked_allocations", 11),
             ("temporary_allocations", 0), ("peak_rss_bytes", 4194304)]:
    eq("totals." + k, t[k], v)
'
json_check "stats --json: the size histogram, bucket by bucket" stats.json '
got = [(b["min_size"], b["max_size"], b["allocations"], b["bytes"]) for b in d["sizes"]]
expected = [(0, 0, 1, 0), (1, 1, 1, 1), (2, 2, 1, 2), (3, 4, 1, 3), (5, 8, 1, 8),
            (9, 16, 0, 0), (17, 32, 10, 240), (33, 64, 3, 192), (65, 128, 2, 165),
            (129, 256, 1, 200), (257, 512, 0, 0), (513, 1024, 0, 0), (1025, 2048, 0, 0),
            (2049, 4096, 1, 4096), (4097, 8192, 1, 5000)]
expected += [(2**k + 1, 2**(k + 1), 0, 0) for k in range(13, 20)]
expected += [(1048577, 2097152, 1, 1048577)]
eq("sizes", got, expected)
eq("percent of the 17-32 bucket", d["sizes"][6]["allocations_percent"], 41.67)
eq("percent of the bytes of the 1-2 MiB bucket", d["sizes"][-1]["bytes_percent"], 99.06)
'
json_check "stats --json: 20 intervals of 50 ms, each one's figures" stats.json '
r = d["rate"]
eq("interval_s", r["interval_s"], 0.05)
iv = r["intervals"]
eq("starts", [round(i["start_s"] * 1000) for i in iv], list(range(0, 1000, 50)))
eq("allocations", [i["allocations"] for i in iv],
   [4, 2, 1, 1, 0, 0, 0, 0, 4, 8, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0])
eq("bytes", [i["bytes_allocated"] for i in iv],
   [6, 4196, 1048577, 5000, 0, 0, 0, 0, 96, 312, 24, 65, 0, 0, 8, 0, 0, 0, 200, 0])
eq("frees", [i["frees"] for i in iv],
   [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 3, 5, 0, 1, 0, 0, 1, 0, 0])
eq("heap", [i["heap_bytes"] for i in iv],
   [6, 4202, 1052779, 1057778, 1057778, 9201, 9201, 9201, 9297, 9609, 9633, 9506, 9386,
    9386, 9294, 9294, 9294, 4294, 4494, 4494])
M = 1 << 20
eq("rss", [i["rss_bytes"] for i in iv], [M] * 10 + [2 * M] * 6 + [4 * M] * 4)
eq("per second", [(i["allocations_per_s"], i["bytes_allocated_per_s"], i["frees_per_s"])
                  for i in iv[8:12]],
   [(80.0, 1920.0, 0.0), (160.0, 6240.0, 0.0), (20.0, 480.0, 0.0), (20.0, 1300.0, 60.0)])
'
json_check "stats --json: the threads, by bytes allocated" stats.json '
got = [tuple(t[k] for k in ("thread", "os_tid", "name", "allocations", "frees",
                            "bytes_allocated", "bytes_freed", "leaked_bytes",
                            "leaked_allocations")) for t in d["threads"]]
eq("threads", got, [
    (1, 5000, "main", 8, 4, 1057779, 1053578, 4101, 3),
    (2, 5001, "worker-1", 11, 6, 440, 220, 320, 6),
    (3, 5002, "worker-2", 4, 3, 257, 192, 65, 1),
    (4, None, None, 1, 0, 8, 0, 8, 1)])
'

# The same records with the chunks in another order: the same figures (the
# slots widen at other moments, the threads appear in another order).
"$RECYCLE" stats stats-swapped.rcap --json > swapped.json 2>&1
if cmp -s stats.json swapped.json; then
    ok "stats-swapped: the same JSON whatever the order of the chunks"
else
    fail "stats-swapped: the same JSON whatever the order of the chunks" \
        "$(diff stats.json swapped.json | head -20)"
fi

# A clock that ticks every 4 ms: intervals of 4 ms, one tick each, not
# intervals of 2 ms that would hold a tick and nothing by turns.
run_cmd "$RECYCLE" stats coarse.rcap
expect_match "coarse: 14 intervals of 4 ms" "$OUT" \
    $'\nover time: 14 intervals of 4 ms \\(rates per second; heap and RSS at the end of each\\):\n      from   allocations/s        bytes/s         frees/s         heap          RSS\n      0 ms             250      3.9 KiB/s               0         16 B            -\n      4 ms             250      3.9 KiB/s               0         32 B            -\n'
"$RECYCLE" stats coarse.rcap --json > coarse.json
json_check "coarse: every interval holds its tick" coarse.json '
eq("interval_s", d["rate"]["interval_s"], 0.004)
eq("allocations", [i["allocations"] for i in d["rate"]["intervals"]], [1] * 13 + [0])
'

# ---- other captures ---------------------------------------------------------------------------------
# Every figure adds up to the totals, whatever the capture.
sums='
t = d["totals"]
for part, key, total in [("sizes", "allocations", "allocations"),
                         ("sizes", "bytes", "bytes_allocated"),
                         ("threads", "allocations", "allocations"),
                         ("threads", "bytes_allocated", "bytes_allocated"),
                         ("threads", "frees", "frees"),
                         ("threads", "leaked_bytes", "leaked_bytes")]:
    eq("sum of %s.%s" % (part, key), sum(x[key] for x in d[part]), t[total])
iv = d["rate"]["intervals"]
eq("sum of the intervals'"'"' allocations", sum(i["allocations"] for i in iv), t["allocations"])
eq("sum of the intervals'"'"' frees", sum(i["frees"] for i in iv), t["frees"])
eq("sum of the intervals'"'"' bytes", sum(i["bytes_allocated"] for i in iv), t["bytes_allocated"])
eq("heap at the end", iv[-1]["heap_bytes"], t["leaked_bytes"])
eq("largest heap", max(i["heap_bytes"] for i in iv) <= t["peak_bytes"], True)
eq("intervals", len(iv) <= 40, True)
'
for name in basic threads sampled signal stats coarse; do
    "$RECYCLE" stats "$name.rcap" --json > "$name.json" 2>/dev/null
    json_check "$name: every part adds up to the totals" "$name.json" "$sums"
done

run_cmd "$RECYCLE" stats basic.rcap
expect_match "basic: 10 us cut into 21 intervals of 500 ns" "$OUT" \
    $'\nover time: 21 intervals of 500 ns \\(rates per second; heap and RSS at the end of each\\):\n      from   allocations/s        bytes/s         frees/s         heap          RSS\n      0 ns               0          0 B/s               0          0 B            -\n    500 ns               0          0 B/s               0          0 B      1.0 MiB\n   1000 ns       2,000,000    190.7 MiB/s               0        100 B      1.0 MiB\n'
expect_match "basic: a realloc counts at its new size (20 B)" "$OUT" \
    $'\n       17-32 B            1   14.3%         20 B    1.4%  ##############################\n'

# The free of thread 2 came first in the file; it is thread 2's, of thread 1's block.
json_check "threads: who freed, whose block" threads.json '
eq("threads", [(t["thread"], t["name"], t["allocations"], t["frees"], t["bytes_allocated"],
                t["bytes_freed"], t["leaked_bytes"]) for t in d["threads"]],
   [(1, "main", 2, 0, 600, 0, 100), (2, "worker", 0, 1, 0, 500, 0)])
'

json_check "sampled: estimates from the weights" sampled.json '
eq("sampled", d["sampled"], True)
eq("sizes", [(b["min_size"], b["allocations"], b["bytes"]) for b in d["sizes"]],
   [(9, 256, 4096), (17, 0, 0), (33, 0, 0), (65, 0, 0), (129, 0, 0), (257, 0, 0),
    (513, 4, 4096)])
eq("thread", [(t["allocations"], t["frees"], t["leaked_bytes"]) for t in d["threads"]],
   [(260, 256, 4096)])
'
run_cmd "$RECYCLE" stats sampled.rcap
expect_match "sampled: the text says the figures are estimates" "$OUT" \
    $'\nallocations by requested size, estimated from a sample \\(a realloc counts at its new size\\):\n.*\nover time, estimated from a sample: .*\n1 thread by bytes allocated, estimated from a sample:\n'
expect "sampled: a free of a block not sampled is no warning" 0 - ""

run_cmd "$RECYCLE" stats signal.rcap
expect_match "signal: blocks live at the crash are not called leaked" "$OUT" \
    $'\n  thread        tid  allocations        frees    allocated        freed  live at end  name\n       1       4242            2            0         96 B          0 B         96 B  app$'
expect_match "signal: 2.5 s in 26 intervals of 100 ms (the last holds the end)" "$OUT" \
    $'\nover time: 26 intervals of 100 ms '

run_cmd "$RECYCLE" stats empty.rcap
expect "empty: the header alone" 0 "program          /opt/app/bin/app --rounds 3 (pid 4242)
ended            unknown: the capture has no exit record (the last record is at 0.000 ms)

allocations      0 (0 freed)
bytes allocated  0 B
peak heap        0 B in 0 blocks at 0.000 ms
live at end      0 B in 0 blocks
temporary        0 allocations

nothing was allocated" ""
"$RECYCLE" stats empty.rcap --json > empty.json
json_check "empty: JSON with empty parts" empty.json '
eq("exit_status", d["exit_status"], None)
eq("sizes", d["sizes"], [])
eq("threads", d["threads"], [])
eq("intervals", [(i["allocations"], i["heap_bytes"], i["rss_bytes"]) for i in d["rate"]["intervals"]],
   [(0, 0, None)])
'

# ---- a capture cut short ---------------------------------------------------------------------------
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
run_cmd "$RECYCLE" stats cut.rcap
expect_match "cut: a warning" "$ERR" \
    '^recycle stats: warning: cut\.rcap is incomplete: it ends in the middle of a chunk .*; the figures cover the [0-9]+ records before that$'
expect_match "cut: the figures up to there (thread 4's chunk is lost)" "$STATUS $OUT" \
    $'^0 program .*\nallocations      23 \\(13 freed\\)\n.*\n3 threads by bytes allocated:\n'
"$RECYCLE" stats cut.rcap --json > cut.json 2>/dev/null
json_check "cut: JSON says incomplete" cut.json 'eq("complete", d["complete"], False)'

# ---- damaged, foreign, missing ---------------------------------------------------------------------
cp stats.rcap damaged.rcap
printf '\x55' | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
run_cmd "$RECYCLE" stats damaged.rcap
expect "damaged: exit 1, nothing printed" 1 "" -
expect_match "damaged: the reader's message" "$ERR" '^recycle stats: damaged\.rcap: .+$'
printf 'hello, world\n' > text.rcap
run_cmd "$RECYCLE" stats text.rcap --json
expect "not a capture: exit 1" 1 "" -
expect_match "not a capture: the reader's message" "$ERR" '^recycle stats: text\.rcap: .*not a recycle capture'
run_cmd "$RECYCLE" stats missing.rcap
expect "missing file" 1 "" "recycle stats: missing.rcap: cannot open: No such file or directory"
run_cmd "$RECYCLE" stats "$TMP"
expect "a folder" 1 "" "recycle stats: $TMP: cannot read: Is a directory"

# ---- usage ------------------------------------------------------------------------------------------
usage="usage: recycle stats FILE [--json]
Try 'recycle stats --help' for more information."
run_cmd "$RECYCLE" stats
expect "no file" 2 "" "recycle stats: no capture file given
$usage"
run_cmd "$RECYCLE" stats a.rcap b.rcap
expect "two files" 2 "" "recycle stats: one capture at a time ('a.rcap' and 'b.rcap')
$usage"
run_cmd "$RECYCLE" stats stats.rcap --top 3
expect "unknown option" 2 "" "recycle stats: unknown option '--top'
$usage"
run_cmd "$RECYCLE" stats stats.rcap --json=yes
expect "--json=yes" 2 "" "recycle stats: option '--json' takes no argument
$usage"
run_cmd "$RECYCLE" stats --help
expect_match "--help: the usage and the options" "$STATUS $OUT" \
    $'^0 usage: recycle stats FILE \\[--json\\]\n\nSum up a capture: .*\n      --json          print the figures as JSON\n'
run_cmd "$RECYCLE" stats -- --json
expect "after --, an operand" 1 "" "recycle stats: --json: cannot open: No such file or directory"
if [[ -w /dev/full ]]; then
    "$RECYCLE" stats stats.rcap > /dev/full 2> "$TMP/err"
    STATUS=$?
    ERR=$(cat "$TMP/err")
    expect "to a full disk: exit 1" 1 - "recycle: write error on standard output: No space left on device"
fi

# ---- a real program, recorded by the real preload ------------------------------------------------------
if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "note: the preload is not built: the real program is not recorded"
    finish
fi
export RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD
run_cmd "$RECYCLE" run -o real.rcap -- "$RC_CLI_BIN/stats_threads"
expect "real: recorded" 0 - -
"$RECYCLE" stats real.rcap --json > real.json 2> real.err
STATUS=$?
ERR=$(cat real.err)
expect "real: stats, no warning" 0 - ""
json_check "real: each named thread's own allocations, exactly" real.json '
by_name = {t["name"]: t for t in d["threads"]}
fields = ("allocations", "frees", "bytes_allocated", "bytes_freed", "leaked_bytes",
          "leaked_allocations")
for name, expected in [("stats-a", (1000, 1000, 3000000, 3000000, 0, 0)),
                       ("stats-b", (300, 200, 12000000, 8000000, 4000000, 100))]:
    t = by_name.get(name)
    if t is None:
        problems.append("no thread named %s: %r" % (name, list(by_name)))
        continue
    eq(name, tuple(t[k] for k in fields), expected)
    eq(name + " os_tid", isinstance(t["os_tid"], int) and t["os_tid"] > 0, True)
eq("sorted by bytes", [t["name"] for t in d["threads"]][:2], ["stats-b", "stats-a"])
eq("thread 1 is the process", [t["os_tid"] for t in d["threads"] if t["thread"] == 1],
   [d["pid"]])
sizes = {b["max_size"]: b for b in d["sizes"]}
eq("2049-4096 B: stats-a", sizes[4096]["allocations"] >= 1000, True)
eq("32769-65536 B: stats-b", (sizes[65536]["allocations"], sizes[65536]["bytes"]), (300, 12000000))
'
json_check "real: every part adds up to the totals" real.json "$sums"

run_cmd "$RECYCLE" run --sample 64K -o sampled-real.rcap -- "$RC_CLI_BIN/stats_threads"
"$RECYCLE" stats sampled-real.rcap --json > sampled-real.json 2>/dev/null
# One sample per 64 KiB on average: 12 MB are some 180 samples, so the
# estimate is within a few tens of percent; a factor of two is certain.
json_check "real, sampled: estimates near the real figures" sampled-real.json '
eq("sampled", d["sampled"], True)
b = [t for t in d["threads"] if t["name"] == "stats-b"]
eq("stats-b listed", len(b), 1)
if b:
    eq("stats-b bytes %d within a factor of 2 of 12 MB" % b[0]["bytes_allocated"],
       6000000 <= b[0]["bytes_allocated"] <= 24000000, True)
'
run_cmd "$RECYCLE" stats sampled-real.rcap
expect_match "real, sampled: the text says estimates" "$OUT" \
    $'\nsampled          one allocation per 64.0 KiB allocated on average: the figures are estimates\n'

finish
