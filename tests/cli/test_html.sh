#!/usr/bin/env bash
# test_html.sh - `recycle html`: the page of each test capture parsed and
# held against `recycle report` (text and --json): the totals rows are the
# report's lines, the sites and leaks tables add up to its totals, each
# flame graph's data block weighs its kind's total, the plot is an SVG
# image with the heap line; nothing in the page points outside it; a
# capture's strings are escaped; the page stays small on a capture with
# 2000 sites; where the page goes (default name, -o, -o -, /dev/full, a
# failed run leaving the old file) and usage errors; valgrind on the whole.
# The page in a browser is tests/cli/test_browser.sh's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
if ! command -v python3 > /dev/null 2>&1; then
    [[ ${CI:-} == true ]] && { echo "FAIL python3 is missing (make deps installs it)"; exit 1; }
    echo "skipped: python3 is missing (make deps installs it)"
    exit 77
fi
unset RECYCLE_PRELOAD LD_PRELOAD RECYCLE_FRAMES RECYCLE_SAMPLE RECYCLE_FOLLOW_FORK RECYCLE_PRELOAD_PID
cd "$TMP"
captures=(basic threads sampled signal noexit dlclose weird many stats empty incomplete)
for name in "${captures[@]}"; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done

cat > check.py <<'PY'
# check.py PAGE REPORT_JSON REPORT_TEXT: prints one problem a line, nothing
# when the page agrees with the report.
import base64, html.parser, json, re, sys, xml.etree.ElementTree as ET

page_path, json_path, text_path = sys.argv[1:4]
problems = []
bad = problems.append
page = open(page_path, encoding="utf-8").read()
rep = json.load(open(json_path))
tot = rep["totals"]
text = open(text_path, encoding="utf-8", errors="replace").read()

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []            # (attrs, text)
        self.tables = {}             # id -> rows of cells (text, data-v)
        self.ids = set()
        self.links = []
        self.img = None
        self.stack = []
        self.table = None
        self.row = None
        self.cell = None
        self.script = None
        self.title = ""
        self.in_title = False
        self.totals = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            if a["id"] in self.ids:
                bad("id %s twice" % a["id"])
            self.ids.add(a["id"])
        for k in ("src", "href", "action", "srcset", "poster"):
            if k in a:
                self.links.append(a[k])
        if tag == "script":
            self.script = [a, ""]
        elif tag == "title":
            self.in_title = True
        elif tag == "img":
            self.img = a
        elif tag == "table":
            self.table = a.get("id") or a.get("class")
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ["", a.get("data-v")]
    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            self.scripts.append(tuple(self.script))
            self.script = None
        elif tag == "title":
            self.in_title = False
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
    def handle_data(self, d):
        if self.script is not None:
            self.script[1] += d
        elif self.in_title:
            self.title += d
        elif self.cell is not None:
            self.cell[0] += d

p = Page()
p.feed(page)
p.close()

# nothing leaves the page
for link in p.links:
    if not (link.startswith("#") or link.startswith("data:")):
        bad("a link out of the page: " + link[:80])
if re.search(r"https?://", re.sub(r"http://www\.w3\.org/2000/svg", "", page)):
    bad("an address in the page: " + re.search(r"https?://\S{0,60}", page).group(0))

# scripts: three data blocks and two programs, nothing else
kinds = {"allocated": tot["bytes_allocated"], "peak": tot["peak_bytes"],
         "leaked": tot["leaked_bytes"]}
blocks = {a.get("id"): body for a, body in p.scripts if a.get("type") == "application/json"}
programs = [a for a, body in p.scripts if a.get("type") != "application/json"]
if len(programs) != 2 or any("src" in a for a in programs):
    bad("scripts: %r" % programs)
if sorted(blocks) != ["flame-data-" + k for k in sorted(kinds)]:
    bad("data blocks: %r" % sorted(blocks))
for k, want in kinds.items():
    body = blocks.get("flame-data-" + k)
    if body is None:
        continue
    d = json.loads(body)
    if d["total"] != want or d["tree"]["value"][0] != want:
        bad("flame %s weighs %s, the report %s" % (k, d["total"], want))
    if d["kind"] != k:
        bad("flame-data-%s has kind %s" % (k, d["kind"]))

# the plot
if not p.img or not p.img.get("src", "").startswith("data:image/svg+xml;base64,"):
    bad("no plot image")
else:
    svg = base64.b64decode(p.img["src"].split(",", 1)[1], validate=True)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    if root.tag != ns + "svg":
        bad("the plot is not SVG: " + root.tag)
    if root.find(".//%spolyline[@id='heap']" % ns) is None:
        bad("the plot has no heap line")

# the title and the totals: the report's opening lines, row for row
if p.title != (rep["program"] or "") + ": memory report":
    bad("title %r" % p.title)
want_rows = []
for line in text.split("\n\n")[0].split("\n") + text.split("\n\n")[1].split("\n"):
    if line.strip():
        want_rows.append([line[:17].rstrip(), line[17:]])
got_rows = [[c[0] for c in r] for r in p.tables.get("totals", [])]
if got_rows[:len(want_rows)] != want_rows:
    bad("totals rows %r, the report's %r" % (got_rows, want_rows))
if len(got_rows) != len(want_rows) + 1 or got_rows[-1][0] != "threads":
    bad("totals: no threads row last: %r" % got_rows[-1:])

# the sites table
sites = rep["sites"]
rows = p.tables.get("sites-table")
if not sites:
    if rows:
        bad("a sites table without sites")
else:
    body = rows[1:]
    if len(body) > 400 or len(body) < min(len(sites), 100):
        bad("sites table: %d rows for %d sites" % (len(body), len(sites)))
    if len(sites) <= 100:
        if len(body) != len(sites):
            bad("sites table: %d rows, the report %d sites" % (len(body), len(sites)))
        cols = {1: "bytes_allocated", 2: "allocations", 3: "peak_bytes", 4: "leaked_bytes",
                5: "temporary_allocations"}
        for c, key in cols.items():
            s = sum(int(r[c][1]) for r in body)
            if s != tot[key]:
                bad("sites column %d sums to %d, %s is %d" % (c, s, key, tot[key]))
        want = sorted(x["bytes"] for x in sites)
        got = sorted(int(r[1][1]) for r in body)
        if want != got:
            bad("sites' bytes %r, the report's %r" % (got[:10], want[:10]))
    order = [int(r[1][1]) for r in body]
    if order != sorted(order, reverse=True):
        bad("sites not heaviest first")

# the leaks
def table_sum(tid):
    rs = p.tables.get(tid)
    if rs is None:
        return None
    return sum(int(r[1][1]) for r in rs[1:]), sum(int(r[2][1]) for r in rs[1:]), len(rs) - 1
few = len(sites) <= 100
if "live-table" in p.tables or "live-table-none" in p.ids:
    if "lost-table" in p.tables or "reachable-table" in p.tables:
        bad("both verdict tables and the live table")
    got = table_sum("live-table")
    want = (tot["leaked_bytes"], tot["leaked_allocations"])
    if few and (got or (0, 0, 0))[:2] != want:
        bad("live table %r, the report %r" % (got, want))
else:
    for tid, key in (("lost-table", "definitely_lost"), ("reachable-table", "still_reachable")):
        got = table_sum(tid)
        want = (tot[key + "_bytes"], tot[key + "_allocations"])
        if got is None and want != (0, 0):
            bad("no %s, the report has %r" % (tid, want))
        if got is not None and few and got[:2] != want:
            bad("%s %r, the report %r" % (tid, got, want))
print("\n".join(problems))
PY

# page_check NAME PAGE CAPTURE: the page against the report of the capture
page_check() {
    "$RECYCLE" report "$3" --json > "$3.json" 2> /dev/null
    "$RECYCLE" report "$3" > "$3.txt" 2> /dev/null
    local problems
    problems=$(python3 check.py "$2" "$3.json" "$3.txt" 2>&1)
    [[ -z $problems ]] && ok "$1" || fail "$1" "$problems"
}

# ---- each test capture ------------------------------------------------------------------------
for name in "${captures[@]}"; do
    run_cmd "$RECYCLE" html "$name.rcap"
    expect "$name: exit 0, nothing said" 0 "" ""
    [[ -s $name.report.html ]] && ok "$name: the page is FILE.report.html" ||
        fail "$name: the page is FILE.report.html" "$(ls)"
    page_check "$name: the page against the report" "$name.report.html" "$name.rcap"
done
grep -q 'id="sampled"' sampled.report.html && ok "sampled: the page says estimates" ||
    fail "sampled: the page says estimates"
grep -q 'id="sampled"' basic.report.html && fail "basic: not sampled" || ok "basic: not sampled"
grep -q 'id="live-table"' signal.report.html && ok "signal: no verdicts, the live table" ||
    fail "signal: no verdicts, the live table"
grep -q 'killed by signal' signal.report.html && ok "signal: how it ended" ||
    fail "signal: how it ended"

# A capture cut in the middle of a chunk: a warning, and the page says so.
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
run_cmd "$RECYCLE" html cut.rcap
expect_match "cut short: exit 0, a warning" "$STATUS $ERR" '^0 recycle html: warning: '
grep -q 'id="cut-short"' cut.report.html && ok "cut short: the page says so" ||
    fail "cut short: the page says so"
grep -q 'id="cut-short"' stats.report.html && fail "stats: whole, not cut short" ||
    ok "stats: whole, not cut short"

# ---- 2000 sites: the page stays small -------------------------------------------------------
if "$RC_CLI_MAKE_CAPTURE" large:200000 large.rcap; then
    run_cmd "$RECYCLE" html large.rcap -o large.html
    expect "large: exit 0" 0 "" ""
    size=$(stat -c %s large.html)
    ((size < 2000000)) && ok "large: the page is $size bytes" || fail "large: the page is small" "$size bytes"
    page_check "large: the page against the report" large.html large.rcap
    rows=$(grep -c '^<tr><td class="site">' large.html)
    ((rows >= 100 && rows <= 500)) && ok "large: $rows site rows of 2000" ||
        fail "large: between 100 and 500 site rows" "$rows"
else
    fail "make_capture large:200000"
fi

# ---- where the page goes ------------------------------------------------------------------------
run_cmd "$RECYCLE" html basic.rcap -o -
expect_match "-o -: the page on stdout" "$STATUS ${OUT:0:15}" '^0 <!DOCTYPE html>'
cmp -s <(printf '%s\n' "$OUT") basic.report.html && ok "-o -: the same page as the file" ||
    fail "-o -: the same page as the file"
run_cmd "$RECYCLE" html -o page.html basic.rcap
expect "-o before FILE" 0 "" ""
cmp -s page.html basic.report.html && ok "-o FILE: the same page" || fail "-o FILE: the same page"
[[ $(stat -c %a page.html) == "$(umask -S > /dev/null; printf '%o' $((0666 & ~$(umask))))" ]] &&
    ok "-o FILE: an ordinary file's mode" || fail "-o FILE: an ordinary file's mode" "$(stat -c %a page.html)"
echo "old" > kept.html
printf 'RCAP garbage' > damaged.rcap
run_cmd "$RECYCLE" html damaged.rcap -o kept.html
expect_match "damaged: exit 1" "$STATUS" '^1$'
expect_match "damaged: says why" "$ERR" '^recycle html: '
[[ $(cat kept.html) == old ]] && ok "damaged: the old page kept" || fail "damaged: the old page kept"
[[ -z $(ls kept.html.* 2> /dev/null) ]] && ok "damaged: no temporary file left" ||
    fail "damaged: no temporary file left" "$(ls)"
run_cmd "$RECYCLE" html missing.rcap
expect "missing capture" 1 "" "recycle html: missing.rcap: cannot open: No such file or directory"
run_cmd "$RECYCLE" html basic.rcap -o no/such/dir/page.html
expect "-o into a missing folder" 1 "" \
    "recycle html: cannot write no/such/dir/page.html: No such file or directory"
if [[ -w /dev/full ]]; then
    run_cmd "$RECYCLE" html basic.rcap -o /dev/full
    expect "-o /dev/full" 1 "" "recycle html: cannot write /dev/full: No space left on device"
    [[ -c /dev/full ]] && ok "-o /dev/full: still a device" || fail "-o /dev/full: still a device"
    "$RECYCLE" html basic.rcap -o - > /dev/full 2> err.txt
    expect_match "-o - on a full disk: exit 1" "$? $(cat err.txt)" '^1 recycle: write error on standard output'
fi

# ---- usage ----------------------------------------------------------------------------------------
usage="usage: recycle html FILE [-o OUT.html]
Try 'recycle html --help' for more information."
run_cmd "$RECYCLE" html
expect "no file" 2 "" "recycle html: no capture file given
$usage"
run_cmd "$RECYCLE" html a.rcap b.rcap
expect "two files" 2 "" "recycle html: one capture at a time ('a.rcap' and 'b.rcap')
$usage"
run_cmd "$RECYCLE" html basic.rcap -o ''
expect "-o ''" 2 "" "recycle html: -o: an empty file name
$usage"
run_cmd "$RECYCLE" html basic.rcap --kind peak
expect_match "an unknown option" "$STATUS $ERR" "^2 recycle html: unknown option '--kind'"
run_cmd "$RECYCLE" html --help
expect_match "--help" "$STATUS $OUT" '^0 usage: recycle html FILE \[-o OUT\.html\].*flame graph'

# ---- a real program ---------------------------------------------------------------------------------
if [[ -n ${RC_CLI_REAL_PRELOAD:-} ]]; then
    run_cmd "$RECYCLE" run -o known.rcap -- "$RC_CLI_BIN/known"
    expect "known recorded" 0 "" "recycle: wrote known.rcap"
    run_cmd "$RECYCLE" html known.rcap
    expect "known: exit 0" 0 "" ""
    page_check "known: the page against the report" known.report.html known.rcap
    # progs/known.c: lose() leaks 55555 bytes that nothing points to
    python3 - known.report.html > lost.txt <<'PY'
import re, sys
page = open(sys.argv[1]).read()
t = re.search(r'<table class="sortable" id="lost-table">(.*?)</table>', page, re.S)
print(t.group(1) if t else "")
PY
    grep -q '<summary>lose (' lost.txt && grep -q 'data-v="55555"' lost.txt && ok "known: lose's 55,555 bytes definitely lost" ||
        fail "known: lose's 55,555 bytes definitely lost" "$(cat lost.txt)"
    grep -q '<li>main (' known.report.html && ok "known: the leak's callers listed" ||
        fail "known: the leak's callers listed"

    # The capture's strings are escaped: a program whose name is markup.
    odd=$'<b>&amp;\'"x\xff'
    cp "$RC_CLI_BIN/known" "./$odd"
    run_cmd "$RECYCLE" run -o odd.rcap -- "./$odd"
    run_cmd "$RECYCLE" html odd.rcap
    expect "odd name: exit 0" 0 "" ""
    page_check "odd name: the page against the report" odd.report.html odd.rcap
    verdict=$(python3 - odd.report.html "./$odd" <<'PY'
import html.parser, os, sys
class P(html.parser.HTMLParser):
    h1, cur, tags = None, "", 0
    def handle_starttag(self, tag, a):
        self.tags += tag == "b"
        self.cur = tag
    def handle_data(self, d):
        if self.cur == "h1" and self.h1 is None:
            self.h1 = d
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
want = os.fsencode(sys.argv[2]).decode("utf-8", "replace")
print("ok" if p.tags == 0 and p.h1 == want else "tags %d, h1 %a, want %a" % (p.tags, p.h1, want))
PY
)
    expect_eq "odd name: the title is text, its bad byte U+FFFD" "$verdict" ok
else
    echo "note: librecycle-preload.so is not built: no program is recorded"
fi

# ---- under valgrind ----------------------------------------------------------------------------------
if [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind > /dev/null; then
    for name in basic signal weird; do
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            "$RECYCLE" html "$name.rcap" -o vg.html > /dev/null 2> vg.txt
        st=$?
        [[ $st == 0 ]] && ok "valgrind: $name clean" || fail "valgrind: $name clean" "status $st" "$(head -20 vg.txt)"
    done
fi
finish
