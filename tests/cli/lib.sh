# lib.sh - what the tests of tests/cli/ share (sourced, never run).
#
# ctest gives each test in its environment: RECYCLE (the executable),
# RC_CLI_BIN (the folder of the test programs), RC_CLI_SRC (tests/cli/),
# RC_CLI_STUB_PRELOAD, RC_CLI_REAL_PRELOAD (empty while the preload is not
# built) and RC_CLI_SANITIZE. A test runs its checks, each of which prints
# "ok" or "FAIL" with what differed, and ends with `finish`, which prints
# "N passed, N failed" and exits 1 if any check failed.
set -u

: "${RECYCLE:?run through ctest (RECYCLE is not set)}"
: "${RC_CLI_BIN:?}"

RC_PASSED=0
RC_FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/recycle-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { RC_PASSED=$((RC_PASSED + 1)); echo "ok   $1"; }
fail() {
    RC_FAILED=$((RC_FAILED + 1))
    echo "FAIL $1"
    shift
    local line
    for line in "$@"; do printf '       %s\n' "$line"; done
}

# run_cmd CMD...: runs CMD with stdin from /dev/null unless STDIN names a
# file; sets STATUS, OUT (stdout) and ERR (stderr).
run_cmd() {
    local in=${STDIN:-/dev/null}
    "$@" < "$in" > "$TMP/out" 2> "$TMP/err"
    STATUS=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# expect NAME STATUS [stdout-text|-] [stderr-text|-]: the last run_cmd
# exited with STATUS and printed exactly these texts ("-": not checked).
expect() {
    local name=$1 status=$2 out=${3--} err=${4--}
    local bad=()
    [[ $STATUS == "$status" ]] || bad+=("exit status $STATUS, expected $status")
    if [[ $out != - && $OUT != "$out" ]]; then
        bad+=("stdout:" "$OUT" "expected:" "$out")
    fi
    if [[ $err != - && $ERR != "$err" ]]; then
        bad+=("stderr:" "$ERR" "expected:" "$err")
    fi
    if ((${#bad[@]})); then fail "$name" "${bad[@]}"; else ok "$name"; fi
}

# expect_match NAME TEXT REGEX: TEXT matches the extended regular expression.
expect_match() {
    if [[ $2 =~ $3 ]]; then ok "$1"; else fail "$1" "text:" "$2" "does not match:" "$3"; fi
}

# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
    if [[ $2 == "$3" ]]; then ok "$1"; else fail "$1" "got:" "$2" "expected:" "$3"; fi
}

finish() {
    echo "$RC_PASSED passed, $RC_FAILED failed"
    ((RC_FAILED == 0))
    exit $?
}
