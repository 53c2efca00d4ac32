/* format.h - how every renderer of the report layer writes figures: sizes,
 * counts and times for people, strings and seconds for JSON, and the run's
 * header and totals that `recycle report` and `recycle stats` both open
 * with. Written once here so that the subcommands print the same figure
 * the same way.
 *
 * The text formatters write into a caller's buffer and return it, so that
 * several can appear in one printf. */
#ifndef RC_REPORT_FORMAT_H
#define RC_REPORT_FORMAT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/replay.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- text ---- */

/* n with a comma every three digits: "1,388". */
const char *rcr_fmt_count(char buf[32], uint64_t n);
/* Bytes rounded to one decimal of the largest binary unit below them:
 * "512 B", "1.4 KiB", "3.0 MiB". */
const char *rcr_fmt_bytes(char buf[32], uint64_t n);
/* The same with the exact bytes after it when it was rounded:
 * "1.4 KiB (1,388 B)". */
const char *rcr_fmt_bytes_exact(char buf[64], uint64_t n);
/* Seconds, or milliseconds under one second, with three decimals:
 * "2.500 s", "0.004 ms". */
const char *rcr_fmt_seconds(char buf[32], uint64_t ns);
/* word, or its plural when n != 1 ("block", "allocation", "site",
 * "thread", "interval"; any other word is returned as it is). */
const char *rcr_plural(uint64_t n, const char *word);
/* Whether the program ended by itself (exit or _exit): blocks live then
 * were leaked. Blocks live when it was killed or replaced itself were
 * not: it had no chance to free them. */
bool rcr_ended_by_itself(const rcr_replay *r);

/* How the run ended: "exited with status 0", "exited with status 0
 * (_exit)", "killed by signal 9 (Killed)", "replaced itself by another
 * program (exec)" or "unknown: the capture has no exit record"; with_time
 * adds " after 1.250 s" (or, when unknown, when the last record is). */
#define RCR_END_TEXT 192
const char *rcr_end_text(char buf[RCR_END_TEXT], const rcr_replay *r, bool with_time);

/* The run and its totals, as the text reports open:
 *
 *   program          ./leaky --rounds 3 (pid 4242)
 *   ended            exited with status 0 after 1.250 s
 *   [sampled ...]
 *
 *   allocations      1,200 (1,166 freed)
 *   ...
 *   [peak RSS ...]
 *   [collections ...]   (of librecycle's cycle collector, from GC records)
 */
void rcr_text_run_totals(FILE *out, const rcr_replay *r);

/* ---- JSON ---- */

/* s as a JSON string (null when s is NULL); bytes that are not valid UTF-8
 * become U+FFFD. */
void rcr_json_string(FILE *out, const char *s);
/* Length of the valid UTF-8 sequence at s (1 to 4; s NUL-terminated or
 * long enough) and its code point in *code, or 0 when the bytes there are
 * not valid UTF-8 (overlong, a surrogate, past U+10FFFF, cut short). */
size_t rcr_utf8_len(const unsigned char *s, uint32_t *code);
/* Seconds with nanosecond digits: 1.250000000. */
void rcr_json_seconds(FILE *out, uint64_t ns);
/* The run's keys, from "program" through "sample_bytes", each line
 * indented by two spaces and ended by ",\n" (the object's "{" is the
 * caller's). */
void rcr_json_run(FILE *out, const rcr_replay *r, bool complete);
/* "  \"totals\": {...}" on one line, without a comma or newline after it. */
void rcr_json_totals(FILE *out, const rcr_replay *r);

#endif /* RC_REPORT_FORMAT_H */
