#!/usr/bin/env bash
# test_diff.sh - `recycle diff` on captures the real preload recorded of
# progs/diff_grow.c run with 2 and with 10: the totals' and every site's
# change exactly, sites new and gone, each --by and --sort, --top, JSON, a
# capture against itself, code without symbols matched by module and
# offset, damaged and missing captures, usage errors. Skipped (77) while
# the preload or the report layer is not built.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "skipped: librecycle-preload.so is not built"
    exit 77
fi
if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built"
    exit 77
fi
unset RECYCLE_PRELOAD LD_PRELOAD RECYCLE_FRAMES RECYCLE_SAMPLE RECYCLE_FOLLOW_FORK RECYCLE_PRELOAD_PID
cd "$TMP"
B=$RC_CLI_BIN
SRC=$RC_CLI_SRC/progs/diff_grow.c

# diff_grow N: churn N x 100 B (freed), hoard N x 10 B (leaked), steady
# 5000 B (the peak: 5000 + 10 N), big_only 777 B when N > 5, small_only
# 333 B otherwise.
run_cmd "$RECYCLE" run -o two.rcap -- "$B/diff_grow" 2
expect "diff_grow 2 recorded" 0 "" "recycle: wrote two.rcap"
run_cmd "$RECYCLE" run -o ten.rcap -- "$B/diff_grow" 10
expect "diff_grow 10 recorded" 0 "" "recycle: wrote ten.rcap"

# The first two lines hold the pids: checked apart, then dropped.
header() {   # header NAME OLDFILE OLDARG NEWFILE NEWARG: sets BODY
    local re="^old              $B/diff_grow $3 \\(pid [0-9]+\\): $2"$'\n'"new              $B/diff_grow $5 \\(pid [0-9]+\\): $4"$'\n'
    expect_match "$1: the captures compared" "$OUT" "$re"
    BODY=${OUT#*$'\n'}
    BODY=${BODY#*$'\n'}
}

totals="
                            old             new          change
allocations                   6              22             +16
bytes allocated         5.4 KiB         6.7 KiB        +1.3 KiB
peak heap               4.9 KiB         5.0 KiB           +80 B
leaked at exit             20 B           100 B           +80 B
leaked blocks                 2              10              +8
"

run_cmd "$RECYCLE" diff two.rcap ten.rcap
expect "2 -> 10: exit 0, nothing on stderr" 0 - ""
header "2 -> 10" two.rcap 2 ten.rcap 10
expect_eq "2 -> 10: totals, then every site by the change of its bytes" "$BODY" "$totals
5 sites by change in bytes allocated (by line):
          bytes  allocations      leaked        peak  site
         +800 B           +8         0 B         0 B  churn ($SRC:16)
old       200 B            2         0 B         0 B
new      1000 B           10         0 B         0 B
         +777 B           +1         0 B         0 B  big_only ($SRC:32)  [new]
old           -            -           -           -
new       777 B            1         0 B         0 B
         -333 B           -1         0 B         0 B  small_only ($SRC:37)  [gone]
old       333 B            1         0 B         0 B
new           -            -           -           -
          +80 B           +8       +80 B       +80 B  hoard ($SRC:23)
old        20 B            2        20 B        20 B
new       100 B           10       100 B       100 B
            0 B            0         0 B         0 B  steady ($SRC:27)
old     4.9 KiB            1         0 B     4.9 KiB
new     4.9 KiB            1         0 B     4.9 KiB"

# The other way round: what grew shrank, new and gone swap.
run_cmd "$RECYCLE" diff ten.rcap two.rcap --top 3
header "10 -> 2" ten.rcap 10 two.rcap 2
expect_eq "10 -> 2 --top 3: signs and new/gone reversed" "$BODY" "
                            old             new          change
allocations                  22               6             -16
bytes allocated         6.7 KiB         5.4 KiB        -1.3 KiB
peak heap               5.0 KiB         4.9 KiB           -80 B
leaked at exit            100 B            20 B           -80 B
leaked blocks                10               2              -8

top 3 of 5 sites by change in bytes allocated (by line):
          bytes  allocations      leaked        peak  site
         -800 B           -8         0 B         0 B  churn ($SRC:16)
old      1000 B           10         0 B         0 B
new       200 B            2         0 B         0 B
         -777 B           -1         0 B         0 B  big_only ($SRC:32)  [gone]
old       777 B            1         0 B         0 B
new           -            -           -           -
         +333 B           +1         0 B         0 B  small_only ($SRC:37)  [new]
old           -            -           -           -
new       333 B            1         0 B         0 B"

# ---- --sort, --by ---------------------------------------------------------------------------------
sites_of() {   # the site column of the table, one a line
    sed -n '/^          bytes  allocations/,$p' <<<"$OUT" | grep -v '^old \|^new \|^          bytes' | sed "s/^.\{52\}  //"
}
run_cmd "$RECYCLE" diff two.rcap ten.rcap --sort leaked --top 1
expect_eq "--sort leaked: the leak that grew first" "$(sites_of)" "hoard ($SRC:23)"
expect_match "--sort leaked: says so" "$OUT" $'\ntop 1 of 5 sites by change in memory not freed at the end \\(by line\\):\n'
run_cmd "$RECYCLE" diff two.rcap ten.rcap --sort=allocations --top=2
expect_eq "--sort allocations: churn and hoard, +8 each (churn has more bytes in new)" "$(sites_of)" \
"churn ($SRC:16)
hoard ($SRC:23)"
run_cmd "$RECYCLE" diff two.rcap ten.rcap --sort peak --top 1
expect_match "--sort peak: the peak grew in hoard" "$OUT" \
    $'\n          \\+80 B           \\+8       \\+80 B       \\+80 B  hoard \\('
run_cmd "$RECYCLE" diff two.rcap ten.rcap --by function --top 0
expect_eq "--by function: functions alone" "$(sites_of)" \
"churn
big_only  [new]
small_only  [gone]
hoard
steady"
run_cmd "$RECYCLE" diff two.rcap ten.rcap --by file
expect_match "--by file: one site, the file, +1.3 KiB" "$OUT" \
    $'\n1 site by change in bytes allocated \\(by file\\):\n          bytes  allocations      leaked        peak  site\n       \\+1.3 KiB          \\+16       \\+80 B       \\+80 B  '"$SRC"$'\nold     5.4 KiB            6        20 B     4.9 KiB\nnew     6.7 KiB           22       100 B     5.0 KiB$'
run_cmd "$RECYCLE" diff two.rcap ten.rcap --by stack --top 1
expect_match "--by stack: the site and its callers" "$OUT" \
    $'\n         \\+800 B           \\+8         0 B         0 B  churn \\('"$SRC"$':16\\)\nold       200 B            2         0 B         0 B\nnew      1000 B           10         0 B         0 B\n           from main \\('"$SRC"$':43\\)\n           from '

# ---- JSON -------------------------------------------------------------------------------------------
run_cmd "$RECYCLE" diff two.rcap ten.rcap --json
expect "--json: exit 0" 0 - ""
expect_match "--json: the captures" "$OUT" \
    "^\\{
  \"old\": \\{\"path\": \"two.rcap\", \"program\": \"$B/diff_grow\", \"command_line\": \"$B/diff_grow 2\", \"pid\": [0-9]+, \"complete\": true, \"sampled\": false\\},
  \"new\": \\{\"path\": \"ten.rcap\", \"program\": \"$B/diff_grow\", \"command_line\": \"$B/diff_grow 10\", \"pid\": [0-9]+, \"complete\": true, \"sampled\": false\\},
  \"by\": \"line\",
  \"sort\": \"bytes\",
"
expect_match "--json: the totals, old, new and change" "$OUT" \
    '"totals": \{"allocations": \{"old": 6, "new": 22, "change": 16\}, "frees": \{"old": 4, "new": 12, "change": 8\}, "bytes_allocated": \{"old": 5553, "new": 6877, "change": 1324\}, "peak_bytes": \{"old": 5020, "new": 5100, "change": 80\}, "leaked_bytes": \{"old": 20, "new": 100, "change": 80\}, "leaked_allocations": \{"old": 2, "new": 10, "change": 8\}, "temporary_allocations": \{"old": 4, "new": 12, "change": 8\}\},'
expect_match "--json: a site in both" "$OUT" \
    "\\{\"status\": \"both\", \"function\": \"hoard\", \"file\": \"$SRC\", \"line\": 23, \"module\": \"$B/diff_grow\", \"offset\": [0-9]+, \"old\": \\{\"bytes\": 20, \"allocations\": 2, \"leaked_bytes\": 20, \"leaked_allocations\": 2, \"peak_bytes\": 20, \"peak_allocations\": 2\\}, \"new\": \\{\"bytes\": 100, \"allocations\": 10, \"leaked_bytes\": 100, \"leaked_allocations\": 10, \"peak_bytes\": 100, \"peak_allocations\": 10\\}, \"change\": \\{\"bytes\": 80, \"allocations\": 8, \"leaked_bytes\": 80, \"leaked_allocations\": 8, \"peak_bytes\": 80, \"peak_allocations\": 8\\}\\}"
expect_match "--json: a new site" "$OUT" \
    '\{"status": "new", "function": "big_only", [^{]*"old": null, "new": \{"bytes": 777, "allocations": 1, [^}]*\}, "change": \{"bytes": 777, "allocations": 1,'
expect_match "--json: a gone site, negative changes" "$OUT" \
    '\{"status": "gone", "function": "small_only", [^{]*"old": \{"bytes": 333, [^}]*\}, "new": null, "change": \{"bytes": -333, "allocations": -1,'
expect_eq "--json: every site without --top" "$(grep -c '"status": ' <<<"$OUT")" 5
run_cmd "$RECYCLE" diff two.rcap ten.rcap --json --top 2 --by function
expect_eq "--json --top 2: two sites" "$(grep -c '"status": ' <<<"$OUT")" 2
expect_match "--json --by function: no line" "$OUT" '\{"status": "both", "function": "churn", "file": "[^"]*", "line": null,'
run_cmd "$RECYCLE" diff two.rcap ten.rcap --json --by stack --top 1
expect_match "--json --by stack: the stack" "$OUT" \
    "\"stack\": \\[\\{\"function\": \"churn\", \"file\": \"$SRC\", \"line\": 16, [^}]*\\}, \\{\"function\": \"main\", \"file\": \"$SRC\", \"line\": 43,"

# ---- a capture against itself ------------------------------------------------------------------------
run_cmd "$RECYCLE" diff ten.rcap ten.rcap --by function --top 0
expect "itself: exit 0" 0 - ""
expect_eq "itself: no change anywhere" "$(sed -n '/^          bytes  allocations/,$p' <<<"$OUT" | grep -v '^old \|^new \|^          bytes' | cut -c1-52 | sort -u)" \
"            0 B            0         0 B         0 B"
expect_match "itself: totals unchanged" "$OUT" $'\nallocations                  22              22               0\nbytes allocated         6.7 KiB         6.7 KiB             0 B\n'

# ---- code without symbols: matched by module and offset ------------------------------------------------
if command -v cc >/dev/null; then
    cc -O0 -o nosyms "$SRC" && strip nosyms || fail "cc, strip"
    run_cmd "$RECYCLE" run -o nosyms2.rcap -- ./nosyms 2
    run_cmd "$RECYCLE" run -o nosyms10.rcap -- ./nosyms 10
    run_cmd "$RECYCLE" diff nosyms2.rcap nosyms10.rcap --top 2
    expect "no symbols: exit 0" 0 - ""
    expect_match "no symbols: the same addresses matched across runs" "$OUT" \
        $'\n         \\+800 B           \\+8         0 B         0 B  nosyms\\+0x[0-9a-f]+\nold       200 B            2         0 B         0 B\nnew      1000 B           10         0 B         0 B\n         \\+777 B           \\+1         0 B         0 B  nosyms\\+0x[0-9a-f]+  \\[new\\]\n'
else
    echo "note: no C compiler (cc): captures without symbols not tested"
fi

# ---- bad captures -------------------------------------------------------------------------------------------
# One byte flipped (XOR: a byte set to a value may already hold it).
cp ten.rcap damaged.rcap
byte=$(od -An -tu1 -j200 -N1 damaged.rcap | tr -d ' ')
printf "\\x$(printf %02x $((byte ^ 0x55)))" | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
cmp -s ten.rcap damaged.rcap && fail "damaged.rcap is not damaged"
run_cmd "$RECYCLE" diff two.rcap damaged.rcap
expect "damaged NEW: exit 1, nothing printed" 1 "" -
expect_match "damaged NEW: the reader's message, naming it" "$ERR" '^recycle diff: damaged\.rcap: .+$'
run_cmd "$RECYCLE" diff damaged.rcap two.rcap
expect "damaged OLD: exit 1, nothing printed" 1 "" -
expect_match "damaged OLD: the reader's message, naming it" "$ERR" '^recycle diff: damaged\.rcap: .+$'
run_cmd "$RECYCLE" diff two.rcap missing.rcap
expect "missing capture: exit 1" 1 "" -
expect_match "missing capture: says which" "$ERR" '^recycle diff: missing\.rcap: .+$'
run_cmd "$RECYCLE" diff "$SRC" two.rcap
expect "not a capture: exit 1" 1 "" -

"$RC_CLI_MAKE_CAPTURE" empty empty.rcap || fail "make_capture empty"
run_cmd "$RECYCLE" diff empty.rcap two.rcap --by function
expect "empty OLD: exit 0" 0 - ""
expect_match "empty OLD: every site new" "$OUT" \
    $'\n4 sites by change in bytes allocated \\(by function\\):\n.*\n       \\+4.9 KiB           \\+1         0 B    \\+4.9 KiB  steady  \\[new\\]\n'
run_cmd "$RECYCLE" diff empty.rcap empty.rcap
expect_match "both empty: no site" "$STATUS $OUT" $'^0 .*\n\nno allocation site in either capture$'

# ---- usage ------------------------------------------------------------------------------------------------------
run_cmd "$RECYCLE" diff
expect "usage: nothing given" 2 "" -
expect_match "usage: nothing given, says what" "$ERR" "^recycle diff: no captures given \\(OLD and NEW\\)"$'\n'"usage: recycle diff "
run_cmd "$RECYCLE" diff two.rcap
expect "usage: one capture" 2 "" -
expect_match "usage: one capture, says what" "$ERR" "^recycle diff: only one capture given"
run_cmd "$RECYCLE" diff two.rcap ten.rcap ten.rcap
expect_match "usage: three captures" "$STATUS $ERR" "^2 recycle diff: two captures to compare \\('ten.rcap' is one too many\\)"
run_cmd "$RECYCLE" diff two.rcap ten.rcap --by address
expect_match "usage: --by" "$STATUS $ERR" "^2 recycle diff: --by: 'address' is not one of function, line, file, stack"
run_cmd "$RECYCLE" diff two.rcap ten.rcap --sort size
expect_match "usage: --sort" "$STATUS $ERR" "^2 recycle diff: --sort: 'size' is not one of bytes, allocations, leaked, peak"
run_cmd "$RECYCLE" diff two.rcap ten.rcap --top x
expect "usage: --top" 2 "" -
run_cmd "$RECYCLE" diff two.rcap ten.rcap --leaks
expect "usage: unknown option" 2 "" -
run_cmd "$RECYCLE" diff --help
expect "--help: exit 0" 0 - ""
expect_match "--help: the usage and the options" "$OUT" \
    "^usage: recycle diff OLD NEW \\[--by function\\|line\\|file\\|stack\\]"$'\n'".*--sort KEY.*--top N.*--json"

# ---- under valgrind: no leak, no invalid read -------------------------------------------------------------------
if [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind >/dev/null; then
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$RECYCLE" diff two.rcap ten.rcap --by stack --json
    expect "valgrind: diff --by stack --json is clean" 0 - ""
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$RECYCLE" diff two.rcap damaged.rcap
    expect "valgrind: a damaged NEW is clean" 1 - -
fi

finish
