/* options.h - the door to the RECYCLE_* environment options.
 *
 * options.c is the one place that reads and parses the environment: each
 * option is a row of its descriptor table, and every layer asks for a value
 * here (rci_option_bool(RCI_OPT_DEBUG)), never through getenv. A value is
 * parsed on first use (at the latest when the library is loaded, by
 * rci_options_init) without allocating, and never changes afterwards:
 * changing the environment later has no effect. docs/options.md documents
 * every option, its values and its default.
 *
 * Boolean values (the same rules for every option, ASCII case ignored):
 *   unset                           off (the default)
 *   "", 0, no, off, false           off
 *   1, yes, on, true                on
 *   anything else                   on, with a one-line warning on stderr
 *                                   (a variable set to something other than
 *                                   an "off" word asks for the feature)
 */
#ifndef RC_HEAP_OPTIONS_H
#define RC_HEAP_OPTIONS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stdio.h>

typedef enum rci_option {
    RCI_OPT_DEBUG,        /* RECYCLE_DEBUG: the heap's and new runtimes' debug mode */
    RCI_OPT_SHOW_STATS,   /* RECYCLE_SHOW_STATS: heap statistics on stderr at exit */
    RCI_OPT_VERBOSE,      /* RECYCLE_VERBOSE: out-of-memory also reported */
    RCI_OPT_COUNT
} rci_option;

/* The value of a boolean option (false for an opt out of range). Parses the
 * variable on first use; thread-safe, allocation-free. */
bool rci_option_bool(rci_option opt);

/* The environment variable of opt ("RECYCLE_DEBUG"); NULL out of range. */
const char *rci_option_name(rci_option opt);

/* One line per option: name, value, what it does. */
void rci_options_print(FILE *out);

/* The rule above for one value: 1 on, 0 off; *known (when not NULL) says
 * whether text was one of the listed words (or NULL: unset). */
int rci_option_parse_bool(const char *text, bool *known);

/* rci_options_init (read every option and apply the heap's: debug mode,
 * statistics at exit, verbose out-of-memory; idempotent; runs when the
 * library is loaded) and rci_verbose (RCI_OPT_VERBOSE as a flag for the
 * allocator's out-of-memory path) are declared with the heap's shared
 * declarations, which the heap's files include already. */

#endif /* RC_HEAP_OPTIONS_H */
