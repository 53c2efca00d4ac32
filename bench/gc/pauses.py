"""pauses.py - benchmark 3, CPython side (context only, no target): the
pauses of the automatic collections in the allocation loop of
`gcbench pauses N WINDOW`, at the default thresholds, timed by a
gc.callbacks function (time.perf_counter_ns at "start" and "stop"; the
interval includes the interpreter's calls into the callback).

    python3 pauses.py N [WINDOW]
"""
import gc
import sys
import time


def pct(v, p):
    return v[int(p * (len(v) - 1) + 0.5)] if v else 0.0


def main():
    n = int(sys.argv[1])
    window = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    if gc.get_threshold() != (700, 10, 10):
        sys.exit(f"pauses.py: CHECK FAILED: thresholds {gc.get_threshold()}")
    gc.collect()
    gc.freeze()
    pauses = ([], [], [])
    state = {'start': 0, 'collected': 0}
    clock = time.perf_counter_ns

    def cb(phase, info):
        if phase == 'start':
            state['start'] = clock()
        else:
            pauses[info['generation']].append(clock() - state['start'])
            state['collected'] += info['collected']

    gc.callbacks.append(cb)
    win = []
    kept = 0
    cycles = 0
    t0 = time.perf_counter()
    for i in range(n):
        v = 1000 + i
        l = [v]
        t = (l, v)
        if i & 15 == 0:
            a = []
            b = []
            a.append(b)
            b.append(a)
            del a, b
            cycles += 1
        if i & 63 == 0:
            if kept < window:
                win.append(t)
            else:
                win[kept % window] = t
            kept += 1
    del l, t
    t1 = time.perf_counter()
    gc.callbacks.remove(cb)
    for k in range(max(0, kept - len(win)), kept):
        t = win[k % window]
        if t[1] != 1000 + 64 * k or t[0][0] != 1000 + 64 * k:
            sys.exit(f"pauses.py: CHECK FAILED: survivor {k} damaged")
    del win, t
    last = gc.collect()
    if state['collected'] + last != 2 * cycles:
        sys.exit(f"pauses.py: CHECK FAILED: collected {state['collected'] + last}, "
                 f"expected {2 * cycles}")
    out = [f"@ bench=pauses impl=cpython n={n} window={window} loop_s={t1 - t0:.6f} cycles={cycles}"]
    for g in range(3):
        v = sorted(pauses[g])
        out.append(f"g{g}_count={len(v)} g{g}_med_us={pct(v, 0.5) / 1e3:.3f} "
                   f"g{g}_p99_us={pct(v, 0.99) / 1e3:.3f} g{g}_max_us={(v[-1] if v else 0) / 1e3:.3f} "
                   f"g{g}_total_s={sum(v) / 1e9:.6f}")
    print(" ".join(out))


main()
