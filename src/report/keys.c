/* keys.c - strings to indexes (keys.h). */
#include "report/keys.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_key(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;        /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h ^ (h >> 31);
}

static bool grow(rcr_keys *t) {
    size_t cap = t->keys ? 2 * (t->mask + 1) : 256;
    char **keys = calloc(cap, sizeof *keys);
    uint32_t *values = calloc(cap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return false;
    }
    if (t->keys) {
        for (size_t i = 0; i <= t->mask; i++) {
            if (!t->keys[i])
                continue;
            size_t j = hash_key(t->keys[i]) & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = t->keys[i];
            values[j] = t->values[i];
        }
        free(t->keys);
        free(t->values);
    }
    t->keys = keys;
    t->values = values;
    t->mask = cap - 1;
    return true;
}

bool rcr_keys_find_or_add(rcr_keys *t, const char *key, uint32_t value, uint32_t *found,
                          bool *existed) {
    if ((t->count + 1) * 4 > (t->keys ? t->mask + 1 : 0) * 3 && !grow(t))
        return false;
    size_t i = hash_key(key) & t->mask;
    for (; t->keys[i]; i = (i + 1) & t->mask) {
        if (strcmp(t->keys[i], key) == 0) {
            *found = t->values[i];
            *existed = true;
            return true;
        }
    }
    size_t n = strlen(key) + 1;
    char *copy = malloc(n);
    if (!copy)
        return false;
    memcpy(copy, key, n);
    t->keys[i] = copy;
    t->values[i] = value;
    t->count++;
    *found = value;
    *existed = false;
    return true;
}

bool rcr_keys_find(const rcr_keys *t, const char *key, uint32_t *found) {
    if (!t->keys)
        return false;
    for (size_t i = hash_key(key) & t->mask; t->keys[i]; i = (i + 1) & t->mask) {
        if (strcmp(t->keys[i], key) == 0) {
            *found = t->values[i];
            return true;
        }
    }
    return false;
}

void rcr_keys_free(rcr_keys *t) {
    if (t->keys)
        for (size_t i = 0; i <= t->mask; i++)
            free(t->keys[i]);
    free(t->keys);
    free(t->values);
    memset(t, 0, sizeof *t);
}
