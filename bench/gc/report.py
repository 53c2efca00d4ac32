"""report.py - turn the results of bench/gc/run.sh into docs/BENCHMARKS-gc.md.

    report.py --write BIN OUT           write the Markdown report
    report.py --profile-list MODE BIN   the cases run.sh should profile
                                        ("id bench case impl" per line);
                                        MODE auto: missed targets, 1: all

BIN is the run's directory (results.txt, meta.txt, commands.txt, perf/).
"""
import os
import statistics
import sys

TARGET_CYCLES = 5.0      # recycle at least 5x faster per object than CPython
TARGET_LIVE_CPY = 3.0    # at least 3x faster than CPython
TARGET_LIVE_BOEHM = 1.0  # faster than Boehm
TARGET_PAUSE_US = 100.0  # max generation-0 pause
TARGET_BT = 1.10         # collector enabled within 1.1x of disabled
TARGET_INCR_US = 1000.0  # every incremental pause under 1 ms
TARGET_FLAT = 1.10       # steady: max of the 2nd half <= 1.1 x max of the 1st half


def load(bin_dir):
    runs = []
    with open(os.path.join(bin_dir, 'results.txt')) as f:
        for line in f:
            d = {}
            for tok in line.split():
                if '=' in tok:
                    k, v = tok.split('=', 1)
                    d[k] = v
            if d:
                runs.append(d)
    meta = {}
    with open(os.path.join(bin_dir, 'meta.txt')) as f:
        for line in f:
            if '=' in line:
                k, v = line.rstrip('\n').split('=', 1)
                meta[k] = v
    cmds = []
    path = os.path.join(bin_dir, 'commands.txt')
    if os.path.exists(path):
        with open(path) as f:
            cmds = [l.rstrip('\n') for l in f if l.strip()]
    failed = []
    path = os.path.join(bin_dir, 'failed.txt')
    if os.path.exists(path):
        with open(path) as f:
            failed = [l.strip() for l in f if l.strip()]
    return runs, meta, cmds, failed


class Stat:
    def __init__(self, values):
        self.v = sorted(values)
        self.n = len(self.v)
        self.med = statistics.median(self.v) if self.v else None
        self.min = self.v[0] if self.v else None
        self.max = self.v[-1] if self.v else None

    def __bool__(self):
        return self.n > 0


def values(runs, metric, **match):
    out = []
    for d in runs:
        if all(d.get(k) == v for k, v in match.items()) and metric in d:
            out.append(float(d[metric]))
    return Stat(out)


def fmt(x, digits=None):
    if x is None:
        return 'n/a'
    if digits is None:
        digits = 1 if abs(x) >= 10 else 2 if abs(x) >= 1 else 3
    return f'{x:.{digits}f}'


def cell(s, digits=None):
    if not s:
        return 'n/a'
    if s.n == 1:
        return fmt(s.med, digits)
    return f'{fmt(s.med, digits)} ({fmt(s.min, digits)}-{fmt(s.max, digits)})'


def ratio(a, b):
    return a / b if a is not None and b else None


def kb_mb(x):
    return None if x is None else x / 1024


def incr_label(mode, meta):
    if mode == 'stw':
        return 'stop-the-world rc_gc_collect(rt, 2)'
    if mode == 'time':
        return (f"steps of {meta.get('incr_step_us', '?')} us "
                f"(and at most {nfmt(meta.get('incr_time_step', '0'))} objects)")
    return f"steps of {nfmt(mode[3:])} objects, no time bound"


def verdict(ok):
    return 'n/a' if ok is None else ('**PASS**' if ok else '**MISS**')


def nfmt(n):
    n = int(n)
    for p, name in ((1000000, 'M'), (1000, 'k')):
        if n >= p and n % (p // 10 if p >= 10 else 1) == 0:
            v = n / p
            return (f'{v:.0f}' if v == int(v) else f'{v:.1f}') + name
    return str(n)


def nsci(n):
    n = int(n)
    e = len(str(n)) - 1
    m = n / 10 ** e
    return (f'1e{e}' if m == 1 else f'{m:g}e{e}')


# ---------------------------------------------------------------------------
# evaluation (shared by the report and the profile list)
# ---------------------------------------------------------------------------

def eval_cycles(runs, meta):
    rows = []
    for shape in meta.get('cycle_shapes', '').split():
        for n in meta.get('cycle_ns', '').split():
            c = f'{shape}:{n}'
            rc = values(runs, 'ns_per_obj', bench='cycles', impl='recycle', case=c)
            py = values(runs, 'ns_per_obj', bench='cycles', impl='cpython', case=c)
            r_med = ratio(py.med, rc.med)
            r_min = ratio(py.min, rc.min)
            ok = None if r_med is None else r_med >= TARGET_CYCLES
            rows.append(dict(shape=shape, n=n, case=c, rc=rc, py=py, r_med=r_med, r_min=r_min, ok=ok))
    return rows


def eval_live(runs, meta):
    rows = []
    cases = [(sh, n) for sh in meta.get('live_shapes', 'seq').split()
             for n in meta.get('live_ns', '').split()]
    for shape, n in cases:
        c = f'{shape}:{n}'
        m = dict(bench='live', case=c)
        rc = values(runs, 'ns_per_obj', impl='recycle', **m)
        py = values(runs, 'ns_per_obj', impl='cpython', **m)
        bo = values(runs, 'ns_per_obj', impl='boehm', markers='1', **m)
        bo2 = values(runs, 'ns_per_obj', impl='boehm', markers='2', **m)
        row = dict(n=n, shape=shape, case=c, rc=rc, py=py, bo=bo, bo2=bo2)
        row['py_med'], row['py_min'] = ratio(py.med, rc.med), ratio(py.min, rc.min)
        row['bo_med'], row['bo_min'] = ratio(bo.med, rc.med), ratio(bo.min, rc.min)
        row['bo2_med'], row['bo2_min'] = ratio(bo2.med, rc.med), ratio(bo2.min, rc.min)
        row['ok_py'] = None if row['py_med'] is None else row['py_med'] >= TARGET_LIVE_CPY
        row['ok_bo'] = None if row['bo_med'] is None else row['bo_med'] > TARGET_LIVE_BOEHM
        row['ok_bo2'] = None if row['bo2_med'] is None else row['bo2_med'] > TARGET_LIVE_BOEHM
        rows.append(row)
    return rows


def eval_pauses(runs):
    res = {}
    for impl in ('recycle', 'cpython'):
        m = dict(bench='pauses', impl=impl)
        r = dict(loop=values(runs, 'loop_s', **m))
        for g in range(3):
            for k in ('count', 'med_us', 'p99_us', 'max_us', 'total_s', 'over100'):
                r[f'g{g}_{k}'] = values(runs, f'g{g}_{k}', **m)
        for k in ('over20', 'over50', 'over100', 'max_us'):
            r[f'noise_{k}'] = values(runs, f'noise_{k}', **m)
        res[impl] = r
    mx = res['recycle']['g0_max_us']
    ok = None if not mx else mx.med < TARGET_PAUSE_US
    ok_all = None if not mx else mx.max < TARGET_PAUSE_US
    return res, ok, ok_all


def eval_bt(runs):
    on = values(runs, 'time_s', bench='bt', impl='recycle-gc-on')
    off = values(runs, 'time_s', bench='bt', impl='recycle-gc-off')
    r_med, r_min = ratio(on.med, off.med), ratio(on.min, off.min)
    ok = None if r_med is None else r_med <= TARGET_BT
    counts = {g: values(runs, f'gc{g}', bench='bt', impl='recycle-gc-on') for g in range(3)}
    counts['py_on'] = values(runs, 'time_s', bench='bt', impl='cpython-slots-on')
    counts['py_off'] = values(runs, 'time_s', bench='bt', impl='cpython-slots-off')
    for g in range(3):
        counts[f'{g}_s'] = values(runs, f'gc{g}_s', bench='bt', impl='recycle-gc-on')
    counts['rss_on'] = values(runs, 'peak_rss_kb', bench='bt', impl='recycle-gc-on')
    counts['rss_off'] = values(runs, 'peak_rss_kb', bench='bt', impl='recycle-gc-off')
    counts['py_rss_on'] = values(runs, 'peak_rss_kb', bench='bt', impl='cpython-slots-on')
    counts['py_rss_off'] = values(runs, 'peak_rss_kb', bench='bt', impl='cpython-slots-off')
    counts['untracked'] = values(runs, 'time_s', bench='bt', impl='recycle-gc-untracked')
    counts['rss_untracked'] = values(runs, 'peak_rss_kb', bench='bt', impl='recycle-gc-untracked')
    return on, off, r_med, r_min, ok, counts


INCR_KEYS = ('steps', 'pause_med_us', 'pause_p99_us', 'pause_max_us', 'total_ms', 'over1ms',
             'mutator_s', 'build_s', 'hwm_before_kb', 'hwm_after_kb', 'garbage_pairs_during',
             'noise_over100', 'noise_max_us', 'incr_found', 'final_found')


def incr_modes(meta):
    return ['stw', 'time'] + [f'obj{k}' for k in meta.get('incr_obj_steps', '').split()]


def eval_incr(runs, meta):
    rows = []
    for mode in incr_modes(meta):
        r = {k: values(runs, k, bench='incr', case=mode) for k in INCR_KEYS}
        r['mode'] = mode
        mx = r['pause_max_us']
        r['ok'] = None if not mx or mode == 'stw' else mx.med < TARGET_INCR_US
        r['ok_all'] = None if not mx or mode == 'stw' else mx.max < TARGET_INCR_US
        rows.append(r)
    return rows


STEADY_KEYS = ('iters', 'ns_per_iter', 'samples', 'gc0', 'gc1', 'gc2', 'young_threshold_last')
STEADY_SERIES = ('rss_kb', 'heap_kb', 'objects')


def eval_steady(runs):
    rows = []
    for mode in ('adaptive', 'fixed'):
        m = dict(bench='steady', case=mode)
        r = {k: values(runs, k, **m) for k in STEADY_KEYS}
        for ser in STEADY_SERIES:
            for k in ('first', 'last', 'max', 'max_h1', 'max_h2', 'h2_growth'):
                r[f'{ser}_{k}'] = values(runs, f'{ser}_{k}', **m)
        # flat: in every run, max of the second half <= TARGET_FLAT x max of the first
        flat = {}
        for ser in ('rss_kb', 'heap_kb'):
            per = [float(d[f'{ser}_max_h2']) / float(d[f'{ser}_max_h1'])
                   for d in runs if d.get('bench') == 'steady' and d.get('case') == mode
                   and float(d.get(f'{ser}_max_h1', 0)) > 0]
            flat[ser] = Stat(per)
        r['flat'] = flat
        ok = [flat[k].max <= TARGET_FLAT for k in flat if flat[k]]
        r['ok'] = None if not ok else all(ok)
        r['mode'] = mode
        rows.append(r)
    return rows


def profile_list(mode, bin_dir):
    runs, meta, _, _ = load(bin_dir)
    benches = meta.get('benches', '').split()
    allp = mode == '1'
    out = []
    if 'cycles' in benches:
        rows = eval_cycles(runs, meta)
        for shape in meta.get('cycle_shapes', '').split():
            cand = [r for r in rows if r['shape'] == shape and (allp or r['ok'] is False)]
            if cand:
                r = max(cand, key=lambda r: int(r['n']))
                out.append(f"cycles-{shape}-{r['n']} cycles {r['case']} recycle")
    if 'live' in benches:
        rows = eval_live(runs, meta)
        cand = [r for r in rows if allp or r['ok_py'] is False or r['ok_bo'] is False]
        for shape in meta.get('live_shapes', 'seq').split():
            c2 = [r for r in cand if r['shape'] == shape]
            if c2:
                r = max(c2, key=lambda r: int(r['n']))
                out.append(f"live-{shape}-{r['n']} live {r['case']} recycle")
    if 'pauses' in benches:
        _, ok, ok_all = eval_pauses(runs)
        if allp or ok is False or ok_all is False:
            out.append('pauses-gen0 pauses - recycle')
    if 'bt' in benches:
        ok = eval_bt(runs)[4]
        if allp or ok is False:
            out.append('bt-on bt - on')
            out.append('bt-off bt - off')
    if 'incr' in benches:
        for r in eval_incr(runs, meta):
            if r['mode'] == 'time' and (allp or r['ok'] is False or r['ok_all'] is False):
                out.append('incr-time incr time recycle')
    print('\n'.join(out))


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------

def write(bin_dir, out_path):
    runs, meta, cmds, failed = load(bin_dir)
    benches = meta.get('benches', '').split()
    L = []
    w = L.append
    quick = meta.get('quick') == '1'
    reps = meta.get('repeats', '?')

    w('# Cycle collector benchmarks' + (' (QUICK smoke run: sizes too small to judge)' if quick else ''))
    w('')
    w(f"Generated by `bench/gc/run.sh` on {meta.get('date', '?')} in {meta.get('elapsed_s', '?')} s. "
      'recycle\'s collector (`rc_gc_collect`, CPython\'s algorithm: src/gc/collect.c) against '
      'CPython\'s `gc` module and the Boehm-Demers-Weiser collector. Reproduce with '
      '`bash bench/gc/run.sh` (sizes and repetitions in the environment: see the head of that '
      'script; `BENCH_QUICK=1` for a smoke run).')
    w('')
    if meta.get('tree_after'):
        w(f"**The sources changed during the run** ({meta.get('commit', '?')} when the library was "
          f"built, {meta['tree_after']} at the end): the figures are those of the library built at "
          'the start; rerun on a quiet tree to be sure.')
        w('')
    if failed:
        w(f'**{len(failed)} run(s) FAILED their self-check or crashed** (rep bench case impl): '
          + '; '.join(failed) + '. Their figures are missing below.')
        w('')

    cyc = eval_cycles(runs, meta) if 'cycles' in benches else []
    live = eval_live(runs, meta) if 'live' in benches else []
    pz = eval_pauses(runs) if 'pauses' in benches else None
    bt = eval_bt(runs) if 'bt' in benches else None
    incr = eval_incr(runs, meta) if 'incr' in benches else []
    steady = eval_steady(runs) if 'steady' in benches else []

    # ---- summary ----
    w('## Targets')
    w('')
    w('Ratios: the other implementation\'s time per object / recycle\'s (above 1: recycle is '
      'faster), on the medians and, in brackets, on the fastest run of each (less sensitive to '
      'the other load on this 2-core machine). PASS/MISS is judged on the medians.')
    w('')
    w('| # | target | measured (median) | ratio median [min-time] | result |')
    w('|---|---|---|---|---|')
    for r in cyc:
        w(f"| 1 | cycles, {r['shape']}, N={nsci(r['n'])}: >= {TARGET_CYCLES:g}x faster per object than CPython "
          f"| {fmt(r['rc'].med)} vs {fmt(r['py'].med)} ns/object "
          f"| {fmt(r['r_med'])}x [{fmt(r['r_min'])}x] | {verdict(r['ok'])} |")
    for r in live:
        w(f"| 2 | live heap, {r['shape']}, N={nsci(r['n'])}: >= {TARGET_LIVE_CPY:g}x faster per object than CPython "
          f"| {fmt(r['rc'].med)} vs {fmt(r['py'].med)} ns/object "
          f"| {fmt(r['py_med'])}x [{fmt(r['py_min'])}x] | {verdict(r['ok_py'])} |")
        w(f"| 2 | live heap, {r['shape']}, N={nsci(r['n'])}: faster than Boehm GC_gcollect (1 marker thread, the default here) "
          f"| {fmt(r['rc'].med)} vs {fmt(r['bo'].med)} ns/object "
          f"| {fmt(r['bo_med'])}x [{fmt(r['bo_min'])}x] | {verdict(r['ok_bo'])} |")
        w(f"| 2 | (same, Boehm with 2 parallel marker threads) "
          f"| {fmt(r['rc'].med)} vs {fmt(r['bo2'].med)} ns/object "
          f"| {fmt(r['bo2_med'])}x [{fmt(r['bo2_min'])}x] | {verdict(r['ok_bo2'])} |")
    if pz:
        res, ok, ok_all = pz
        g0 = res['recycle']['g0_max_us']
        w(f"| 3 | max generation-0 pause < {TARGET_PAUSE_US:g} us (default thresholds 700,10,10) "
          f"| median of the runs' max {fmt(g0.med)} us; worst run {fmt(g0.max)} us; "
          f"median pause {fmt(res['recycle']['g0_med_us'].med)} us "
          f"| {fmt(ratio(g0.med, TARGET_PAUSE_US))}x the limit | {verdict(ok)} "
          f"(all runs: {verdict(ok_all)}) |")
    if bt:
        on, off, r_med, r_min, ok, cnt = bt
        w(f"| 4 | binary-trees (GC nodes), collector on within {TARGET_BT:g}x of off "
          f"| {fmt(on.med)} s vs {fmt(off.med)} s; peak RSS {fmt(kb_mb(cnt['rss_on'].med))} vs "
          f"{fmt(kb_mb(cnt['rss_off'].med))} MiB | enabled/disabled {fmt(r_med)}x [{fmt(r_min)}x] | {verdict(ok)} |")
    for r in incr:
        if r['mode'] == 'stw':
            continue
        mx = r['pause_max_us']
        w(f"| 5 | bounded pauses, {incr_label(r['mode'], meta)}, N={nsci(meta.get('incr_n', '0'))}: "
          f"every pause < {TARGET_INCR_US / 1000:g} ms | longest pause {fmt(mx.med)} us (worst run "
          f"{fmt(mx.max)} us), {fmt(r['steps'].med, 0)} steps | {fmt(ratio(mx.med, TARGET_INCR_US))}x the limit "
          f"| {verdict(r['ok'])} (all runs: {verdict(r['ok_all'])}) |")
    for r in steady:
        fl = r['flat']
        w(f"| 6 | steady cyclic garbage, young threshold {r['mode']}: memory flat (max of the 2nd half "
          f"<= {TARGET_FLAT:g}x max of the 1st, RSS and rc heap, every run) "
          f"| RSS {fmt(kb_mb(r['rss_kb_max_h1'].med))} -> {fmt(kb_mb(r['rss_kb_max_h2'].med))} MiB, rc heap "
          f"{fmt(kb_mb(r['heap_kb_max_h1'].med))} -> {fmt(kb_mb(r['heap_kb_max_h2'].med))} MiB "
          f"| 2nd/1st half max: RSS {fmt(fl['rss_kb'].max, 3)}, heap {fmt(fl['heap_kb'].max, 3)} (worst run) "
          f"| {verdict(r['ok'])} |")
    w('')

    # ---- setup ----
    w('## Setup')
    w('')
    w(f'- {reps} repetition(s) of every case (live heaps of N >= {nsci(meta.get("live_big", "10000000"))}: '
      f'{meta.get("live_big_repeats", "?")}), the implementations interleaved round-robin '
      '(order rotated each repetition); every case is a fresh process. Tables show the median '
      'and (min-max) over the repetitions.')
    w('- Every program checks itself and exits nonzero on a mismatch: the number of objects '
      'collected equals N (return value of the collection and the collector\'s stats), the '
      'runtime\'s object count goes back to its start-up value, live objects keep their values '
      'after the collections, nothing is left at the end.')
    w('- Objects: user types written as a program would, with `RC_TYPE_GC`, `traverse`, `clear`, '
      '`destroy`, reference slots and a payload: `qnode` (cycles: four reference slots, `next` and '
      '`prev` for the cycle, `value` pointing to one shared int, `extra` NULL, and a `long id`), '
      '`lnode` (live heap, incremental, steady: two reference slots `a`, `b` and a `long id`), '
      '`tnode` (binary-trees: `left`, `right` and an `int` depth). CPython: classes with '
      '`__slots__` of the same reference names. CPython runs `gc.collect(); gc.freeze()` first '
      'so that its collections see only the benchmark\'s objects, as recycle\'s runtime does '
      '(this can only make CPython faster).')
    w(f'- Fewer repetitions where a run is long: live heaps of N >= {nsci(meta.get("live_big", "10000000"))} '
      f'{meta.get("live_big_repeats", "?")}, the incremental benchmark {meta.get("incr_repeats", "?")}, '
      f'the steady-garbage runs ({meta.get("steady_seconds", "?")} s each) {meta.get("steady_repeats", "?")}.')
    w(f'- recycle library: {meta.get("lib", "?")}; commit {meta.get("commit", "?")}. '
      f'Benchmarks: `{meta.get("cflags", "")}`.')
    w('')
    w('### Machine')
    w('')
    w('```')
    w(f'uname -a:   {meta.get("uname", "?")}')
    w(f'CPU:        {meta.get("cpu", "?")}, {meta.get("cores", "?")}')
    w(f'memory:     {meta.get("memory", "?")}')
    w(f'compiler:   {meta.get("gcc", "?")}')
    w(f'cmake:      {meta.get("cmake", "?")}')
    w(f'python:     {meta.get("python", "?")}, Debian python3 {meta.get("python_pkg", "?")}')
    w(f'Boehm GC:   libgc-dev {meta.get("libgc", "?")}')
    w(f'perf:       {meta.get("perf", "?")}')
    w(f'load average before: {meta.get("load_before", "?")}   after: {meta.get("load_after", "?")}')
    w('```')
    w('')
    noisy = []
    for d in cyc:
        for s, who in ((d['rc'], 'recycle'), (d['py'], 'CPython')):
            if s and s.min:
                noisy.append((s.max / s.min, f"cycles {d['shape']} {nfmt(d['n'])} {who}"))
    for d in live:
        for k, who in (('rc', 'recycle'), ('py', 'CPython'), ('bo', 'Boehm-1'), ('bo2', 'Boehm-2')):
            s = d[k]
            if s and s.min:
                noisy.append((s.max / s.min, f"live {d['shape']} {nfmt(d['n'])} {who}"))
    if bt:
        for s, who in ((bt[0], 'enabled'), (bt[1], 'disabled')):
            if s and s.min:
                noisy.append((s.max / s.min, f"binary-trees {who}"))
    if noisy and int(meta.get('repeats', '1')) > 1:
        worst = max(noisy)
        if worst[0] > 1.3:
            w(f'**Noisy run:** the slowest repetition of a case took up to {worst[0]:.2f}x the '
              f'fastest ({worst[1]}). The 2 cores are shared with other work; compare the min-time '
              'ratios too, and treat differences under ~10-20% as noise.')
            w('')
    w('### Commands')
    w('')
    w('```sh')
    for c in cmds:
        w(c)
    w('```')
    w('')

    # ---- 1 ----
    if cyc:
        w('## 1. Collecting unreachable cycles')
        w('')
        w('N objects in cycles that nothing else references, built with the collector disabled; '
          'the time of one `rc_gc_collect(rt, 2)` / `gc.collect()` (which finds, clears and frees '
          'them all) divided by N. The objects: recycle `qnode`, a user type with four reference slots '
          '(`next`, `prev`, `value`, `extra`), a `long id` payload, `traverse`, `clear` and '
          '`destroy`; `next` and `prev` make the cycle, `value` points to one int shared by all, '
          '`extra` is NULL. CPython: a class with `__slots__ = (\'next\', \'prev\', \'value\', '
          '\'extra\')`, the same links. `pairs`: N/2 2-cycles (a.next = a.prev = b, b.next = b.prev '
          '= a); `ring`: one doubly linked ring through all N objects. Checks: the collection finds '
          'N, the shared int is back to one reference, nothing is left.')
        w('')
        w('| shape | N | recycle ns/object | CPython ns/object | CPython / recycle (median) | (min times) | target | result |')
        w('|---|---|---|---|---|---|---|---|')
        for r in cyc:
            w(f"| {r['shape']} | {nfmt(r['n'])} | {cell(r['rc'])} | {cell(r['py'])} | {fmt(r['r_med'])}x "
              f"| {fmt(r['r_min'])}x | >= {TARGET_CYCLES:g}x | {verdict(r['ok'])} |")
        w('')
        for r in cyc:
            rcb = values(runs, 'build_s', bench='cycles', impl='recycle', case=r['case'])
            pyb = values(runs, 'build_s', bench='cycles', impl='cpython', case=r['case'])
            rct = values(runs, 'collect_s', bench='cycles', impl='recycle', case=r['case'])
            pyt = values(runs, 'collect_s', bench='cycles', impl='cpython', case=r['case'])
            if r is cyc[0]:
                w('Whole collection times (median s) and, for reference, building the objects (not timed '
                  'in the ratio):')
                w('')
                w('| shape | N | recycle collect | CPython collect | recycle build | CPython build |')
                w('|---|---|---|---|---|---|')
            w(f"| {r['shape']} | {nfmt(r['n'])} | {fmt(rct.med, 4)} | {fmt(pyt.med, 4)} | {fmt(rcb.med, 4)} | {fmt(pyb.med, 4)} |")
        w('')
        for r in cyc:
            if r['ok'] is not None:
                w(f"- {verdict(r['ok'])} cycles/{r['shape']}/N={nsci(r['n'])}: recycle "
                  f"{fmt(r['r_med'])}x faster per object than CPython (min times {fmt(r['r_min'])}x), target {TARGET_CYCLES:g}x")
        w('')

    # ---- 2 ----
    if live:
        w('## 2. Full collection of a live heap (no garbage)')
        w('')
        w(f'N nodes with two references each, held from a root list of lists of 1000 (so all are '
          f'live): `seq`, node i points to i+1 and i+2 (mod N), in allocation order; `rand`, each '
          f'node\'s two references point to uniformly random nodes, drawn from the same PRNG with '
          f'the same seed on every side (a 64-bit LCG with Knuth\'s MMIX constants, index = '
          f'((x >> 32) * N) >> 32; gcbench.c, live.py, boehm_live.c). recycle: `lnode` (two slots '
          f'and an id); CPython: a class with `__slots__ = (\'a\', \'b\')`; Boehm: `GC_MALLOC`\'d '
          f'nodes with two pointers and an id under `GC_MALLOC`\'d root arrays. One untimed full '
          f'collection, then {meta.get("live_collects", "3")} timed ones in the same process; the '
          f'best one of a process is its figure, divided by N (the median of the process\'s '
          f'collections is recorded too). recycle: `rc_gc_collect(rt, 2)`; CPython: `gc.collect()`; '
          f'Boehm: `GC_gcollect()` with 1 marker thread (what a single-threaded program gets by '
          f'default) and with 2 parallel marker threads (`GC_set_markers_count(2)`, '
          f'`GC_start_mark_threads()`: both cores). Checks: every collection finds nothing, every '
          f'node keeps its id and both links.')
        w('')
        w('| shape | N | recycle ns/object | CPython | Boehm, 1 marker | Boehm, 2 markers | CPython / recycle [min] | Boehm-1 / recycle [min] | Boehm-2 / recycle [min] |')
        w('|---|---|---|---|---|---|---|---|---|')
        for r in live:
            w(f"| {r['shape']} | {nfmt(r['n'])} | {cell(r['rc'])} | {cell(r['py'])} | {cell(r['bo'])} | {cell(r['bo2'])} "
              f"| {fmt(r['py_med'])}x [{fmt(r['py_min'])}x] | {fmt(r['bo_med'])}x [{fmt(r['bo_min'])}x] "
              f"| {fmt(r['bo2_med'])}x [{fmt(r['bo2_min'])}x] |")
        w('')
        w('Whole collection (median s): ' + '; '.join(
            f"{r['shape']} N={nfmt(r['n'])}: recycle {fmt(values(runs, 'collect_s', bench='live', impl='recycle', case=r['case']).med, 4)}, "
            f"CPython {fmt(values(runs, 'collect_s', bench='live', impl='cpython', case=r['case']).med, 4)}, "
            f"Boehm-1 {fmt(values(runs, 'collect_s', bench='live', impl='boehm', markers='1', case=r['case']).med, 4)}, "
            f"Boehm-2 {fmt(values(runs, 'collect_s', bench='live', impl='boehm', markers='2', case=r['case']).med, 4)}"
            for r in live) + '.')
        w('')
        for r in live:
            tag = f"live/{r['shape']}/N={nsci(r['n'])}"
            w(f"- {verdict(r['ok_py'])} {tag} vs CPython: {fmt(r['py_med'])}x "
              f"(min times {fmt(r['py_min'])}x), target {TARGET_LIVE_CPY:g}x")
            w(f"- {verdict(r['ok_bo'])} {tag} vs Boehm (1 marker): {fmt(r['bo_med'])}x "
              f"(min times {fmt(r['bo_min'])}x), target > 1x")
            w(f"- {verdict(r['ok_bo2'])} {tag} vs Boehm (2 markers): {fmt(r['bo2_med'])}x "
              f"(min times {fmt(r['bo2_min'])}x), target > 1x")
        w('')

    # ---- 3 ----
    if pz:
        res, ok, ok_all = pz
        w('## 3. Pauses at the default thresholds')
        w('')
        w(f'An allocation loop of {nfmt(meta.get("pause_n", 0))} iterations with the collector '
          f'enabled at the default thresholds (700, 10, 10). Each iteration makes a list holding an '
          f'int and a tuple (list, int); every 16th iteration also a garbage 2-cycle of lists; every '
          f'64th tuple survives in a window of {meta.get("pause_window", "?")} slots (an `rc_list`), '
          f'replacing an older one, which then dies by reference counting. A gc callback '
          f'(`rc_gc_callback_add`) reads CLOCK_MONOTONIC at RC_GC_START and RC_GC_STOP of every '
          f'automatic collection. The CPython column runs the same loop with a `gc.callbacks` '
          f'function (context only, no target; its intervals include the calls into the Python '
          f'callback). Per run: the number of collections and the median, 99th percentile and '
          f'maximum pause of each generation; the table gives the median over the runs and '
          f'(min-max) across them.')
        w('')
        w('| implementation | generation | collections | median pause us | p99 us | max pause us | total s |')
        w('|---|---|---|---|---|---|---|')
        for impl, name in (('recycle', 'recycle'), ('cpython', 'CPython')):
            r = res[impl]
            for g in range(3):
                w(f"| {name} | {g} | {cell(r[f'g{g}_count'], 0)} | {cell(r[f'g{g}_med_us'])} | "
                  f"{cell(r[f'g{g}_p99_us'])} | {cell(r[f'g{g}_max_us'])} | {cell(r[f'g{g}_total_s'], 4)} |")
        w('')
        w(f"Loop time (median s, collections included): recycle {cell(res['recycle']['loop'], 3)}, "
          f"CPython {cell(res['cpython']['loop'], 3)}.")
        w('')
        g0 = res['recycle']['g0_max_us']
        w(f"- {verdict(ok)} max generation-0 pause: {fmt(g0.med)} us (median over the runs of each "
          f"run's maximum; worst run {fmt(g0.max)} us, best run {fmt(g0.min)} us), target < {TARGET_PAUSE_US:g} us; "
          f"every run under the target: {verdict(ok_all)}")
        w('- bounded pauses for generation-2 collections: the generation-2 row above is the default '
          'stop-the-world pass, whose length grows with the heap; the bounded-pause mode '
          '(rc_gc_set_incremental) is measured in section 5.')
        nz = res['recycle']
        if nz['noise_max_us'] and nz['g0_over100']:
            w(f"- the machine's own interruptions, measured in the same process right after the loop "
              f"by a loop of the same length that only reads the clock (gcbench's `spin_noise`): gaps "
              f"over 20 us {cell(nz['noise_over20'], 0)}, over 50 us {cell(nz['noise_over50'], 0)}, "
              f"over 100 us {cell(nz['noise_over100'], 0)} per run; longest gap {cell(nz['noise_max_us'])} us. "
              f"Generation-0 pauses over 100 us per run: {cell(nz['g0_over100'], 0)} of "
              f"{cell(nz['g0_count'], 0)}. A pause that overlaps one of those gaps contains it, "
              f"whatever the collector does: the maximum is set by the machine, the median and p99 "
              f"by the collector.")
        w('')

    # ---- 4 ----
    if bt:
        on, off, r_med, r_min, ok, counts = bt
        w('## 4. binary-trees with GC nodes: collector on vs off')
        w('')
        w(f'The Benchmarks Game\'s binary-trees (depth {meta.get("bt_depth", "?")}) with nodes of a '
          f'user type (`tnode`: two child slots, an `int` payload, `RC_TYPE_GC`, `traverse`, `clear` '
          f'and `destroy`) (so every node is tracked and the '
          f'automatic collections see them), in one program run with the collector enabled and '
          f'with `rc_gc_disable` right after the runtime is created. Wall time of the whole workload, '
          f'runtime creation and teardown included; peak RSS is the process\'s VmHWM '
          f'(/proc/self/status) at the end. The checks are the Benchmarks Game\'s node '
          f'counts and every node\'s payload (its depth); no object may be left, and the collector must free nothing (the program has no '
          f'cycles).')
        w('')
        w('| collector | time s | peak RSS MiB (VmHWM) | collections gen 0 / 1 / 2 | time in collections s, gen 0 / 1 / 2 (sum) |')
        w('|---|---|---|---|---|')
        gs = [counts[f'{g}_s'].med for g in range(3)]
        tot = sum(gs) if all(x is not None for x in gs) else None
        mib = lambda st: Stat([v / 1024 for v in st.v])
        w(f"| enabled | {cell(on, 3)} | {cell(mib(counts['rss_on']))} | {fmt(counts[0].med, 0)} / {fmt(counts[1].med, 0)} / {fmt(counts[2].med, 0)} "
          f"| {' / '.join(fmt(x, 3) for x in gs)} ({fmt(tot, 3)}) |")
        w(f"| disabled (`rc_gc_disable`) | {cell(off, 3)} | {cell(mib(counts['rss_off']))} | 0 / 0 / 0 | - |")
        if counts['untracked']:
            w(f"| not a container (the node type without `RC_TYPE_GC`) | {cell(counts['untracked'], 3)} | "
              f"{cell(mib(counts['rss_untracked']))} | - | - |")
        w('')
        w('The time in collections is measured in the same runs by a gc callback (START -> STOP, '
          'two clock reads per collection); medians over the runs.')
        w('')
        w(f"- {verdict(ok)} binary-trees: enabled / disabled = {fmt(r_med)}x (min times {fmt(r_min)}x), "
          f"target <= {TARGET_BT:g}x")
        w(f"- peak RSS enabled / disabled: {fmt(ratio(counts['rss_on'].med, counts['rss_off'].med))}x (medians)")
        if counts['untracked']:
            w(f"- what tracking costs (a container linked into generation 0 at allocation and "
              f"unlinked at death, 16 bytes of links): disabled / not a container = "
              f"{fmt(ratio(off.med, counts['untracked'].med))}x in time, "
              f"{fmt(ratio(counts['rss_off'].med, counts['rss_untracked'].med))}x in peak RSS (medians)")
        py_on, py_off = counts['py_on'], counts['py_off']
        if py_on and py_off:
            w(f"- for scale, CPython on the same workload with nodes that its collector tracks "
              f"(`bt.py`: a class with `__slots__`, depth {meta.get('bt_py_depth', '?')}, shallower to keep "
              f"the run short): enabled {cell(py_on, 3)} s, disabled (`gc.disable()`) {cell(py_off, 3)} s, "
              f"enabled / disabled = {fmt(ratio(py_on.med, py_off.med))}x "
              f"(min times {fmt(ratio(py_on.min, py_off.min))}x); peak RSS "
              f"{fmt(kb_mb(counts['py_rss_on'].med))} / {fmt(kb_mb(counts['py_rss_off'].med))} MiB")
        w('')

    # ---- 5: bounded pauses ----
    if incr:
        n = meta.get('incr_n', '0')
        w('## 5. Bounded pauses: incremental full collections (rc_gc_set_incremental)')
        w('')
        w(f'A randomly linked heap of {nfmt(n)} `lnode`s (`gcbench incr`): 90% live, held from a root '
          f'list of lists of 1000, each pointing to two random live nodes; 10% garbage 2-cycles '
          f'(each also pointing to a live node) mixed among them in allocation order (2 of every 20 '
          f'allocations, at a random place). Automatic collections are off, so every pause is one '
          f'the program times. `stw`: one stop-the-world `rc_gc_collect(rt, 2)`. The others: '
          f'`rc_gc_set_incremental(rt, STEP)` (and for `time` `rc_gc_set_step_time(rt, '
          f'{meta.get("incr_step_us", "?")})`), `rc_gc_collect_incremental`, then `rc_gc_step` until '
          f'it returns 0; between two steps the program makes 100 garbage 2-cycles and 100 new live '
          f'nodes (one in 8 stored only in a slot of a random old node, replacing what was there; the '
          f'others in lists the root holds). A pause is one call, timed with CLOCK_MONOTONIC. '
          f'Checks: the incremental collection and one more full collection together free exactly '
          f'the garbage 2-cycles (old and new), the object count is then the live count, every old '
          f'node keeps its id and first link, every new node is intact. '
          f'Medians over {meta.get("incr_repeats", "?")} runs, (min-max) across runs.')
        w('')
        w('| mode | pauses (steps) | median pause us | p99 us | longest pause us | pauses >= 1 ms | total collector time ms | program between steps s | peak RSS MiB before -> after |')
        w('|---|---|---|---|---|---|---|---|---|')
        for r in incr:
            w(f"| {incr_label(r['mode'], meta)} | {cell(r['steps'], 0)} | {cell(r['pause_med_us'])} "
              f"| {cell(r['pause_p99_us'])} | {cell(r['pause_max_us'])} | {cell(r['over1ms'], 0)} "
              f"| {cell(r['total_ms'])} | {fmt(r['mutator_s'].med, 3)} "
              f"| {fmt(kb_mb(r['hwm_before_kb'].med))} -> {fmt(kb_mb(r['hwm_after_kb'].med))} |")
        w('')
        stw = next((r for r in incr if r['mode'] == 'stw'), None)
        for r in incr:
            if r['mode'] == 'stw':
                continue
            extra = ''
            if stw and stw['total_ms'] and r['total_ms']:
                extra = (f"; total collector time {fmt(ratio(r['total_ms'].med, stw['total_ms'].med))}x "
                         f"the stop-the-world collection's ({fmt(stw['total_ms'].med)} ms)")
            w(f"- {verdict(r['ok'])} {incr_label(r['mode'], meta)}: longest pause {fmt(r['pause_max_us'].med)} us "
              f"(median over runs; worst run {fmt(r['pause_max_us'].max)} us), target every pause < "
              f"{TARGET_INCR_US / 1000:g} ms; all runs: {verdict(r['ok_all'])}{extra}")
        nzm = [r['noise_max_us'].med for r in incr if r['noise_max_us']]
        if nzm:
            w(f"- the machine's own interruptions, measured after each run by a loop that only reads "
              f"the clock for as long as the collector ran (up to 2 s): longest gap {fmt(max(nzm))} us "
              f"(median over runs, worst mode). A pause that overlaps one contains it.")
        w('- Limit: one object\'s traverse is atomic, so a pause is at least the time to traverse the '
          'largest container (here a root list of 1e4 lists); the time bound is checked every few '
          'dozen objects.')
        w('')

    # ---- 6: steady cyclic garbage ----
    if steady:
        w('## 6. Steady cyclic garbage: does memory stay flat?')
        w('')
        w(f'`gcbench steady MODE {meta.get("steady_seconds", "?")}`: for {meta.get("steady_seconds", "?")} s '
          f'a loop makes, per iteration, a garbage 2-cycle of `lnode`s (pointing into the live data) '
          f'and a new node that replaces the oldest of a window of 10,000 (which dies by reference '
          f'counting); live all along: a random graph of 100,000 nodes and the window. The collector '
          f'runs automatically: `adaptive` is the default policy (adaptive young threshold on), '
          f'`fixed` is `rc_gc_set_adaptive(rt, 0)` (threshold 700). Every second: RSS (VmRSS), the '
          f'rc heap\'s bytes in use (`rc_heap_stats_get`) and the object count '
          f'(`rc_runtime_object_count`); the loop runs as fast as it can, so the rate of garbage '
          f'is steady. Growth over the 2nd half: its last sample minus its first. Checks: at the end one full collection; the collector freed '
          f'exactly the 2-cycles made, the object count is the live data\'s. '
          f'**Criterion "memory stays flat"**: in every run, the largest sample of the second half '
          f'of the run is at most {TARGET_FLAT:g}x the largest sample of the first half, for RSS '
          f'and for the rc heap. Medians over {meta.get("steady_repeats", "?")} runs.')
        w('')
        w('| young threshold | iterations (ns each) | collections gen 0 / 1 / 2 | series | first | last | max | max 1st half | max 2nd half | growth over the 2nd half | 2nd/1st half max (worst run) |')
        w('|---|---|---|---|---|---|---|---|---|---|---|')
        for r in steady:
            head = (f"| {r['mode']} | {fmt(r['iters'].med, 0)} ({fmt(r['ns_per_iter'].med)}) "
                    f"| {fmt(r['gc0'].med, 0)} / {fmt(r['gc1'].med, 0)} / {fmt(r['gc2'].med, 0)} ")
            for ser, name, div, dg in (('rss_kb', 'RSS MiB', 1024, 2), ('heap_kb', 'rc heap MiB', 1024, 2),
                                       ('objects', 'objects', 1, 0)):
                g = lambda k: None if r[f'{ser}_{k}'].med is None else r[f'{ser}_{k}'].med / div
                fl = r['flat'].get(ser)
                w(f"{head}| {name} | {fmt(g('first'), dg)} | {fmt(g('last'), dg)} | {fmt(g('max'), dg)} "
                  f"| {fmt(g('max_h1'), dg)} | {fmt(g('max_h2'), dg)} | {fmt(g('h2_growth'), dg)} "
                  f"| {fmt(fl.max, 3) if fl else '-'} |")
                head = '| | | '
        w('')
        for r in steady:
            path = os.path.join(bin_dir, 'outputs', f"steady.{r['mode']}.recycle.1.txt")
            if not os.path.exists(path):
                continue
            ser = {'rss_kb': [], 'heap_kb': []}
            with open(path) as f:
                for line in f:
                    if line.startswith('# sample'):
                        d = dict(t.split('=', 1) for t in line.split() if '=' in t)
                        for k in ser:
                            ser[k].append(fmt(int(d[k]) / 1024, 2))
            w(f"- the samples of the first {r['mode']} run, one a second, MiB: RSS "
              f"{' '.join(ser['rss_kb'])}; rc heap {' '.join(ser['heap_kb'])}")
        w('')
        for r in steady:
            fl = r['flat']
            w(f"- {verdict(r['ok'])} steady, {r['mode']}: 2nd/1st half max RSS {fmt(fl['rss_kb'].max, 3)}, "
              f"rc heap {fmt(fl['heap_kb'].max, 3)} (worst run), target <= {TARGET_FLAT:g}")
        w('')

    # ---- profiles ----
    pdir = os.path.join(bin_dir, 'perf')
    profs = sorted(f[:-4] for f in os.listdir(pdir) if f.endswith('.txt')) if os.path.isdir(pdir) else []
    ana = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'analysis.md')
    if profs or os.path.exists(ana):
        w('## Where the time goes (perf, recycle side)')
        w('')
    if profs:
        w('Each profile is one extra, untimed run of the recycle program under `perf record -e '
          'cpu-clock -F 10000`, with the events enabled only around what the benchmark measures '
          '(gcbench toggles them through perf\'s control fifo: the timed collections; in the '
          'pause benchmark the generation-0 collections and in the incremental one every step, user space only (`cpu-clock:u`, else the '
          'toggling itself shows up); for binary-trees the whole workload). '
          'Self time per symbol (`perf report --no-children --sort sym`), symbols above 0.5%. '
          'Static helpers of src/gc/collect.c inlined into their callers are shown under the '
          'caller (`deduce_unreachable` = update_refs + subtract_refs + move_unreachable).')
        w('')
        for p in profs:
            cmdf = os.path.join(pdir, p + '.cmd')
            cmd = open(cmdf).read().strip() if os.path.exists(cmdf) else ''
            w(f'### {p}')
            w('')
            w(f'`{cmd}`')
            w('')
            w('```')
            w(open(os.path.join(pdir, p + '.txt')).read().rstrip())
            w('```')
            w('')
    if os.path.exists(ana):
        w(open(ana).read().rstrip())
        w('')

    with open(out_path, 'w') as f:
        f.write('\n'.join(L) + '\n')


def main():
    if len(sys.argv) == 4 and sys.argv[1] == '--write':
        write(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == '--profile-list':
        profile_list(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


main()
