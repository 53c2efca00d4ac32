/* os_linux.c - the OS contract (os.h) on Linux: mmap, madvise, /proc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "heap/os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


static _Atomic size_t os_page_size;
/* Fault injection: remaining successes before failures start; -1 = never fail. */
static _Atomic long os_fail_countdown = -1;
static _Atomic long os_failed;

size_t rci_os_page_size(void) {
    size_t ps = atomic_load_explicit(&os_page_size, memory_order_relaxed);
    if (ps == 0) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (size_t)v : 4096;
        atomic_store_explicit(&os_page_size, ps, memory_order_relaxed);
    }
    return ps;
}

long rci_os_fail_after(long n) {
    long failed = atomic_exchange(&os_failed, 0);
    atomic_store(&os_fail_countdown, n < 0 ? -1 : n);
    return failed;
}

static int os_should_fail(void) {
    long c = atomic_load(&os_fail_countdown);
    while (c >= 0) {
        if (c == 0) {
            atomic_fetch_add(&os_failed, 1);
            return 1;
        }
        if (atomic_compare_exchange_weak(&os_fail_countdown, &c, c - 1))
            return 0;
    }
    return 0;
}

int rci_os_alloc_aligned(size_t size, size_t align, void **out) {
    *out = NULL;
    if (os_should_fail())
        return ENOMEM;
    size_t ps = rci_os_page_size();
    if (align < ps)
        align = ps;
    if (size > SIZE_MAX - align)
        return ENOMEM;
    /* Try the exact size first: the kernel often hands out aligned ranges
     * when the previous mapping ended on an aligned boundary. */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return ENOMEM;
    if (((uintptr_t)p & (align - 1)) == 0) {
        *out = p;
        return 0;
    }
    munmap(p, size);
    /* Over-allocate and trim both ends to the alignment. */
    size_t total = size + align;
    char *q = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        return ENOMEM;
    uintptr_t start = ((uintptr_t)q + align - 1) & ~(uintptr_t)(align - 1);
    size_t lead = start - (uintptr_t)q;
    size_t trail = total - lead - size;
    if (lead)
        munmap(q, lead);
    if (trail)
        munmap((char *)start + size, trail);
    *out = (void *)start;
    return 0;
}

int rci_os_free(void *addr, size_t size) {
    if (munmap(addr, size) != 0)
        return errno;
    return 0;
}

int rci_os_decommit(void *addr, size_t size) {
    if (madvise(addr, size, MADV_DONTNEED) != 0)
        return errno;
    return 0;
}

int rci_os_remap(void *addr, size_t old_size, size_t new_size, size_t align, void **out) {
    *out = addr;
    if (os_should_fail())
        return ENOMEM;
    void *p = mremap(addr, old_size, new_size, 0);
    if (p != MAP_FAILED) {
        *out = p;
        return 0;
    }
    /* Not in place: reserve an aligned range, then move the pages there. */
    void *dst;
    if (rci_os_alloc_aligned(new_size, align, &dst) != 0)
        return ENOMEM;
    p = mremap(addr, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    if (p == MAP_FAILED) {
        munmap(dst, new_size);
        return ENOMEM;
    }
    *out = p;
    return 0;
}


size_t rci_os_rss(void) {
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* fields: size resident shared ... (pages) */
    char *s = buf;
    while (*s && *s != ' ')
        s++;
    size_t pages = 0;
    while (*s == ' ')
        s++;
    while (*s >= '0' && *s <= '9')
        pages = pages * 10 + (size_t)(*s++ - '0');
    return pages * rci_os_page_size();
}

uint64_t rci_os_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rci_os_random(void) {
    uint64_t x = 0;
#ifdef SYS_getrandom
    /* GRND_NONBLOCK (1): never wait for the entropy pool at early boot. */
    if (syscall(SYS_getrandom, &x, sizeof x, 1) == (long)sizeof x)
        return x;
#endif
    /* No getrandom: the clock, the stack address (ASLR) and the pid. */
    x = rci_os_clock_ns();
    x ^= (uint64_t)(uintptr_t)&x << 16;
    x ^= (uint64_t)getpid() << 40;
    return x;
}

uint64_t rci_os_thread_id(void) {
    return (uint64_t)syscall(SYS_gettid);
}

const char *rci_os_getenv(const char *name) {
    /* getenv does not allocate in glibc, but walk environ ourselves so the
     * contract holds on any libc. */
    size_t len = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}
