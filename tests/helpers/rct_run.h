/* rct_run.h - the one runner of every unit test's main():
 *
 *     return rct_run_tests(tests, group_setup, group_teardown);
 *
 * tests is the CMUnitTest array (an array, not a pointer: its length is
 * taken with sizeof); the two fixtures are as for cmocka_run_group_tests
 * (NULL for none). Before running, the runner applies RC_TEST_FILTER: a
 * cmocka test-name pattern where '*' matches any run of characters and '?'
 * one character (cmocka_set_test_filter, cmocka 1.1 and later). Only the
 * tests whose names match run; unset or empty runs them all. The group is
 * named after the source file (test_dict.c -> "test_dict"): cmocka's TAP,
 * XML and subunit output (CMOCKA_MESSAGE_OUTPUT) carry that name.
 *
 *     RC_TEST_FILTER='test_sort*' ./build/tests/test_list
 *     RC_TEST_FILTER='*out_of_memory*' ctest --test-dir build -L oom
 *
 * tests/CMakeLists.txt compiles every test with -include of this header, so
 * main() can use the runner whatever the file includes; rct.h includes it
 * as well. It includes nothing itself: the macro expands to cmocka calls,
 * resolved where it is used, after <cmocka.h>. */
#ifndef RCT_RUN_H
#define RCT_RUN_H

#ifdef __cplusplus
extern "C" {
#endif

/* RC_TEST_FILTER, or NULL when it is unset or empty. */
const char *rct_test_filter(void);

/* The base name of a source path without its extension ("tests/unit/
 * test_dict.c" -> "test_dict"), in a static buffer (truncated to 63 bytes)
 * overwritten by the next call. */
const char *rct_group_name(const char *path);

#define rct_run_tests(tests, group_setup, group_teardown)                       \
    (cmocka_set_test_filter(rct_test_filter()),                                 \
     cmocka_run_group_tests_name(rct_group_name(__FILE__), tests, group_setup,  \
                                 group_teardown))

#ifdef __cplusplus
}
#endif
#endif /* RCT_RUN_H */
