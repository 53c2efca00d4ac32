/* keys.h - a table from strings to indexes, for grouping by a key built
 * as text (sites by frame, the lines of a function, sites matched across
 * two captures).
 *
 * Open addressing with linear probing, FNV-1a hashes, load under 3/4. The
 * table owns a copy of each key; values are the caller's (indexes into an
 * array it keeps). An empty table is all zero. */
#ifndef RC_REPORT_KEYS_H
#define RC_REPORT_KEYS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rcr_keys {
    char **keys;
    uint32_t *values;
    size_t mask, count;
} rcr_keys;

/* *found = the value of key, inserting key with `value` when absent
 * (*existed tells which); false on out of memory (the table unchanged). */
bool rcr_keys_find_or_add(rcr_keys *t, const char *key, uint32_t value, uint32_t *found,
                          bool *existed);
/* Whether key is present, and its value. */
bool rcr_keys_find(const rcr_keys *t, const char *key, uint32_t *found);
/* Free the keys; the table is empty again. */
void rcr_keys_free(rcr_keys *t);

#endif /* RC_REPORT_KEYS_H */
