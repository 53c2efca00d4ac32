/* leaks.c - the conservative scan of the live blocks at exit (leaks.h).
 *
 * The blocks are copied out of the live table into an array sorted by
 * address, so that "which block contains this word's value" is a binary
 * search. Marking is iterative, with an explicit stack of block indices
 * (each block is pushed at most once, when it is first marked): no
 * recursion, whatever the shape of the program's data. */
#include "preload/leaks.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int rcpl_ranges_add(rcpl_ranges *rs, uintptr_t lo, uintptr_t hi) {
    if (hi <= lo)
        return 0;
    if (rs->count == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 256;
        rcpl_range *r = rcpl_os_take(cap * sizeof *r);
        if (!r)
            return ENOMEM;
        if (rs->r) {
            memcpy(r, rs->r, rs->count * sizeof *r);
            rcpl_os_give(rs->r, rs->cap * sizeof *r);
        }
        rs->r = r;
        rs->cap = cap;
    }
    rs->r[rs->count++] = (rcpl_range){lo, hi};
    return 0;
}

void rcpl_ranges_release(rcpl_ranges *rs) {
    rcpl_os_give(rs->r, rs->cap * sizeof *rs->r);
    memset(rs, 0, sizeof *rs);
}

static uintptr_t hex(const char **p, const char *end) {
    uintptr_t v = 0;
    for (; *p < end; (*p)++) {
        char c = **p;
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            break;
        v = v << 4 | d;
    }
    return v;
}

/* One line of /proc/self/maps. */
typedef struct mapping {
    uintptr_t lo, hi;
    bool r, w, x;
    bool named;                   /* a path or a [name] follows the inode */
} mapping;

/* Call fn(arg, m) for each line of /proc/self/maps; stops when fn returns
 * non-zero and returns that, or an errno value, or 0. */
static int maps_each(int (*fn)(void *, const mapping *), void *arg) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    char buf[4096];
    size_t have = 0;
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = errno;
            break;
        }
        have += (size_t)n;
        const char *p = buf, *end = buf + have;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break;
            const char *q = p;
            mapping m = {0};
            m.lo = hex(&q, nl);
            m.hi = q < nl && *q == '-' ? (q++, hex(&q, nl)) : 0;
            if (q + 4 < nl && q[0] == ' ') {
                m.r = q[1] == 'r';
                m.w = q[2] == 'w';
                m.x = q[3] == 'x';
            }
            /* perms, offset, dev, inode: four fields, then the name */
            for (int field = 0; field < 4 && q < nl; field++) {
                while (q < nl && *q == ' ')
                    q++;
                while (q < nl && *q != ' ')
                    q++;
            }
            while (q < nl && *q == ' ')
                q++;
            m.named = q < nl;
            p = nl + 1;
            if (m.hi > m.lo && (r = fn(arg, &m)) != 0)
                goto done;
        }
        have = (size_t)(end - p);
        memmove(buf, p, have);
        if (n == 0)
            break;
        if (have == sizeof buf) {
            /* a line longer than the buffer (a very long path): skip it */
            have = 0;
        }
    }
done:
    close(fd);
    return r;
}

static int add_readable(void *arg, const mapping *m) {
    rcpl_ranges *rs = arg;
    if (!m->r)
        return 0;
    if (rs->count && rs->r[rs->count - 1].hi == m->lo) {
        rs->r[rs->count - 1].hi = m->hi;   /* the file is sorted: merge neighbours */
        return 0;
    }
    return rcpl_ranges_add(rs, m->lo, m->hi);
}

int rcpl_maps_readable(rcpl_ranges *rs) {
    rs->count = 0;
    int r = maps_each(add_readable, rs);
    if (r != 0)
        rs->count = 0;
    return r;
}

typedef struct finding {
    uintptr_t addr;
    rcpl_range found;
    bool ok;
} finding;

static int find_one(void *arg, const mapping *m) {
    finding *f = arg;
    if (f->addr >= m->lo && f->addr < m->hi) {
        f->found = (rcpl_range){m->lo, m->hi};
        f->ok = true;
        return -1;
    }
    return 0;
}

bool rcpl_maps_find(uintptr_t addr, rcpl_range *out) {
    finding f = {addr, {0, 0}, false};
    maps_each(find_one, &f);
    if (f.ok)
        *out = f.found;
    return f.ok;
}

typedef struct stacks {
    rcpl_ranges *out;
    uintptr_t guard_end;          /* end of the last inaccessible mapping */
    int err;
} stacks;

static int add_stack(void *arg, const mapping *m) {
    stacks *st = arg;
    if (!m->r && !m->w && !m->x) {
        st->guard_end = m->hi;
        return 0;
    }
    if (m->r && m->w && !m->x && !m->named && m->lo == st->guard_end && m->lo != 0)
        st->err = rcpl_ranges_add(st->out, m->lo, m->hi);
    st->guard_end = 0;
    return st->err;
}

int rcpl_maps_thread_stacks(rcpl_ranges *rs) {
    stacks st = {rs, 0, 0};
    int r = maps_each(add_stack, &st);
    return r > 0 ? r : st.err;
}

/* ---- the scan ---- */

typedef struct blk {
    uintptr_t addr;
    uint64_t size;                /* bit 63: marked */
} blk;

#define MARK (UINT64_C(1) << 63)

static void sift(blk *b, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && b[child + 1].addr > b[child].addr)
            child++;
        if (b[root].addr >= b[child].addr)
            return;
        blk t = b[root];
        b[root] = b[child];
        b[child] = t;
        root = child;
    }
}

/* Heapsort by address: no allocation, no recursion, n log n always. */
static void sort_blocks(blk *b, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift(b, i, n);
    for (size_t end = n; end-- > 1;) {
        blk t = b[0];
        b[0] = b[end];
        b[end] = t;
        sift(b, 0, end);
    }
}

/* Whether [lo, hi) lies inside one readable range. */
static bool is_readable(const rcpl_ranges *rs, uintptr_t lo, uintptr_t hi) {
    size_t a = 0, z = rs->count;
    while (a < z) {
        size_t m = a + (z - a) / 2;
        if (rs->r[m].hi <= lo)
            a = m + 1;
        else
            z = m;
    }
    return a < rs->count && rs->r[a].lo <= lo && hi <= rs->r[a].hi;
}

typedef struct marker {
    blk *b;
    size_t n;
    size_t *stack;
    size_t depth;
    uintptr_t min, max;           /* every block lies in [min, max) */
} marker;

/* The block whose bytes contain v (or, for a block of 0 bytes, that starts
 * at v); SIZE_MAX if none. */
static size_t block_of(const marker *m, uintptr_t v) {
    size_t a = 0, z = m->n;   /* the first block starting after v */
    while (a < z) {
        size_t mid = a + (z - a) / 2;
        if (m->b[mid].addr <= v)
            a = mid + 1;
        else
            z = mid;
    }
    if (a == 0)
        return SIZE_MAX;
    const blk *x = &m->b[a - 1];
    uint64_t size = x->size & ~MARK;
    if (v - x->addr < size || v == x->addr)
        return a - 1;
    return SIZE_MAX;
}

static void scan_words(marker *m, uintptr_t lo, uintptr_t hi) {
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8) {
        uintptr_t v = *(const volatile uintptr_t *)a;
        if (v < m->min || v >= m->max)
            continue;
        size_t i = block_of(m, v);
        if (i == SIZE_MAX || (m->b[i].size & MARK))
            continue;
        m->b[i].size |= MARK;
        m->stack[m->depth++] = i;
    }
}

int rcpl_leaks_scan(const rcpl_live *l, const rcpl_range *roots, size_t nroots, const rcpl_ranges *readable,
                    rcpl_leak_fn fn, void *arg) {
    size_t n = rcpl_live_count(l);
    if (n == 0)
        return 0;
    blk *b = rcpl_os_take(n * sizeof *b);
    size_t *stack = b ? rcpl_os_take(n * sizeof *stack) : NULL;
    if (!stack) {
        rcpl_os_give(b, n * sizeof *b);
        return ENOMEM;
    }
    size_t pos = 0, k = 0;
    uintptr_t p;
    uint64_t size;
    while (k < n && rcpl_live_next(l, &pos, &p, &size))
        b[k++] = (blk){p, size & ~MARK};
    n = k;
    sort_blocks(b, n);
    marker m = {b, n, stack, 0, b[0].addr, 0};
    for (size_t i = 0; i < n; i++) {
        uintptr_t end = b[i].addr + (b[i].size ? b[i].size : 1);
        if (end > m.max)
            m.max = end;
    }

    for (size_t r = 0; r < nroots; r++) {
        /* a root range may cross mappings: scan the readable parts */
        for (size_t j = 0; j < readable->count; j++) {
            uintptr_t lo = roots[r].lo > readable->r[j].lo ? roots[r].lo : readable->r[j].lo;
            uintptr_t hi = roots[r].hi < readable->r[j].hi ? roots[r].hi : readable->r[j].hi;
            if (lo < hi)
                scan_words(&m, lo, hi);
        }
        while (m.depth) {
            const blk *x = &b[stack[--m.depth]];
            uint64_t sz = x->size & ~MARK;
            if (sz && is_readable(readable, x->addr, x->addr + sz))
                scan_words(&m, x->addr, x->addr + sz);
        }
    }

    for (size_t i = 0; i < n; i++)
        fn(arg, b[i].addr, b[i].size & ~MARK, (b[i].size & MARK) != 0);
    rcpl_os_give(stack, n * sizeof *stack);
    rcpl_os_give(b, n * sizeof *b);
    return 0;
}
