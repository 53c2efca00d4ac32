/* rc-test: whitebox */
/* test_options.c - the RECYCLE_* environment options (src/heap/options.h,
 * docs/options.md): every documented value of every variable, each in a
 * child process of its own (options are read once, when the library is
 * loaded), and the parsing rule itself in this process.
 *
 * A child started with --child=<VARIABLE> reports through its exit status:
 *   1  the heap's debug mode was on when main started
 *   2  a runtime made with the default config has its debug mode on
 *   4  rci_option_bool says the variable is on
 *   8  its effect is in force: RECYCLE_VERBOSE sets rci_verbose;
 *      RECYCLE_SHOW_STATS prints heap statistics at exit, which the child
 *      sends to a file the parent reads (the bit is then the parent's) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle.h>
#include "heap/base.h"
#include "heap/options.h"
#include "object/object.h"
#include "rct.h"

#define CHILD_ARG "--child="

/* Where a child's stderr goes (statistics at exit), named after the parent
 * so that parallel runs of the test do not share it. */
static void stats_path(char *buf, size_t len, long parent) {
    const char *dir = getenv("TMPDIR");
    snprintf(buf, len, "%s/rc_test_options_%ld.err", dir && *dir ? dir : "/tmp", parent);
}

static int child_main(const char *var) {
    int code = 0;
    if (rc_heap_get_debug() == 1)
        code |= 1;
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 100;
    if (rt->debug)
        code |= 2;
    rc_runtime_free(rt);
    rci_option opt = RCI_OPT_COUNT;
    for (int i = 0; i < RCI_OPT_COUNT; i++)
        if (strcmp(rci_option_name((rci_option)i), var) == 0)
            opt = (rci_option)i;
    if (opt == RCI_OPT_COUNT)
        return 101;
    if (rci_option_bool(opt))
        code |= 4;
    if (opt == RCI_OPT_VERBOSE && atomic_load(&rci_verbose))
        code |= 8;
    if (opt == RCI_OPT_SHOW_STATS) {
        char path[512];
        stats_path(path, sizeof path, (long)getppid());
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
            return 102;
        close(fd);
    }
    return code;
}

/* ---- the values and what they mean (docs/options.md) ------------------ */

static const char *const on_values[] = { "1", "yes", "on", "true", "YES", "On", "TRUE" };
static const char *const off_values[] = { "0", "no", "off", "false", "", "NO", "Off", "FALSE" };
/* not a boolean word: taken as on (with a warning on stderr) */
static const char *const other_values[] = { "2", "full", "nope", " 1", "0 ", "-1" };

#define NVALUES(a) (sizeof(a) / sizeof(a)[0])

/* The bits a child reports for var set to a value meaning on (or off). */
static int expected_bits(const char *var, bool on) {
    if (!on)
        return 0;
    if (strcmp(var, "RECYCLE_DEBUG") == 0)
        return 1 | 2 | 4;
    if (strcmp(var, "RECYCLE_VERBOSE") == 0)
        return 4 | 8;
    return 4 | 8;                     /* RECYCLE_SHOW_STATS: 8 from the file */
}

/* Run a child with var set to value (NULL: unset) and return its bits. */
static int run_child(const char *var, const char *value) {
    char arg[64];
    snprintf(arg, sizeof arg, CHILD_ARG "%s", var);
    char path[512];
    stats_path(path, sizeof path, (long)getpid());
    unlink(path);
    int code = value ? rct_run_self(arg, var, value, NULL) : rct_run_self(arg, NULL, NULL, var);
    if (code < 0 || code >= 100)
        return code;
    if (strcmp(var, "RECYCLE_SHOW_STATS") == 0) {
        FILE *f = fopen(path, "r");
        if (f) {
            char line[256];
            if (fgets(line, sizeof line, f) && line[0] != '\0')
                code |= 8;
            fclose(f);
        }
        unlink(path);
    }
    return code;
}

static void check_variable(const char *var) {
    for (size_t i = 0; i < NVALUES(on_values); i++) {
        int got = run_child(var, on_values[i]);
        if (got != expected_bits(var, true))
            fail_msg("%s=\"%s\": child reported %d, expected %d", var, on_values[i], got,
                     expected_bits(var, true));
    }
    for (size_t i = 0; i < NVALUES(off_values); i++) {
        int got = run_child(var, off_values[i]);
        if (got != expected_bits(var, false))
            fail_msg("%s=\"%s\": child reported %d, expected %d", var, off_values[i], got,
                     expected_bits(var, false));
    }
    for (size_t i = 0; i < NVALUES(other_values); i++) {
        int got = run_child(var, other_values[i]);
        if (got != expected_bits(var, true))
            fail_msg("%s=\"%s\": child reported %d, expected %d", var, other_values[i], got,
                     expected_bits(var, true));
    }
    int got = run_child(var, NULL);
    if (got != expected_bits(var, false))
        fail_msg("%s unset: child reported %d, expected %d", var, got, expected_bits(var, false));
}

/* RECYCLE_DEBUG sets the heap's debug mode and a new runtime's alike, for
 * every value (RECYCLE_DEBUG=off once turned only the runtime's on). */
static void test_debug(void **state) {
    (void)state;
    check_variable("RECYCLE_DEBUG");
}

static void test_verbose(void **state) {
    (void)state;
    check_variable("RECYCLE_VERBOSE");
}

static void test_show_stats(void **state) {
    (void)state;
    check_variable("RECYCLE_SHOW_STATS");
}

/* The default config takes RECYCLE_DEBUG as this process read it; an
 * explicit 0 or 1 wins over the environment. */
static void test_config_overrides_environment(void **state) {
    (void)state;
    rc_config c;
    rc_config_init(&c);
    assert_int_equal(c.debug, -1);
    rc_runtime *rt = rc_runtime_new(&c);
    assert_int_equal(rt->debug, rci_option_bool(RCI_OPT_DEBUG));
    rc_runtime_free(rt);
    for (int d = 0; d <= 1; d++) {
        c.debug = d;
        rt = rc_runtime_new(&c);
        assert_int_equal(rt->debug, d);
        rc_runtime_free(rt);
    }
}

/* The rule in one function: words, case, what is "known". */
static void test_parse_rule(void **state) {
    (void)state;
    bool known = false;
    for (size_t i = 0; i < NVALUES(on_values); i++) {
        assert_int_equal(rci_option_parse_bool(on_values[i], &known), 1);
        assert_true(known);
    }
    for (size_t i = 0; i < NVALUES(off_values); i++) {
        assert_int_equal(rci_option_parse_bool(off_values[i], &known), 0);
        assert_true(known);
    }
    for (size_t i = 0; i < NVALUES(other_values); i++) {
        assert_int_equal(rci_option_parse_bool(other_values[i], &known), 1);
        assert_false(known);          /* the warning is written for these */
    }
    assert_int_equal(rci_option_parse_bool(NULL, &known), 0);   /* unset */
    assert_true(known);
    assert_int_equal(rci_option_parse_bool("yess", NULL), 1);
    assert_int_equal(rci_option_parse_bool("of", &known), 1);
    assert_false(known);
}

/* The table names every option once, and print lists them all. */
static void test_table(void **state) {
    (void)state;
    assert_string_equal(rci_option_name(RCI_OPT_DEBUG), "RECYCLE_DEBUG");
    assert_string_equal(rci_option_name(RCI_OPT_SHOW_STATS), "RECYCLE_SHOW_STATS");
    assert_string_equal(rci_option_name(RCI_OPT_VERBOSE), "RECYCLE_VERBOSE");
    assert_null(rci_option_name(RCI_OPT_COUNT));
    assert_false(rci_option_bool(RCI_OPT_COUNT));
    char buf[1024] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    rci_options_print(f);
    fclose(f);
    for (int i = 0; i < RCI_OPT_COUNT; i++)
        assert_non_null(strstr(buf, rci_option_name((rci_option)i)));
}

int main(int argc, char **argv) {
    if (argc > 1 && strncmp(argv[1], CHILD_ARG, strlen(CHILD_ARG)) == 0)
        return child_main(argv[1] + strlen(CHILD_ARG));
    /* the children start from an environment without any option set */
    for (int i = 0; i < RCI_OPT_COUNT; i++)
        unsetenv(rci_option_name((rci_option)i));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rule),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_config_overrides_environment),
        cmocka_unit_test(test_debug),
        cmocka_unit_test(test_verbose),
        cmocka_unit_test(test_show_stats),
    };
    return rct_run_tests(tests, NULL, NULL);
}
