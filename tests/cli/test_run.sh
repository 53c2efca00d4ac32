#!/usr/bin/env bash
# test_run.sh - `recycle run` with a stub preload library that records the
# environment it was started with (tests/cli/stub_preload.c): the variables
# recycle sets, where it looks for the preload, the program's exit status,
# signals, standard streams, programs that cannot be started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${RC_CLI_STUB_PRELOAD:?}"
export RECYCLE_PRELOAD=$RC_CLI_STUB_PRELOAD
unset LD_PRELOAD RECYCLE_FRAMES RECYCLE_SAMPLE RECYCLE_FOLLOW_FORK RECYCLE_OUTPUT
cd "$TMP"
stub=$(realpath "$RC_CLI_STUB_PRELOAD")
B=$RC_CLI_BIN

# ---- the environment the program gets ------------------------------------------
run_cmd "$RECYCLE" run -o out.rcap -- "$B/exit_with" 0 hello
expect "run: program's output passes through" 0 "hello" "recycle: wrote out.rcap"
expect_eq "run -o: the environment" "$(grep -v '^pid=' out.rcap)" "RECYCLE_OUTPUT=$TMP/out.rcap
RECYCLE_FRAMES=
RECYCLE_SAMPLE=
RECYCLE_FOLLOW_FORK=
RECYCLE_PRELOAD_PID=
LD_PRELOAD=$stub"
# A recording inside a recorded program is a recording of its own.
RECYCLE_PRELOAD_PID=1234 run_cmd "$RECYCLE" run -o out.rcap -- "$B/exit_with" 0
expect_eq "run: RECYCLE_PRELOAD_PID is not passed on" "$(grep '^RECYCLE_PRELOAD_PID=' out.rcap)" \
    "RECYCLE_PRELOAD_PID="

mkdir -p sub
run_cmd "$RECYCLE" run --frames=7 --sample=512K --follow-fork -osub/../o2.rcap "$B/exit_with" 3
expect "run: options with = and -oFILE; --follow-fork names the children's captures" 3 "" \
    "recycle: wrote sub/../o2.rcap
recycle: wrote sub/../o2.rcap.99999 (a child process)"
expect_eq "run: RECYCLE_FRAMES, RECYCLE_SAMPLE, RECYCLE_FOLLOW_FORK" "$(grep -v '^pid=' o2.rcap)" \
"RECYCLE_OUTPUT=$TMP/sub/../o2.rcap
RECYCLE_FRAMES=7
RECYCLE_SAMPLE=524288
RECYCLE_FOLLOW_FORK=1
RECYCLE_PRELOAD_PID=
LD_PRELOAD=$stub"

LD_PRELOAD=/lib/nonexistent-a.so run_cmd "$RECYCLE" run -o o3.rcap -- "$B/exit_with" 0
expect_eq "run: LD_PRELOAD prepended to the user's" "$(grep '^LD_PRELOAD=' o3.rcap)" \
    "LD_PRELOAD=$stub:/lib/nonexistent-a.so"

# The default name: recycle-<program>-<pid>.rcap in the working directory.
run_cmd "$RECYCLE" run -- "$B/exit_with" 0
pid=$(sed -n 's/^pid=//p' recycle-exit_with-*.rcap 2>/dev/null | head -n 1)
expect "run: default capture name" 0 "" "recycle: wrote recycle-exit_with-$pid.rcap"
expect_eq "run: default name holds the program's pid" "$(sed -n 's/^RECYCLE_OUTPUT=//p' "recycle-exit_with-$pid.rcap")" \
    "$TMP/recycle-exit_with-$pid.rcap"

# A program the preload could not record (the stub writes nothing).
RC_STUB_NO_WRITE=1 run_cmd "$RECYCLE" run -o none.rcap -- "$B/exit_with" 4
expect "run: no capture written" 4 "" \
    "recycle: no capture was written to none.rcap (a statically linked or set-user-ID program cannot be preloaded)"
echo stale > stale.rcap
RC_STUB_NO_WRITE=1 run_cmd "$RECYCLE" run -o stale.rcap -- "$B/exit_with" 0
expect "run: an old file of that name is not taken for a capture" 0 "" \
    "recycle: no capture was written to stale.rcap (a statically linked or set-user-ID program cannot be preloaded)"

# PATH search, as a shell.
PATH="$B:$PATH" run_cmd "$RECYCLE" run -o p.rcap -- exit_with 5
expect "run: PROGRAM found on PATH" 5 "" "recycle: wrote p.rcap"

# ---- programs that cannot start ---------------------------------------------------
run_cmd "$RECYCLE" run -o x.rcap -- ./no-such-program
expect "run: missing program (127)" 127 "" "recycle: cannot run ./no-such-program: No such file or directory"
run_cmd "$RECYCLE" run -o x.rcap -- no-such-program-on-path-xyz
expect "run: missing program on PATH (127)" 127 "" \
    "recycle: cannot run no-such-program-on-path-xyz: No such file or directory"
printf 'not a program\n' > notexec
chmod 644 notexec
if [[ $(id -u) -ne 0 ]] || ! [[ -x notexec ]]; then
    run_cmd "$RECYCLE" run -o x.rcap -- ./notexec
    expect "run: not executable (126)" 126 "" "recycle: cannot run ./notexec: Permission denied"
fi
run_cmd "$RECYCLE" run -o x.rcap -- "$TMP"
expect "run: a folder (126)" 126 "" "recycle: cannot run $TMP: Permission denied"
[[ ! -e x.rcap ]] && ok "run: no capture when the program did not start" \
    || fail "run: no capture when the program did not start"

# ---- exit statuses and signals --------------------------------------------------------
for st in 0 1 42 255; do
    run_cmd "$RECYCLE" run -o s.rcap -- "$B/exit_with" "$st"
    expect "run: exit status $st" "$st" "" "recycle: wrote s.rcap"
done
run_cmd "$RECYCLE" run -o k.rcap -- "$B/kill_self" 11
expect "run: killed by SIGSEGV" 139 "" "recycle: wrote k.rcap
recycle: $B/kill_self was killed by signal 11 (Segmentation fault)"
run_cmd "$RECYCLE" run -o k.rcap -- "$B/kill_self" 6
expect "run: killed by SIGABRT" 134 "" "recycle: wrote k.rcap
recycle: $B/kill_self was killed by signal 6 (Aborted)"
run_cmd "$RECYCLE" run -o k.rcap -- "$B/kill_self" 9
expect "run: killed by SIGKILL" 137 "" "recycle: wrote k.rcap
recycle: $B/kill_self was killed by signal 9 (Killed)"

# ---- standard streams ----------------------------------------------------------------------
printf 'line one\nline two\n' > input.txt
STDIN=input.txt run_cmd "$RECYCLE" run -o c.rcap -- "$B/cat_stdin"
expect "run: stdin, stdout and stderr pass through" 0 "line one
line two" "done
recycle: wrote c.rcap"
head -c 300000 /dev/urandom > big.bin
"$RECYCLE" run -o c.rcap -- "$B/cat_stdin" < big.bin 2>/dev/null | cmp -s - big.bin \
    && ok "run: 300 KB through a pipe, byte for byte" || fail "run: 300 KB through a pipe, byte for byte"

# ---- forwarded signals ------------------------------------------------------------------------
# With job control on, a background job is its own process group and does
# not start with SIGINT ignored (as it does in a script without it).
set -m
for sig in TERM INT HUP; do
    rm -f ready
    "$RECYCLE" run -o w.rcap -- "$B/wait_signal" ready > w.out 2> w.err &
    rpid=$!
    for _ in $(seq 1 500); do [[ -s ready ]] && break; sleep 0.01; done
    kill -s "$sig" "$rpid"
    wait "$rpid"
    STATUS=$?
    OUT=$(cat w.out); ERR=$(cat w.err)
    num=$(kill -l "$sig")
    expect "run: SIG$sig sent to recycle reaches the program once" $((100 + num)) "got $sig x1" \
        "recycle: wrote w.rcap"
done
set +m
# Without job control the background recycle starts with SIGINT ignored:
# it stays ignored (nohup-like), so only the later SIGTERM is forwarded.
rm -f ready
"$RECYCLE" run -o w.rcap -- "$B/wait_signal" ready > w.out 2> w.err &
rpid=$!
for _ in $(seq 1 500); do [[ -s ready ]] && break; sleep 0.01; done
kill -s INT "$rpid"
sleep 0.2
kill -s TERM "$rpid"
wait "$rpid"
STATUS=$?
OUT=$(cat w.out); ERR=$(cat w.err)
expect "run: a signal ignored at the start is not forwarded" 115 "got TERM x1" "recycle: wrote w.rcap"

# ---- finding the preload ----------------------------------------------------------------------
unset RECYCLE_PRELOAD
mkdir -p inst/bin
cp "$RECYCLE" inst/bin/recycle
run_cmd inst/bin/recycle run -o f.rcap -- "$B/exit_with" 0
expect_match "run: no preload anywhere: exit 1" "$STATUS" '^1$'
expect_match "run: no preload anywhere: the message" "$ERR" \
    "^recycle run: cannot find librecycle-preload.so \(looked in $TMP/inst/bin and in $TMP/inst/bin/\.\./lib\*/ and lib\*/recycle/\); set RECYCLE_PRELOAD to its path\$"
for where in bin lib/recycle lib lib64 lib64/recycle; do
    rm -rf inst/lib inst/lib64 inst/bin/librecycle-preload.so
    mkdir -p "inst/$where"
    cp "$RC_CLI_STUB_PRELOAD" "inst/$where/librecycle-preload.so"
    run_cmd inst/bin/recycle run -o f.rcap -- "$B/exit_with" 0
    expect "run: preload found in $where/" 0 "" "recycle: wrote f.rcap"
    expect_eq "run: preload from $where/ in LD_PRELOAD" "$(grep '^LD_PRELOAD=' f.rcap)" \
        "LD_PRELOAD=$TMP/inst/$where/librecycle-preload.so"
done
RECYCLE_PRELOAD=$TMP/nowhere.so run_cmd "$RECYCLE" run -o f.rcap -- "$B/exit_with" 0
expect "run: RECYCLE_PRELOAD missing" 1 "" "recycle run: RECYCLE_PRELOAD=$TMP/nowhere.so: No such file or directory"
mkdir -p 'odd dir'
cp "$RC_CLI_STUB_PRELOAD" 'odd dir/p.so'
RECYCLE_PRELOAD="$TMP/odd dir/p.so" run_cmd "$RECYCLE" run -o f.rcap -- "$B/exit_with" 0
expect "run: a preload path LD_PRELOAD cannot hold" 1 "" \
    "recycle run: cannot preload $TMP/odd dir/p.so: LD_PRELOAD cannot hold a path with a colon or a space; set RECYCLE_PRELOAD to a copy elsewhere"

# ---- the capture's location -------------------------------------------------------------------
export RECYCLE_PRELOAD=$RC_CLI_STUB_PRELOAD
run_cmd "$RECYCLE" run -o "$TMP/no/such/dir/c.rcap" -- "$B/exit_with" 0
expect "run: output folder missing" 1 "" \
    "recycle run: cannot write the capture to $TMP/no/such/dir/c.rcap: No such file or directory"
run_cmd "$RECYCLE" run -o "$TMP" -- "$B/exit_with" 0
expect "run: output is a folder" 1 "" "recycle run: cannot write the capture to $TMP: Is a directory"

finish
