#!/usr/bin/env bash
# test_browser.sh - the pages recycle writes, opened in headless Chromium
# (tests/browser/check_pages.mjs, through playwright-core): the flame graph
# of progs/flame_tree.c recorded with the real preload, for each kind
# (drawn, its totals, hover, zoom and back, search, icicle), the flame
# graph of a run whose command line holds '</script><!--', the plots of
# that run, of progs/plot_peak.c and of the synthetic 'stats' capture
# (parsed as SVG, the heap line, the peak's dot), the plot of
# progs_recycle/gc_cycles.c (its collections marked, as many as the
# program counted), and `recycle html`'s page of flame_tree and of
# progs/known.c (leaks definitely lost and still reachable): its flame
# graph of each kind checked as the flame pages are, after choosing the
# kind in its selector, and back; the sites and leaks tables sorted by a
# click on each column (the rows' order, aria-sort); a leak's callers
# opened; the plot's image loaded from its data: URL; the links of <nav>.
# No page may request anything or log an error. Screenshots are kept in
# $RC_ARTIFACTS (default: <build>/test-artifacts/browser), with
# check_pages.txt, the verdicts.
#
# Then the same checks on pages broken on purpose (a request, an error in
# the console, zoom, search, hover and icicle switched off in the page's
# script, an SVG cut short, a wrong total; on the html page: zoom off, the
# kind selector's handler gone or reading the wrong data block, the sort
# moving no row, aria-sort left on other columns, the callers hidden, the
# plot's data: URL damaged, a link to no section; the collections' count
# or marks wrong in the plot): each must fail where expected, and nowhere
# else.
#
# Skipped under the sanitizers (the pages are the same). Needs node,
# Chromium (RC_CHROMIUM, else chromium on the PATH) and
# tests/browser/node_modules (`make deps`): without them it is skipped, or
# fails when CI=true.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n ${RC_CLI_SANITIZE:-} ]]; then
    echo "skipped: the pages do not depend on the sanitizers (run in the plain build)"
    exit 77
fi
if [[ -z ${RC_CLI_MAKE_CAPTURE:-} || -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "skipped: the report layer or the preload is not built"
    exit 77
fi
browser_dir=$(cd "$RC_CLI_SRC/../browser" && pwd)
chromium=${RC_CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}
missing=()
command -v node > /dev/null 2>&1 || missing+=("node")
[[ -x $chromium ]] || missing+=("chromium ($chromium)")
[[ -d $browser_dir/node_modules/playwright-core ]] ||
    missing+=("$browser_dir/node_modules/playwright-core")
if ((${#missing[@]})); then
    if [[ ${CI:-} == true ]]; then
        echo "FAIL missing: ${missing[*]} (make deps installs them)"
        exit 1
    fi
    echo "skipped: missing ${missing[*]}; run \`make deps\` to install them"
    exit 77
fi

build_dir=$(cd "$RC_CLI_BIN/../.." && pwd)
art=${RC_ARTIFACTS:-$build_dir/test-artifacts/browser}
mkdir -p "$art" || { echo "FAIL cannot make $art"; exit 1; }
art=$(cd "$art" && pwd)
echo "screenshots: $art"
unset RECYCLE_PRELOAD LD_PRELOAD RECYCLE_FRAMES RECYCLE_SAMPLE RECYCLE_FOLLOW_FORK RECYCLE_PRELOAD_PID
cd "$TMP"
B=$RC_CLI_BIN

# page TYPE NAME FILE REPORT_JSON KIND [CLICK [REGEX=BOXES...]]: a line of
# the spec for check_pages.mjs, its figures from the report: a flame page's
# root weighs the KIND's bytes and allocations, a plot's dot the peak's
# bytes, each title shows the command line.
# page svg NAME FILE REPORT_JSON [COLLECTIONS]: a plot, with COLLECTIONS
# collections marked when given.
# page html NAME FILE REPORT_JSON "KIND CLICK REGEX=BOXES..."...: `recycle
# html`'s page, its flame graph of each KIND (the first shown first) as a
# flame page's; its sites table a row per site of the report, the leaks
# tables those the report's verdicts call for, the callers of their
# heaviest site the report's, <nav>'s links going to each section.
page() {
    node -e '
const [type, name, file, report, ...rest] = process.argv.slice(1);
const r = JSON.parse(require("fs").readFileSync(report, "utf8"));
const t = r.totals;
const flame = (kind, click, search) => {
    const key = {allocated: ["bytes_allocated", "allocations"], peak: ["peak_bytes", "peak_allocations"],
                 leaked: ["leaked_bytes", "leaked_allocations"]}[kind];
    const e = {total: t[key[0]], count: t[key[1]]};
    if (click)
        e.click = click;
    e.search = search.map(s => [s.slice(0, s.lastIndexOf("=")), Number(s.slice(s.lastIndexOf("=") + 1))]);
    return e;
};
const expect = {command_line: r.command_line};
if (type === "flame") {
    const [kind, click, ...search] = rest;
    Object.assign(expect, flame(kind, click, search));
} else if (type === "svg") {
    expect.peak = t.peak_bytes;
    if (rest[0] !== undefined)
        expect.collections = Number(rest[0]);
} else if (type === "html") {
    expect.kind_options = ["allocated", "peak", "leaked"];
    expect.kinds = {};
    for (const k of rest) {
        const [kind, click, ...search] = k.split(" ");
        expect.kinds[kind] = flame(kind, click, search);
    }
    expect.sites = r.sites.length;
    expect.bytes = t.bytes_allocated;
    expect.leak_tables = [];
    expect.callers = {};
    for (const [id, key] of [["lost-table", "definitely_lost"], ["reachable-table", "still_reachable"]]) {
        if (!t[key + "_allocations"])
            continue;
        expect.leak_tables.push(id);
        const site = r.sites.reduce((a, s) => (s[key + "_bytes"] > a[key + "_bytes"] ? s : a));
        expect.callers[id] = site.stack.slice(1).map(f => f.function);
    }
    expect.nav = ["totals", "memory", "flame", "sites", "leaks"];
}
console.log(JSON.stringify({type, name, path: require("path").resolve(file), expect}));
' -- "$@"
}

# run_pages SPEC OUTPUT: check_pages.mjs on SPEC, its output in OUTPUT;
# sets STATUS.
run_pages() {
    timeout -k 5 110 node "$browser_dir/check_pages.mjs" "$1" --chromium "$chromium" > "$2" 2>&1
    STATUS=$?
}

# ---- the pages --------------------------------------------------------------------------
# progs/flame_tree.c: big 1,000,000 B freed, deep nested 21 times 4,096 B
# leaked, tiny 100 x 1 B folded into main: 1,004,196 B in 102 allocations;
# at the peak only big's block, at the end only deep's.
run_cmd "$RECYCLE" run -o tree.rcap -- "$B/flame_tree"
expect "flame_tree recorded" 0 "" -
"$RECYCLE" report tree.rcap --json > tree.json
for kind in allocated peak leaked; do
    run_cmd "$RECYCLE" flamegraph tree.rcap --kind "$kind" -o "tree-$kind.html"
    expect "flamegraph --kind $kind" 0 "" ""
done
run_cmd "$RECYCLE" plot tree.rcap -o tree.svg
expect "plot of flame_tree" 0 "" -
"$RC_CLI_MAKE_CAPTURE" stats stats.rcap || fail "make_capture stats"
"$RECYCLE" report stats.rcap --json > stats.json
run_cmd "$RECYCLE" plot stats.rcap -o stats.svg
expect "plot of the stats capture" 0 "" -
# progs/plot_peak.c: 8,000,000 bytes held for 100 ms, the RSS sampled
run_cmd "$RECYCLE" run -o peak.rcap -- "$B/plot_peak"
expect "plot_peak recorded" 0 "" -
"$RECYCLE" report peak.rcap --json > peak.json
run_cmd "$RECYCLE" plot peak.rcap -o peak.svg
expect "plot of plot_peak" 0 "" -
# a command line that would end the data block or open a comment if it
# were not escaped
evil='fl<b>&"x'
ln -s "$B/flame_tree" "$evil"
run_cmd "$RECYCLE" run -o evil.rcap -- "./$evil" '</script><!--&"y'
expect "evil names recorded" 0 "" -
"$RECYCLE" report evil.rcap --json > evil.json
run_cmd "$RECYCLE" flamegraph evil.rcap -o evil.html
expect "flamegraph of the evil names" 0 "" ""

# progs/known.c: 372,660 B in 9 allocations; lose() leaks 55,555 B
# definitely lost, main 44,444 B still reachable; the peak both of them.
# Recorded, as the next, with the real preload.
RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD run_cmd "$RECYCLE" run -o known.rcap -- "$B/known"
expect "known recorded" 0 "" -
"$RECYCLE" report known.rcap --json > known.json
run_cmd "$RECYCLE" html known.rcap -o known-report.html
expect "html of known" 0 "" ""
run_cmd "$RECYCLE" html tree.rcap -o tree-report.html
expect "html of flame_tree" 0 "" ""
# progs_recycle/gc_cycles.c (not built under the sanitizers): librecycle's
# collections, as many as the program prints it counted, marked on the plot
gc=""
if [[ -x $B/gc_cycles ]]; then
    RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD run_cmd "$RECYCLE" run -o gc.rcap -- "$B/gc_cycles"
    expect "gc_cycles recorded" 0 - -
    read -r _ n0 n1 n2 _ _ <<< "$OUT"
    gc=$((n0 + n1 + n2))
    "$RECYCLE" report gc.rcap --json > gc.json
    run_cmd "$RECYCLE" plot gc.rcap -o gc.svg
    expect "plot of gc_cycles" 0 "" ""
else
    echo "note: progs_recycle/gc_cycles is not built: its collections not checked"
fi

spec=$TMP/spec.jsonl
node -e 'console.log(JSON.stringify({artifacts: process.argv[1]}))' "$art" > "$spec"
{
    page flame tree-allocated tree-allocated.html tree.json allocated deep \
        '^deep$=21' '^big$=1' '^(main|big)$=3' 'no_such_function_zq=0'
    page flame tree-peak tree-peak.html tree.json peak big '^big$=1' '^deep$=0'
    page flame tree-leaked tree-leaked.html tree.json leaked deep '^deep$=21' '^big$=0'
    page flame evil-names evil.html evil.json allocated deep '^deep$=21'
    page svg tree-plot tree.svg tree.json
    page svg peak-plot peak.svg peak.json
    page svg stats-plot stats.svg stats.json
    [[ -n $gc ]] && page svg gc-plot gc.svg gc.json "$gc"
    page html tree-report tree-report.html tree.json "allocated deep ^deep\$=21 ^big\$=1" \
        "peak big ^big\$=1 ^deep\$=0" "leaked deep ^deep\$=21 ^big\$=0"
    page html known-report known-report.html known.json "allocated lose ^lose\$=1 ^main\$=7" \
        "peak lose ^lose\$=1 ^main\$=2" "leaked lose ^lose\$=1 ^main\$=2"
} >> "$spec"
# NAME TYPE, a line per page of the spec
pages=$(node -e '
const l = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1);
for (const x of l.map(JSON.parse)) console.log(x.name + " " + x.type)' "$spec")
while read -r name type; do
    rm -f "$art/$name.png" "$art/$name"-*.png
done <<< "$pages"

start=$SECONDS
run_pages "$spec" pages.out
cp pages.out "$art/check_pages.txt"
# each of the script's verdicts is one of this test's
what=""
details=()
flush() {
    [[ -n $what ]] && fail "browser: $what" "${details[@]}"
    what=""
    details=()
}
while IFS= read -r line; do
    if [[ -n $what && $line == "       "* ]]; then
        details+=("${line#       }")
        continue
    fi
    flush
    case $line in
        "ok   "*) ok "browser: ${line#ok   }" ;;
        "FAIL "*) what=${line#FAIL } ;;
        *) echo "$line" ;;
    esac
done < pages.out
flush
expect_match "check_pages.mjs ran to its end ($((SECONDS - start)) s)" "$(tail -1 pages.out)" \
    '^check_pages: [0-9]+ passed, [0-9]+ failed$'

# the screenshots: a PNG for each page, and for each step of a flame page
while read -r name type; do
    shots=("")
    [[ $type == flame ]] && shots=("" -zoom -search -icicle)
    [[ $type == html ]] && shots=("" -allocated-zoom -allocated-search -allocated-icicle -peak -sorted)
    for s in "${shots[@]}"; do
        f=$art/$name$s.png
        if [[ -s $f && $(head -c 8 "$f" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; then
            ok "screenshot $name$s.png"
        else
            fail "screenshot $name$s.png" "$f is missing or not a PNG"
        fi
    done
done <<< "$pages"

# ---- the checks fail where they should --------------------------------------------------
# broken NAME FROM TO [PAGE]: a copy of PAGE (tree-allocated.html) with
# FROM replaced by TO (fixed strings), as broken-NAME.html; 1 when FROM is
# not in the page (the script changed: the case is left out, with a note).
broken() {
    local out=broken-$1.html
    FROM=$2 TO=$3 node -e '
const fs = require("fs");
const page = fs.readFileSync(process.argv[2], "utf8");
if (!page.includes(process.env.FROM))
    process.exit(1);
fs.writeFileSync(process.argv[1], page.split(process.env.FROM).join(process.env.TO));
' "$out" "${4:-tree-allocated.html}" && return 0
    echo "note: '$2' is not in the page any more: broken-$1 left out"
    return 1
}
bspec=$TMP/broken.jsonl
node -e 'console.log(JSON.stringify({artifacts: process.argv[1]}))' "$TMP/broken-shots" > "$bspec"
# NAME -> the checks that must fail on it, ';' between them
declare -A must_fail=()
add_broken() {
    local name=$1 fails=$2
    page flame "broken-$name" "broken-$name.html" tree.json allocated deep \
        '^deep$=21' 'no_such_function_zq=0' >> "$bspec"
    must_fail[broken-$name]=$fails
}
broken request '<main id="chart">' '<main id="chart"><img src="https://recycle.invalid/x.png" alt="">' &&
    add_broken request "nothing requested;no console error"
broken console '</body>' '<script>console.error("planted"); null.planted();</script></body>' &&
    add_broken console "no console error"
broken zoom 'focus = i < 0 ? 0 : i;' 'focus = 0;' &&
    add_broken zoom "a click on deep;the icicle view"
broken search "return '#d946ef';" "return '#d946ee';" &&
    add_broken search 'searching "^deep$"'
broken hover 'tip.hidden = false;' '' &&
    add_broken hover "hovering the root;a click on deep"
broken icicle 'var flip = icicle.checked;' 'var flip = false;' &&
    add_broken icicle "the icicle view"
# known-report.html broken: its flame graph, the kind selector, the tables,
# the plot, the links. add_broken_html NAME FAILS [all]: the flame graph
# checked for the first kind only unless 'all' (the time it takes).
add_broken_html() {
    local kinds=("allocated lose ^lose\$=1 ^main\$=7")
    [[ ${3:-} == all ]] && kinds+=("peak lose ^lose\$=1 ^main\$=2" "leaked lose ^lose\$=1 ^main\$=2")
    page html "broken-$1" "broken-$1.html" known.json "${kinds[@]}" >> "$bspec"
    must_fail[broken-$1]=$2
}
broken html-zoom 'focus = i < 0 ? 0 : i;' 'focus = 0;' known-report.html &&
    add_broken_html html-zoom "allocated: a click on lose;allocated: the icicle view;peak: a click on lose;peak: the icicle view;leaked: a click on lose;leaked: the icicle view" all
kind_fails="choosing peak redraws;peak: the graph is drawn;peak: the title and the totals;peak: hovering the root"
kind_fails+=";peak: a click on lose;peak: searching \"^main\$\";peak: the icicle view"
kind_fails+=";${kind_fails//peak/leaked}"
broken kind "kindSelect.addEventListener('change'," "kindSelect.addEventListener('rc-never'," known-report.html &&
    add_broken_html kind "$kind_fails" all
broken kind-data "'flame-data-' + kindSelect.value" "'flame-data-allocated'" known-report.html &&
    add_broken_html kind-data "$kind_fails" all
broken sort 'body.appendChild(e.row);' '' known-report.html &&
    add_broken_html sort '#sites-table: "site" sorts;#sites-table: "bytes allocated" sorts'
broken aria "heads[h].removeAttribute('aria-sort');" '' known-report.html &&
    add_broken_html aria "#sites-table: aria-sort;#lost-table: each column sorts;#reachable-table: each column sorts"
broken callers 'td.site ol {' 'td.site ol { display: none;' known-report.html &&
    add_broken_html callers "#lost-table: its first site opens;#reachable-table: its first site opens"
broken plot-img 'src="data:image/svg+xml;base64,' 'src="data:image/svg+xml;base64,!' known-report.html &&
    add_broken_html plot-img "the plot is shown;no console error"
broken nav '<a href="#sites">' '<a href="#site">' known-report.html &&
    add_broken_html nav "the links of <nav>"
if [[ -n $gc ]]; then
    sed 's/<g id="collections" data-count="[0-9]*"/<g id="collections" data-count="'$((gc + 1))'"/' gc.svg > broken-gc-count.svg
    page svg broken-gc-count broken-gc-count.svg gc.json "$gc" >> "$bspec"
    must_fail[broken-gc-count]="the collections marked"
    sed '/<line class="gc /d' gc.svg > broken-gc-marks.svg
    page svg broken-gc-marks broken-gc-marks.svg gc.json "$gc" >> "$bspec"
    must_fail[broken-gc-marks]="the collections marked"
fi
sed 's#</svg>##' stats.svg > broken-plot.svg
page svg broken-plot broken-plot.svg stats.json >> "$bspec"
must_fail[broken-plot]="parsed as SVG"
sed 's/"total":[0-9]*/"total":1004197/' < <(page flame broken-total tree-allocated.html tree.json allocated) >> "$bspec"
must_fail[broken-total]="the title and the totals;hovering the root"

start=$SECONDS
run_pages "$bspec" broken.out
expect_eq "check_pages.mjs on the broken pages: exit status 1 ($((SECONDS - start)) s)" "$STATUS" 1
for name in "${!must_fail[@]}"; do
    mapfile -t got < <(grep "^FAIL $name: " broken.out | sed "s/^FAIL $name: //")
    IFS=';' read -r -a want <<< "${must_fail[$name]}"
    bad=()
    for w in "${want[@]}"; do
        printf '%s\n' "${got[@]}" | grep -qF -- "$w" || bad+=("'$w' did not fail")
    done
    ((${#got[@]} == ${#want[@]})) || bad+=("${#got[@]} checks failed, ${#want[@]} expected:" "${got[@]}")
    if ((${#bad[@]})); then
        mapfile -t out < <(grep -A3 "^[a-zA-Z]* *$name: " broken.out)
        fail "$name: caught" "${bad[@]}" "output:" "${out[@]}"
    else
        ok "$name: caught (${must_fail[$name]})"
    fi
done
grep -q '^       requested https://recycle.invalid/x.png$' broken.out &&
    ok "broken-request: the request is named" || fail "broken-request: the request is named"

finish
