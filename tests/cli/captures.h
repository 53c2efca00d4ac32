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
 *   large:N     N allocations and frees from 2000 stacks (not in
 *               rct_capture_names: for the progress line and timing) */
#ifndef RC_TESTS_CLI_CAPTURES_H
#define RC_TESTS_CLI_CAPTURES_H

/* NULL-terminated. */
extern const char *const rct_capture_names[];

/* Write capture `name` to path; 0 or an errno value. */
int rct_capture_write(const char *name, const char *path);

#endif
