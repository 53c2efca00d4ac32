/* options.c - the RECYCLE_* environment options: one descriptor table, read
 * without allocating (options.h has the contract, docs/options.md the
 * documentation of each option).
 *
 * Each option's parsed value is cached in values[] (0: not read yet, else
 * VALUE_OFF or VALUE_ON). Reading is a pure function of the environment, so
 * two threads that read the same option at once compute the same value; the
 * compare-and-swap only decides which of them warns about a value that is
 * not a boolean word, so the warning is written once. */
#include "heap/options.h"
#include "heap/base.h"
#include "heap/os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct option_desc {
    const char *name;
    const char *help;
} option_desc;

static const option_desc options[RCI_OPT_COUNT] = {
    [RCI_OPT_DEBUG] = { "RECYCLE_DEBUG",
                        "debug mode of the heap from the start, and of each new runtime "
                        "whose config leaves debug at -1" },
    [RCI_OPT_SHOW_STATS] = { "RECYCLE_SHOW_STATS", "print heap statistics to stderr at exit" },
    [RCI_OPT_VERBOSE] = { "RECYCLE_VERBOSE",
                          "also report out-of-memory through the heap's error handler" },
};

enum { VALUE_UNREAD = 0, VALUE_OFF = 1, VALUE_ON = 2 };

static _Atomic unsigned char values[RCI_OPT_COUNT];
static _Atomic int options_state; /* 0 not applied, 1 applying, 2 done */

_Atomic int rci_verbose;

/* a equals the lower-case word w, ignoring ASCII case (no locale tables) */
static bool word_is(const char *a, const char *w) {
    for (; *a && *w; a++, w++) {
        char c = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (c != *w)
            return false;
    }
    return *a == '\0' && *w == '\0';
}

int rci_option_parse_bool(const char *text, bool *known) {
    static const char *const off_words[] = { "", "0", "no", "off", "false" };
    static const char *const on_words[] = { "1", "yes", "on", "true" };
    bool listed = text == NULL;
    int on = 0;
    for (size_t i = 0; !listed && i < sizeof off_words / sizeof off_words[0]; i++)
        listed = word_is(text, off_words[i]);
    for (size_t i = 0; !listed && i < sizeof on_words / sizeof on_words[0]; i++)
        on = listed = word_is(text, on_words[i]);
    if (!listed)
        on = 1;
    if (known)
        *known = listed;
    return on;
}

/* Written with write(2) into a stack buffer: no stdio, no allocation. */
static void warn_not_boolean(const char *name, const char *text) {
    char line[256];
    int n = snprintf(line, sizeof line,
                     "recycle: %s=\"%.64s\" is not a boolean (1/yes/on/true or "
                     "0/no/off/false): taken as on\n",
                     name, text);
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
    }
}

const char *rci_option_name(rci_option opt) {
    return (unsigned)opt < RCI_OPT_COUNT ? options[opt].name : NULL;
}

bool rci_option_bool(rci_option opt) {
    if ((unsigned)opt >= RCI_OPT_COUNT)
        return false;
    unsigned char v = atomic_load_explicit(&values[opt], memory_order_acquire);
    if (v != VALUE_UNREAD)
        return v == VALUE_ON;
    const char *text = rci_os_getenv(options[opt].name);
    bool known;
    unsigned char parsed = rci_option_parse_bool(text, &known) ? VALUE_ON : VALUE_OFF;
    unsigned char expected = VALUE_UNREAD;
    if (atomic_compare_exchange_strong(&values[opt], &expected, parsed) && !known)
        warn_not_boolean(options[opt].name, text);
    return parsed == VALUE_ON;
}

void rci_options_print(FILE *out) {
    for (int i = 0; i < RCI_OPT_COUNT; i++)
        fprintf(out, "%-20s %-3s  %s\n", options[i].name,
                rci_option_bool((rci_option)i) ? "on" : "off", options[i].help);
}

static void show_stats_at_exit(void) {
    rc_heap_stats_print(stderr);
}

void rci_options_init(void) {
    if (atomic_load_explicit(&options_state, memory_order_acquire) == 2)
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&options_state, &expected, 1))
        return; /* applied, or being applied by this thread or another */
    if (rci_option_bool(RCI_OPT_DEBUG))
        rc_heap_set_debug(1);
    if (rci_option_bool(RCI_OPT_SHOW_STATS))
        atexit(show_stats_at_exit);
    if (rci_option_bool(RCI_OPT_VERBOSE))
        atomic_store(&rci_verbose, 1);
    atomic_store_explicit(&options_state, 2, memory_order_release);
}

__attribute__((constructor)) static void options_ctor(void) {
    rci_options_init();
}
