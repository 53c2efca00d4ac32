/* captures.h - captures with known content for the report's tests,
 * written with the capture layer's writer (captures.c).
 *
 * Every capture is of "/opt/app/bin/app --rounds 3", pid 4242, with the
 * modules app (0x400000), libc.so.6 and libstdc++.so.6 (run-time), and a
 * call tree in which app+0x2000 (site A), app+0x3000 (B) and app+0x4000
 * (C) allocate, A also through operator new and from a second caller, B
 * through strdup. The names:
 *
 *   basic       one thread; 7 allocations, 1388 bytes, 5 frees; peak 1350
 *               bytes in 4 blocks at 4 us; 250 bytes leaked in 2 blocks (50
 *               definitely lost, 200 still reachable); 3 temporary; exit 0
 *   incomplete  basic without its last chunk (no LEAK and EXIT records)
 *   threads     a thread's chunk comes before the chunk that allocated the
 *               block it frees: time order gives peak 500, file order 600
 *   sampled     one sample per 4096 bytes: 2 records standing for 260
 *               allocations
 *   signal      killed by signal 11 at 2.5 s
 *   noexit      no EXIT record; one allocation without a stack
 *   dlclose     a library unmapped and another mapped at its addresses
 *   weird       a module path with invalid UTF-8 and a quote; a stack all
 *               in libc; ended by _exit(1)
 *   many        twelve sites, app+0x100 allocating 1 byte to app+0xc00 12
 *   empty       the header alone
 *   stats       950 ms, exit 0; threads 1 "main" (tid 5000), 2 "pool"
 *               renamed "worker-1" (5001), 3 "worker-2" (5002), 4 without
 *               a THREAD record; MEMORY records (thread 0) of 1 MiB at 10
 *               ms, 2 MiB at 500 ms, 4 MiB at 800 ms; chunks out of time
 *               order (A: thread 1 to 250 ms, B: thread 2 400-900 ms, C:
 *               thread 3 460-600 ms, D: thread 1 800-950 ms, E: thread 4 at
 *               710 ms). 24 allocations of 1,058,484 bytes, 13 frees; peak
 *               1,057,778 bytes in 7 blocks at 150 ms; 4,494 bytes in 11
 *               blocks live at exit; no temporary allocation.
 *                 sizes: 0, 1, 2, 3, 8, 10 x 24, 3 x 64, 100 and 65,
 *                 200, 4096, 5000 (a realloc of the 1), 1048577
 *                 thread 1: 8 allocations 1,057,779 B, 4 frees 1,053,578 B,
 *                           4,101 B in 3 blocks live (its 100 B block is
 *                           freed by thread 2)
 *                 thread 2: 11 allocations 440 B, 6 frees 220 B, 320 B in 6
 *                 thread 3: 4 allocations 257 B, 3 frees 192 B, 65 B in 1
 *                 thread 4: 1 allocation 8 B, live
 *               test_stats.sh has the figures of every 50 ms interval.
 *   stats-swapped  the records of stats, its chunks in the order A C B E D
 *   coarse      times on a 4 ms clock: 13 allocations of 16 bytes, one every
 *               4 ms from 0 to 48 ms; exit at 52 ms
 *   large:N     N allocations and frees from 2000 stacks (not in
 *               rct_capture_names: for the progress line and timing) */
#ifndef RC_TESTS_CLI_CAPTURES_H
#define RC_TESTS_CLI_CAPTURES_H

/* NULL-terminated. */
extern const char *const rct_capture_names[];

/* Write capture `name` to path; 0 or an errno value. */
int rct_capture_write(const char *name, const char *path);

#endif
