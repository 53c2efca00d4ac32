/* env.h - the environment variables that configure a recording
 * (docs/preload.md lists them; `recycle run` sets them):
 *
 *   RECYCLE_OUTPUT       path of the capture; unset: nothing is recorded
 *   RECYCLE_FRAMES       traceback limit, 1 .. 128 (default 64)
 *   RECYCLE_SAMPLE       mean bytes between samples; 0 (default): every
 *                        allocation. A suffix K, M or G multiplies by 1024,
 *                        1024^2, 1024^3.
 *   RECYCLE_FOLLOW_FORK  1: forked children record too; 0 (default): not
 *   RECYCLE_PRELOAD_PID  set by the recorder itself for the processes it
 *                        starts (the pid of the traced process)
 *
 * Parsed without allocating. A value that does not parse is reported in
 * one line on stderr and its default used: a mistyped option never keeps
 * the program from running. */
#ifndef RC_PRELOAD_ENV_H
#define RC_PRELOAD_ENV_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RCPL_FRAMES_DEFAULT 64u
#define RCPL_FRAMES_MAX 128u
#define RCPL_PATH_MAX 4096u

typedef struct rcpl_config {
    char output[RCPL_PATH_MAX];   /* absolute; "" when RECYCLE_OUTPUT is unset */
    unsigned frames;
    uint64_t sample;
    bool follow_fork;
    uint64_t preload_pid;         /* 0 when unset */
} rcpl_config;

/* Read the RECYCLE_* variables into c. Problems are passed to warn, one
 * complete message each (no newline). Returns false when RECYCLE_OUTPUT is
 * unset or empty, or cannot be made absolute: nothing to record. */
bool rcpl_env_read(rcpl_config *c, void (*warn)(const char *msg));

/* A decimal count of bytes with an optional K, M or G suffix (powers of
 * 1024; "512K"); 0 or EINVAL / ERANGE. */
int rcpl_parse_bytes(const char *s, uint64_t *out);
/* A decimal number in [lo, hi]; 0 or EINVAL / ERANGE. */
int rcpl_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* The path of the n-th capture of a process: n 0 is `base` itself (the
 * traced process), n 1 `base.<pid>`, n >= 2 `base.<pid>.<n>`. Writes at
 * most len bytes with the NUL; false when it does not fit. */
bool rcpl_output_name(const char *base, uint64_t pid, unsigned n, char *out, size_t len);

#endif /* RC_PRELOAD_ENV_H */
