// check_pages.mjs - recycle's HTML and SVG outputs opened in a real browser
// (headless Chromium through playwright-core; tests/cli/test_browser.sh
// writes the pages and runs this).
//
//   node check_pages.mjs SPEC [--chromium PATH]
//
// SPEC is a file of JSON lines, the first {"artifacts": DIR}, then one
// page a line: {"type": "flame"|"svg"|"html", "name": NAME, "path": FILE,
// "expect": {...}} (what each type expects is said at its check below).
//
// Every page is opened from its file:// address in a fresh context and,
// whatever its type:
//   - nothing is requested but the page itself, data: and blob: (every
//     request goes through a route that records it and aborts the others,
//     so nothing leaves the machine even when a page is wrong);
//   - no console message of level error or warning, no uncaught error;
//   - a screenshot NAME.png goes to the artifacts folder (and one after
//     each step that changes what is shown: NAME-zoom.png, ...; on an
//     html page NAME-allocated-zoom.png, ..., NAME-peak.png,
//     NAME-sorted.png).
// Then the check of its type runs (CHECKS below: a table, one function a
// type).
//
// Prints "ok   NAME: CHECK" or "FAIL NAME: CHECK" and indented details for
// each check, then "check_pages: N passed, N failed". Exits 0 when all
// passed, 1 when a check failed, 2 when the browser could not be run or
// the spec is wrong.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const WIDTH = 1280;             // the viewport, CSS pixels at a ratio of 1
const HEIGHT = 800;
const STEP_TIMEOUT = 15000;     // one action or wait in a page, ms
const RUN_TIMEOUT = 100000;     // the whole run, ms (twice in test_browser.sh, under ctest's 300 s)
const HIGHLIGHT = '#d946ef';    // flame.js: a box that matches the search
const ROOT = '#c8c8c8';         // flame.js: the root's colour
const ROW = 18;                 // flame.js: pixels per depth

const LAUNCH_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let passed = 0, failed = 0;

function report(ok, name, details) {
    if (ok) {
        passed++;
        console.log('ok   ' + name);
        return;
    }
    failed++;
    console.log('FAIL ' + name);
    for (const d of details)
        for (const line of String(d).split('\n'))
            console.log('       ' + line);
}

// A check: fn returns a list of problems (empty: passed) or throws.
async function check(spec, what, fn) {
    let problems;
    try {
        problems = await fn();
    } catch (e) {
        problems = ['threw: ' + (e && e.message ? e.message.split('\n')[0] : e)];
    }
    report(problems.length === 0, spec.name + ': ' + what, problems);
    return problems.length === 0;
}

function fmtCount(n) {
    return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
// How flame.js and plot.c write an exact number of bytes: "1,004,196 B"
// (inside the parentheses after the rounded figure from a KiB up).
function exactBytes(n) {
    return fmtCount(n) + ' B';
}

// ---- what the page's script drew --------------------------------------------------------
// Run in the page before its own script: every fillRect and fillText of a
// 2D context is recorded (then done as usual) in window.rcDrawn, which
// clearRect empties (flame.js clears the canvas before each drawing).
function recordCanvas() {
    const P = CanvasRenderingContext2D.prototype;
    const fillRect = P.fillRect, fillText = P.fillText, clearRect = P.clearRect;
    window.rcDrawn = {rects: [], texts: [], frames: 0};
    P.clearRect = function (...a) {
        window.rcDrawn = {rects: [], texts: [], frames: window.rcDrawn.frames + 1};
        return clearRect.apply(this, a);
    };
    P.fillRect = function (x, y, w, h) {
        window.rcDrawn.rects.push({x, y, w, h, fill: String(this.fillStyle), alpha: this.globalAlpha});
        return fillRect.apply(this, arguments);
    };
    P.fillText = function (s, x, y) {
        window.rcDrawn.texts.push({s: String(s), x, y});
        return fillText.apply(this, arguments);
    };
}

// The canvas's pixels at CSS points [[x, y], ...] as '#rrggbb', read from
// a copy (reading the page's own context over and over makes Chromium warn).
async function pixels(page, points) {
    return page.evaluate((pts) => {
        const c = document.getElementById('canvas');
        const copy = document.createElement('canvas');
        copy.width = c.width;
        copy.height = c.height;
        const g = copy.getContext('2d', {willReadFrequently: true});
        g.drawImage(c, 0, 0);
        const ratio = c.width / c.getBoundingClientRect().width;
        return pts.map(([x, y]) => {
            const d = g.getImageData(Math.floor(x * ratio), Math.floor(y * ratio), 1, 1).data;
            return '#' + [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, '0')).join('');
        });
    }, points);
}

// How many of the canvas's pixels are exactly colour '#rrggbb'.
async function countColour(page, colour) {
    return page.evaluate((hex) => {
        const c = document.getElementById('canvas');
        const copy = document.createElement('canvas');
        copy.width = c.width;
        copy.height = c.height;
        const g = copy.getContext('2d', {willReadFrequently: true});
        g.drawImage(c, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        const r = parseInt(hex.slice(1, 3), 16), gr = parseInt(hex.slice(3, 5), 16),
            b = parseInt(hex.slice(5, 7), 16);
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i] === r && d[i + 1] === gr && d[i + 2] === b && d[i + 3] === 255)
                n++;
        return n;
    }, colour);
}

async function drawn(page) {
    return page.evaluate(() => window.rcDrawn);
}

// The page's state that the checks read: the canvas's box on the screen,
// the tip, the search's text.
async function state(page) {
    return page.evaluate(() => {
        const r = document.getElementById('canvas').getBoundingClientRect();
        const tip = document.getElementById('tip');
        return {
            left: r.left, top: r.top, width: r.width, height: r.height,
            tip: tip.hidden ? null : Array.from(tip.children, c => c.textContent),
            tipShown: !tip.hidden && tip.offsetWidth > 0 && tip.offsetHeight > 0,
            matched: document.getElementById('matched').textContent,
        };
    });
}

// The layout of flame.js computed from the page's data block: per box its
// name, depth, and x and width as shares of the root.
function layout(data) {
    const t = data.tree, n = t.parent.length;
    const depth = [0], x = [0], cursor = [0], names = ['all'];
    for (let i = 1; i < n; i++) {
        const p = t.parent[i];
        depth.push(depth[p] + 1);
        x.push(cursor[p]);
        cursor[p] += t.value[i];
        cursor.push(x[i]);
        names.push(data.strings[data.frames.name[t.frame[i]]]);
    }
    const total = t.value[0] || 1;
    return {
        n, depth, names, parent: t.parent, value: t.value, count: t.count,
        maxDepth: Math.max(...depth),
        left: x.map(v => v / total), share: t.value.map(v => v / total),
    };
}

function sameRects(a, b, mapY = (y) => y) {
    if (a.length !== b.length)
        return a.length + ' boxes drawn, ' + b.length + ' expected';
    for (let k = 0; k < a.length; k++) {
        const p = a[k], q = b[k];
        if (Math.abs(p.x - q.x) > 1e-6 || Math.abs(p.w - q.w) > 1e-6 || p.fill !== q.fill ||
            Math.abs(p.y - mapY(q.y)) > 1e-6 || p.alpha !== q.alpha)
            return 'box ' + k + ' drawn ' + JSON.stringify(p) + ', expected ' +
                JSON.stringify({...q, y: mapY(q.y)});
    }
    return null;
}

async function shot(page, spec, suffix) {
    const file = path.join(spec.artifacts, spec.name + suffix + '.png');
    await page.screenshot({path: file, fullPage: true});
}

// Until the page has drawn its next frame (and handled what came before:
// a resize, a change).
async function settle(page) {
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
}

// A page taller than the viewport: make room for all of it, so that the
// mouse reaches every row without scrolling (the page redraws on the
// resize).
async function fitViewport(page) {
    const tall = await page.evaluate(() => document.documentElement.scrollHeight);
    const now = page.viewportSize();
    if (tall > now.height) {
        await page.setViewportSize({width: WIDTH, height: Math.min(tall + 20, 8000)});
        await settle(page);
    }
}

// The data block with this id, parsed.
async function dataBlock(page, id) {
    return page.evaluate((id) => JSON.parse(document.getElementById(id).textContent), id);
}

// ---- flame: `recycle flamegraph`'s page --------------------------------------------------
// expect: total, count (the root's bytes and allocations, the report's for
// the kind), command_line (the title), click (a function: its first box in
// the tree is clicked to zoom), search ([[regex, boxes], ...]: how many
// boxes the search highlights).
async function checkFlame(page, spec) {
    await flameChecks(page, spec, {block: 'flame-data', e: spec.expect, prefix: '', shots: '',
                                   docTitle: /flame graph/});
}

// The checks of a flame graph drawn on the page's #canvas from the data
// block o.block (flame.js's graph, on `recycle flamegraph`'s page or
// `recycle html`'s): o.e what the flame page's expect says, o.prefix put
// before each check's name, o.shots before each screenshot's suffix (null:
// none), o.docTitle what the document's title matches.
async function flameChecks(page, spec, o) {
    const e = o.e;
    const checkKind = (sp, what, fn) => check(sp, o.prefix + what, fn);
    const shotKind = async (p, sp, suffix) => {
        if (o.shots !== null)
            await shot(p, sp, o.shots + suffix);
    };
    const data = await dataBlock(page, o.block);
    const L = layout(data);
    await fitViewport(page);
    let s = await state(page);
    const W = s.width, H = (L.maxDepth + 1) * ROW;
    const rowY = (d, icicle) => (icicle ? d * ROW : H - (d + 1) * ROW);
    const boxCentre = (i) => [Math.min(L.left[i] * W + L.share[i] * W / 2, W - 1),
        rowY(L.depth[i]) + ROW / 2];
    const mouse = async (x, y) => page.mouse.move(s.left + x, s.top + y);
    const click = async (x, y) => page.mouse.click(s.left + x, s.top + y);
    const initial = await drawn(page);

    await checkKind(spec, 'the graph is drawn, the root across the bottom', async () => {
        const bad = [];
        if (!(W > 0 && s.height > 0))
            bad.push('the canvas is ' + W + ' x ' + s.height);
        if (Math.abs(s.height - H) > 0.5)
            bad.push('the canvas is ' + s.height + ' high, ' + H + ' for ' + (L.maxDepth + 1) + ' rows');
        const sized = initial.rects.filter(r => r.w > 0 && r.h > 0);
        if (sized.length < 2 || sized.length !== initial.rects.length)
            bad.push(sized.length + ' of ' + initial.rects.length + ' boxes have a size');
        // every box at least half a pixel wide is drawn, once
        const wide = L.share.filter(v => v * W >= 0.5).length;
        if (initial.rects.length !== wide)
            bad.push(initial.rects.length + ' boxes drawn, ' + wide + ' are half a pixel wide or more');
        const root = initial.rects[0];
        if (!root || root.x !== 0 || Math.abs(root.w - (W - 1)) > 1e-6 || root.y !== H - ROW + 1 ||
            root.fill !== ROOT)
            bad.push('the root is drawn as ' + JSON.stringify(root));
        if (!initial.texts.some(t => t.s === 'all' && t.y === H - ROW / 2))
            bad.push('no label "all" on the root');
        const [px] = await pixels(page, [[W / 2, H - ROW + 2]]);
        if (px !== ROOT)
            bad.push('the root\'s pixels are ' + px + ', not ' + ROOT);
        return bad;
    });

    await checkKind(spec, 'the title and the totals', async () => {
        const bad = [];
        const t = await page.evaluate(() => ({
            h1: document.getElementById('title').textContent,
            sub: document.getElementById('subtitle').textContent,
            doc: document.title,
        }));
        if (e.command_line !== undefined && t.h1 !== e.command_line)
            bad.push('title ' + JSON.stringify(t.h1) + ', expected ' + JSON.stringify(e.command_line));
        const allocs = ' in ' + fmtCount(e.count) + (e.count === 1 ? ' allocation' : ' allocations');
        if (!t.sub.includes(allocs))
            bad.push('subtitle ' + JSON.stringify(t.sub) + ' lacks ' + JSON.stringify(allocs));
        if (!o.docTitle.test(t.doc))
            bad.push('document title ' + JSON.stringify(t.doc));
        if (L.value[0] !== e.total || L.count[0] !== e.count)
            bad.push('the data\'s root: ' + L.value[0] + ' B in ' + L.count[0] +
                     ', the report: ' + e.total + ' in ' + e.count);
        return bad;
    });

    await checkKind(spec, 'hovering the root shows its bytes, allocations and share', async () => {
        await mouse(W / 2, H - ROW / 2);
        s = await state(page);
        const bad = [];
        const text = (s.tip || []).join(' | ');
        if (!s.tipShown)
            bad.push('no tip shown');
        const want = [e.total >= 1024 ? '(' + exactBytes(e.total) + ')' : exactBytes(e.total),
            ' in ' + fmtCount(e.count) + (e.count === 1 ? ' allocation' : ' allocations'),
            (e.total ? '100.0%' : '0.0%') + ' of the total'];
        if (!s.tip || s.tip[0] !== 'all')
            bad.push('the tip does not name the root: ' + text);
        for (const w of want)
            if (!text.includes(w))
                bad.push('the tip ' + JSON.stringify(text) + ' lacks ' + JSON.stringify(w));
        await page.mouse.move(1, 1);
        s = await state(page);
        if (s.tip)
            bad.push('the tip stays once the mouse has left');
        return bad;
    });

    const target = L.names.indexOf(e.click);
    if (e.click !== undefined) {
        await checkKind(spec, 'a click on ' + e.click + ' zooms into it; the root, reset and Escape zoom out',
                    async () => {
            const bad = [];
            if (target < 1)
                return ['no box named ' + e.click];
            const d = L.depth[target], y = rowY(d);
            const [cx, cy] = boxCentre(target);
            await mouse(cx, cy);
            s = await state(page);
            if (!s.tip || s.tip[0] !== e.click)
                bad.push('the tip at ' + e.click + '\'s box: ' + JSON.stringify(s.tip));
            else if (!s.tip.join(' ').includes(L.value[target] >= 1024 ?
                '(' + exactBytes(L.value[target]) + ')' : exactBytes(L.value[target])))
                bad.push('the tip lacks ' + e.click + '\'s bytes: ' + JSON.stringify(s.tip));
            const [before] = await pixels(page, [[cx, y + 2]]);
            await click(cx, cy);
            const z = await drawn(page);
            const row = z.rects.filter(r => r.y === y + 1);
            if (row.length !== 1 || row[0].x !== 0 || Math.abs(row[0].w - (W - 1)) > 1e-6)
                bad.push('the row of ' + e.click + ' holds ' + JSON.stringify(row) +
                         ', not one box the full width');
            // its ancestors full width and faded, its subtree at its scale
            for (const r of z.rects) {
                const rd = Math.round((H - r.y + 1) / ROW) - 1;
                if (rd < d && (r.alpha !== 0.6 || r.x !== 0))
                    bad.push('an ancestor drawn as ' + JSON.stringify(r));
                if (rd >= d && r.alpha !== 1)
                    bad.push('a box of the subtree drawn as ' + JSON.stringify(r));
            }
            let subtree = 0;
            for (let i = target; i < L.n && (i === target || L.depth[i] > d); i++)
                if (L.value[i] / (L.value[target] || 1) * W >= 0.5)
                    subtree++;
            if (z.rects.length !== subtree + d)
                bad.push(z.rects.length + ' boxes drawn after the zoom, expected ' + (subtree + d));
            const px = await pixels(page, [[2, y + 2], [W - 4, y + 2]]);
            if (px[0] !== before || px[1] !== before)
                bad.push('the zoomed row\'s pixels at both ends are ' + px + ', the box was ' + before);
            // a child of the box in focus: its share of the focus too
            const child = L.parent.indexOf(target);
            if (child > 0 && L.value[child] >= L.value[target] / 100) {
                const cl = (L.left[child] - L.left[target]) / (L.share[target] || 1) * W;
                const cw = L.share[child] / (L.share[target] || 1) * W;
                await mouse(cl + cw / 2, rowY(d + 1) + ROW / 2);
                s = await state(page);
                if (!s.tip || !s.tip.join(' ').includes(' of ' + e.click))
                    bad.push('the tip over a child of ' + e.click + ': ' + JSON.stringify(s.tip));
            }
            await page.mouse.move(1, 1);
            await shotKind(page, spec, '-zoom');
            const unzoomed = async (how) => {
                const why = sameRects((await drawn(page)).rects, initial.rects);
                if (why)
                    bad.push(how + ': ' + why);
            };
            await page.keyboard.press('Escape');
            await unzoomed('after Escape');
            await click(cx, cy);
            await page.click('#reset');
            await unzoomed('after "reset zoom"');
            await click(cx, cy);
            s = await state(page);
            await click(W / 2, H - ROW / 2);
            await unzoomed('after a click on the root');
            return bad;
        });
    }

    let searchShot = false;
    for (const [re, boxes] of e.search || []) {
        await checkKind(spec, 'searching ' + JSON.stringify(re) + ' highlights ' + boxes +
                    (boxes === 1 ? ' box' : ' boxes'), async () => {
            const bad = [];
            await page.mouse.move(1, 1);
            await page.fill('#search', re);
            const z = await drawn(page);
            const lit = z.rects.filter(r => r.fill === HIGHLIGHT);
            if (lit.length !== boxes)
                bad.push(lit.length + ' boxes highlighted');
            s = await state(page);
            const says = 'in ' + fmtCount(boxes) + (boxes === 1 ? ' box)' : ' boxes)');
            if (!/^matched \d/.test(s.matched) || !s.matched.endsWith(says))
                bad.push('the page says ' + JSON.stringify(s.matched) + ', not "matched ... ' + says + '"');
            const onScreen = await countColour(page, HIGHLIGHT);
            if (boxes > 0 && onScreen === 0)
                bad.push('no pixel of ' + HIGHLIGHT + ' on the canvas');
            if (boxes === 0 && onScreen !== 0)
                bad.push(onScreen + ' pixels of ' + HIGHLIGHT + ' on the canvas');
            // a box is filled w - 1 wide: look at those two pixels wide or more
            for (const r of lit.filter(r => r.w >= 3)) {
                const [px] = await pixels(page, [[r.x + (r.w - 1) / 2, r.y + 1]]);
                if (px !== HIGHLIGHT)
                    bad.push('a highlighted box is ' + px + ' on the screen');
            }
            if (boxes > 0 && !searchShot) {
                await shotKind(page, spec, '-search');
                searchShot = true;
            }
            await page.fill('#search', '');
            const why = sameRects((await drawn(page)).rects, initial.rects);
            if (why)
                bad.push('the search emptied: ' + why);
            s = await state(page);
            if (s.matched !== '')
                bad.push('the search emptied, the page says ' + JSON.stringify(s.matched));
            return bad;
        });
    }

    await checkKind(spec, 'the icicle view: the same boxes upside down', async () => {
        const bad = [];
        await page.check('#icicle');
        const z = await drawn(page);
        const why = sameRects(z.rects, initial.rects, (y) => H - ROW - y + 2);
        if (why)
            bad.push(why);
        const [px] = await pixels(page, [[W / 2, 2]]);
        if (px !== ROOT)
            bad.push('the top row\'s pixels are ' + px + ', not the root\'s ' + ROOT);
        if (target > 0) {
            // zoom in this view too: the target's row is counted from the top
            const [cx] = boxCentre(target);
            await click(cx, rowY(L.depth[target], true) + ROW / 2);
            const row = (await drawn(page)).rects.filter(r => r.y === rowY(L.depth[target], true) + 1);
            if (row.length !== 1 || Math.abs(row[0].w - (W - 1)) > 1e-6)
                bad.push('a click in the icicle view: ' + JSON.stringify(row));
            await page.keyboard.press('Escape');
        }
        await page.mouse.move(1, 1);
        await shotKind(page, spec, '-icicle');
        await page.uncheck('#icicle');
        const back = sameRects((await drawn(page)).rects, initial.rects);
        if (back)
            bad.push('back to the flame view: ' + back);
        return bad;
    });
    return {initial, L};
}

// ---- svg: `recycle plot`'s image ----------------------------------------------------------
// expect: peak (the report's peak bytes), command_line (the title's start),
// collections (when given: how many collections the program counted, the
// marks of <g id="collections"> must add up to).
async function checkSvg(page, spec) {
    const e = spec.expect;
    const f = await page.evaluate(() => {
        const NS = 'http://www.w3.org/2000/svg';
        const root = document.documentElement;
        const get = (id) => document.getElementById(id);
        const box = (el) => {
            if (!el || typeof el.getBBox !== 'function')
                return null;
            const b = el.getBBox();
            return {w: b.width, h: b.height};
        };
        const heap = get('heap'), peak = get('peak');
        return {
            type: document.contentType,
            root: root.namespaceURI + ' ' + root.localName,
            errors: document.getElementsByTagName('parsererror').length +
                document.getElementsByTagNameNS('*', 'parsererror').length,
            width: Number(root.getAttribute('width')) || root.getBoundingClientRect().width,
            height: Number(root.getAttribute('height')) || root.getBoundingClientRect().height,
            heap: heap && heap.namespaceURI === NS && heap.localName === 'polyline'
                ? Array.from(heap.points, p => [p.x, p.y]) : null,
            heapBox: box(heap),
            peak: peak && peak.localName === 'circle'
                ? [peak.cx.baseVal.value, peak.cy.baseVal.value, peak.r.baseVal.value] : null,
            peakBox: box(peak),
            peakLabel: get('peak-label') ? get('peak-label').textContent : null,
            title: get('title') ? get('title').textContent : null,
        };
    });
    await check(spec, 'parsed as SVG, without a parser error', async () => {
        const bad = [];
        if (f.type !== 'image/svg+xml')
            bad.push('content type ' + f.type);
        if (f.root !== 'http://www.w3.org/2000/svg svg')
            bad.push('root element ' + f.root);
        if (f.errors)
            bad.push(f.errors + ' parsererror elements');
        return bad;
    });
    await check(spec, 'the heap line and the peak\'s dot on its highest point', async () => {
        const bad = [];
        // (a run of under a column's time is a vertical line: no width)
        if (!f.heap || f.heap.length < 2 || !f.heapBox || !(f.heapBox.w > 0 || f.heapBox.h > 0))
            return ['the heap line: ' + JSON.stringify({points: f.heap, box: f.heapBox})];
        if (!f.peak || !f.peakBox || !(f.peakBox.w > 0))
            return ['the peak\'s dot: ' + JSON.stringify({peak: f.peak, box: f.peakBox})];
        const top = Math.min(...f.heap.map(p => p[1]));
        const on = f.heap.some(p => Math.abs(p[0] - f.peak[0]) < 0.01 && Math.abs(p[1] - f.peak[1]) < 0.01);
        if (!on || Math.abs(f.peak[1] - top) > 0.01)
            bad.push('the dot at ' + f.peak.slice(0, 2) + ', the line highest at y ' + top);
        const want = e.peak >= 1024 ? '(' + exactBytes(e.peak) + ')' : exactBytes(e.peak);
        if (!f.peakLabel || !f.peakLabel.includes(want))
            bad.push('the peak\'s label ' + JSON.stringify(f.peakLabel) + ' lacks ' + want);
        if (e.command_line !== undefined && !(f.title || '').startsWith(e.command_line))
            bad.push('the title ' + JSON.stringify(f.title));
        return bad;
    });
    if (e.collections !== undefined) {
        await check(spec, 'the collections marked: ' + e.collections + ', as the program counted', async () => {
            const g = await page.evaluate(() => {
                const group = document.getElementById('collections');
                const marks = Array.from(document.querySelectorAll('line.gc'), (l) => {
                    const b = l.getBBox(), st = getComputedStyle(l);
                    return {n: Number(l.getAttribute('data-count')), h: b.height, inGroup: group !== null && group.contains(l),
                            shown: st.display !== 'none' && st.visibility !== 'hidden' && st.stroke !== 'none' &&
                                Number(st.strokeWidth.replace('px', '')) > 0 && Number(st.opacity) > 0};
                });
                const legend = document.getElementById('gc-legend');
                return {count: group ? Number(group.getAttribute('data-count')) : null, marks,
                        legend: legend ? legend.textContent : null};
            });
            const bad = [];
            if (g.count === null)
                return ['no <g id="collections">'];
            if (g.marks.length === 0)
                bad.push('no line.gc mark');
            const sum = g.marks.reduce((a, m) => a + m.n, 0);
            if (sum !== g.count)
                bad.push('the marks\' data-count sum to ' + sum + ', the group says ' + g.count);
            if (g.count !== e.collections)
                bad.push('the group counts ' + g.count + ' collections, the program ' + e.collections);
            const hidden = g.marks.filter(m => !(m.h > 0 && m.shown && m.inGroup && m.n > 0));
            if (hidden.length)
                bad.push(hidden.length + ' marks not drawn, outside the group or of no collection: ' +
                         JSON.stringify(hidden.slice(0, 3)));
            const says = e.collections + ' cycle-collector collections';
            if (!g.legend || !g.legend.startsWith(says))
                bad.push('the legend ' + JSON.stringify(g.legend) + ' does not start ' + JSON.stringify(says));
            return bad;
        });
    }
    // a screenshot of the whole image (a full-page one waits forever on a
    // document that is not HTML)
    if (f.width > 0 && f.height > 0)
        await page.setViewportSize({width: Math.ceil(f.width), height: Math.ceil(f.height)});
    await page.screenshot({path: path.join(spec.artifacts, spec.name + '.png')});
    return;
}

// ---- html: `recycle html`'s page ----------------------------------------------------------
// expect: command_line; kinds ({allocated|peak|leaked: {total, count,
// click, search}}: the flame page's expect for each kind to check, the
// first the one shown first); kind_options (the selector's options, in
// order; default: the kinds); sites, bytes (the report's number of sites and bytes allocated:
// the sites table's rows and their sum); leak_tables (the ids of the leaks
// tables the page must have, e.g. ["lost-table", "reachable-table"]);
// callers ({table id: [function, ...]}: the callers of each leaks table's
// first site, the heaviest, innermost first);
// nav (the ids the links of <nav> go to).
async function checkHtml(page, spec) {
    const e = spec.expect;
    await check(spec, 'the page shows text', async () => {
        const text = await page.evaluate(() => document.body ? document.body.innerText : '');
        return /\S/.test(text) ? [] : ['the page\'s body has no text'];
    });
    await checkHtmlFlame(page, spec);
    await checkHtmlTables(page, spec);

    await check(spec, 'the plot is shown from its data: URL', async () => {
        const p = await page.evaluate(async () => {
            const img = document.getElementById('plot');
            if (!img || img.localName !== 'img')
                return null;
            await img.decode().catch(() => {});
            const src = img.getAttribute('src') || '';
            let width = null;
            const head = 'data:image/svg+xml;base64,';
            if (src.startsWith(head)) {
                try {
                    const svg = new DOMParser().parseFromString(atob(src.slice(head.length)), 'image/svg+xml');
                    width = Number(svg.documentElement.getAttribute('width'));
                } catch (err) {
                    width = String(err);
                }
            }
            const r = img.getBoundingClientRect();
            return {src: src.slice(0, 40), complete: img.complete, nw: img.naturalWidth, nh: img.naturalHeight,
                    width, shownW: r.width, shownH: r.height};
        });
        if (!p)
            return ['no <img id="plot">'];
        const bad = [];
        if (!p.src.startsWith('data:image/svg+xml;base64,'))
            bad.push('its src starts ' + JSON.stringify(p.src));
        if (!p.complete || !(p.nw > 0 && p.nh > 0))
            bad.push('not loaded: complete ' + p.complete + ', natural size ' + p.nw + ' x ' + p.nh);
        else if (p.nw !== p.width)
            bad.push('natural width ' + p.nw + ', the SVG says ' + p.width);
        if (!(p.shownW > 0 && p.shownH > 0))
            bad.push('shown ' + p.shownW + ' x ' + p.shownH);
        return bad;
    });

    await check(spec, 'the links of <nav> go to ' + (e.nav || []).join(', '), async () => {
        const links = await page.evaluate(() => Array.from(document.querySelectorAll('nav a'), (a) => {
            const href = a.getAttribute('href') || '';
            return {href, to: href.startsWith('#') && document.getElementById(href.slice(1)) !== null};
        }));
        const bad = links.filter(l => !l.to).map(l => 'href ' + JSON.stringify(l.href) + ' goes to no id of the page');
        const ids = links.map(l => l.href.slice(1)).join(' ');
        if (ids !== (e.nav || []).join(' '))
            bad.push('the links go to ' + JSON.stringify(ids) + ', expected ' + JSON.stringify((e.nav || []).join(' ')));
        return bad;
    });
}

// The flame graph section: the checks of the flame page for the kind
// shown first (allocated), then for each other kind after choosing it in
// #flame-kind, then back to the first.
async function checkHtmlFlame(page, spec) {
    const e = spec.expect;
    const kinds = Object.keys(e.kinds || {});
    const subtitle = () => page.evaluate(() => document.getElementById('subtitle').textContent);
    const opts = (kind) => ({block: 'flame-data-' + kind, prefix: kind + ': ', docTitle: /: memory report$/,
                             e: {...e.kinds[kind], command_line: e.command_line}});
    const options = e.kind_options || kinds;
    await check(spec, 'the kind selector offers ' + options.join(', ') + ', ' + kinds[0] + ' chosen', async () => {
        const k = await page.evaluate(() => {
            const sel = document.getElementById('flame-kind');
            return sel ? {value: sel.value, options: Array.from(sel.options, o => o.value)} : null;
        });
        if (!k)
            return ['no #flame-kind'];
        return k.value === kinds[0] && k.options.join(' ') === options.join(' ') ? []
            : ['it offers ' + k.options.join(', ') + ', ' + k.value + ' chosen'];
    });
    const first = await flameChecks(page, spec, {...opts(kinds[0]), shots: '-' + kinds[0]});
    const firstSubtitle = await subtitle();
    for (const kind of kinds.slice(1)) {
        const k = e.kinds[kind];
        await check(spec, 'choosing ' + kind + ' redraws: the root\'s tip shows ' + k.total +
                    ' B, the subtitle changes', async () => {
            const bad = [];
            const before = {sub: await subtitle(), frames: (await drawn(page)).frames};
            await page.mouse.move(1, 1);
            await page.selectOption('#flame-kind', kind);
            await fitViewport(page);
            await settle(page);
            const data = await dataBlock(page, 'flame-data-' + kind);
            const L = layout(data);
            const z = await drawn(page);
            const s = await state(page);
            if (z.frames === before.frames)
                bad.push('not redrawn');
            const wide = L.share.filter(v => v * s.width >= 0.5).length;
            if (z.rects.length !== wide)
                bad.push(z.rects.length + ' boxes drawn, ' + wide + ' in ' + kind + '\'s graph');
            const H = (L.maxDepth + 1) * ROW;
            if (Math.abs(s.height - H) > 0.5)
                bad.push('the canvas is ' + s.height + ' high, ' + H + ' for ' + kind + '\'s graph');
            const sub = await subtitle();
            if (sub === before.sub)
                bad.push('the subtitle stays ' + JSON.stringify(sub));
            if (!sub.includes(' ' + data.kind_label + ' in ' + fmtCount(k.count)))
                bad.push('the subtitle ' + JSON.stringify(sub) + ' lacks ' +
                         JSON.stringify(data.kind_label + ' in ' + fmtCount(k.count)));
            await page.mouse.move(s.left + s.width / 2, s.top + H - ROW / 2);
            const t = await state(page);
            const want = k.total >= 1024 ? '(' + exactBytes(k.total) + ')' : exactBytes(k.total);
            const tip = (t.tip || []).join(' | ');
            if (!t.tip || t.tip[0] !== 'all' || !tip.includes(want))
                bad.push('the root\'s tip ' + JSON.stringify(tip) + ' lacks ' + JSON.stringify(want));
            await page.mouse.move(1, 1);
            if (kind === 'peak')
                await shot(page, spec, '-peak');
            return bad;
        });
        await flameChecks(page, spec, {...opts(kind), shots: null});
    }
    if (kinds.length > 1) {
        await check(spec, 'choosing ' + kinds[0] + ' again draws what it drew first', async () => {
            await page.selectOption('#flame-kind', kinds[0]);
            await settle(page);
            const bad = [];
            const why = sameRects((await drawn(page)).rects, first.initial.rects);
            if (why)
                bad.push(why);
            const sub = await subtitle();
            if (sub !== firstSubtitle)
                bad.push('the subtitle ' + JSON.stringify(sub) + ', first ' + JSON.stringify(firstSubtitle));
            return bad;
        });
    }
}

// A sortable table as the page shows it: its heads (label, type,
// aria-sort) and rows (an id given on the first look, in the page's order,
// and per cell data-v and the text a site sorts by).
async function table(page, id) {
    return page.evaluate((id) => {
        const t = document.getElementById(id);
        if (!t)
            return null;
        const heads = Array.from(t.tHead.rows[0].cells, th => ({
            label: th.textContent.trim(), type: th.getAttribute('data-type'), aria: th.getAttribute('aria-sort'),
        }));
        const rows = Array.from(t.tBodies[0].rows, (tr, i) => {
            if (!tr.hasAttribute('data-rc-row'))
                tr.setAttribute('data-rc-row', String(i));
            return {id: tr.getAttribute('data-rc-row'), cells: Array.from(tr.cells, td => ({
                v: td.getAttribute('data-v'),
                text: (td.querySelector('summary') || td).textContent.trim(),
            }))};
        });
        return {heads, rows};
    }, id);
}

// Clicks column LABEL of table ID and checks the rows come in ORDER
// ('descending' or 'ascending': data-v as numbers for a numeric column,
// the text A to Z for the others), equal keys in the order they had, and
// that aria-sort says so on that column and no other. Returns problems.
async function sortAndCheck(page, id, label, order, what = 'order') {
    const before = await table(page, id);
    if (!before)
        return ['no #' + id];
    const col = before.heads.findIndex(h => h.label === label);
    if (col < 0)
        return ['#' + id + ' has no column ' + JSON.stringify(label)];
    const numeric = before.heads[col].type === 'num';
    await page.click('#' + id + ' thead th:nth-child(' + (col + 1) + ') button');
    const after = await table(page, id);
    const bad = [];
    const key = (r) => (numeric ? Number(r.cells[col].v) : r.cells[col].text.toLowerCase());
    const sign = order === 'descending' ? -1 : 1;
    const want = before.rows.map((r, i) => ({r, i})).sort((a, b) => {
        const x = key(a.r), y = key(b.r);
        return sign * (x < y ? -1 : x > y ? 1 : 0) || a.i - b.i;
    }).map(e => e.r.id);
    const shown = after.rows.map(key);
    if (what === 'order' || what === 'both') {
        if (numeric && after.rows.some(r => r.cells[col].v === null || !/^\d+$/.test(r.cells[col].v)))
            bad.push('#' + id + ' "' + label + '": a cell without a data-v number');
        if (after.rows.map(r => r.id).join(' ') !== want.join(' '))
            bad.push('#' + id + ' "' + label + '" ' + order + ': the rows come ' +
                     JSON.stringify(shown) + ' (' + after.rows.map(r => r.id).join(' ') + '), expected ' +
                     JSON.stringify(want.map(w => key(before.rows.find(r => r.id === w)))) +
                     ' (' + want.join(' ') + ')');
    }
    if (what === 'aria' || what === 'both') {
        const aria = after.heads.map(h => h.aria);
        const wantAria = after.heads.map((h, k) => (k === col ? order : null));
        if (JSON.stringify(aria) !== JSON.stringify(wantAria))
            bad.push('#' + id + ' after a click on "' + label + '": aria-sort ' + JSON.stringify(aria) +
                     ', expected ' + JSON.stringify(wantAria));
    }
    return bad;
}

// The sortable tables and the leaks' callers.
async function checkHtmlTables(page, spec) {
    const e = spec.expect;
    await check(spec, 'the sites table, a row per site, and the leaks tables ' + (e.leak_tables || []).join(', '),
                async () => {
        const bad = [];
        const t = await table(page, 'sites-table');
        if (!t)
            return ['no #sites-table'];
        const col = t.heads.findIndex(h => h.label === 'bytes allocated');
        const sum = t.rows.reduce((a, r) => a + Number(col >= 0 ? r.cells[col].v : NaN), 0);
        if (t.rows.length !== e.sites || sum !== e.bytes)
            bad.push(t.rows.length + ' rows of ' + sum + ' B, the report: ' + e.sites + ' sites of ' + e.bytes + ' B');
        const ids = await page.evaluate(() => Array.from(document.querySelectorAll('#leaks table.sortable'), x => x.id));
        if (ids.join(' ') !== (e.leak_tables || []).join(' '))
            bad.push('the leaks tables: ' + JSON.stringify(ids));
        return bad;
    });
    await check(spec, '#sites-table: "site" sorts the rows A to Z', async () =>
        sortAndCheck(page, 'sites-table', 'site', 'ascending'));
    await check(spec, '#sites-table: "bytes allocated" sorts by data-v, largest first, again smallest first',
                async () => {
        const bad = await sortAndCheck(page, 'sites-table', 'bytes allocated', 'descending');
        bad.push(...await sortAndCheck(page, 'sites-table', 'bytes allocated', 'ascending'));
        await page.mouse.move(1, 1);
        await shot(page, spec, '-sorted');
        return bad;
    });
    await check(spec, '#sites-table: aria-sort on the clicked column, on no other', async () => {
        const bad = [];
        for (const [label, order] of [['peak', 'descending'], ['site', 'ascending'], ['site', 'descending'],
                                      ['bytes allocated', 'descending']])
            bad.push(...await sortAndCheck(page, 'sites-table', label, order, 'aria'));
        return bad;
    });
    for (const id of e.leak_tables || []) {
        const callers = (e.callers || {})[id] || [];
        await check(spec, '#' + id + ': its first site opens on a click to its callers, ' + callers[0] + ' first',
                    async () => {
            const sel = '#' + id + ' tbody tr:first-child details';
            const closed = await page.evaluate((sel) => {
                const d = document.querySelector(sel);
                return d ? {open: d.open, shown: Array.from(d.querySelectorAll('li')).filter(l => l.checkVisibility()).length}
                    : null;
            }, sel);
            if (!closed)
                return ['no <details> in the first row'];
            const bad = [];
            if (closed.open || closed.shown)
                bad.push('open before the click: ' + JSON.stringify(closed));
            await page.click(sel + ' > summary');
            const open = await page.evaluate((sel) => {
                const d = document.querySelector(sel);
                const lis = Array.from(d.querySelectorAll('ol > li'));
                return {open: d.open, callers: lis.map(l => l.textContent),
                        shown: lis.filter(l => l.checkVisibility() && l.offsetHeight > 0).map(l => l.textContent)};
            }, sel);
            if (!open.open)
                bad.push('still closed after a click on its summary');
            if (!open.callers.length || open.shown.length !== open.callers.length)
                bad.push(open.shown.length + ' of ' + open.callers.length + ' callers shown');
            // html.c: up to 24 callers, then an ellipsis
            const want = callers.slice(0, 24).map(f => f + ' (');
            if (callers.length > 24)
                want.push('\u2026');
            if (open.shown.length !== want.length || want.some((w, k) => !open.shown[k].startsWith(w)))
                bad.push('the callers shown: ' + JSON.stringify(open.shown) + ', the report\'s: ' +
                         JSON.stringify(want));
            return bad;
        });
        await check(spec, '#' + id + ': each column sorts, aria-sort on it alone', async () => {
            const bad = [];
            const t = await table(page, id);
            if (!t)
                return ['no #' + id];
            for (const h of t.heads) {
                const num = h.type === 'num';
                bad.push(...await sortAndCheck(page, id, h.label, num ? 'descending' : 'ascending', 'both'));
                bad.push(...await sortAndCheck(page, id, h.label, num ? 'ascending' : 'descending', 'both'));
            }
            return bad;
        });
    }
}

const CHECKS = {
    flame: {run: checkFlame, fullPage: true},
    svg: {run: checkSvg, fullPage: false},
    html: {run: checkHtml, fullPage: true},
};

// ---- a page, whatever its type --------------------------------------------------------
async function checkPage(browser, spec) {
    const type = CHECKS[spec.type];
    const url = pathToFileURL(path.resolve(spec.path)).href;
    const context = await browser.newContext({
        viewport: {width: WIDTH, height: HEIGHT}, deviceScaleFactor: 1,
        serviceWorkers: 'block', offline: true,
    });
    const requests = new Set(), messages = [];
    const allowed = (u) => u === url || u.startsWith(url + '#') || /^(data|blob|about):/.test(u);
    await context.route('**/*', (route) => {
        const u = route.request().url();
        if (allowed(u))
            return route.continue();
        requests.add(u);
        return route.abort('blockedbyclient');
    });
    context.on('request', (r) => {
        if (!allowed(r.url()))
            requests.add(r.url());
    });
    await context.addInitScript(recordCanvas);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning')
            messages.push('console ' + m.type() + ': ' + m.text());
    });
    page.on('pageerror', (err) => messages.push('uncaught: ' + (err.stack || err.message || err)));
    page.on('crash', () => messages.push('the page crashed'));
    page.on('websocket', (ws) => requests.add(ws.url()));

    const loaded = await check(spec, 'opens (' + spec.type + ')', async () => {
        const r = await page.goto(url, {waitUntil: 'load'});
        return r === null || r.ok() ? [] : ['status ' + r.status()];
    });
    if (loaded) {
        if (type.fullPage)
            await page.screenshot({path: path.join(spec.artifacts, spec.name + '.png'), fullPage: true});
        await type.run(page, spec);
        // a last look for what the steps may have set off
        await page.evaluate(() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50))));
    }
    report(requests.size === 0, spec.name + ': nothing requested but the page itself',
           Array.from(requests, u => 'requested ' + u));
    report(messages.length === 0, spec.name + ': no console error or warning, no uncaught error',
           messages);
    await context.close();
}

async function main() {
    const args = process.argv.slice(2);
    let chromiumPath = '/usr/bin/chromium', specPath = null;
    for (let k = 0; k < args.length; k++) {
        if (args[k] === '--chromium' && k + 1 < args.length)
            chromiumPath = args[++k];
        else if (specPath === null)
            specPath = args[k];
        else
            throw new Error('usage: node check_pages.mjs SPEC [--chromium PATH]');
    }
    if (specPath === null)
        throw new Error('usage: node check_pages.mjs SPEC [--chromium PATH]');
    const lines = fs.readFileSync(specPath, 'utf8').split('\n').filter(l => l.trim());
    const head = JSON.parse(lines[0]);
    if (!head.artifacts)
        throw new Error(specPath + ': the first line names no artifacts folder');
    const pages = lines.slice(1).map(l => ({...JSON.parse(l), artifacts: head.artifacts}));
    for (const p of pages)
        if (!CHECKS[p.type] || !p.name || !p.path)
            throw new Error(specPath + ': a page of type ' + JSON.stringify(p.type) +
                            ' (types: ' + Object.keys(CHECKS).join(', ') + '), name and path needed');
    fs.mkdirSync(head.artifacts, {recursive: true});

    const browser = await chromium.launch({
        executablePath: chromiumPath, headless: true, args: LAUNCH_ARGS, timeout: 60000,
    });
    try {
        for (const p of pages)
            await checkPage(browser, p);
    } finally {
        await browser.close();
    }
    console.log('check_pages: ' + passed + ' passed, ' + failed + ' failed');
    return failed ? 1 : 0;
}

const watchdog = setTimeout(() => {
    console.log('check_pages: gave up after ' + RUN_TIMEOUT / 1000 + ' s');
    process.exit(2);
}, RUN_TIMEOUT);
main().then((status) => {
    clearTimeout(watchdog);
    process.exitCode = status;
}, (err) => {
    clearTimeout(watchdog);
    console.log('check_pages: ' + (err && err.message ? err.message : err));
    process.exitCode = 2;
});
