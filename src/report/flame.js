/* flame.js - draws the flame graph of `recycle flamegraph` from the JSON
 * data block of its page (src/report/flame.c writes both; the build
 * compiles this file into the command).
 *
 * The data: strings (a table), frames (name, file, module: indexes into
 * strings, -1 unknown; line: 0 unknown), tree (frame, parent, value, count
 * per box, in preorder: a parent before its children, the root first with
 * frame -1 and parent -1). A box weighs at least the sum of its children.
 *
 * Layout: a box's x is the bytes before it under its parent (its earlier
 * siblings' values) plus its parent's x, so a box lies inside its parent
 * and its siblings side by side; the part of a box not covered by its
 * children is what it allocated itself (or boxes folded into it).
 *
 * Zoom: the box in focus fills the width; its ancestors are drawn the full
 * width too, so that clicking one zooms out to it, the root back to the
 * whole. Drawn on a canvas, one row per depth, root at the bottom (flame)
 * or at the top (icicle). Everything runs from this file: no request
 * leaves the page.
 *
 * The model (Flame) needs no browser, so that tests can run it with node. */
(function () {
    'use strict';

    var ROW = 18;           /* pixels per depth */
    var MIN_TEXT = 36;      /* narrowest box that gets a label */

    function Flame(data) {
        var t = data.tree;
        var n = t.parent.length;
        this.data = data;
        this.n = n;
        this.parent = t.parent;
        this.value = t.value;
        this.count = t.count;
        this.frame = t.frame;
        this.depth = new Int32Array(n);
        this.x = new Float64Array(n);
        this.maxDepth = 0;
        var cursor = new Float64Array(n);
        for (var i = 1; i < n; i++) {
            var p = this.parent[i];
            this.depth[i] = this.depth[p] + 1;
            this.x[i] = cursor[p];
            cursor[p] += this.value[i];
            cursor[i] = this.x[i];
            if (this.depth[i] > this.maxDepth)
                this.maxDepth = this.depth[i];
        }
    }

    Flame.prototype.string = function (k) {
        return k >= 0 ? this.data.strings[k] : null;
    };
    Flame.prototype.name = function (i) {
        var f = this.frame[i];
        return f < 0 ? 'all' : this.string(this.data.frames.name[f]);
    };
    Flame.prototype.where = function (i) {
        var f = this.frame[i];
        if (f < 0)
            return this.data.command_line;
        var fr = this.data.frames;
        var file = this.string(fr.file[f]);
        if (file)
            return fr.line[f] ? file + ':' + fr.line[f] : file;
        var module = this.string(fr.module[f]);
        return module || 'unknown module';
    };
    /* Whether box i lies in the subtree of box a. */
    Flame.prototype.within = function (i, a) {
        while (i > a)
            i = this.parent[i];
        return i === a;
    };
    /* The boxes whose name matches re: matched[i], and the share of
     * focus's bytes they cover (a match inside a match counted once). */
    Flame.prototype.search = function (re, focus) {
        var n = this.n;
        var matched = new Uint8Array(n);
        var covered = new Uint8Array(n);
        var inside = new Uint8Array(n);
        var bytes = 0, boxes = 0;
        inside[focus] = 1;
        for (var i = 0; i < n; i++) {
            var p = this.parent[i];
            if (i > focus && p >= 0 && inside[p])
                inside[i] = 1;
            if (re.test(this.name(i))) {
                matched[i] = 1;
                boxes++;
            }
            covered[i] = matched[i] || (p >= 0 && covered[p]) ? 1 : 0;
            if (matched[i] && inside[i] && !(p >= 0 && inside[p] && covered[p]))
                bytes += this.value[i];
        }
        var total = this.value[focus];
        return {matched: matched, boxes: boxes, bytes: bytes,
                share: total > 0 ? bytes / total : 0};
    };

    /* A hue per function name, the same on every page (FNV-1a). */
    function hash(s) {
        var h = 0x811c9dc5;
        for (var i = 0; i < s.length; i++) {
            h ^= s.charCodeAt(i);
            h = Math.imul(h, 0x01000193) >>> 0;
        }
        return h >>> 0;
    }
    function colour(name) {
        var h = hash(name);
        var hue = h % 55;                        /* red to yellow */
        var sat = 70 + (h >>> 8) % 25;
        var light = 52 + (h >>> 16) % 14;
        return 'hsl(' + hue + ',' + sat + '%,' + light + '%)';
    }

    function fmtCount(n) {
        var s = String(Math.round(n));
        return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    }
    function fmtBytes(n) {
        var units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
        if (n < 1024)
            return n + ' B';
        var v = n / 1024, u = 0;
        while (v >= 1024 && u + 1 < units.length) {
            v /= 1024;
            u++;
        }
        return v.toFixed(1) + ' ' + units[u];
    }
    function fmtShare(x) {
        return (100 * x).toFixed(x < 0.001 ? 3 : 1) + '%';
    }

    if (typeof module === 'object' && module.exports)
        module.exports = {Flame: Flame, colour: colour, fmtBytes: fmtBytes, fmtCount: fmtCount};
    if (typeof document === 'undefined')
        return;

    /* A page may hold several graphs of one capture (`recycle html`: one
     * data block per kind, "flame-data-<kind>", and a #flame-kind select
     * choosing one); `recycle flamegraph`'s page holds one ("flame-data"). */
    var kindSelect = document.getElementById('flame-kind');
    var data, model;
    var canvas = document.getElementById('canvas');
    var chart = document.getElementById('chart');
    var tip = document.getElementById('tip');
    var search = document.getElementById('search');
    var matchedText = document.getElementById('matched');
    var icicle = document.getElementById('icicle');
    var focus = 0;
    var matches = null;
    var rows = [];          /* per depth: boxes drawn, [i, left, width] */
    var colours = {};

    function load() {
        var id = kindSelect ? 'flame-data-' + kindSelect.value : 'flame-data';
        data = JSON.parse(document.getElementById(id).textContent);
        model = new Flame(data);
        focus = 0;
        var sampled = (data.sampled ? ' (sampled: estimates)' : '') +
            (data.complete ? '' : ' (the capture is cut short: up to where it ends)');
        document.getElementById('title').textContent = data.command_line;
        document.getElementById('subtitle').textContent =
            data.ended + ' \u2014 ' + fmtBytes(data.total) + ' ' + data.kind_label + ' in ' +
            fmtCount(data.allocations) + (data.allocations === 1 ? ' allocation' : ' allocations') +
            sampled + ' (pid ' + data.pid + ')';
        if (!kindSelect)
            document.title = data.program + ': flame graph, ' + data.kind_label;
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', 'flame graph of the bytes ' + data.kind_label);
    }
    load();

    function colourOf(i) {
        if (i === 0)
            return '#c8c8c8';
        if (matches && matches.matched[i])
            return '#d946ef';
        var name = model.name(i);
        return colours[name] || (colours[name] = colour(name));
    }

    function render() {
        var ratio = window.devicePixelRatio || 1;
        var width = chart.clientWidth;
        var height = (model.maxDepth + 1) * ROW;
        canvas.style.width = width + 'px';
        canvas.style.height = height + 'px';
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
        var g = canvas.getContext('2d');
        g.setTransform(ratio, 0, 0, ratio, 0, 0);
        g.clearRect(0, 0, width, height);
        g.font = '12px system-ui, sans-serif';
        g.textBaseline = 'middle';
        rows = [];
        for (var d = 0; d <= model.maxDepth; d++)
            rows.push([]);
        var fx = model.x[focus], fv = model.value[focus] || 1;
        var flip = icicle.checked;
        /* preorder: focus's subtree is the range [focus, end) */
        var end = focus + 1;
        while (end < model.n && model.depth[end] > model.depth[focus])
            end++;
        var ancestor = new Uint8Array(focus + 1);
        for (var a = focus; a >= 0; a = model.parent[a])
            ancestor[a] = 1;
        for (var i = 0; i < end; i++) {
            var left, w;
            if (i <= focus && ancestor[i]) {
                left = 0;
                w = width;
            } else if (i > focus) {
                left = (model.x[i] - fx) / fv * width;
                w = model.value[i] / fv * width;
            } else {
                continue;
            }
            if (w < 0.5)
                continue;
            var d2 = model.depth[i];
            var y = flip ? d2 * ROW : height - (d2 + 1) * ROW;
            rows[d2].push([i, left, w]);
            g.fillStyle = colourOf(i);
            g.globalAlpha = i < focus ? 0.6 : 1;
            g.fillRect(left, y + 1, Math.max(w - 1, 0.5), ROW - 2);
            g.globalAlpha = 1;
            if (w >= MIN_TEXT) {
                var label = model.name(i);
                var room = Math.floor((w - 6) / 7);
                if (label.length > room)
                    label = label.slice(0, Math.max(room - 1, 1)) + '\u2026';
                g.fillStyle = '#111';
                g.save();
                g.beginPath();
                g.rect(left, y, w - 2, ROW);
                g.clip();
                g.fillText(label, left + 3, y + ROW / 2);
                g.restore();
            }
        }
    }

    function boxAt(ev) {
        var r = canvas.getBoundingClientRect();
        var px = ev.clientX - r.left, py = ev.clientY - r.top;
        var height = (model.maxDepth + 1) * ROW;
        var d = Math.floor((icicle.checked ? py : height - py) / ROW);
        if (d < 0 || d >= rows.length)
            return -1;
        var row = rows[d];
        for (var k = 0; k < row.length; k++)
            if (px >= row[k][1] && px < row[k][1] + row[k][2])
                return row[k][0];
        return -1;
    }

    function line(text, cls) {
        var div = document.createElement('div');
        if (cls)
            div.className = cls;
        div.textContent = text;
        tip.appendChild(div);
    }

    function showTip(i, ev) {
        tip.textContent = '';
        var v = model.value[i];
        line(model.name(i), 'name');
        line(model.where(i), 'where');
        line(fmtBytes(v) + (v >= 1024 ? ' (' + fmtCount(v) + ' B)' : '') + ' ' +
             data.kind_label + ' in ' + fmtCount(model.count[i]) +
             (model.count[i] === 1 ? ' allocation' : ' allocations'));
        var share = fmtShare(data.total ? v / data.total : 0) + ' of the total';
        if (focus !== 0 && i > focus)
            share += ', ' + fmtShare(v / (model.value[focus] || 1)) + ' of ' + model.name(focus);
        line(share);
        tip.hidden = false;
        var r = chart.getBoundingClientRect();
        var left = ev.clientX - r.left + 14, top = ev.clientY - r.top + 14;
        if (left + tip.offsetWidth > chart.clientWidth)
            left = Math.max(0, ev.clientX - r.left - tip.offsetWidth - 14);
        tip.style.left = left + 'px';
        tip.style.top = top + 'px';
    }

    function zoom(i) {
        focus = i < 0 ? 0 : i;
        runSearch();
        render();
    }

    function runSearch() {
        var text = search.value;
        if (!text) {
            matches = null;
            matchedText.textContent = '';
            return;
        }
        var re;
        try {
            re = new RegExp(text, 'i');
        } catch (e) {
            re = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
        }
        matches = model.search(re, focus);
        matchedText.textContent = 'matched ' + fmtShare(matches.share) + ' (' +
            fmtBytes(matches.bytes) + ' in ' + fmtCount(matches.boxes) +
            (matches.boxes === 1 ? ' box)' : ' boxes)');
    }

    canvas.addEventListener('mousemove', function (ev) {
        var i = boxAt(ev);
        canvas.style.cursor = i >= 0 ? 'pointer' : 'default';
        if (i >= 0)
            showTip(i, ev);
        else
            tip.hidden = true;
    });
    canvas.addEventListener('mouseleave', function () {
        tip.hidden = true;
    });
    canvas.addEventListener('click', function (ev) {
        var i = boxAt(ev);
        if (i >= 0)
            zoom(i);
    });
    document.getElementById('reset').addEventListener('click', function () {
        zoom(0);
    });
    document.addEventListener('keydown', function (ev) {
        if (ev.key === 'Escape')
            zoom(0);
    });
    search.addEventListener('input', function () {
        runSearch();
        render();
    });
    icicle.addEventListener('change', render);
    if (kindSelect)
        kindSelect.addEventListener('change', function () {
            load();
            tip.hidden = true;
            runSearch();
            render();
        });
    window.addEventListener('resize', render);
    render();
})();
