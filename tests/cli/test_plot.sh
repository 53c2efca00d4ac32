#!/usr/bin/env bash
# test_plot.sh - `recycle plot` on captures with known content (captures.h,
# written by make_capture): a well-formed SVG for every one of them (read
# with python3's xml.etree), the peak, the top sites at the peak and the RSS
# line of the 'stats' capture against its known figures, the output (default
# path, -o FILE, -o -, a write error), damaged and missing captures, usage
# errors; then a real program recorded with the real preload (progs/
# plot_peak.c: one block of 8,000,000 bytes held for 100 ms), with a command
# line that needs escaping.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${RC_CLI_MAKE_CAPTURE:-} ]]; then
    echo "skipped: the report layer is not built (it waits for the capture layer)"
    exit 77
fi
cd "$TMP"
names=(basic incomplete threads sampled signal noexit dlclose weird many empty stats
       stats-swapped coarse)
for name in "${names[@]}"; do
    "$RC_CLI_MAKE_CAPTURE" "$name" "$name.rcap" || { echo "make_capture $name failed"; exit 1; }
done
have_python=false
if command -v python3 > /dev/null 2>&1; then
    have_python=true
else
    echo "note: python3 is missing: the SVG is not parsed, only searched as text"
fi

# facts FILE: what the SVG in FILE shows, one "key<TAB>value" a line:
#   well-formed  yes, or the parser's message
#   root         the root element's tag
#   title, subtitle, peak-label, rss-legend, no-sites   those elements' text
#   peak         "cx,cy" of the peak's dot
#   rss, heap    the polylines' points
#   rss-points   how many points the RSS line has
#   site         one line per site in the legend: "bytes<TAB>where"
#   xtick, ytick the axis labels, space-separated
# Empty output without python3.
facts() {
    $have_python || return 0
    python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print("well-formed\t%s" % e)
    sys.exit(0)
print("well-formed\tyes")
print("root\t%s" % root.tag)
def text(e):
    return "".join(e.itertext())
for e in root.iter():
    i = e.get("id")
    if i in ("title", "subtitle", "peak-label", "rss-legend", "gc-legend", "no-sites", "sites-title"):
        print("%s\t%s" % (i, text(e)))
    elif i == "peak":
        print("peak\t%s,%s" % (e.get("cx"), e.get("cy")))
    elif i in ("rss", "heap"):
        pts = e.get("points")
        print("%s\t%s" % (i, pts))
        print("%s-points\t%d" % (i, len(pts.split())))
    if e.tag == NS + "text" and e.get("class") == "site":
        spans = {s.get("class"): text(s) for s in e}
        print("site\t%s\t%s" % (spans.get("bytes"), spans.get("where")))
for cls in ("xtick", "ytick"):
    print("%s\t%s" % (cls, " ".join(text(e) for e in root.iter(NS + "text") if e.get("class") == cls)))
PY
}

# fact FACTS KEY: the value of the first line of KEY in FACTS.
fact() {
    local line
    while IFS= read -r line; do
        if [[ ${line%%$'\t'*} == "$2" ]]; then
            printf '%s' "${line#*$'\t'}"
            return
        fi
    done <<< "$1"
}

# expect_svg NAME FILE: FILE is a well-formed SVG document.
expect_svg() {
    if ! [[ -s $2 ]]; then
        fail "$1" "$2 is missing or empty"
        return
    fi
    if $have_python; then
        local f
        f=$(facts "$2")
        if [[ $(fact "$f" well-formed) == yes && $(fact "$f" root) == "{http://www.w3.org/2000/svg}svg" ]]; then
            ok "$1"
        else
            fail "$1" "$(fact "$f" well-formed)" "root: $(fact "$f" root)"
        fi
    else
        expect_match "$1" "$(head -c 300 "$2")" '<svg xmlns="http://www.w3.org/2000/svg"'
    fi
}

# ---- every synthetic capture: a well-formed image next to it ------------------------
for name in "${names[@]}"; do
    run_cmd "$RECYCLE" plot "$name.rcap"
    expect "$name: exit 0, nothing on stdout" 0 "" -
    expect_svg "$name: $name.svg is well-formed SVG" "$name.svg"
done

if $have_python; then
    # ---- the capture made for stats: its figures --------------------------------------
    f=$(facts stats.svg)
    expect_eq "stats: the title" "$(fact "$f" title)" "/opt/app/bin/app --rounds 3 (pid 4242)"
    expect_eq "stats: how it ended" "$(fact "$f" subtitle)" "exited with status 0 after 950.000 ms"
    # the report's peak: 1,057,778 bytes at 150 ms
    expect_eq "stats: the peak's label" "$(fact "$f" peak-label)" \
        "peak 1.0 MiB (1,057,778 B) at 150.000 ms"
    # 950 ms on an axis of 0-1000 ms (ticks every 100 ms), 4 MiB on one of
    # 0-4 MiB: x = 90 + t * 0.8, y = 460 - MiB * 100
    expect_eq "stats: the time axis" "$(fact "$f" xtick)" \
        "0 100 200 300 400 500 600 700 800 900 1000"
    expect_eq "stats: the memory axis" "$(fact "$f" ytick)" "0 1 2 3 4"
    expect_eq "stats: the peak's dot" "$(fact "$f" peak)" "210.00,359.12"
    expect_eq "stats: the RSS line has a point per MEMORY record" "$(fact "$f" rss-points)" 3
    expect_eq "stats: the RSS points (1 MiB at 10 ms, 2 at 500, 4 at 800)" "$(fact "$f" rss)" \
        "98.00,360.00 490.00,260.00 730.00,60.00"
    expect_eq "stats: the RSS legend" "$(fact "$f" rss-legend)" \
        "RSS (3 samples, 3 points; peak 4.0 MiB (4,194,304 B))"
    # the heap line reaches the peak, and nowhere higher
    heap=$(fact "$f" heap)
    top=$(tr ' ' '\n' <<< "$heap" | cut -d, -f2 | sort -n | head -1)
    expect_eq "stats: the heap line's highest point is the peak" "$top" 359.12
    expect_match "stats: the heap line starts at 0 and ends at 950 ms" "$heap" \
        '^90\.00,460\.00 .* 850\.00,[0-9.]+$'
    # the sites at the peak add up to it: 1,057,673 + 103 + 2 = 1,057,778
    expect_eq "stats: the sites at the peak, by the bytes live then" \
        "$(grep $'^site\t' <<< "$f" | cut -f2-)" \
        "$(printf '%s\t%s\n' '1.0 MiB (1,057,673 B)' app+0x4000 '103 B' app+0x3000 '2 B' app+0x2000)"
    # the same figures as the report's JSON, sorted by peak
    "$RECYCLE" report --json --top 100 stats.rcap > stats.json
    want=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = sorted(d["sites"], key=lambda s: -s["peak_bytes"])
print(" ".join(str(x["peak_bytes"]) for x in s[:5] if x["peak_bytes"]))' stats.json)
    got=$(grep $'^site\t' <<< "$f" | sed -E 's/^site\t([^\t]*)\t.*/\1/; s/.*\(([0-9,]+) B\)$/\1/; s/^([0-9]+) B$/\1/; s/,//g' | tr '\n' ' ')
    expect_eq "stats: the legend's bytes are the report's peak bytes" "${got% }" "$want"
    expect_eq "stats-swapped: the same image as stats (time order, not file order)" \
        "$(cat stats-swapped.svg)" "$(cat stats.svg)"

    # ---- every capture: the heap line reaches the peak's dot, and nowhere higher ----------
    for name in "${names[@]}"; do
        f=$(facts "$name.svg")
        peak=$(fact "$f" peak)
        [[ -n $peak ]] || continue
        top=$(tr ' ' '\n' <<< "$(fact "$f" heap)" | cut -d, -f2 | sort -n | head -1)
        expect_eq "$name: the heap line's highest point is the peak" "$top" "${peak#*,}"
    done

    # ---- the other captures -------------------------------------------------------------
    f=$(facts empty.svg)
    expect_eq "empty: no RSS samples" "$(fact "$f" rss-legend)" "RSS: no RSS samples"
    expect_eq "empty: an RSS line without points" "$(fact "$f" rss-points)" 0
    expect_eq "empty: no peak" "$(fact "$f" peak)" ""
    expect_eq "empty: no sites" "$(fact "$f" no-sites)" "nothing was live at a peak"
    expect_eq "empty: a heap line of one point at zero" "$(fact "$f" heap)" "90.00,460.00"
    f=$(facts sampled.svg)
    expect_match "sampled: estimated, in the title" "$(fact "$f" subtitle)" \
        '; estimated from a sample \(one allocation per 4\.0 KiB\)$'
    expect_match "sampled: estimated, at the peak" "$(fact "$f" peak-label)" ' \(estimated\)$'
    f=$(facts signal.svg)
    expect_eq "signal: how it ended" "$(fact "$f" subtitle)" \
        "killed by signal 11 (Segmentation fault) after 2.500 s"
    expect_eq "signal: a run of seconds has an axis in seconds" "$(fact "$f" xtick)" \
        "0.0 0.5 1.0 1.5 2.0 2.5"
    f=$(facts basic.svg)
    expect_eq "basic: the peak" "$(fact "$f" peak-label)" "peak 1.3 KiB (1,350 B) at 0.004 ms"
    # its RSS samples (3 MiB) set the memory axis
    expect_eq "basic: the memory axis" "$(fact "$f" ytick)" "0 1 2 3"
    expect_eq "basic: two RSS samples, two points" "$(fact "$f" rss-points)" 2
    f=$(facts noexit.svg)
    expect_match "noexit: the end unknown" "$(fact "$f" subtitle)" '^unknown: the capture has no exit record \(the last record is at'
    expect_match "noexit: the allocation without a stack" "$(grep $'^site\t' <<< "$f")" \
        '\[no stack recorded\]'
    f=$(facts many.svg)
    expect_eq "many: five sites by default" "$(grep -c $'^site\t' <<< "$f")" 5
    run_cmd "$RECYCLE" plot --top 12 -o many12.svg many.rcap
    expect "--top 12: exit 0" 0 "" ""
    expect_eq "--top 12: twelve sites" "$(facts many12.svg | grep -c $'^site\t')" 12
    run_cmd "$RECYCLE" plot --top 0 -o many0.svg many.rcap
    expect_eq "--top 0: no sites" "$(facts many0.svg | grep -c $'^site')" 0
fi

# ---- where the image goes -------------------------------------------------------------
cp stats.rcap "my capture"
run_cmd "$RECYCLE" plot "my capture"
expect "a name without .rcap: exit 0" 0 "" ""
expect_svg "a name without .rcap: .svg added" "my capture.svg"
run_cmd "$RECYCLE" plot -o out.svg stats.rcap
expect "-o FILE: exit 0, nothing printed" 0 "" ""
expect_eq "-o FILE: the same image" "$(cat out.svg)" "$(cat stats.svg)"
chmod 644 out.svg
umask 022
run_cmd "$RECYCLE" plot --output=out.svg stats.rcap
expect_eq "-o FILE: the mode of a new file" "$(stat -c %a out.svg)" 644
run_cmd "$RECYCLE" plot stats.rcap -o -
expect "-o -: exit 0, nothing on stderr" 0 - ""
expect_eq "-o -: the image on stdout" "$OUT" "$(cat stats.svg)"
rm -f stats.svg
run_cmd "$RECYCLE" plot -o - stats.rcap
expect_eq "-o -: no file written" "$(ls stats.svg 2>&1 > /dev/null | wc -l)" 1
if [[ -w /dev/full ]]; then
    run_cmd "$RECYCLE" plot -o /dev/full stats.rcap
    expect "-o /dev/full: exit 1" 1 "" "recycle plot: cannot write /dev/full: No space left on device"
    "$RECYCLE" plot -o - stats.rcap > /dev/full 2> "$TMP/err"
    STATUS=$?
    ERR=$(cat "$TMP/err")
    expect "-o - to /dev/full: exit 1" 1 - "recycle: write error on standard output: No space left on device"
fi
run_cmd "$RECYCLE" plot -o no/such/folder/x.svg stats.rcap
expect "-o into a missing folder: exit 1" 1 "" \
    "recycle plot: cannot write no/such/folder/x.svg: No such file or directory"

# ---- damaged, missing: nothing written, what was there left alone -------------------------
cp stats.rcap damaged.rcap
printf '\x55' | dd of=damaged.rcap bs=1 seek=200 conv=notrunc status=none
echo "before" > kept.svg
run_cmd "$RECYCLE" plot -o kept.svg damaged.rcap
expect "damaged: exit 1, nothing printed" 1 "" -
expect_match "damaged: the reader's message" "$ERR" '^recycle plot: damaged\.rcap: .+$'
expect_eq "damaged: the output left as it was" "$(cat kept.svg)" before
expect_eq "damaged: no temporary file left" "$(ls kept.svg.* 2>/dev/null | wc -l)" 0
run_cmd "$RECYCLE" plot damaged.rcap
expect_eq "damaged: no default image made" "$(ls damaged.svg 2>&1 > /dev/null | wc -l)" 1
run_cmd "$RECYCLE" plot missing.rcap
expect "missing: exit 1" 1 "" "recycle plot: missing.rcap: cannot open: No such file or directory"
size=$(stat -c %s stats.rcap)
head -c $((size - 3)) stats.rcap > cut.rcap
run_cmd "$RECYCLE" plot cut.rcap
expect "cut short: exit 0" 0 "" -
expect_svg "cut short: well-formed SVG" cut.svg
if $have_python; then
    expect_match "cut short: said in the title" "$(fact "$(facts cut.svg)" subtitle)" \
        'the capture is cut short$'
fi

# ---- usage -------------------------------------------------------------------------------
run_cmd "$RECYCLE" plot
expect "no capture: exit 2" 2 "" "recycle plot: no capture file given
usage: recycle plot FILE [-o OUT.svg] [--top N]
Try 'recycle plot --help' for more information."
run_cmd "$RECYCLE" plot a.rcap b.rcap
expect_match "two captures: exit 2" "$STATUS:$ERR" "^2:recycle plot: one capture at a time \('a.rcap' and 'b.rcap'\)"
run_cmd "$RECYCLE" plot --top 51 stats.rcap
expect_match "--top 51: exit 2" "$STATUS" '^2$'
run_cmd "$RECYCLE" plot -o "" stats.rcap
expect_match "-o '': exit 2" "$STATUS:$ERR" '^2:recycle plot: -o: an empty file name'
run_cmd "$RECYCLE" plot --bogus stats.rcap
expect_match "--bogus: exit 2" "$STATUS" '^2$'
run_cmd "$RECYCLE" plot -o
expect_match "-o without a value: exit 2" "$STATUS" '^2$'
run_cmd "$RECYCLE" plot --help
expect_match "--help: exit 0, the usage" "$STATUS:$OUT" '^0:usage: recycle plot FILE \[-o OUT\.svg\]'

# ---- a real program --------------------------------------------------------------------------
if [[ -z ${RC_CLI_REAL_PRELOAD:-} ]]; then
    echo "note: the preload is not built: no real program"
    finish
fi
export RECYCLE_PRELOAD=$RC_CLI_REAL_PRELOAD
weird_arg=$'a<b&c"d\'e \xff'
run_cmd "$RECYCLE" run -o real.rcap -- "$RC_CLI_BIN/plot_peak" "$weird_arg"
expect "real: recorded" 0 - -
run_cmd "$RECYCLE" plot real.rcap
expect "real: exit 0" 0 "" ""
expect_svg "real: well-formed SVG" real.svg
if $have_python; then
    f=$(facts real.svg)
    title=$(fact "$f" title)
    expect_eq "real: the command line escaped, invalid UTF-8 as U+FFFD" "${title% (pid *}" \
        "$RC_CLI_BIN/plot_peak a<b&c\"d'e "$'\xef\xbf\xbd'
    label=$(fact "$f" peak-label)
    expect_match "real: the peak holds the 8,000,000-byte block" "$label" \
        '^peak 7\.6 MiB \(8,0[0-9][0-9],[0-9]{3} B\) at [0-9]+\.[0-9]{3} ms$'
    "$RECYCLE" report --json real.rcap > real.json
    want=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print("%d %.3f" % (t["peak_bytes"], t["peak_time_s"] * 1000))' real.json)
    got=$(sed -E 's/.*\(([0-9,]+) B\) at ([0-9.]+) ms$/\1 \2/; s/,//g' <<< "$label")
    expect_eq "real: the peak is the report's" "$got" "$want"
    expect_match "real: the top site is the block's malloc" "$(grep $'^site\t' <<< "$f" | head -1)" \
        $'^site\t7\\.6 MiB \\(8,000,000 B\\)\thold_peak \\(.*plot_peak\\.c:[0-9]+\\)$'
    expect_match "real: RSS sampled by the writer thread" "$(fact "$f" rss-legend)" \
        '^RSS \(([5-9]|[1-9][0-9]+) samples'
    rss_max=$(sed -E 's/.*\(([0-9,]+) B\)\)$/\1/; s/,//g' <<< "$(fact "$f" rss-legend)")
    if ((rss_max >= 8000000)); then ok "real: the RSS reaches the touched block"; else
        fail "real: the RSS reaches the touched block" "peak RSS $rss_max"; fi

    # spikes of different heights once a millisecond for 1.2 s: the columns
    # merge, and the highest spike stays the line's highest point
    run_cmd "$RECYCLE" run -o spikes.rcap -- "$RC_CLI_BIN/plot_spikes"
    expect "spikes: recorded" 0 - -
    run_cmd "$RECYCLE" plot spikes.rcap
    expect "spikes: exit 0" 0 "" ""
    f=$(facts spikes.svg)
    expect_match "spikes: the peak is the highest spike" "$(fact "$f" peak-label)" \
        '^peak 195\.2 KiB \(199,900 B\) at '
    peak=$(fact "$f" peak)
    top=$(tr ' ' '\n' <<< "$(fact "$f" heap)" | cut -d, -f2 | sort -n | head -1)
    expect_eq "spikes: the heap line's highest point is the peak" "$top" "${peak#*,}"
    expect_match "spikes: a run of seconds" "$(fact "$f" xtick)" '^0\.0 0\.2 .* 1\.2'
    n=$(fact "$f" heap-points)
    if ((n > 1000 && n <= 4100)); then ok "spikes: the heap line bounded ($n points)"; else
        fail "spikes: the heap line bounded" "$n points"; fi

    # A program on librecycle (progs_recycle/gc_cycles.c): its collector
    # reports each collection to the preload (recycle/annotate.h), and the
    # plot marks them: as many as the program's own gc callback counted.
    if [[ -x $RC_CLI_BIN/gc_cycles ]]; then
        run_cmd "$RECYCLE" run -o gc.rcap -- "$RC_CLI_BIN/gc_cycles"
        expect "gc: recorded" 0 - -
        read -r _ n0 n1 n2 _ freed <<< "$OUT"
        total=$((n0 + n1 + n2))
        run_cmd "$RECYCLE" plot gc.rcap
        expect "gc: exit 0" 0 "" ""
        expect_svg "gc: well-formed SVG" gc.svg
        marks=$(python3 - gc.svg <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
g = root.find(".//%sg[@id='collections']" % ns)
lines = [l for l in g.iter(ns + "line") if "gc" in l.get("class", "").split()]
gen2 = [l for l in lines if "gen2" in l.get("class").split()]
print(g.get("data-count"), sum(int(l.get("data-count")) for l in lines), len(gen2))
PY
)
        read -r said summed gen2_marks <<< "$marks"
        expect_eq "gc: the marks count every collection" "$said $summed" "$total $total"
        ((gen2_marks >= 3)) && ok "gc: the three rounds' full collections apart ($gen2_marks marks)" ||
            fail "gc: the three rounds' full collections apart" "$gen2_marks marks"
        expect_match "gc: the legend" "$(fact "$(facts gc.svg)" gc-legend)" \
            "^$total cycle-collector collections \\(generation 0: $n0, 1: $n1, 2: $n2\\): $(python3 -c "print(f'{$freed:,}')") objects freed, longest "
        run_cmd "$RECYCLE" report gc.rcap
        expect_match "gc: the report's collections line" "$OUT" \
            $'\ncollections      '"$total \\(generation 0: $n0, 1: $n1, 2: $n2\\): "
        run_cmd "$RECYCLE" plot real.rcap -o -
        [[ $OUT == *'id="collections"'* ]] && fail "no collections: no marks" || ok "no collections: no marks"
    else
        echo "note: progs_recycle/gc_cycles is not built (a sanitizer build): no collections marked"
    fi
fi
finish
