#!/usr/bin/env bash
# test_cli.sh - the `recycle` command's dispatch: --help, --version, help
# SUBCOMMAND, the subcommands not built yet, unknown subcommands and
# options, strict option parsing (exit 2 with the usage), write errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- top level ----------------------------------------------------------------
run_cmd "$RECYCLE"
expect "no subcommand: usage error" 2 "" "recycle: no subcommand given
usage: recycle [--help | --version]
       recycle SUBCOMMAND [OPTIONS] [ARGS]
Try 'recycle --help' for more information."

run_cmd "$RECYCLE" --help
expect "--help exits 0, nothing on stderr" 0 - ""
expect_match "--help lists every subcommand" "$OUT" \
    $'\n  run .*\n  report .*\n  lines .*\n  flamegraph .*\n  plot .*\n  html .*\n  diff .*\n  export .*\n  stats '
[[ $OUT == *"not available yet"* ]] && fail "--help: every subcommand available" "$OUT" ||
    ok "--help: every subcommand available"
expect_match "--help: run is available" "$OUT" $'\n  run +[a-z][^(\n]*\n'

run_cmd "$RECYCLE" -h
expect "-h is --help" 0 - ""
run_cmd "$RECYCLE" help
expect "help is --help" 0 - ""

run_cmd "$RECYCLE" --version
expect "--version" 0 - ""
expect_match "--version: name and version" "$OUT" '^recycle [0-9]+\.[0-9]+\.[0-9]+'
run_cmd "$RECYCLE" --version extra
expect "--version takes no arguments" 2 "" - 

run_cmd "$RECYCLE" frobnicate
expect "unknown subcommand" 2 "" "recycle: 'frobnicate' is not a recycle subcommand
usage: recycle [--help | --version]
       recycle SUBCOMMAND [OPTIONS] [ARGS]
Try 'recycle --help' for more information."

run_cmd "$RECYCLE" --frobnicate
expect "unknown global option" 2 "" - 
expect_match "unknown global option: named" "$ERR" "^recycle: unknown option '--frobnicate'"

run_cmd "$RECYCLE" help frobnicate
expect "help of an unknown subcommand" 2 "" -

# ---- every subcommand of the design is built ----------------------------------
for cmd in run report lines flamegraph plot html diff export stats; do
    run_cmd "$RECYCLE" "$cmd" --help
    expect_match "$cmd --help: exit 0, its usage" "$STATUS $OUT" "^0 usage: recycle $cmd "
    [[ $OUT == *"not available yet"* ]] && fail "$cmd: not available yet" || ok "$cmd: available"
done

# ---- --help of the subcommands that exist ---------------------------------------
run_cmd "$RECYCLE" run --help
expect "run --help" 0 - ""
expect_match "run --help: usage and options" "$OUT" \
    '^usage: recycle run \[-o FILE\] \[--frames N\] \[--sample BYTES\] \[--follow-fork\] -- PROGRAM \[ARGS\]'
expect_match "run --help: every option" "$OUT" '--output FILE.*--frames N.*--sample BYTES.*--follow-fork.*--help'
run_cmd "$RECYCLE" run -h
expect "run -h" 0 - ""
run_cmd "$RECYCLE" help run
expect "help run" 0 - ""
run_cmd "$RECYCLE" report --help
expect "report --help" 0 - ""
expect_match "report --help: usage" "$OUT" '^usage: recycle report FILE \[--top N\] \[--by function\|line\|file\|stack\]'

# ---- strict option parsing (run's options: no program is started) -----------------
usage_run="usage: recycle run [-o FILE] [--frames N] [--sample BYTES] [--follow-fork] -- PROGRAM [ARGS]
Try 'recycle run --help' for more information."

run_cmd "$RECYCLE" run
expect "run: no program" 2 "" "recycle run: no program to run
$usage_run"
run_cmd "$RECYCLE" run --
expect "run --: no program" 2 "" "recycle run: no program to run
$usage_run"
run_cmd "$RECYCLE" run --bogus -- true
expect "run: unknown long option" 2 "" "recycle run: unknown option '--bogus'
$usage_run"
run_cmd "$RECYCLE" run -x -- true
expect "run: unknown short option" 2 "" "recycle run: unknown option '-x'
$usage_run"
run_cmd "$RECYCLE" run --fram 3 -- true
expect "run: no abbreviations" 2 "" "recycle run: unknown option '--fram'
$usage_run"
run_cmd "$RECYCLE" run --frames
expect "run: --frames without its argument" 2 "" "recycle run: option '--frames' needs an argument
$usage_run"
run_cmd "$RECYCLE" run -o
expect "run: -o without its argument" 2 "" "recycle run: option '-o' needs an argument
$usage_run"
run_cmd "$RECYCLE" run --frames abc -- true
expect "run: --frames not a number" 2 "" "recycle run: --frames: 'abc' is not a number
$usage_run"
run_cmd "$RECYCLE" run --frames=12x -- true
expect "run: --frames=12x" 2 "" "recycle run: --frames: '12x' is not a number
$usage_run"
run_cmd "$RECYCLE" run --frames 0 -- true
expect "run: --frames 0 out of range" 2 "" "recycle run: --frames: 0 is out of range (1 to 128)
$usage_run"
run_cmd "$RECYCLE" run --frames 129 -- true
expect "run: --frames 129 out of range" 2 "" "recycle run: --frames: 129 is out of range (1 to 128)
$usage_run"
run_cmd "$RECYCLE" run --frames 99999999999999999999999 -- true
expect "run: --frames overflowing" 2 "" "recycle run: --frames: 99999999999999999999999 is out of range (1 to 128)
$usage_run"
run_cmd "$RECYCLE" run --frames -3 -- true
expect "run: --frames negative" 2 "" "recycle run: --frames: '-3' is not a number
$usage_run"
run_cmd "$RECYCLE" run --sample 12Q -- true
expect "run: --sample bad suffix" 2 "" "recycle run: --sample: '12Q' is not a size (a number, optionally followed by K, M, G or T)
$usage_run"
run_cmd "$RECYCLE" run --sample 2T -- true
expect "run: --sample too large" 2 "" "recycle run: --sample: 2T is out of range (0 to 1099511627776)
$usage_run"
run_cmd "$RECYCLE" run --follow-fork=yes -- true
expect "run: a flag given a value" 2 "" "recycle run: option '--follow-fork' takes no argument
$usage_run"
run_cmd "$RECYCLE" run -o "" -- true
expect "run: empty output name" 2 "" "recycle run: -o: the file name is empty
$usage_run"

# ---- write errors on stdout ---------------------------------------------------------
if [[ -w /dev/full ]]; then
    "$RECYCLE" --help > /dev/full 2> "$TMP/err"
    STATUS=$?
    ERR=$(cat "$TMP/err")
    expect "--help to a full disk: exit 1" 1 - "recycle: write error on standard output: No space left on device"
fi

finish
