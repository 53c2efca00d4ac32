/* htable.h - an open-addressing hash table from uintptr_t keys to uintptr_t
 * values, on the raw allocator (never through allocator hooks, so tracers
 * and the object layer can use it while hooks run).
 *
 * Key 0 is reserved (empty slot). Linear probing; deletion by backward shift,
 * so there are no tombstones and lookups stay short after many deletions.
 * Load factor kept under 3/4 by doubling; never shrinks below its first size
 * until rci_htable_clear. */
#ifndef RC_HEAP_HTABLE_H
#define RC_HEAP_HTABLE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rci_htable {
    uintptr_t *keys;
    uintptr_t *values;
    size_t mask;      /* capacity - 1 (capacity is a power of two), 0 if empty */
    size_t count;
} rci_htable;

void rci_htable_init(rci_htable *t);
void rci_htable_free(rci_htable *t);
void rci_htable_clear(rci_htable *t);
/* 0, or ENOMEM (the table is unchanged). Replaces an existing value. */
int rci_htable_put(rci_htable *t, uintptr_t key, uintptr_t value);
/* The value slot of key, inserting key with value 0 when absent (*existed
 * tells which); NULL on ENOMEM (the table is unchanged). The slot is valid
 * until the next change to the table. One probe where get + put take two. */
uintptr_t *rci_htable_slot(rci_htable *t, uintptr_t key, bool *existed);
/* true and *value if present. */
bool rci_htable_get(const rci_htable *t, uintptr_t key, uintptr_t *value);
/* true if key was present (and is now removed); *value gets its value. */
bool rci_htable_remove(rci_htable *t, uintptr_t key, uintptr_t *value);
/* Make room for n entries in total without further allocation; 0 or ENOMEM. */
int rci_htable_reserve(rci_htable *t, size_t n);
/* Iterate: *pos starts at 0; returns false at the end. */
bool rci_htable_next(const rci_htable *t, size_t *pos, uintptr_t *key, uintptr_t *value);
/* Bytes used by the table's arrays. */
size_t rci_htable_bytes(const rci_htable *t);

#endif
