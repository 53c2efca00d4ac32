#!/usr/bin/env bash
# test_vs_heaptrack.sh - programs nobody here wrote (coreutils, findutils,
# perl, python, mawk, cmake's C++), each recorded by `recycle run` and by
# heaptrack: the calls to allocation functions that both count agree
# within 1 %. Where they differ, docs/preload.md ("Compared with
# heaptrack") says why: heaptrack's injected library pulls libstdc++ into C
# programs, whose start-up allocates once, and each profiler adds its own
# variables to the environment, which programs that copy it (perl) pay for.
#
# Skipped (77) without heaptrack, the real preload or the report, and in
# the sanitizer builds (this checks the preload's counts, which do not
# depend on how recycle itself was compiled).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_REAL_PRELOAD:-} || -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the preload or the report is not built"
    exit 77
fi
if [[ -n ${RC_CLI_SANITIZE:-} ]]; then
    echo "skipped: a sanitizer build (the normal build runs this)"
    exit 77
fi
if ! command -v heaptrack > /dev/null 2>&1 || ! command -v heaptrack_print > /dev/null 2>&1; then
    echo "skipped: heaptrack is not installed (Debian package heaptrack)"
    exit 77
fi
unset RECYCLE_PRELOAD LD_PRELOAD RECYCLE_FRAMES RECYCLE_SAMPLE RECYCLE_FOLLOW_FORK RECYCLE_PRELOAD_PID
cd "$TMP"

# Input for sort and awk: 100 000 lines in a scrambled order.
awk 'BEGIN { for (i = 1; i <= 100000; i++) print (i * 7919) % 100003, "line", i }' > data.txt

# compare NAME PROGRAM ARGS...: both profilers on the same command line.
compare() {
    local name=$1
    shift
    if ! command -v "$1" > /dev/null 2>&1; then
        echo "note: $name: $1 is not installed, not compared"
        return
    fi
    heaptrack -o "$TMP/$name" "$@" > /dev/null 2> "$TMP/$name.ht.err"
    local h
    h=$(heaptrack_print -f "$TMP/$name.zst" 2> /dev/null |
        sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p')
    run_cmd "$RECYCLE" run -o "$name.rcap" -- "$@"
    if [[ $STATUS != 0 ]]; then
        fail "$name: recycle run exits 0" "exit status $STATUS" "$ERR"
        return
    fi
    run_cmd "$RECYCLE" report "$name.rcap" --json --top 1
    local r
    r=$(sed -n 's/.*"totals": {"allocations": \([0-9]*\),.*/\1/p' <<<"$OUT")
    if [[ -z $h || -z $r ]]; then
        fail "$name: both profilers give a count" "heaptrack: '${h}'" "recycle: '${r}'" \
            "$(tail -n 3 "$TMP/$name.ht.err")"
        return
    fi
    local diff=$((r > h ? r - h : h - r))
    printf '%-8s heaptrack %8d  recycle %8d  difference %d\n' "$name" "$h" "$r" "$diff"
    # within 1 %: 100 * diff <= h
    if ((h > 0 && 100 * diff <= h)); then
        ok "$name: allocation counts within 1 % ($h, $r)"
    else
        fail "$name: allocation counts within 1 %" "heaptrack $h, recycle $r"
    fi
}

compare ls ls -lR /usr/share/doc
compare sort sort data.txt
compare find find /usr/include -name '*.h'
compare awk awk '{ seen[$1]++ } END { n = 0; for (k in seen) n++; print n }' data.txt
compare perl perl -e 'my %h; $h{$_} = [$_] for 1 .. 50000; print scalar(keys %h), "\n"'
compare python /usr/bin/python3 -c 'd = {str(i): [i] * 3 for i in range(50000)}; print(len(d))'
compare cmake cmake --help
finish
