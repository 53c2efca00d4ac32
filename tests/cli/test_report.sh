#!/usr/bin/env bash
# test_report.sh - `recycle report` on captures with known content
# (captures.h, written by make_capture with the capture layer's writer):
# the text and JSON figures exactly, every option, captures cut short,
# damaged, empty or not captures at all, and usage errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
cd "$TMP"
for name in basic incomplete threads sampled signal noexit dlclose weird many empty; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done

# ---- basic: every figure ------------------------------------------------------------
head_basic="program          /opt/app/bin/app --rounds 3 (pid 4242)
ended            exited with status 0 after 0.010 ms

allocations      7 (5 freed)
bytes allocated  1.4 KiB (1,388 B)
peak heap        1.3 KiB (1,350 B) in 4 blocks at 0.004 ms
leaked at exit   250 B in 2 blocks: 50 B definitely lost, 200 B still reachable
temporary        3 allocations (42.9%)
peak RSS         3.0 MiB (3,145,728 B)"

run_cmd "$RECYCLE" report basic.rcap
expect "basic: totals and sites by line" 0 "$head_basic

3 sites by bytes allocated (by line):
      bytes  allocations      leaked        peak  site
    1.0 KiB            3         0 B      1000 B  app+0x4000
      308 B            3       200 B       300 B  app+0x2000
       50 B            1        50 B        50 B  app+0x3000" ""

run_cmd "$RECYCLE" report --leaks basic.rcap --peak --temporary
expect "basic: --leaks --peak --temporary" 0 "$head_basic

2 sites by memory not freed at the end (by line):
     leaked       blocks  definitely lost  still reachable  site
      200 B            1              0 B            200 B  app+0x2000
       50 B            1             50 B              0 B  app+0x3000

3 sites by memory live at the peak (by line):
  peak heap       blocks  site
     1000 B            1  app+0x4000
      300 B            2  app+0x2000
       50 B            1  app+0x3000

2 sites by temporary allocations (by line):
  temporary  allocations  site
          2            3  app+0x4000
          1            3  app+0x2000" ""

# --by stack: site A's line allocates from two callers, two stacks.
run_cmd "$RECYCLE" report basic.rcap --by stack --top 3
expect "basic: --by stack --top 3" 0 "$head_basic

top 3 of 4 sites by bytes allocated (by stack):
      bytes  allocations      leaked        peak  site
    1.0 KiB            3         0 B      1000 B  app+0x4000
             from app+0x1000
      300 B            2       200 B       300 B  app+0x2000
             from app+0x1000
       50 B            1        50 B        50 B  app+0x3000
             from app+0x1000" ""
run_cmd "$RECYCLE" report basic.rcap --by=stack --top=0 --temporary
expect "basic: --by stack, every temporary site" 0 "$head_basic

2 sites by temporary allocations (by stack):
  temporary  allocations  site
          2            3  app+0x4000
             from app+0x1000
          1            1  app+0x2000
             from app+0x5000" ""
# Without symbols a function is its address, so --by function is --by line;
# --by file is the module.
run_cmd "$RECYCLE" report basic.rcap --by function
expect_match "basic: --by function" "$OUT" $'3 sites by bytes allocated \\(by function\\):\n.*\n    1.0 KiB            3         0 B      1000 B  app\\+0x4000\n'
run_cmd "$RECYCLE" report basic.rcap --by file
expect_match "basic: --by file" "$OUT" $'1 site by bytes allocated \\(by file\\):\n      bytes  allocations      leaked        peak  site\n    1.4 KiB            7       250 B     1.3 KiB  /opt/app/bin/app$'

json_basic='{
  "program": "/opt/app/bin/app",
  "command_line": "/opt/app/bin/app --rounds 3",
  "pid": 4242,
  "exit_status": 0,
  "end": "exit",
  "duration_s": 0.000010000,
  "complete": true,
  "sampled": false,
  "sample_bytes": 0,
  "by": "line",
  "totals": {"allocations": 7, "frees": 5, "bytes_allocated": 1388, "peak_bytes": 1350, "peak_allocations": 4, "peak_time_s": 0.000004000, "leaked_bytes": 250, "leaked_allocations": 2, "definitely_lost_bytes": 50, "definitely_lost_allocations": 1, "still_reachable_bytes": 200, "still_reachable_allocations": 1, "temporary_allocations": 3, "peak_rss_bytes": 3145728},
  "sites": [
    {"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 16384, "bytes": 1030, "allocations": 3, "leaked_bytes": 0, "leaked_allocations": 0, "definitely_lost_bytes": 0, "still_reachable_bytes": 0, "peak_bytes": 1000, "peak_allocations": 1, "temporary_allocations": 2, "stack": [{"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 16384}, {"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 4096}]},
    {"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 8192, "bytes": 308, "allocations": 3, "leaked_bytes": 200, "leaked_allocations": 1, "definitely_lost_bytes": 0, "still_reachable_bytes": 200, "peak_bytes": 300, "peak_allocations": 2, "temporary_allocations": 1, "stack": [{"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 8192}, {"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 4096}]},
    {"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 12288, "bytes": 50, "allocations": 1, "leaked_bytes": 50, "leaked_allocations": 1, "definitely_lost_bytes": 50, "still_reachable_bytes": 0, "peak_bytes": 50, "peak_allocations": 1, "temporary_allocations": 0, "stack": [{"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 12288}, {"function": null, "file": null, "line": null, "module": "/opt/app/bin/app", "offset": 4096}]}
  ]
}'
run_cmd "$RECYCLE" report basic.rcap --json
expect "basic: --json" 0 "$json_basic" ""

# --leaks in JSON: sorted by what is leaked, only sites that leak.
run_cmd "$RECYCLE" report basic.rcap --json --leaks
sites=$(grep -o '"offset": [0-9]*, "bytes"' <<<"$OUT" | tr '\n' ' ')
expect_eq "basic: --json --leaks: sites that leak, most first" "$sites" \
    '"offset": 8192, "bytes" "offset": 12288, "bytes" '
run_cmd "$RECYCLE" report basic.rcap --json --top 1
expect_eq "basic: --json --top 1: one site" "$(grep -c '"bytes":' <<<"$OUT")" 1

# ---- twelve sites: the text shows 10, JSON every one ---------------------------------
run_cmd "$RECYCLE" report many.rcap
expect_match "many: text shows the top 10" "$OUT" $'top 10 of 12 sites by bytes allocated \\(by line\\):\n(.*\n){10}[^\n]*app\\+0x300$'
run_cmd "$RECYCLE" report many.rcap --json
expect_eq "many: JSON lists all 12 sites" "$(grep -c '"bytes":' <<<"$OUT")" 12
run_cmd "$RECYCLE" report many.rcap --top 0
expect_match "many: --top 0 shows all" "$OUT" $'\n12 sites by bytes allocated \\(by line\\):\n(.*\n){12}[^\n]*app\\+0x100$'

# ---- time order across threads ------------------------------------------------------
run_cmd "$RECYCLE" report threads.rcap --json
expect_match "threads: the free that came first in the file pairs with its allocation" "$OUT" \
    '"totals": \{"allocations": 2, "frees": 1, "bytes_allocated": 600, "peak_bytes": 500, "peak_allocations": 1, "peak_time_s": 0.000000100, "leaked_bytes": 100, "leaked_allocations": 1, "definitely_lost_bytes": 100,'
expect_match "threads: exit status 3" "$OUT" '"exit_status": 3,'

# ---- sampled --------------------------------------------------------------------------
run_cmd "$RECYCLE" report sampled.rcap --json
expect_match "sampled: estimates from the weights" "$OUT" \
    '"sampled": true,
  "sample_bytes": 4096,.*"totals": \{"allocations": 260, "frees": 256, "bytes_allocated": 8192, "peak_bytes": 8192, "peak_allocations": 260, '
expect "sampled: a free of a block not sampled is no warning" 0 - ""
run_cmd "$RECYCLE" report sampled.rcap
expect_match "sampled: said in the text" "$OUT" \
    $'\nsampled          one allocation per 4.0 KiB allocated on average: the figures are estimates\n'

# ---- how the program ended -----------------------------------------------------------
run_cmd "$RECYCLE" report signal.rcap
expect_match "signal: text" "$OUT" $'^program          /opt/app/bin/app --rounds 3 \\(pid 4242\\)\nended            killed by signal 11 \\(Segmentation fault\\) after 2.500 s\n'
expect_match "signal: blocks live at the crash are not called leaked" "$OUT" $'\nlive at end      96 B in 2 blocks\n'
run_cmd "$RECYCLE" report signal.rcap --json
expect_match "signal: JSON" "$OUT" $'  "pid": 4242,\n  "signal": 11,\n  "end": "signal",\n  "duration_s": 2.500000000,'
run_cmd "$RECYCLE" report noexit.rcap
expect_match "noexit: text" "$OUT" $'\nended            unknown: the capture has no exit record \\(the last record is at 1.500 ms\\)\n'
expect_match "noexit: an allocation without a stack" "$OUT" $'\n       32 B            1        32 B        32 B  \\[no stack recorded\\]'
run_cmd "$RECYCLE" report noexit.rcap --json
expect_match "noexit: JSON" "$OUT" $'  "exit_status": null,\n  "end": "unknown",'
expect_match "noexit: no leak classification" "$OUT" '"definitely_lost_bytes": null, "definitely_lost_allocations": null, "still_reachable_bytes": null'
run_cmd "$RECYCLE" report noexit.rcap --leaks
expect_match "noexit: --leaks says why there is no split" "$OUT" \
    $'     leaked       blocks  definitely lost  still reachable  site\n       64 B            1                -                -  app\\+0x2000\n.*\n\\(the capture does not say what is definitely lost: the program did not reach its normal exit\\)$'
run_cmd "$RECYCLE" report weird.rcap
expect_match "weird: _exit" "$OUT" $'\nended            exited with status 1 \\(_exit\\) after 0.000 ms\n'
expect_match "weird: a stack all inside libc is its innermost frame" "$OUT" $'\n        7 B            1         7 B         7 B  libc.so.6\\+0x3000'

# ---- modules replaced -------------------------------------------------------------------
run_cmd "$RECYCLE" report dlclose.rcap
expect_match "dlclose: each stack keeps the module it was recorded in" "$OUT" \
    $'\n       20 B            1        20 B        20 B  libother.so\\+0x2000\n       10 B            1        10 B        10 B  libplugin.so\\+0x1234$'

# ---- strings in JSON ----------------------------------------------------------------------
run_cmd "$RECYCLE" report weird.rcap --json
expect_match "weird: invalid UTF-8 and quotes escaped" "$OUT" '"module": "/opt/\\ufffd\\"odd\\"/app", "offset": 16,'

# ---- an empty capture -------------------------------------------------------------------------
run_cmd "$RECYCLE" report empty.rcap
expect "empty: the header alone" 0 "program          /opt/app/bin/app --rounds 3 (pid 4242)
ended            unknown: the capture has no exit record (the last record is at 0.000 ms)

allocations      0 (0 freed)
bytes allocated  0 B
peak heap        0 B in 0 blocks at 0.000 ms
live at end      0 B in 0 blocks
temporary        0 allocations

nothing was allocated" ""
run_cmd "$RECYCLE" report empty.rcap --json
expect_match "empty: JSON" "$OUT" $'"totals": \\{"allocations": 0, .*\\},\n  "sites": \\[\\]\n\\}$'

# ---- a capture cut short ------------------------------------------------------------------------
size=$(stat -c %s basic.rcap)
head -c $((size - 3)) basic.rcap > cut.rcap
"$RECYCLE" report incomplete.rcap > incomplete.txt 2>/dev/null
run_cmd "$RECYCLE" report cut.rcap
expect "cut: reported up to where it ends, with a warning" 0 "$(cat incomplete.txt)" \
    "recycle report: warning: cut.rcap is incomplete: it ends in the middle of a chunk (the program was killed while writing it, or the file was cut); the figures cover the 25 records before that"
run_cmd "$RECYCLE" report cut.rcap --json
expect_match "cut: JSON says incomplete" "$OUT" '"complete": false,'

# ---- damaged, foreign, missing -------------------------------------------------------------------
cp basic.rcap damaged.rcap
printf '\x55' | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
run_cmd "$RECYCLE" report damaged.rcap
expect "damaged: exit 1, no report" 1 "" -
expect_match "damaged: the reader's message" "$ERR" '^recycle report: damaged\.rcap: .+$'
printf 'hello, world\n' > text.rcap
run_cmd "$RECYCLE" report text.rcap
expect "not a capture: exit 1" 1 "" -
expect_match "not a capture: the reader's message" "$ERR" '^recycle report: text\.rcap: .*not a recycle capture'
: > zero.rcap
run_cmd "$RECYCLE" report zero.rcap
expect "an empty file: exit 1" 1 "" -
expect_match "an empty file: a message" "$ERR" '^recycle report: zero\.rcap: .+$'
run_cmd "$RECYCLE" report missing.rcap
expect "missing file" 1 "" "recycle report: missing.rcap: cannot open: No such file or directory"
run_cmd "$RECYCLE" report "$TMP"
expect "a folder" 1 "" "recycle report: $TMP: cannot read: Is a directory"

# ---- usage errors -----------------------------------------------------------------------------------
usage="usage: recycle report FILE [--top N] [--by function|line|file|stack] [--leaks] [--peak]
              [--temporary] [--json]
Try 'recycle report --help' for more information."
run_cmd "$RECYCLE" report
expect "no file" 2 "" "recycle report: no capture file given
$usage"
run_cmd "$RECYCLE" report a.rcap b.rcap
expect "two files" 2 "" "recycle report: one capture at a time ('a.rcap' and 'b.rcap')
$usage"
run_cmd "$RECYCLE" report basic.rcap --by size
expect "--by size" 2 "" "recycle report: --by: 'size' is not one of function, line, file, stack
$usage"
run_cmd "$RECYCLE" report basic.rcap --top ten
expect "--top ten" 2 "" "recycle report: --top: 'ten' is not a number
$usage"
run_cmd "$RECYCLE" report basic.rcap --top
expect "--top without N" 2 "" "recycle report: option '--top' needs an argument
$usage"
run_cmd "$RECYCLE" report basic.rcap --json=yes
expect "--json=yes" 2 "" "recycle report: option '--json' takes no argument
$usage"
run_cmd "$RECYCLE" report basic.rcap --lines
expect "unknown option" 2 "" "recycle report: unknown option '--lines'
$usage"
run_cmd "$RECYCLE" report -- --json
expect "after --, an operand" 1 "" "recycle report: --json: cannot open: No such file or directory"

# ---- the progress line ------------------------------------------------------------------------
# A FIFO whose writer stalls for 1.5 s makes the reading take more than a
# second; script(1) gives the report a terminal.
"$RC_CLI_MAKE_CAPTURE" large:200000 large.rcap || { echo "make_capture large failed"; exit 1; }
mkfifo slow.fifo
slow_writer() { { head -c 200 large.rcap; sleep 1.5; tail -c +201 large.rcap; } > slow.fifo; }
if command -v script > /dev/null 2>&1; then
    slow_writer &
    script -qec "$RECYCLE report slow.fifo --top 1" /dev/null > tty.out 2>&1
    STATUS=$?
    wait
    expect_match "progress: on a terminal after a second, erased before the report" \
        "$STATUS $(cat tty.out)" $'^0 \rrecycle report: reading slow\\.fifo: [0-9]+%(\r[^\n]*)?\r\033\\[Kprogram '
fi
slow_writer &
run_cmd "$RECYCLE" report slow.fifo --top 1
wait
expect "progress: never when stderr is not a terminal" 0 - ""

# ---- write errors ---------------------------------------------------------------------------------------
if [[ -w /dev/full ]]; then
    "$RECYCLE" report basic.rcap > /dev/full 2> "$TMP/err"
    STATUS=$?
    ERR=$(cat "$TMP/err")
    expect "a report to a full disk: exit 1" 1 - "recycle: write error on standard output: No space left on device"
fi

finish
