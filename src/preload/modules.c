/* modules.c - the loaded objects (modules.h).
 *
 * dl_iterate_phdr holds the loader's lock while it calls back, so the
 * callback only copies what it is given into OS memory; records are made
 * from the copy after the iteration has ended (a library closed meanwhile
 * by another thread leaves no dangling name). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "preload/modules.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

static uint64_t str_hash(const char *s) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h;
}

/* Grow a zeroed OS array *p of *cap elements of size `elem` to hold need;
 * false on ENOMEM (unchanged). */
static bool reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return true;
    size_t fresh = *cap ? *cap : 64;
    while (fresh < need)
        fresh *= 2;
    void *q = rcpl_os_take(fresh * elem);
    if (!q)
        return false;
    if (*p) {
        memcpy(q, *p, *cap * elem);
        rcpl_os_give(*p, *cap * elem);
    }
    *p = q;
    *cap = fresh;
    return true;
}

/* The program's path: read once (the loader names it ""). */
static char exe_path[4096];
static _Atomic int exe_state;   /* 0: not read, 1: reading, 2: read */

static const char *program_path(void) {
    int st = atomic_load_explicit(&exe_state, memory_order_acquire);
    if (st == 2)
        return exe_path;
    int expect = 0;
    if (atomic_compare_exchange_strong(&exe_state, &expect, 1)) {
        ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
        exe_path[n > 0 ? n : 0] = '\0';
        atomic_store_explicit(&exe_state, 2, memory_order_release);
        return exe_path;
    }
    while (atomic_load_explicit(&exe_state, memory_order_acquire) != 2)
        RCPL_PAUSE();
    return exe_path;
}

/* The GNU build id in the PT_NOTE segments of an object, if any. */
static void find_build_id(const struct dl_phdr_info *info, rcpl_object *o) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || ph->p_filesz < sizeof(ElfW(Nhdr)))
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_filesz;
        size_t align = ph->p_align == 8 ? 8 : 4;
        while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) nh;
            memcpy(&nh, p, sizeof nh);
            size_t name_len = (nh.n_namesz + align - 1) & ~(align - 1);
            size_t desc_len = (nh.n_descsz + align - 1) & ~(align - 1);
            const uint8_t *name = p + sizeof nh;
            if (name_len > (size_t)(end - name) || desc_len > (size_t)(end - name - name_len))
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                uint32_t n = nh.n_descsz < RCPL_BUILD_ID_MAX ? nh.n_descsz : RCPL_BUILD_ID_MAX;
                memcpy(o->build_id, name + name_len, n);
                o->build_id_len = n;
                return;
            }
            p = name + name_len + desc_len;
        }
    }
}

typedef struct scan {
    rcpl_objects *out;
    int err;
} scan;

static int scan_one(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    scan *s = arg;
    rcpl_objects *o = s->out;
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : NULL;
    if (!name && o->count > 0 && info->dlpi_phnum > 0) {
        /* Unnamed objects after the first: the vDSO on some systems (others
         * name it linux-vdso.so.1). */
        name = "[vdso]";
    }
    if (!name)
        name = program_path();
    size_t len = strlen(name);
    if (!reserve((void **)&o->obj, &o->cap, o->count + 1, sizeof *o->obj) ||
        !reserve((void **)&o->names, &o->names_cap, o->names_len + len + 1, 1)) {
        s->err = ENOMEM;
        return 1;
    }
    rcpl_object *x = &o->obj[o->count];
    memset(x, 0, sizeof *x);
    x->base = info->dlpi_addr;
    x->phdr = (uintptr_t)info->dlpi_phdr;
    x->name_hash = str_hash(name);
    memcpy(o->names + o->names_len, name, len + 1);
    x->path = (const char *)(uintptr_t)o->names_len;   /* an offset until the scan ends */
    o->names_len += len + 1;
    size_t page = rci_os_page_size();
    for (int i = 0; i < info->dlpi_phnum && x->nseg < RCPL_MAX_SEGMENTS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        rcpl_segment *g = &x->seg[x->nseg++];
        g->vstart = info->dlpi_addr + ph->p_vaddr;
        g->vend = g->vstart + ph->p_memsz;
        g->start = g->vstart & ~(page - 1);
        g->end = (g->vend + page - 1) & ~(page - 1);
        g->offset = ph->p_offset & ~(uintptr_t)(page - 1);
        g->flags = (ph->p_flags & PF_X ? RCPL_SEG_X : 0) | (ph->p_flags & PF_W ? RCPL_SEG_W : 0) |
                   (ph->p_flags & PF_R ? RCPL_SEG_R : 0);
    }
    find_build_id(info, x);
    o->count++;
    return 0;
}

int rcpl_objects_scan(rcpl_objects *out) {
    out->count = 0;
    out->names_len = 0;
    scan s = {out, 0};
    dl_iterate_phdr(scan_one, &s);
    /* the names arena may have moved while growing: offsets become pointers
     * only now */
    for (size_t i = 0; i < out->count; i++)
        out->obj[i].path = out->names + (uintptr_t)out->obj[i].path;
    return s.err;
}

void rcpl_objects_release(rcpl_objects *o) {
    rcpl_os_give(o->obj, o->cap * sizeof *o->obj);
    rcpl_os_give(o->names, o->names_cap);
    memset(o, 0, sizeof *o);
}

bool rcpl_objects_has(const rcpl_objects *o, const rcpl_object *x) {
    for (size_t i = 0; i < o->count; i++) {
        const rcpl_object *y = &o->obj[i];
        if (y->base == x->base && y->phdr == x->phdr && y->name_hash == x->name_hash)
            return true;
    }
    return false;
}

typedef struct counts {
    uint64_t adds, subs;
} counts;

static int read_counts(struct dl_phdr_info *info, size_t size, void *arg) {
    counts *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
    }
    return 1;   /* the first object says it all */
}

void rcpl_objects_counts(uint64_t *adds, uint64_t *subs) {
    counts c = {0, 0};
    dl_iterate_phdr(read_counts, &c);
    *adds = c.adds;
    *subs = c.subs;
}

size_t rcpl_modset_update(rcpl_modset *m, bool force, bool wait, rcpl_object_fn fn, void *arg) {
    if (wait)
        rcpl_lock_take(&m->lock);
    else if (!rcpl_lock_try(&m->lock))
        return SIZE_MAX;
    uint64_t adds, subs;
    rcpl_objects_counts(&adds, &subs);
    size_t reported = 0;
    if (m->scanned && !force && adds == m->adds && subs == m->subs)
        goto out;
    if (rcpl_objects_scan(&m->scratch) != 0)
        goto out;   /* a later call scans again: the counts are not updated */
    for (size_t i = 0; i < m->scratch.count; i++) {
        if (!rcpl_objects_has(&m->known, &m->scratch.obj[i])) {
            fn(arg, &m->scratch.obj[i]);
            reported++;
        }
    }
    rcpl_objects tmp = m->known;
    m->known = m->scratch;
    m->scratch = tmp;
    m->adds = adds;
    m->subs = subs;
    m->scanned = true;
out:
    rcpl_lock_give(&m->lock);
    return reported;
}

void rcpl_modset_release(rcpl_modset *m) {
    rcpl_objects_release(&m->known);
    rcpl_objects_release(&m->scratch);
    memset(m, 0, sizeof *m);
}
