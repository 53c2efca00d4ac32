#!/usr/bin/env bash
# test_flamegraph.sh - `recycle flamegraph` on captures with known content
# (captures.h) and on programs recorded with the real preload: for each
# kind, the page's embedded tree against `recycle report --json` (the root
# is the kind's total, a box weighs at least its children, each stack's
# bytes end in the box of its frames), the page parsed as HTML with nothing
# fetched from elsewhere, names that could break out of the data block,
# the model of flame.js run with node and the whole script against a
# stand-in for the browser, the page's size on a large capture,
# where the page goes (default name, -o FILE, -o -, /dev/full, a failed
# write leaving the old page), damaged or missing captures, usage errors.
# The HTML and JSON checks need python3 and are skipped without it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
unset RECYCLE_PRELOAD LD_PRELOAD RECYCLE_FRAMES RECYCLE_SAMPLE RECYCLE_FOLLOW_FORK RECYCLE_PRELOAD_PID
cd "$TMP"
captures=(basic threads sampled signal noexit dlclose weird many stats)
for name in "${captures[@]}" incomplete empty; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done
have_python=false
if command -v python3 > /dev/null 2>&1; then
    have_python=true
else
    echo "note: python3 is missing: the pages are not parsed"
fi
have_node=false
if command -v node > /dev/null 2>&1; then
    have_node=true
else
    echo "note: node is missing: the page's script is not run"
fi

# check.py PAGE REPORT_JSON KIND [paths|names NAME=BYTES...]: prints one line
# per problem found in PAGE.
cat > check.py <<'PY'
import html.parser, json, re, sys

page_path, report_path, kind = sys.argv[1:4]
extra = sys.argv[4:]
problems = []
def bad(msg):
    problems.append(msg)

with open(page_path, encoding="utf-8") as f:
    page = f.read()

class Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.scripts, self.current = [], [], None
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "action", "srcset", "data", "poster") and v is not None:
                bad("attribute %s=%r of <%s> refers to a resource" % (k, v, tag))
        if tag in ("meta", "input", "br", "link", "img"):
            return
        self.stack.append(tag)
        if tag == "script":
            self.current = [dict(attrs), ""]
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            bad("</%s> does not close <%s>" % (tag, self.stack[-1] if self.stack else None))
            return
        self.stack.pop()
        if tag == "script":
            self.scripts.append(self.current)
            self.current = None
    def handle_data(self, data):
        if self.current is not None:
            self.current[1] += data

p = Parser()
p.feed(page)
p.close()
if p.stack:
    bad("elements left open: %r" % p.stack)
# the data block holds no '<' (each one escaped): nothing in it can end it
# or open a comment, whatever a parser does with the rest
start = page.find('<script type="application/json" id="flame-data">')
block = page[start:].split(">", 1)[1].split("</script>", 1)[0] if start >= 0 else ""
if "<" in block or ">" in block or "&" in block:
    bad("the data block holds < > or & unescaped")
if page.lower().count("</script") != 2 or "<!--" in page:
    bad("%d '</script', %d '<!--' in the page" % (page.lower().count("</script"), page.count("<!--")))
if not page.startswith("<!DOCTYPE html>"):
    bad("no doctype")
for url in ("http://", "https://", "url("):
    if url in page.lower():
        bad("the page holds %r" % url)
if re.search(r"""(src|href)\s*=\s*["']?\s*(//|[a-z]+:)""", page, re.I):
    bad("a src or href attribute in the page")
if len(p.scripts) != 2:
    bad("%d script elements, expected 2" % len(p.scripts))
    print("\n".join(problems))
    sys.exit(0)
attrs, text = p.scripts[0]
if attrs.get("type") != "application/json" or attrs.get("id") != "flame-data":
    bad("the first script is not the data block: %r" % attrs)
if p.scripts[1][0]:
    bad("the second script has attributes %r" % p.scripts[1][0])
d = json.loads(text)

with open(report_path) as f:
    rep = json.load(f)
tot = rep["totals"]
key = {"allocated": ("bytes_allocated", "allocations", "bytes", "allocations"),
       "peak": ("peak_bytes", "peak_allocations", "peak_bytes", "peak_allocations"),
       "leaked": ("leaked_bytes", "leaked_allocations", "leaked_bytes", "leaked_allocations")}[kind]
t = d["tree"]
n = len(t["parent"])
for k in ("frame", "value", "count"):
    if len(t[k]) != n:
        bad("tree.%s has %d entries, parent %d" % (k, len(t[k]), n))
if d["kind"] != kind:
    bad("kind %r, expected %r" % (d["kind"], kind))
if d["program"] != rep["program"]:
    bad("program %r, the report's %r" % (d["program"], rep["program"]))
if t["value"][0] != tot[key[0]] or d["total"] != tot[key[0]]:
    bad("root %d, total %d, the report's %s %d" % (t["value"][0], d["total"], key[0], tot[key[0]]))
if t["count"][0] != tot[key[1]]:
    bad("root count %d, the report's %s %d" % (t["count"][0], key[1], tot[key[1]]))
if t["parent"][0] != -1 or t["frame"][0] != -1:
    bad("the first box is not the root")
total = t["value"][0]
children = [0] * n
counts = [0] * n
kids = [[] for _ in range(n)]
fr = d["frames"]
nf = len(fr["name"])
for i in range(1, n):
    q = t["parent"][i]
    if not 0 <= q < i:
        bad("box %d: parent %d not before it" % (i, q))
        continue
    children[q] += t["value"][i]
    counts[q] += t["count"][i]
    kids[q].append(i)
    if not 0 <= t["frame"][i] < nf:
        bad("box %d: frame %d out of range" % (i, t["frame"][i]))
    elif total and t["value"][i] * 1000 < total:
        bad("box %d weighs %d, under a thousandth of %d" % (i, t["value"][i], total))
for i in range(n):
    if children[i] > t["value"][i] or counts[i] > t["count"][i]:
        bad("box %d: children weigh %d in %d, it %d in %d" %
            (i, children[i], counts[i], t["value"][i], t["count"][i]))
for k in ("name", "file", "module"):
    for s in fr[k]:
        if not -1 <= s < len(d["strings"]) or (k == "name" and s < 0):
            bad("frames.%s: string %d out of range" % (k, s))

def name(i):
    return d["strings"][fr["name"][t["frame"][i]]]
def path(i):
    out = []
    while i > 0:
        out.append(name(i))
        i = t["parent"][i]
    return tuple(reversed(out))
def own(i):
    return t["value"][i] - children[i]

if extra[:1] == ["paths"]:
    # every stack of the report (--by stack) ends in the box of its frames,
    # outermost first, or in the deepest box of them kept (lighter ones are
    # folded into their parent); without symbols a frame is module+offset
    def frame_name(f):
        if f["function"] is not None:
            return f["function"]
        if f["module"] is None:
            return "0x%x" % f["offset"]
        return "%s+0x%x" % (f["module"].rsplit("/", 1)[-1], f["offset"])
    box_of = {path(i): i for i in range(n)}
    want = [0] * n
    prefix = {}
    for s in rep["sites"]:
        k = tuple(frame_name(f) for f in reversed(s["stack"]))
        for j in range(1, len(k) + 1):
            prefix[k[:j]] = prefix.get(k[:j], 0) + s[key[2]]
        while k not in box_of:
            k = k[:-1]
        want[box_of[k]] += s[key[2]]
    for k, v in prefix.items():
        if v * 1000 >= total and v and k not in box_of:
            bad("box %s (%d bytes of %d) folded" % (" > ".join(k), v, total))
    for i in range(n):
        if own(i) != want[i]:
            bad("box %s: %d bytes of its own, the report's stacks %d" %
                (" > ".join(path(i)) or "all", own(i), want[i]))
elif extra[:1] == ["names"]:
    # NAME=BYTES[xCOUNT]: the boxes named NAME weigh BYTES (COUNT allocations)
    # in all, counted once where one is inside another
    for spec in extra[1:]:
        nm, want = spec.rsplit("=", 1)
        wb, _, wc = want.partition("x")
        b = c = 0
        for i in range(1, n):
            if name(i) == nm and nm not in path(t["parent"][i]):
                b += t["value"][i]
                c += t["count"][i]
        if b != int(wb) or (wc and c != int(wc)):
            bad("%s: %d bytes in %d allocations, expected %s" % (nm, b, c, want))
elif extra[:1] == ["command_line"]:
    if d["command_line"] != extra[1]:
        bad("command_line %r, expected %r" % (d["command_line"], extra[1]))
for m in problems:
    print(m)
PY

# page_check NAME PAGE REPORT KIND [...]: check.py finds nothing.
page_check() {
    $have_python || return 0
    local name=$1 out
    shift
    out=$(python3 check.py "$@" 2>&1)
    if [[ -z $out ]]; then ok "$name"; else fail "$name" "$out"; fi
}

# The model of flame.js under node: boxes nested in their parent, the
# search's share, stable colours.
cat > model.js <<'JS'
const fs = require('fs');
const page = fs.readFileSync(process.argv[2], 'utf8');
const m = page.match(/<script type="application\/json" id="flame-data">([\s\S]*?)<\/script>\n<script>\n([\s\S]*?)<\/script>/);
const problems = [];
if (!m) {
    console.log('no data block and script');
    process.exit(0);
}
const data = JSON.parse(m[1]);
const mod = {exports: {}};
new Function('module', m[2])(mod);
const F = mod.exports;
const f = new F.Flame(data);
if (f.n !== data.tree.parent.length) problems.push('model has ' + f.n + ' boxes');
for (let i = 1; i < f.n; i++) {
    const p = f.parent[i];
    if (f.x[i] < f.x[p] || f.x[i] + f.value[i] > f.x[p] + f.value[p] + 1e-6 * f.value[0])
        problems.push('box ' + i + ' lies outside its parent');
    if (f.depth[i] !== f.depth[p] + 1) problems.push('box ' + i + ': depth');
    if (!f.within(i, 0) || !f.within(i, p)) problems.push('box ' + i + ': not within');
}
const all = f.search(/./, 0);
if (f.n > 1 && Math.abs(all.share - 1) > 1e-9 && data.total > 0)
    problems.push('everything matched covers ' + all.share);
const none = f.search(/^$/, 0);
if (none.share !== 0 || none.boxes !== 0) problems.push('nothing matched covers ' + none.share);
const want = process.argv[3];
if (want) {
    const r = f.search(new RegExp(want), 0);
    console.log('share ' + r.share.toFixed(6));
}
if (F.colour('main') !== F.colour('main') || F.colour('main') === F.colour('mainx'))
    problems.push('colours are not a function of the name');
if (F.fmtBytes(1388) !== '1.4 KiB' || F.fmtCount(1234567) !== '1,234,567')
    problems.push('formatting');
for (const p of problems) console.log(p);
JS
# model_check NAME PAGE: node finds nothing wrong in the model.
model_check() {
    $have_node || return 0
    local out
    out=$(node model.js "$2" 2>&1)
    if [[ -z $out ]]; then ok "$1"; else fail "$1" "$out"; fi
}

# The page's script run against a stand-in for the browser (a document of
# elements by id, a canvas that records what is drawn): the root across the
# bottom, the title from the data, the tip over a box, a click that zooms,
# Escape, the search (a regular expression, then text that is not one),
# the icicle view.
cat > ui.js <<'JS'
const fs = require('fs');
const page = fs.readFileSync(process.argv[2], 'utf8');
const m = page.match(/<script type="application\/json" id="flame-data">([\s\S]*?)<\/script>\n<script>\n([\s\S]*?)<\/script>/);
const problems = [];
const rects = [], texts = [];
const ctx = new Proxy({}, {
    get(t, k) {
        if (k in t) return t[k];
        if (k === 'fillRect') return (x, y, w, h) => rects.push({x, y, w, h, fill: t.fillStyle});
        if (k === 'fillText') return (s, x, y) => texts.push(s);
        return () => {};
    },
    set(t, k, v) { t[k] = v; return true; },
});
const els = {};
function el(id) {
    return {id, textContent: '', value: '', checked: false, hidden: true, style: {}, className: '',
            clientWidth: 1000, offsetWidth: 200, listeners: {}, children: [],
            addEventListener(t, f) { this.listeners[t] = f; }, setAttribute(k, v) { this[k] = v; },
            appendChild(c) { this.children.push(c); },
            getBoundingClientRect() { return {left: 0, top: 0}; }, getContext() { return ctx; }};
}
const docListeners = {};
const document = {
    title: '',
    /* the page has no kind selector (that is the html page's) */
    getElementById(id) { return id === 'flame-kind' ? null : els[id] || (els[id] = el(id)); },
    createElement() { return el('div'); },
    addEventListener(t, f) { docListeners[t] = f; },
};
const window = {devicePixelRatio: 1, addEventListener() {}};
document.getElementById('flame-data').textContent = m[1];
new Function('document', 'window', m[2])(document, window);
const data = JSON.parse(m[1]);
const n = data.tree.parent.length;
let depth = [0];
for (let i = 1; i < n; i++) depth.push(depth[data.tree.parent[i]] + 1);
const rows = Math.max(...depth) + 1, H = rows * 18;
const canvas = els.canvas, tip = els.tip;
if (!rects.length) problems.push('nothing drawn');
const root = rects.find(r => r.x === 0 && r.y === H - 18 + 1);
if (!root || root.w !== 999) problems.push('root not drawn across the bottom: ' + JSON.stringify(rects[0]));
if (els.title.textContent !== data.command_line) problems.push('title ' + els.title.textContent);
if (!/\S/.test(els.subtitle.textContent)) problems.push('no subtitle');
if (!data.complete !== els.subtitle.textContent.includes('cut short'))
    problems.push('subtitle: ' + els.subtitle.textContent);
/* hover the root */
canvas.listeners.mousemove({clientX: 500, clientY: H - 9});
const tipText = tip.children.map(c => c.textContent).join(' | ');
if (tip.hidden || !/^all \|/.test(tipText) || !/100\.0% of the total/.test(tipText))
    problems.push('tip over the root: ' + tipText);
/* click the first child of the root: it fills the width */
const child = data.tree.parent.indexOf(0);
if (child > 0) {
    rects.length = 0;
    canvas.listeners.click({clientX: 1, clientY: H - 18 - 9});
    const c = rects.filter(r => r.y === H - 36 + 1);
    if (c.length !== 1 || c[0].w !== 999) problems.push('zoomed box: ' + JSON.stringify(c));
    canvas.listeners.mousemove({clientX: 1, clientY: H - 18 - 9});
    const t2 = tip.children.map(c => c.textContent).join(' | ');
    if (!t2.includes('of the total')) problems.push('tip over the child: ' + t2);
    rects.length = 0;
    docListeners.keydown({key: 'Escape'});
    if (!rects.length) problems.push('Escape did not redraw');
}
/* search */
els.search.value = process.argv[3] || '.';
rects.length = 0;
els.search.listeners.input();
if (!/^matched \d/.test(els.matched.textContent)) problems.push('matched: ' + els.matched.textContent);
if (!rects.some(r => r.fill === '#d946ef')) problems.push('no box highlighted');
els.search.value = '(';
els.search.listeners.input();
/* icicle: the root at the top */
els.icicle.checked = true;
rects.length = 0;
els.icicle.listeners.change();
if (!rects.some(r => r.x === 0 && r.y === 1 && r.w === 999)) problems.push('icicle: no root at the top');
els.reset.listeners.click();
console.log(problems.join('\n') || 'ui ok: ' + els.matched.textContent + ' / ' + document.title);
JS
# ui_check NAME PAGE [REGEX]: the script runs and draws as it should.
ui_check() {
    $have_node || return 0
    local out
    out=$(node ui.js "$2" "${3-.}" 2>&1)
    if [[ $out == "ui ok: "* ]]; then ok "$1"; else fail "$1" "$out"; fi
}

# ---- synthetic captures: every kind against the report ---------------------------------------
for name in "${captures[@]}"; do
    "$RECYCLE" report "$name.rcap" --json --by stack > "$name.json" 2> /dev/null
    for kind in allocated peak leaked; do
        run_cmd "$RECYCLE" flamegraph "$name.rcap" --kind "$kind" -o "$name-$kind.html"
        expect "$name $kind: exit 0, silent" 0 "" -
        page_check "$name $kind: the tree against the report" "$name-$kind.html" \
            "$name.json" "$kind" paths
    done
    model_check "$name: the script's model" "$name-allocated.html"
    ui_check "$name: the script in a page" "$name-allocated.html"
done

# The figures of basic written out (captures.h): 7 allocations of 1388 bytes,
# 1350 at the peak in 4 blocks, 250 leaked in 2.
if $have_python; then
    root() { python3 -c '
import json, re, sys
s = open(sys.argv[1]).read()
d = json.loads(re.search(r"id=\"flame-data\">(.*?)</script>", s, re.S).group(1))
print(d["tree"]["value"][0], d["tree"]["count"][0], d["kind_label"])' "$1"; }
    expect_eq "basic allocated: root" "$(root basic-allocated.html)" "1388 7 allocated"
    expect_eq "basic peak: root" "$(root basic-peak.html)" "1350 4 live at the peak"
    expect_eq "basic leaked: root" "$(root basic-leaked.html)" "250 2 leaked at exit"
    expect_eq "signal leaked: live at the end, not leaked" \
        "$(root signal-leaked.html | cut -d' ' -f3-)" "live at the end"
    expect_eq "empty: a root of nothing" "$("$RECYCLE" flamegraph empty.rcap -o - | \
        python3 -c 'import json,re,sys; d=json.loads(re.search(r"id=\"flame-data\">(.*?)</script>", sys.stdin.read(), re.S).group(1)); print(d["tree"])')" \
        "{'frame': [-1], 'parent': [-1], 'value': [0], 'count': [0]}"
fi
run_cmd "$RECYCLE" flamegraph many.rcap -o - --kind allocated
expect_match "many: twelve sites, each a box" "$OUT" '"app\+0xc00"'

# ---- a capture without its last chunk: drawn up to where it ends --------------------------
run_cmd "$RECYCLE" flamegraph incomplete.rcap -o incomplete.html
expect "incomplete: exit 0" 0 "" -
# Cut in the middle of a chunk: a warning, and the page says so.
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
run_cmd "$RECYCLE" flamegraph cut.rcap -o cut.html
expect "cut short: exit 0" 0 "" -
expect_match "cut short: a warning" "$ERR" '^recycle flamegraph: warning: '
expect_match "cut short: the data says so" "$(cat cut.html)" '"complete":false,'
ui_check "cut short: the subtitle says so" cut.html
expect_match "a whole capture: the data says so" "$(cat stats-allocated.html)" '"complete":true,'

# ---- where the page goes ---------------------------------------------------------------------
mkdir -p outdir
cp basic.rcap outdir/run.rcap
run_cmd "$RECYCLE" flamegraph outdir/run.rcap
expect "default output: exit 0, silent" 0 "" ""
[[ -s outdir/run.html && ! -e outdir/run.rcap.html ]] && ok "default output: FILE.rcap -> FILE.html" ||
    fail "default output: FILE.rcap -> FILE.html" "$(ls outdir)"
cp basic.rcap outdir/noext
run_cmd "$RECYCLE" flamegraph outdir/noext
[[ -s outdir/noext.html ]] && ok "default output: .html added" || fail "default output: .html added" "$(ls outdir)"
run_cmd "$RECYCLE" flamegraph basic.rcap -o -
expect "-o -: exit 0" 0 - ""
if cmp -s <(printf '%s\n' "$OUT") outdir/run.html; then ok "-o -: the page on stdout"; else
    fail "-o -: the page on stdout" "differs from the file"; fi
leftovers=$(ls outdir | grep -v '^run\.rcap$\|^run\.html$\|^noext$\|^noext\.html$')
expect_eq "no temporary file left" "$leftovers" ""
mode=$(umask 022; "$RECYCLE" flamegraph basic.rcap -o outdir/mode.html && stat -c %a outdir/mode.html)
expect_eq "the page is made with the umask's mode" "$mode" "644"

if [[ -w /dev/full ]]; then
    run_cmd "$RECYCLE" flamegraph basic.rcap -o /dev/full
    expect_match "-o /dev/full: exit 1" "$STATUS" '^1$'
    expect_match "-o /dev/full: says why" "$ERR" '^recycle flamegraph: cannot write /dev/full: No space left on device$'
    [[ -c /dev/full ]] && ok "-o /dev/full: the device is still a device" ||
        fail "-o /dev/full: the device is still a device" "$(ls -l /dev/full)"
    "$RECYCLE" flamegraph basic.rcap -o - > /dev/full 2> err.txt
    expect_eq "-o - to a full disk: exit 1" "$?" "1"
    expect_match "-o - to a full disk: says why" "$(cat err.txt)" 'write error on standard output'
fi
# A directory that cannot take the page: the old page stays as it was.
mkdir ro && echo old > ro/page.html && chmod 555 ro
if [[ ! -w ro || $(id -u) != 0 ]] && ! touch ro/probe 2> /dev/null; then
    run_cmd "$RECYCLE" flamegraph basic.rcap -o ro/page.html
    expect "unwritable directory: exit 1" 1 "" -
    expect_eq "unwritable directory: the old page untouched" "$(cat ro/page.html)" "old"
else
    rm -f ro/probe
    echo "note: running as root: an unwritable directory is not tested"
fi
chmod 755 ro
run_cmd "$RECYCLE" flamegraph basic.rcap -o no/such/dir/page.html
expect_match "missing directory: exit 1 and why" "$STATUS $ERR" \
    '^1 recycle flamegraph: cannot write no/such/dir/page\.html: No such file or directory$'

# ---- damaged, missing, usage ------------------------------------------------------------------
printf 'not a capture at all, not at all\n' > junk.rcap
run_cmd "$RECYCLE" flamegraph junk.rcap -o junk.html
expect_match "damaged: exit 1 with a message" "$STATUS $ERR" '^1 recycle flamegraph: .*junk\.rcap'
[[ ! -e junk.html ]] && ok "damaged: no page written" || fail "damaged: no page written"
run_cmd "$RECYCLE" flamegraph missing.rcap
expect_match "missing: exit 1 with a message" "$STATUS $ERR" '^1 recycle flamegraph: .*missing\.rcap'
run_cmd "$RECYCLE" flamegraph
expect_match "no file: usage error" "$STATUS $ERR" '^2 recycle flamegraph: no capture file given'
run_cmd "$RECYCLE" flamegraph basic.rcap --kind temporary
expect_match "bad kind: usage error" "$STATUS $ERR" \
    "^2 recycle flamegraph: --kind: 'temporary' is not allocated, peak or leaked"
run_cmd "$RECYCLE" flamegraph basic.rcap many.rcap
expect_match "two files: usage error" "$STATUS $ERR" '^2 recycle flamegraph: one capture at a time'
run_cmd "$RECYCLE" flamegraph basic.rcap --width 3
expect_match "unknown option: usage error" "$STATUS" '^2$'
run_cmd "$RECYCLE" flamegraph basic.rcap -o ''
expect_match "empty -o: usage error" "$STATUS" '^2$'
run_cmd "$RECYCLE" flamegraph --help
expect_match "--help: exit 0, the usage" "$STATUS $OUT" \
    '^0 usage: recycle flamegraph FILE \[-o OUT\.html\] \[--kind allocated\|peak\|leaked\]'

# ---- the large capture: the page stays small --------------------------------------------------
if "$RC_CLI_MAKE_CAPTURE" large:200000 large.rcap; then
    "$RECYCLE" report large.rcap --json > large.json 2> /dev/null
    run_cmd "$RECYCLE" flamegraph large.rcap -o large.html
    expect "large: exit 0" 0 "" ""
    size=$(stat -c %s large.html)
    ((size < 1000000)) && ok "large: the page is $size bytes" ||
        fail "large: the page is small" "$size bytes"
    page_check "large: the tree against the report" large.html large.json allocated
    model_check "large: the script's model" large.html
else
    fail "make_capture large:200000"
fi

# ---- programs recorded with the real preload ----------------------------------------------------
if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "note: librecycle-preload.so is not built: no program is recorded"
    finish
fi
B=$RC_CLI_BIN
run_cmd "$RECYCLE" run -o known.rcap -- "$B/known"
expect "known recorded" 0 "" "recycle: wrote known.rcap"
"$RECYCLE" report known.rcap --json --by stack > known.json
for kind in allocated peak leaked; do
    "$RECYCLE" flamegraph known.rcap --kind "$kind" -o "known-$kind.html"
    page_check "known $kind: the tree against the report" "known-$kind.html" known.json "$kind"
done
# progs/known.c: lose() allocates 55555 bytes, leaked; main 3 x 77777 at one line.
page_check "known allocated: lose and main" known-allocated.html known.json allocated \
    names lose=55555x1
page_check "known leaked: lose" known-leaked.html known.json leaked names lose=55555x1
run_cmd "$RECYCLE" flamegraph known.rcap -o -
expect_match "known: main at the line of the 77777-byte allocations" "$OUT" '"main"'
model_check "known: the script's model" known-allocated.html
ui_check "known: the script in a page, searching lose" known-allocated.html '^lose$'
if $have_node; then
    share=$(node model.js known-allocated.html '^lose$')
    total=$(python3 -c 'import json; print(json.load(open("known.json"))["totals"]["bytes_allocated"])' 2> /dev/null)
    want=$(python3 -c "print('share %.6f' % (55555 / $total))" 2> /dev/null)
    expect_eq "known: the search's share of lose" "$share" "$want"
fi

# A tree of known shape (progs/flame_tree.c): a recursion 21 deep, and a
# function under a thousandth of the total folded into its caller.
run_cmd "$RECYCLE" run -o tree.rcap -- "$B/flame_tree"
expect "flame_tree recorded" 0 "" -
"$RECYCLE" report tree.rcap --json > tree.json
"$RECYCLE" flamegraph tree.rcap -o tree.html
page_check "flame_tree: the tree against the report" tree.html tree.json allocated
# main's box at the line that calls tiny weighs 100 bytes too: folded as well,
# into main's caller; the root keeps every byte.
page_check "flame_tree: big, deep, tiny folded" tree.html tree.json allocated \
    names big=1000000x1 deep=4096x1 tiny=0x0 main=1004096x2
if $have_python; then
    depth=$(python3 - tree.html <<'PY'
import json, re, sys
page = open(sys.argv[1]).read()
d = json.loads(re.search(r'id="flame-data">(.*?)</script>', page, re.S).group(1))
t = d["tree"]
def name(i):
    return d["strings"][d["frames"]["name"][t["frame"][i]]] if i > 0 else None
most = 0
for i in range(len(t["parent"])):
    run, j = 0, i
    while j > 0 and name(j) == "deep":
        run += 1
        j = t["parent"][j]
    most = max(most, run)
print(most)
PY
)
    expect_eq "flame_tree: deep nested 21 times" "$depth" "21"
fi
ui_check "flame_tree: the script in a page, zooming" tree.html '^deep$'

# An inlined helper: its own box under its caller.
run_cmd "$RECYCLE" run -o inline.rcap -- "$B/lines_inline"
"$RECYCLE" report inline.rcap --json > inline.json
"$RECYCLE" flamegraph inline.rcap -o inline.html
page_check "inline: grab has its own box, 96 bytes in 2" inline.html inline.json allocated \
    names grab=96x2 outer=96x2

# ---- under valgrind: no leak, no invalid read ---------------------------------------------------
if [[ -z ${RC_CLI_SANITIZE:-} ]] && command -v valgrind > /dev/null; then
    for kind in allocated peak leaked; do
        run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect \
            "$RECYCLE" flamegraph known.rcap --kind "$kind" -o valgrind.html
        expect "valgrind: known $kind is clean" 0 "" ""
    done
    run_cmd valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect "$RECYCLE" flamegraph basic.rcap -o /dev/full
    expect "valgrind: a write error is clean" 1 "" -
fi

# Names that could end the data block or open a comment: the program's
# path and arguments go into the page as data only.
evil='fl<b>&"x'
ln -s "$B/known" "$TMP/$evil"
run_cmd "$RECYCLE" run -o evil.rcap -- "./$evil" 0 '</script><!--&"y'
expect "evil names: recorded" 0 "" -
"$RECYCLE" report evil.rcap --json > evil.json
run_cmd "$RECYCLE" flamegraph evil.rcap -o evil.html
expect "evil names: exit 0" 0 "" ""
page_check "evil names: the page parses, the name intact" evil.html evil.json allocated \
    command_line "./$evil 0 </script><!--&\"y"
n=$(grep -o -i '</script' evil.html | wc -l)
expect_eq "evil names: two </script> in the page, the scripts' own" "$n" "2"
model_check "evil names: the script's model" evil.html
ui_check "evil names: the script in a page" evil.html

finish
