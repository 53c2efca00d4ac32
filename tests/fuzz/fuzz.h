/* fuzz.h - what the fuzz targets of tests/fuzz/ share: the libFuzzer entry
 * point's prototype, a reader that turns the input bytes into operations and
 * arguments, and the check macro.
 *
 * A target reads its input as a little program: an opcode byte, then the
 * operation's arguments. Reading past the end yields zeros, so every input
 * is a valid program and the fuzzer never wastes runs on rejected inputs.
 *
 * FZ_CHECK prints what failed (file, line, the condition and a formatted
 * detail) and aborts: under libFuzzer an abort is a crash with the input
 * saved as an artifact; under the replay main (replay.c) it fails the ctest
 * test. Nothing here allocates from the recycle heap. */
#ifndef RC_FUZZ_H
#define RC_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The entry point libFuzzer calls once per input (and replay.c once per
 * corpus file). Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_in {
    const uint8_t *p;
    size_t n;       /* bytes in the input */
    size_t i;       /* next byte to read */
} fz_in;

static inline void fz_init(fz_in *in, const uint8_t *data, size_t size) {
    in->p = data;
    in->n = size;
    in->i = 0;
}

static inline int fz_more(const fz_in *in) {
    return in->i < in->n;
}

static inline uint8_t fz_u8(fz_in *in) {
    return in->i < in->n ? in->p[in->i++] : 0;
}

static inline uint16_t fz_u16(fz_in *in) {
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_in *in) {
    uint32_t lo = fz_u16(in);
    return lo | (uint32_t)fz_u16(in) << 16;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
static inline void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: check failed: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* FZ_CHECK(condition, "format", args...): abort with a message unless the
 * condition holds. */
#define FZ_CHECK(cond, ...) \
    do { \
        if (!(cond)) \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

#endif /* RC_FUZZ_H */
