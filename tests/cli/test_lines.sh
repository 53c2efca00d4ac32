#!/usr/bin/env bash
# test_lines.sh - `recycle lines` on captures the real preload recorded of
# progs/lines_basic.c (and of progs/lines_cpp.cc when a C++ compiler is
# there): every line's figures exactly, a stack charged once to the
# innermost frame of a recursive function, a helper inlined into its caller
# (progs/lines_inline.c), the listing's extent, JSON,
# sources moved or missing, code without line information, C++ names
# (exact, without parameters, ambiguous), unknown functions, damaged or
# missing captures, usage errors. Skipped (77) while the preload or the
# report layer is not built.
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
SRC=$RC_CLI_SRC/progs/lines_basic.c

run_cmd "$RECYCLE" run -o basic.rcap -- "$B/lines_basic"
expect "lines_basic recorded" 0 "" "recycle: wrote basic.rcap"
prog="program          $B/lines_basic"
pid_re='\(pid [0-9]+\)'

# The header's first line holds the pid: checked apart, then dropped.
listing() {   # listing NAME: OUT's first line is the program's, the rest into BODY
    expect_match "$1: program line" "${OUT%%$'\n'*}" "^$prog $pid_re\$"
    BODY=${OUT#*$'\n'}
}

# ---- the figures of every line ---------------------------------------------------------
run_cmd "$RECYCLE" lines basic.rcap build
expect "build: exit 0, nothing on stderr" 0 - ""
listing build
expect_eq "build: totals, and each line with what it allocated, through callees too" "$BODY" \
"function         build
allocated        430 B in 8 allocations (94.1% of the program's 457 B)
leaked at exit   50 B in 1 block

$SRC
  line        bytes  allocations      leaked  source
    25                                        __attribute__((noinline)) static void build(void) {
    26                                            void *volatile blocks[3];   /* volatile: -O1 would drop malloc + free */
    27                                            for (int i = 0; i < 3; i++)
    28        300 B            3         0 B          blocks[i] = malloc(100);
    29                                            for (int i = 0; i < 3; i++)
    30                                                free(blocks[i]);
    31         50 B            1        50 B      keep = fill();
    32         50 B            1         0 B      free(fill());
    33
    34         30 B            3         0 B      recurse(2);
    35                                        }"

# recurse(2) and recurse(1): every allocation is charged to the innermost
# recurse frame, line 18; the recursive call on line 21 gets nothing.
run_cmd "$RECYCLE" lines basic.rcap recurse
expect "recurse: exit 0" 0 - ""
listing recurse
expect_eq "recurse: a recursive stack charged once, to the innermost frame" "$BODY" \
"function         recurse
allocated        50 B in 5 allocations (10.9% of the program's 457 B)
leaked at exit   0 B in 0 blocks

$SRC
  line        bytes  allocations      leaked  source
    17                                        __attribute__((noinline)) static void recurse(int depth) {
    18         50 B            5         0 B      void *p = malloc(10);
    19                                            sink = p;
    20                                            if (depth > 0)
    21                                                recurse(depth - 1);
    22                                            free(p);
    23                                        }"

run_cmd "$RECYCLE" lines basic.rcap main
listing main
expect_eq "main: the whole program under its lines" "$BODY" \
"function         main
allocated        457 B in 11 allocations (100.0% of the program's 457 B)
leaked at exit   50 B in 1 block

$SRC
  line        bytes  allocations      leaked  source
    37                                        int main(void) {
    38        430 B            8        50 B      build();
    39         20 B            2         0 B      recurse(1);
    40          7 B            1         0 B      sink = malloc(7);
    41                                            free(sink);
    42                                            return 0;
    43                                        }"

# The helper: both calloc calls come from line 14, one block still live.
run_cmd "$RECYCLE" lines basic.rcap fill
listing fill
expect_match "fill: one line, 2 x 50 B, 50 B leaked" "$BODY" \
    $'\n    14        100 B            2        50 B      return calloc\\(2, 25\\);\n    15                                        }$'

# ---- inlined frames: a helper inlined into its caller -----------------------------------------
run_cmd "$RECYCLE" run -o inline.rcap -- "$B/lines_inline"
INL=$RC_CLI_SRC/progs/lines_inline.c
run_cmd "$RECYCLE" lines inline.rcap outer
expect_eq "inlined: the caller's lines that call the inlined helper" "${OUT#*$'\n'}" \
"function         outer
allocated        96 B in 2 allocations (100.0% of the program's 96 B)
leaked at exit   0 B in 0 blocks

$INL
  line        bytes  allocations      leaked  source
    14                                        __attribute__((noinline)) static void outer(void) {
    15         64 B            1         0 B      grab(64);
    16                                            free(sink);
    17         32 B            1         0 B      grab(32);
    18                                            free(sink);
    19                                        }"
run_cmd "$RECYCLE" lines inline.rcap grab
expect_match "inlined: the helper's own line" "$STATUS $OUT" \
    $'^0 .*\n    11         96 B            2         0 B      sink = malloc\\(n\\);\n    12                                        }$'

# ---- JSON -------------------------------------------------------------------------------
run_cmd "$RECYCLE" lines basic.rcap build --json
expect "build --json: exit 0" 0 - ""
expect_match "build --json: function and its totals" "$OUT" \
    $'\n  "function": "build",\n  "asked": "build",\n  "totals": \\{"allocations": 11, [^\n]*\\},\n  "function_totals": \\{"bytes": 430, "allocations": 8, "leaked_bytes": 50, "leaked_allocations": 1, "peak_bytes": 300, "peak_allocations": 3\\},\n'
expect_match "build --json: the file, its source and the function's extent" "$OUT" \
    "\"file\": \"$SRC\", \"module\": \"$B/lines_basic\", \"source\": \"$SRC\", \"first_line\": 25, \"last_line\": 35,"
expect_match "build --json: the lines with figures, with their text" "$OUT" \
    '"lines": \[
      \{"line": 28, "offset": null, "bytes": 300, "allocations": 3, "leaked_bytes": 0, "leaked_allocations": 0, "peak_bytes": 300, "peak_allocations": 3, "text": "        blocks\[i\] = malloc\(100\);"\},
      \{"line": 31, "offset": null, "bytes": 50, "allocations": 1, "leaked_bytes": 50, "leaked_allocations": 1, "peak_bytes": 0, "peak_allocations": 0, "text": "    keep = fill\(\);"\},
      \{"line": 32, "offset": null, "bytes": 50, "allocations": 1, "leaked_bytes": 0, "leaked_allocations": 0, "peak_bytes": 0, "peak_allocations": 0, "text": "    free\(fill\(\)\);"\},
      \{"line": 34, "offset": null, "bytes": 30, "allocations": 3, "leaked_bytes": 0, "leaked_allocations": 0, "peak_bytes": 0, "peak_allocations": 0, "text": "    recurse\(2\);"\}
    \]\}
  \]
\}$'

# ---- sources moved or missing, code without line information -----------------------------
if command -v cc >/dev/null; then
    mkdir -p tree/src
    cp "$SRC" tree/src/lines_basic.c
    # Built from inside tree/src: DWARF names the file relative to there.
    (cd tree/src && cc -g -O0 -o ../../moved lines_basic.c) || fail "cc -g"
    cc -O0 -o nolines tree/src/lines_basic.c || fail "cc"
    run_cmd "$RECYCLE" run -o moved.rcap -- ./moved
    run_cmd "$RECYCLE" run -o nolines.rcap -- ./nolines
    mv tree elsewhere

    run_cmd "$RECYCLE" lines moved.rcap build
    expect "source missing: exit 0" 0 - ""
    expect_match "source missing: file:line of each line, and a note" "${OUT#*$'\n'}" \
"^function         build
allocated        430 B in 8 allocations \\(94.1% of the program's 457 B\\)
leaked at exit   50 B in 1 block

$TMP/tree/src/lines_basic.c
\\(source not found: the lines that allocated are shown; --source-dir DIR tells where to look\\)
       bytes  allocations      leaked  line
       300 B            3         0 B  $TMP/tree/src/lines_basic.c:28
        50 B            1        50 B  $TMP/tree/src/lines_basic.c:31
        50 B            1         0 B  $TMP/tree/src/lines_basic.c:32
        30 B            3         0 B  $TMP/tree/src/lines_basic.c:34\$"

    # The tree moved: a tail of the recorded path under --source-dir.
    run_cmd "$RECYCLE" lines moved.rcap build --source-dir /nonexistent --source-dir "$TMP/elsewhere"
    expect_match "--source-dir: the tree found where it moved" "$OUT" \
        $'\n\\(source read from '"$TMP"$'/elsewhere/src/lines_basic.c\\)\n  line        bytes  allocations      leaked  source\n    25                                        __attribute__'
    expect_match "--source-dir: the figures on their lines" "$OUT" \
        $'\n    31         50 B            1        50 B      keep = fill\\(\\);\n'
    run_cmd "$RECYCLE" lines moved.rcap build --json --source-dir="$TMP/elsewhere/src"
    expect_match "--source-dir --json: where the source was read" "$OUT" \
        "\"source\": \"$TMP/elsewhere/src/lines_basic.c\", \"first_line\": 25, \"last_line\": 35,"

    # A source modified after the program was built may not be its source.
    touch -d "@$(($(date +%s) + 60))" elsewhere/src/lines_basic.c
    run_cmd "$RECYCLE" lines moved.rcap build --source-dir "$TMP/elsewhere"
    expect_match "a source newer than the program: noted" "$OUT" \
        $'\n\\(source read from '"$TMP"$'/elsewhere/src/lines_basic.c\\)\n\\(the source changed after the program was built: lines may have moved\\)\n  line        bytes'

    run_cmd "$RECYCLE" lines nolines.rcap build
    expect "no line information: exit 0" 0 - ""
    expect_match "no line information: addresses, and a note" "${OUT#*$'\n'}" \
"^function         build
allocated        430 B in 8 allocations \\(94.1% of the program's 457 B\\)
leaked at exit   50 B in 1 block

$TMP/nolines
\\(no line information: built without -g, or its debug information is missing; shown by address\\)
       bytes  allocations      leaked  address
       300 B            3         0 B  nolines\\+0x[0-9a-f]+
        50 B            1        50 B  nolines\\+0x[0-9a-f]+
        50 B            1         0 B  nolines\\+0x[0-9a-f]+
        30 B            3         0 B  nolines\\+0x[0-9a-f]+\$"
else
    echo "note: no C compiler (cc): moved sources and code without -g not tested"
fi

# ---- C++ names ---------------------------------------------------------------------------
if command -v c++ >/dev/null; then
    c++ -g -O0 -o lines_cpp "$RC_CLI_SRC/progs/lines_cpp.cc" || fail "c++ -g"
    run_cmd "$RECYCLE" run -o cpp.rcap -- ./lines_cpp
    CPP=$RC_CLI_SRC/progs/lines_cpp.cc

    run_cmd "$RECYCLE" lines cpp.rcap area
    expect "C++: a name without parameters that names two overloads" 1 "" \
"recycle lines: cpp.rcap: 'area' names 2 functions; give one of them in full:
recycle lines:   shapes::area(double)
recycle lines:   shapes::area(int)"

    run_cmd "$RECYCLE" lines cpp.rcap 'shapes::area(double)'
    expect "C++: an overload named in full" 0 - ""
    expect_match "C++: its lines" "${OUT#*$'\n'}" \
"^function         shapes::area\\(double\\)
allocated        250 B in 1 allocation \\([0-9.]+% of the program's [0-9]+ B\\)
leaked at exit   0 B in 0 blocks

$CPP
  line        bytes  allocations      leaked  source
    21                                        __attribute__\\(\\(noinline\\)\\) void \\*area\\(double d\\) \\{
    22        250 B            1         0 B      return std::malloc\\(static_cast<std::size_t>\\(d\\)\\);
    23                                        \\}\$"

    run_cmd "$RECYCLE" lines cpp.rcap 'area(int)'
    expect_match "C++: an overload without its namespace" "$STATUS $OUT" \
        $'^0 .*\nfunction         shapes::area\\(int\\)\n.*\n    18        100 B            1         0 B      return std::malloc'

    for name in make 'Box<int>::make' 'shapes::Box<int>::make'; do
        run_cmd "$RECYCLE" lines cpp.rcap "$name"
        expect_match "C++: '$name' names the template's member alone" "$OUT" \
            $'\nfunction         shapes::Box<int>::make\\(int\\)\n.*\n    12                                            __attribute__\\(\\(noinline\\)\\) static void \\*make\\(T n\\) \\{\n    13         20 B            1         0 B          return'
    done
    run_cmd "$RECYCLE" lines cpp.rcap ake
    expect "C++: part of a name is no name" 1 "" \
"recycle lines: cpp.rcap: no function 'ake' on any stack that allocated
recycle lines: functions with a similar name:
recycle lines:   shapes::Box<int>::make(int)"
else
    echo "note: no C++ compiler (c++): C++ names not tested"
fi

# ---- unknown functions, bad captures --------------------------------------------------------
run_cmd "$RECYCLE" lines basic.rcap bild
expect "unknown function: exit 1, similar names" 1 "" \
"recycle lines: basic.rcap: no function 'bild' on any stack that allocated
recycle lines: functions with a similar name:
recycle lines:   build
recycle lines:   fill"
run_cmd "$RECYCLE" lines basic.rcap Recurs
expect "unknown function: names containing it, in any case" 1 "" \
"recycle lines: basic.rcap: no function 'Recurs' on any stack that allocated
recycle lines: functions with a similar name:
recycle lines:   recurse"
run_cmd "$RECYCLE" lines basic.rcap zzzzzzzz
expect "unknown function: nothing like it" 1 "" \
"recycle lines: basic.rcap: no function 'zzzzzzzz' on any stack that allocated
recycle lines: (the capture's stacks hold 7 function names; \`recycle report --by function\` lists where memory was allocated)"

# A capture of modules that are not on this machine: no names at all.
"$RC_CLI_MAKE_CAPTURE" basic synthetic.rcap || fail "make_capture basic"
run_cmd "$RECYCLE" lines synthetic.rcap main
expect "no symbols at all: says why" 1 "" \
"recycle lines: synthetic.rcap: no function 'main' on any stack that allocated
recycle lines: (no frame of the capture has a function name: the modules it names are missing, or have no symbols)"

"$RC_CLI_MAKE_CAPTURE" empty empty.rcap || fail "make_capture empty"
run_cmd "$RECYCLE" lines empty.rcap main
expect "empty capture: no function" 1 "" \
    "recycle lines: empty.rcap: no function 'main': the capture holds no allocation"

# One byte flipped (XOR: a byte set to a value may already hold it).
cp basic.rcap damaged.rcap
byte=$(od -An -tu1 -j200 -N1 damaged.rcap | tr -d ' ')
printf "\\x$(printf %02x $((byte ^ 0x55)))" | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
cmp -s basic.rcap damaged.rcap && fail "damaged.rcap is not damaged"
run_cmd "$RECYCLE" lines damaged.rcap build
expect "damaged capture: exit 1, no listing" 1 "" -
expect_match "damaged capture: the reader's message" "$ERR" '^recycle lines: damaged\.rcap: .+$'

run_cmd "$RECYCLE" lines missing.rcap build
expect "missing capture: exit 1" 1 "" -
expect_match "missing capture: says so" "$ERR" '^recycle lines: missing\.rcap: .*(No such file|cannot open).*$'

run_cmd "$RECYCLE" lines "$SRC" build
expect "not a capture: exit 1" 1 "" -
expect_match "not a capture: says so" "$ERR" '^recycle lines: .*lines_basic\.c: .+$'

# ---- usage ------------------------------------------------------------------------------------
run_cmd "$RECYCLE" lines
expect "usage: nothing given" 2 "" -
expect_match "usage: nothing given, says what" "$ERR" "^recycle lines: no capture file given"$'\n'"usage: recycle lines "
run_cmd "$RECYCLE" lines basic.rcap
expect "usage: no function" 2 "" -
expect_match "usage: no function, says what" "$ERR" "^recycle lines: no function given"
run_cmd "$RECYCLE" lines basic.rcap build main
expect "usage: two functions" 2 "" -
expect_match "usage: two functions, says which" "$ERR" "^recycle lines: one capture and one function \\('main' is one too many\\)"
run_cmd "$RECYCLE" lines basic.rcap ""
expect_match "usage: empty function" "$STATUS $ERR" "^2 recycle lines: the function name is empty"
run_cmd "$RECYCLE" lines basic.rcap build --source-dir
expect "usage: --source-dir without a directory" 2 "" -
run_cmd "$RECYCLE" lines basic.rcap build --top 3
expect "usage: unknown option" 2 "" -
run_cmd "$RECYCLE" lines --help
expect "--help: exit 0" 0 - ""
expect_match "--help: the usage and the options" "$OUT" \
    "^usage: recycle lines FILE FUNCTION \\[--source-dir DIR\\]\\.\\.\\. \\[--json\\]"$'\n'".*--source-dir DIR.*--json"

# ---- the listing under valgrind: no leak, no invalid read ----------------------------------------
if [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind >/dev/null; then
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$RECYCLE" lines basic.rcap build --json
    expect "valgrind: lines --json is clean" 0 - ""
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$RECYCLE" lines basic.rcap bild
    expect "valgrind: an unknown function is clean" 1 - -
fi

finish
