#!/usr/bin/env bash
# test_export_sqlite.sh - `recycle export --format sqlite` on the captures
# with known content (captures.h) and on a real program
# (progs/sqlite_known.c): the totals, sites and stacks are the report's
# (--json), the allocations add up to them (leaked rows to the leaked
# figures), the threads' counts are `recycle stats --json`'s, the heap's
# highest point is the peak; integrity_check and foreign_key_check pass;
# every example query of docs/sqlite.md runs and gives the known answer;
# -o replaces a file, a damaged capture or a SQLite error leaves it as it
# was; valgrind in the plain build.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
if ! command -v python3 > /dev/null 2>&1 || ! python3 -c 'import sqlite3' 2> /dev/null ||
    ! command -v sqlite3 > /dev/null 2>&1; then
    echo "skipped: python3 with its sqlite3 module and the sqlite3 shell are needed"
    exit 77
fi
DOC="$RC_CLI_SRC/../../docs/sqlite.md"
cd "$TMP"
captures=(basic threads sampled signal noexit dlclose weird many stats incomplete empty)
for name in "${captures[@]}"; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done

# db_check NAME CAPTURE: exports CAPTURE to CAPTURE.db and checks it against
# report --json and stats --json.
db_check() {
    local name=$1 capture=$2
    rm -f "$capture.db"
    run_cmd "$RECYCLE" export "$capture" --format sqlite -o "$capture.db"
    expect "$name: exit 0" 0 "" -
    "$RECYCLE" report "$capture" --json > "$capture.report.json" 2> /dev/null
    "$RECYCLE" stats "$capture" --json > "$capture.stats.json" 2> /dev/null
    local out
    out=$(python3 - "$capture.db" "$capture.report.json" "$capture.stats.json" 2>&1 <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
report = json.load(open(sys.argv[2]))
stats = json.load(open(sys.argv[3]))
problems = []
def eq(what, got, expected):
    if got != expected:
        problems.append("%s: %r, expected %r" % (what, got, expected))
def one(sql, *args):
    return db.execute(sql, args).fetchone()
t = report["totals"]
cap = dict(db.execute("SELECT name, value FROM capture"))
for k in ("allocations", "frees", "bytes_allocated", "peak_bytes", "peak_allocations",
          "leaked_bytes", "leaked_allocations", "definitely_lost_bytes",
          "definitely_lost_allocations", "still_reachable_bytes",
          "still_reachable_allocations", "temporary_allocations", "peak_rss_bytes"):
    eq("capture." + k, cap[k], t[k])
eq("capture.peak_time_ns", cap["peak_time_ns"], round(t["peak_time_s"] * 1e9))
for k in ("program", "command_line", "pid", "end", "sample_bytes"):
    eq("capture." + k, cap[k], report[k])
eq("capture.exit_status", cap["exit_status"], report.get("exit_status"))
eq("capture.signal", cap["signal"], report.get("signal"))
eq("capture.complete", cap["complete"], int(report["complete"]))
eq("capture.sampled", cap["sampled"], int(report["sampled"]))
eq("user_version", one("PRAGMA user_version")[0], 1)

# the sites, in the report's order, with its figures
fig = ["bytes", "allocations", "leaked_bytes", "leaked_allocations", "definitely_lost_bytes",
       "still_reachable_bytes", "peak_bytes", "peak_allocations", "temporary_allocations"]
rows = db.execute("SELECT s.id, s.function, s.file, s.line, m.path, s.file_offset, "
                  + ", ".join("s." + f for f in fig)
                  + " FROM sites AS s LEFT JOIN modules AS m ON m.id = s.module ORDER BY s.id").fetchall()
eq("sites", len(rows), len(report["sites"]))
for row, site in zip(rows, report["sites"]):
    eq("site %d" % row[0], list(row[1:]), [site["function"], site["file"], site["line"],
        site["module"], site["offset"]] + [site[f] for f in fig])
sums = ["allocations", "bytes", "frees", "peak_bytes", "peak_allocations", "leaked_bytes",
        "leaked_allocations", "temporary_allocations"]
totals_of = {"bytes": "bytes_allocated"}
got = one("SELECT " + ", ".join("coalesce(sum(%s), 0)" % f for f in sums) + " FROM sites")
eq("sums over sites", list(got), [t[totals_of.get(f, f)] for f in sums])
# the stacks of each site add up to it
bad = db.execute("SELECT s.id FROM sites AS s JOIN (SELECT site, " +
                 ", ".join("sum(%s) AS %s" % (f, f) for f in sums) +
                 " FROM stacks GROUP BY site) AS k ON k.site = s.id WHERE " +
                 " OR ".join("s.%s != k.%s" % (f, f) for f in sums)).fetchall()
eq("stacks sum to their sites", bad, [])
eq("every site has stacks", one("SELECT count(*) FROM sites WHERE id NOT IN "
                                "(SELECT site FROM stacks)")[0], 0)
# depth 0 of each stack is its site's frame
bad = db.execute("SELECT sf.stack FROM stack_frames AS sf JOIN frames AS f ON f.id = sf.frame "
                 "JOIN stacks AS st ON st.id = sf.stack JOIN sites AS s ON s.id = st.site "
                 "WHERE sf.depth = 0 AND (f.function IS NOT s.function OR f.file IS NOT s.file "
                 "OR f.line IS NOT s.line)").fetchall()
eq("depth 0 is the site", bad, [])
eq("depths are contiguous from -runtime_frames",
   db.execute("SELECT st.id FROM stacks AS st JOIN (SELECT stack, min(depth) AS lo, max(depth) AS hi, "
              "count(*) AS n FROM stack_frames GROUP BY stack) AS d ON d.stack = st.id "
              "WHERE d.lo != -st.runtime_frames OR d.hi - d.lo + 1 != d.n").fetchall(), [])

# the allocations
n = one("SELECT count(*) FROM allocations")[0]
if report["sampled"]:
    eq("sampled: no allocation rows", n, 0)
else:
    got = one("SELECT count(*), coalesce(sum(size), 0), count(freed_ns), "
              "coalesce(sum(is_temporary), 0), "
              "coalesce(sum(CASE WHEN freed_ns IS NULL THEN size END), 0), "
              "count(*) - count(freed_ns) FROM allocations")
    eq("allocations sum to the totals", list(got),
       [t["allocations"], t["bytes_allocated"], t["frees"], t["temporary_allocations"],
        t["leaked_bytes"], t["leaked_allocations"]])
    if t["definitely_lost_allocations"] is not None:
        got = one("SELECT count(CASE WHEN leak = 'lost' THEN 1 END), "
                  "coalesce(sum(CASE WHEN leak = 'lost' THEN size END), 0), "
                  "count(CASE WHEN leak = 'reachable' THEN 1 END) FROM allocations")
        eq("leak verdicts", list(got), [t["definitely_lost_allocations"],
           t["definitely_lost_bytes"], t["still_reachable_allocations"]])
    bad = db.execute("SELECT st.id FROM stacks AS st LEFT JOIN (SELECT stack, count(*) AS n, "
                     "sum(size) AS b, count(freed_ns) AS f, sum(is_temporary) AS tmp, "
                     "sum(CASE WHEN freed_ns IS NULL THEN size ELSE 0 END) AS lb "
                     "FROM allocations GROUP BY stack) AS a ON a.stack = st.id "
                     "WHERE a.n IS NOT st.allocations OR a.b IS NOT st.bytes OR a.f IS NOT st.frees "
                     "OR a.tmp IS NOT st.temporary_allocations OR a.lb IS NOT st.leaked_bytes").fetchall()
    eq("allocations per stack are the stack's figures", bad, [])
    eq("freed rows end after they begin",
       one("SELECT count(*) FROM allocations WHERE freed_ns < allocated_ns")[0], 0)
    # the threads: recycle stats' figures
    for th in stats["threads"]:
        got = one("SELECT (SELECT count(*) FROM allocations WHERE thread = ?1), "
                  "(SELECT coalesce(sum(size), 0) FROM allocations WHERE thread = ?1), "
                  "(SELECT count(*) FROM allocations WHERE freed_by = ?1), "
                  "(SELECT coalesce(sum(size), 0) FROM allocations WHERE freed_by = ?1), "
                  "(SELECT coalesce(sum(size), 0) FROM allocations WHERE thread = ?1 AND freed_ns IS NULL), "
                  "(SELECT count(*) FROM allocations WHERE thread = ?1 AND freed_ns IS NULL), "
                  "os_tid, name FROM threads WHERE number = ?1", th["thread"])
        eq("thread %d" % th["thread"], list(got) if got else None,
           [th["allocations"], th["bytes_allocated"], th["frees"], th["bytes_freed"],
            th["leaked_bytes"], th["leaked_allocations"], th["os_tid"], th["name"]])
# the heap
if t["allocations"]:
    eq("the heap's highest is the peak", one("SELECT max(max_bytes) FROM heap")[0], t["peak_bytes"])
    eq("the heap's last row is what is leaked",
       list(one("SELECT bytes, allocations FROM heap ORDER BY time_ns DESC LIMIT 1")),
       [t["leaked_bytes"], t["leaked_allocations"]])
eq("integrity_check", db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
eq("foreign_key_check", db.execute("PRAGMA foreign_key_check").fetchall(), [])
for p in problems:
    print(p)
PY
)
    if [[ -z $out ]]; then ok "$name: the report's figures, sums, threads, integrity"; else fail "$name: the report's figures, sums, threads, integrity" "$out"; fi
}

for name in "${captures[@]}"; do
    db_check "$name" "$name.rcap"
done
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
db_check "cut" cut.rcap
expect_eq "cut: complete is 0" "$(sqlite3 cut.rcap.db "SELECT value FROM capture WHERE name = 'complete'")" 0
expect_eq "sampled: the capture says so" \
    "$(sqlite3 sampled.rcap.db "SELECT value FROM capture WHERE name IN ('sampled', 'sample_bytes') ORDER BY name")" \
    $'4096\n1'

# basic: the rows themselves
expect_eq "basic: allocations" "$(sqlite3 basic.rcap.db "SELECT id, size, allocator, allocated_ns,
    coalesce(freed_ns, '-'), coalesce(realloc_from, '-'), is_temporary, coalesce(leak, '-')
    FROM allocations ORDER BY id")" "1|100|malloc|1000|8000|-|0|-
2|200|malloc|2000|-|-|0|reachable
3|50|malloc|3000|-|-|0|lost
4|1000|malloc|4000|5000|-|1|-
5|10|malloc|6000|7000|-|1|-
6|20|realloc|7000|9000|5|0|-
7|8|malloc|8500|8600|-|1|-"
expect_eq "basic: strdup's frame is below the site" \
    "$(sqlite3 basic.rcap.db "SELECT sf.depth, m.path, f.file_offset FROM stack_frames AS sf
        JOIN frames AS f ON f.id = sf.frame JOIN modules AS m ON m.id = f.module
        WHERE sf.stack = (SELECT stack FROM allocations WHERE id = 3) ORDER BY sf.depth")" \
    "-1|/usr/lib/x86_64-linux-gnu/libc.so.6|4096
0|/opt/app/bin/app|12288
1|/opt/app/bin/app|4096"
expect_eq "stats: threads" "$(sqlite3 stats.rcap.db "SELECT number, coalesce(os_tid, '-'),
    coalesce(name, '-') FROM threads ORDER BY number")" "1|5000|main
2|5001|worker-1
3|5002|worker-2
4|-|-"
expect_eq "stats: memory" "$(sqlite3 stats.rcap.db "SELECT time_ns, rss FROM memory ORDER BY time_ns")" \
    "10000000|1048576
500000000|2097152
800000000|4194304"
expect_eq "stats: the realloc's row" "$(sqlite3 stats.rcap.db "SELECT a.size, b.size FROM allocations AS a
    JOIN allocations AS b ON b.id = a.realloc_from")" "5000|1"

# ---- -o -----------------------------------------------------------------------------------
mkdir dest
printf 'old\n' > dest/out.db
run_cmd "$RECYCLE" export stats.rcap --format sqlite -o dest/out.db
expect "-o: replaces a file" 0 "" ""
expect_eq "-o: a database now" "$(sqlite3 dest/out.db "SELECT value FROM capture WHERE name = 'allocations'")" 24
expect_eq "-o: no temporary file left" "$(ls dest)" "out.db"
cp stats.rcap damaged.rcap
printf '\x55' | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
printf 'old\n' > dest/kept.db
run_cmd "$RECYCLE" export damaged.rcap --format sqlite -o dest/kept.db
expect "-o, damaged capture: exit 1" 1 "" -
expect_match "-o, damaged capture: the reader's message" "$ERR" '^recycle export: damaged\.rcap: .+$'
expect_eq "-o, damaged capture: the file as it was" "$(cat dest/kept.db)" "old"
expect_eq "-o, damaged capture: no temporary file left" "$(ls dest | tr '\n' ' ')" "kept.db out.db "
run_cmd "$RECYCLE" export missing.rcap --format sqlite -o dest/kept.db
expect "missing capture" 1 "" "recycle export: missing.rcap: cannot open: No such file or directory"
if [[ $(id -u) != 0 ]]; then
    mkdir ro && chmod 555 ro
    run_cmd "$RECYCLE" export stats.rcap --format sqlite -o ro/out.db
    expect "a read-only folder: exit 1 and a message" 1 "" \
        "recycle export: cannot write 'ro/out.db': Permission denied"
    chmod 755 ro
else
    echo "note: run as root: a read-only folder is not read-only"
fi
# A SQLite error: the file size limit reached while writing (SIGXFSZ
# ignored, so that the write fails with EFBIG).
"$RC_CLI_MAKE_CAPTURE" large:20000 large.rcap || { echo "make_capture large failed"; exit 1; }
printf 'old\n' > dest/full.db
(trap '' XFSZ; ulimit -f 64; "$RECYCLE" export large.rcap --format sqlite -o dest/full.db) \
    > "$TMP/out" 2> "$TMP/err"
STATUS=$?
OUT=$(cat "$TMP/out")
ERR=$(cat "$TMP/err")
expect_match "a SQLite error: exit 1, the database and SQLite's message" "$STATUS $ERR" \
    '^1 recycle export: dest/full\.db\.[A-Za-z0-9]{6}: (database or disk is full|disk I/O error)$'
expect_eq "a SQLite error: the file as it was" "$(cat dest/full.db)" "old"
expect_eq "a SQLite error: no temporary file left" "$(ls dest | tr '\n' ' ')" "full.db kept.db out.db "

# ---- under valgrind -------------------------------------------------------------------------
vg_clean() {
    [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind > /dev/null
}
if vg_clean; then
    for c in stats basic sampled; do
        run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect "$RECYCLE" export $c.rcap --format sqlite -o vg.db
        expect "valgrind: $c is clean" 0 "" ""
    done
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect "$RECYCLE" export damaged.rcap --format sqlite -o vg.db
    expect "valgrind: a damaged capture is clean" 1 "" -
fi

# ---- a real program and the example queries ----------------------------------------------------
if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "note: the preload is not built: the real program is not recorded"
    finish
fi
export RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD
run_cmd "$RECYCLE" run -o known.rcap -- "$RC_CLI_BIN/sqlite_known"
expect "real: recorded" 0 - -
db_check "real" known.rcap
if vg_clean; then
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect "$RECYCLE" export known.rcap --format sqlite -o vg.db
    expect "real: valgrind is clean (symbols read)" 0 "" ""
fi

# query NAME: the SQL of docs/sqlite.md's example "-- query: NAME", run on
# the real program's database; sets OUT.
query() {
    local sql
    sql=$(awk -v name="$1" '
        /^```/ { if (inside) exit; next }
        $0 == "-- query: " name { inside = 1 }
        inside { print }' "$DOC")
    if [[ -z $sql ]]; then
        OUT="(no query $1 in docs/sqlite.md)"
        return
    fi
    OUT=$(printf '%s\n' "$sql" | sqlite3 known.rcap.db 2>&1)
}
n=$(grep -c '^-- query: ' "$DOC")
if ((n >= 8)); then ok "docs: $n example queries"; else fail "docs: $n example queries, expected 8 or more"; fi
query largest
expect_match "query largest" "$OUT" $'^1000000\\|0\\|biggest\n1000000\\|1\\|main(\n|$)'
query long_lived
expect_match "query long_lived" "$OUT" $'(^|\n)128\\|long_lived\\|0\\.3[0-9]*(\n|$)'
query short_lived
expect_match "query short_lived" "$OUT" $'^short_lived\\|100\\|100\n'
query per_thread_second
expect_match "query per_thread_second" "$OUT" $'\n2\\|sq-worker\\|0\\|5\\|250$'
query sizes_of_site
expect_eq "query sizes_of_site" "$OUT" $'8|10\n100|4\n1000|2'
query size_buckets
expect_match "query size_buckets" "$OUT" $'(^|\n)sizes\\|3\\|10\nsizes\\|7\\|4\nsizes\\|10\\|2\n'
query cross_thread
expect_match "query cross_thread" "$OUT" $'(^|\n)handoff\\|1\\|2\\|10\\|2000(\n|$)'
query leak_by_module
leaked=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = [x for x in r["sites"] if (x["module"] or "").endswith("/sqlite_known")]
print("%d|%d" % (sum(x["leaked_allocations"] for x in s), sum(x["leaked_bytes"] for x in s)))' \
    known.rcap.report.json)
expect_match "query leak_by_module" "$OUT" "(^|"$'\n'")[^|]*/sqlite_known\\|$leaked(\$|"$'\n'")"
expect_match "query leak_by_module: leaky's 3000 bytes among them" "$leaked" '^[3-9]\|[0-9]*$'
query realloc_chains
expect_match "query realloc_chains" "$OUT" '^grow\|4\|16 -> 32 -> 64 -> 4096'
query through_function
expect_eq "query through_function" "$OUT" "1|250"
query heap_per_100ms
expect_eq "query heap_per_100ms: the highest is the peak" \
    "$(printf '%s\n' "$OUT" | awk -F'|' 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }')" \
    "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["totals"]["peak_bytes"])' \
        known.rcap.report.json)"
finish
