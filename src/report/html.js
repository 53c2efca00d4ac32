/* html.js - the sortable tables of `recycle html`'s page (src/report/html.c
 * writes the page; the flame graph on it is flame.js's).
 *
 * A table with class "sortable" sorts on a click of a column's button:
 * numbers (cells with a data-v attribute: the exact figure) largest first,
 * text A to Z; a second click on the same column reverses the order. The
 * header cell carries aria-sort, so the order is announced. Rows keep the
 * order of the page for equal keys (the sort is stable). */
(function () {
    'use strict';

    function key(row, col, numeric) {
        var cell = row.cells[col];
        if (!cell)
            return numeric ? 0 : '';
        if (numeric)
            return Number(cell.getAttribute('data-v')) || 0;
        /* a site with its callers sorts by the site alone */
        var summary = cell.querySelector('summary');
        return (summary || cell).textContent.trim().toLowerCase();
    }

    function sortBy(table, col, th) {
        var numeric = th.getAttribute('data-type') === 'num';
        var current = th.getAttribute('aria-sort');
        var descending = numeric ? current !== 'descending' : current === 'ascending';
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var keyed = rows.map(function (row, i) {
            return {row: row, k: key(row, col, numeric), i: i};
        });
        keyed.sort(function (a, b) {
            var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
            return (descending ? -c : c) || a.i - b.i;
        });
        keyed.forEach(function (e) {
            body.appendChild(e.row);
        });
        var heads = table.tHead.rows[0].cells;
        for (var h = 0; h < heads.length; h++)
            heads[h].removeAttribute('aria-sort');
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    }

    var tables = document.querySelectorAll('table.sortable');
    Array.prototype.forEach.call(tables, function (table) {
        var heads = table.tHead.rows[0].cells;
        Array.prototype.forEach.call(heads, function (th, col) {
            var button = th.querySelector('button');
            if (button)
                button.addEventListener('click', function () {
                    sortBy(table, col, th);
                });
        });
    });
})();
