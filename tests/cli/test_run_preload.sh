#!/usr/bin/env bash
# test_run_preload.sh - `recycle run` with the real librecycle-preload.so,
# then `recycle report` on what it wrote: programs with known allocations
# (progs/known.c, progs/threads.c), exit statuses and signals recorded in
# the capture. Skipped (77) while the preload or the report is not built.
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

# The recycle of the build tree finds the preload beside itself.
run_cmd "$RECYCLE" run -o known.rcap -- "$B/known" 0
expect "known: exit 0, the capture named" 0 "" "recycle: wrote known.rcap"
run_cmd "$RECYCLE" report known.rcap --json
expect "known: report" 0 - ""
json=$OUT
site() {   # site NAME PATTERN: a site of the JSON report matches PATTERN
    if grep -qE "$2" <<<"$json"; then ok "$1"; else fail "$1" "no site matches:" "$2"; fi
}
site "known: 3 x 77777 from one line, all temporary" \
    '"bytes": 233331, "allocations": 3, "leaked_bytes": 0, "leaked_allocations": 0, "definitely_lost_bytes": 0, "still_reachable_bytes": 0, "peak_bytes": (0|77777), "peak_allocations": (0|1), "temporary_allocations": 3,'
site "known: malloc(1000), temporary (realloc'd at once)" \
    '"bytes": 1000, "allocations": 1, "leaked_bytes": 0, .*"temporary_allocations": 1,'
site "known: realloc to 2000" '"bytes": 2000, "allocations": 1, "leaked_bytes": 0, .*"temporary_allocations": 1,'
site "known: realloc to 3000" '"bytes": 3000, "allocations": 1, "leaked_bytes": 0, .*"temporary_allocations": 1,'
site "known: calloc(10, 3333)" '"bytes": 33330, "allocations": 1, "leaked_bytes": 0,'
site "known: 55555 definitely lost" \
    '"bytes": 55555, "allocations": 1, "leaked_bytes": 55555, "leaked_allocations": 1, "definitely_lost_bytes": 55555, "still_reachable_bytes": 0,'
site "known: 44444 still reachable" \
    '"bytes": 44444, "allocations": 1, "leaked_bytes": 44444, "leaked_allocations": 1, "definitely_lost_bytes": 0, "still_reachable_bytes": 44444,'
expect_match "known: exit status 0 recorded" "$json" '"exit_status": 0,
  "end": "exit",'
expect_match "known: the program" "$json" "\"program\": \"[^\"]*/known\","
expect_match "known: complete" "$json" '"complete": true,'

run_cmd "$RECYCLE" run -o known3.rcap -- "$B/known" 3
expect "known 3: exit status 3 passed on" 3 "" "recycle: wrote known3.rcap"
run_cmd "$RECYCLE" report known3.rcap --json
expect_match "known 3: exit status 3 recorded" "$OUT" '"exit_status": 3,'

# ---- threads: every thread's allocations, freed by another thread ------------------
run_cmd "$RECYCLE" run -o threads.rcap -- "$B/threads"
expect "threads: run" 0 "" "recycle: wrote threads.rcap"
run_cmd "$RECYCLE" report threads.rcap --json
expect "threads: report, no warning" 0 - ""
json=$OUT
site "threads: 4 x 1000 x 48 bytes from one line, all freed" \
    '"bytes": 192000, "allocations": 4000, "leaked_bytes": 0, "leaked_allocations": 0,'

# ---- fork ------------------------------------------------------------------------------
run_cmd "$RECYCLE" run -o fork1.rcap -- "$B/forker"
expect "fork: without --follow-fork, one capture" 0 "" "recycle: wrote fork1.rcap"
run_cmd "$RECYCLE" run --follow-fork -o fork2.rcap -- "$B/forker"
expect_match "fork: --follow-fork names the child's capture" "$STATUS $ERR" \
    $'^0 recycle: wrote fork2.rcap\nrecycle: wrote fork2.rcap.[0-9]+ \\(a child process\\)$'
child=$(ls fork2.rcap.* 2>/dev/null | head -n 1)
if [[ -n $child ]]; then
    run_cmd "$RECYCLE" report "$child" --json
    expect_match "fork: the child's capture has its allocation" "$OUT" '"bytes": 2222, "allocations": 1,'
fi
run_cmd "$RECYCLE" report fork2.rcap --json
expect_match "fork: the parent's capture has its own" "$OUT" '"bytes": 1111, "allocations": 1,'
if grep -q '"bytes": 2222,' <<<"$OUT"; then
    fail "fork: the child's allocation is not in the parent's capture"
else
    ok "fork: the child's allocation is not in the parent's capture"
fi

# ---- a program killed by a signal ------------------------------------------------------
run_cmd "$RECYCLE" run -o killed.rcap -- "$B/kill_self" 11
expect "killed: recycle reports the signal" 139 "" "recycle: wrote killed.rcap
recycle: $B/kill_self was killed by signal 11 (Segmentation fault)"
run_cmd "$RECYCLE" report killed.rcap --json
expect_match "killed: the capture says so" "$OUT" '"signal": 11,
  "end": "signal",'

# ---- sampling --------------------------------------------------------------------------------
run_cmd "$RECYCLE" run --sample 4K -o sampled.rcap -- "$B/known"
expect "sampled: run" 0 "" "recycle: wrote sampled.rcap"
run_cmd "$RECYCLE" report sampled.rcap --json
expect_match "sampled: marked" "$OUT" '"sampled": true,
  "sample_bytes": 4096,'

finish
