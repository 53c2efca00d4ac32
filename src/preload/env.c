/* env.c - the RECYCLE_* variables of a recording (env.h). */
#include "preload/env.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "heap/os/os.h"

int rcpl_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    if (!s || !*s)
        return EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return ERANGE;
        v = v * 10 + d;
    }
    if (v < lo || v > hi)
        return ERANGE;
    *out = v;
    return 0;
}

int rcpl_parse_bytes(const char *s, uint64_t *out) {
    if (!s || !*s)
        return EINVAL;
    char digits[32];
    size_t n = strlen(s);
    unsigned shift = 0;
    switch (s[n - 1]) {
    case 'k': case 'K': shift = 10; n--; break;
    case 'm': case 'M': shift = 20; n--; break;
    case 'g': case 'G': shift = 30; n--; break;
    default: break;
    }
    if (n == 0 || n >= sizeof digits)
        return n == 0 ? EINVAL : ERANGE;
    memcpy(digits, s, n);
    digits[n] = '\0';
    uint64_t v;
    int r = rcpl_parse_uint(digits, 0, UINT64_MAX, &v);
    if (r != 0)
        return r;
    if (shift && v > (UINT64_MAX >> shift))
        return ERANGE;
    *out = v << shift;
    return 0;
}

/* Append the decimal digits of v at p (room checked by the caller). */
static size_t put_dec(char *p, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

bool rcpl_output_name(const char *base, uint64_t pid, unsigned n, char *out, size_t len) {
    size_t b = strlen(base);
    /* base + ".<pid>" + ".<n>" + NUL */
    if (b + 1 + 20 + 1 + 10 + 1 > len)
        return false;
    memcpy(out, base, b);
    size_t at = b;
    if (n >= 1) {
        out[at++] = '.';
        at += put_dec(out + at, pid);
    }
    if (n >= 2) {
        out[at++] = '.';
        at += put_dec(out + at, n);
    }
    out[at] = '\0';
    return true;
}

static void warn_line(void (*warn)(const char *), const char *a, const char *b, const char *c) {
    if (!warn)
        return;
    char msg[256];
    size_t at = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; p && *p && at + 1 < sizeof msg; p++)
            msg[at++] = *p;
    }
    msg[at] = '\0';
    warn(msg);
}

bool rcpl_env_read(rcpl_config *c, void (*warn)(const char *msg)) {
    memset(c, 0, sizeof *c);
    c->frames = RCPL_FRAMES_DEFAULT;
    uint64_t v;
    const char *s = rci_os_getenv("RECYCLE_FRAMES");
    if (s && *s) {
        if (rcpl_parse_uint(s, 1, RCPL_FRAMES_MAX, &v) == 0)
            c->frames = (unsigned)v;
        else
            warn_line(warn, "RECYCLE_FRAMES=", s, ": not a number from 1 to 128; using 64");
    }
    s = rci_os_getenv("RECYCLE_SAMPLE");
    if (s && *s) {
        if (rcpl_parse_bytes(s, &v) == 0 && v < (UINT64_C(1) << 62))
            c->sample = v;
        else
            warn_line(warn, "RECYCLE_SAMPLE=", s, ": not a byte count (such as 524288 or 512K); recording every allocation");
    }
    s = rci_os_getenv("RECYCLE_FOLLOW_FORK");
    if (s && *s) {
        if (rcpl_parse_uint(s, 0, 1, &v) == 0)
            c->follow_fork = v == 1;
        else
            warn_line(warn, "RECYCLE_FOLLOW_FORK=", s, ": not 0 or 1; children are not recorded");
    }
    s = rci_os_getenv("RECYCLE_PRELOAD_PID");
    if (s && *s && rcpl_parse_uint(s, 1, UINT64_MAX, &v) == 0)
        c->preload_pid = v;

    s = rci_os_getenv("RECYCLE_OUTPUT");
    if (!s || !*s)
        return false;
    size_t len = strlen(s), at = 0;
    if (s[0] != '/') {
        /* relative to the directory the program started in: a child that
         * changed directory still writes next to its parent's capture */
        if (!getcwd(c->output, sizeof c->output)) {
            warn_line(warn, "RECYCLE_OUTPUT=", s, ": cannot find the working directory; not recording");
            c->output[0] = '\0';
            return false;
        }
        at = strlen(c->output);
        if (at > 0 && c->output[at - 1] != '/')
            c->output[at++] = '/';
    }
    if (at + len + 1 > sizeof c->output) {
        warn_line(warn, "RECYCLE_OUTPUT=", s, ": path too long; not recording");
        c->output[0] = '\0';
        return false;
    }
    memcpy(c->output + at, s, len + 1);
    return true;
}
