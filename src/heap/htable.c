/* htable.c - see htable.h. */
#include "heap/alloc.h"
#include "heap/htable.h"

#include <errno.h>
#include <string.h>

static size_t slot_of(uintptr_t key, size_t mask) {
    uint64_t x = (uint64_t)key;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return (size_t)x & mask;
}

void rci_htable_init(rci_htable *t) {
    memset(t, 0, sizeof *t);
}

void rci_htable_free(rci_htable *t) {
    if (t->keys)
        rci_raw_free(t->keys);
    if (t->values)
        rci_raw_free(t->values);
    rci_htable_init(t);
}

void rci_htable_clear(rci_htable *t) {
    rci_htable_free(t);
}

static int rehash(rci_htable *t, size_t cap) {
    uintptr_t *k = rci_raw_malloc(cap * sizeof *k, false);
    uintptr_t *v = k ? rci_raw_malloc(cap * sizeof *v, false) : NULL;
    if (!k || !v) {
        if (k)
            rci_raw_free(k);
        return ENOMEM;
    }
    memset(k, 0, cap * sizeof *k);
    size_t mask = cap - 1;
    for (size_t i = 0; t->mask && i <= t->mask; i++) {
        if (!t->keys[i])
            continue;
        size_t j = slot_of(t->keys[i], mask);
        while (k[j])
            j = (j + 1) & mask;
        k[j] = t->keys[i];
        v[j] = t->values[i];
    }
    if (t->keys) {
        rci_raw_free(t->keys);
        rci_raw_free(t->values);
    }
    t->keys = k;
    t->values = v;
    t->mask = mask;
    return 0;
}

int rci_htable_reserve(rci_htable *t, size_t n) {
    size_t cap = t->mask ? t->mask + 1 : 0;
    if (n * 4 < cap * 3)
        return 0;
    size_t want = 16;
    while (want * 3 <= n * 4) {
        if (want > SIZE_MAX / 4)
            return ENOMEM;
        want *= 2;
    }
    return rehash(t, want);
}

int rci_htable_put(rci_htable *t, uintptr_t key, uintptr_t value) {
    if (t->mask) {
        size_t i = slot_of(key, t->mask);
        while (t->keys[i]) {
            if (t->keys[i] == key) {
                t->values[i] = value;
                return 0;
            }
            i = (i + 1) & t->mask;
        }
    }
    int r = rci_htable_reserve(t, t->count + 1);
    if (r)
        return r;
    size_t i = slot_of(key, t->mask);
    while (t->keys[i])
        i = (i + 1) & t->mask;
    t->keys[i] = key;
    t->values[i] = value;
    t->count++;
    return 0;
}

uintptr_t *rci_htable_slot(rci_htable *t, uintptr_t key, bool *existed) {
    size_t i = 0;
    if (t->mask) {
        i = slot_of(key, t->mask);
        while (t->keys[i]) {
            if (t->keys[i] == key) {
                *existed = true;
                return &t->values[i];
            }
            i = (i + 1) & t->mask;
        }
    }
    /* absent: i is the first empty slot of key's run, unless a rehash moves it */
    size_t cap = t->mask ? t->mask + 1 : 0;
    if ((t->count + 1) * 4 >= cap * 3) {
        if (rci_htable_reserve(t, t->count + 1) != 0)
            return NULL;
        i = slot_of(key, t->mask);
        while (t->keys[i])
            i = (i + 1) & t->mask;
    }
    t->keys[i] = key;
    t->values[i] = 0;
    t->count++;
    *existed = false;
    return &t->values[i];
}

bool rci_htable_get(const rci_htable *t, uintptr_t key, uintptr_t *value) {
    if (!t->mask)
        return false;
    size_t i = slot_of(key, t->mask);
    while (t->keys[i]) {
        if (t->keys[i] == key) {
            if (value)
                *value = t->values[i];
            return true;
        }
        i = (i + 1) & t->mask;
    }
    return false;
}

bool rci_htable_remove(rci_htable *t, uintptr_t key, uintptr_t *value) {
    if (!t->mask)
        return false;
    size_t i = slot_of(key, t->mask);
    while (t->keys[i] && t->keys[i] != key)
        i = (i + 1) & t->mask;
    if (!t->keys[i])
        return false;
    if (value)
        *value = t->values[i];
    /* Backward-shift deletion: pull later entries of the probe run into the
     * hole when their home slot does not lie strictly between hole and them. */
    size_t hole = i;
    size_t j = (i + 1) & t->mask;
    while (t->keys[j]) {
        size_t home = slot_of(t->keys[j], t->mask);
        bool movable = (j > hole) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            t->keys[hole] = t->keys[j];
            t->values[hole] = t->values[j];
            hole = j;
        }
        j = (j + 1) & t->mask;
    }
    t->keys[hole] = 0;
    t->count--;
    return true;
}

bool rci_htable_next(const rci_htable *t, size_t *pos, uintptr_t *key, uintptr_t *value) {
    if (!t->mask)
        return false;
    for (size_t i = *pos; i <= t->mask; i++) {
        if (t->keys[i]) {
            if (key)
                *key = t->keys[i];
            if (value)
                *value = t->values[i];
            *pos = i + 1;
            return true;
        }
    }
    *pos = t->mask + 1;
    return false;
}

size_t rci_htable_bytes(const rci_htable *t) {
    return t->mask ? (t->mask + 1) * 2 * sizeof(uintptr_t) : 0;
}
