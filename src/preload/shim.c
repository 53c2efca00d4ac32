/* shim.c - the functions librecycle-preload.so puts in front of libc's:
 * interposition only. Each function either passes straight to the real
 * one (found with dlsym(RTLD_NEXT)) or, when the recorder wants the call,
 * notes its own frame for the stack walk, sets the thread's re-entrancy
 * flag, makes the real call and tells the recorder (tracker.c).
 *
 * Bootstrap: dlsym itself may call malloc or calloc before the real
 * functions are known. Those calls are served from a static arena; its
 * blocks are recognised by address in free, realloc and malloc_usable_size
 * and never given to the real allocator. A block of the arena carries its
 * size in the 8 bytes before it.
 *
 * Interposed here: the malloc family (malloc, calloc, realloc,
 * reallocarray, free, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc, malloc_usable_size; C++ new and delete reach malloc and free),
 * the exec family and _exit/_Exit (the capture ends before the process
 * image does), sigaction and signal (the recorder's handlers for fatal
 * signals stay in front of the program's), dlopen/dlmopen/dlclose (library
 * records), close/closefrom/close_range (the capture's fd is not the
 * program's to close), pthread_create (the writer thread starts with the
 * program's first thread) and pthread_setname_np (thread names). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "preload/tracker.h"
#include "recycle/annotate.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

rcpl_real rcpl_fn;

/* The real functions only the shim calls. */
static struct {
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    void (*exit_now)(int);
    void (*exit_now2)(int);
    sighandler_t (*signal)(int, sighandler_t);
    void *(*dlopen)(const char *, int);
    void *(*dlmopen)(Lmid_t, const char *, int);
    int (*dlclose)(void *);
    int (*close)(int);
    int (*close_range)(unsigned, unsigned, int);
    void (*closefrom)(int);
    int (*setname)(pthread_t, const char *);
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
} real;

/* ---- the bootstrap arena ---- */

#define BOOT_BYTES (256u * 1024u)
#define BOOT_HEAD 16u

static _Alignas(64) unsigned char boot[BOOT_BYTES];
static _Atomic size_t boot_used;

static inline bool is_boot(const void *p) {
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + BOOT_BYTES;
}

static size_t boot_size(const void *p) {
    size_t n;
    memcpy(&n, (const unsigned char *)p - 8, sizeof n);
    return n;
}

/* size bytes aligned to align (a power of two); NULL when the arena is
 * spent (only dlsym's few small blocks are expected here). */
static void *boot_alloc(size_t size, size_t align) {
    if (align < BOOT_HEAD)
        align = BOOT_HEAD;
    if (size > BOOT_BYTES || align > BOOT_BYTES / 4 || (align & (align - 1))) {
        errno = ENOMEM;
        return NULL;
    }
    size_t used = atomic_load(&boot_used), start, end;
    do {
        start = (used + BOOT_HEAD + align - 1) & ~(align - 1);
        end = start + ((size + 15) & ~(size_t)15);
        if (end > BOOT_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!atomic_compare_exchange_weak(&boot_used, &used, end));
    memcpy(boot + start - 8, &size, sizeof size);
    return boot + start;   /* static storage: zeroed, as calloc needs */
}

/* ---- finding the real functions ---- */

static _Atomic int resolved;   /* 0: not yet, 1: under way, 2: done */

#define FIND(field, name) (*(void **)&(field) = dlsym(RTLD_NEXT, name))

static void resolve(void) {
    int expect = 0;
    if (!atomic_compare_exchange_strong(&resolved, &expect, 1))
        return;   /* done, or under way here (dlsym's own malloc) or elsewhere */
    rcpl_busy++;
    rcpl_real r;
    memset(&r, 0, sizeof r);
    FIND(r.malloc, "malloc");
    FIND(r.calloc, "calloc");
    FIND(r.realloc, "realloc");
    FIND(r.reallocarray, "reallocarray");
    FIND(r.free, "free");
    FIND(r.posix_memalign, "posix_memalign");
    FIND(r.aligned_alloc, "aligned_alloc");
    FIND(r.memalign, "memalign");
    FIND(r.valloc, "valloc");
    FIND(r.pvalloc, "pvalloc");
    FIND(r.malloc_usable_size, "malloc_usable_size");
    FIND(r.sigaction, "sigaction");
    FIND(real.execve, "execve");
    FIND(real.execv, "execv");
    FIND(real.execvp, "execvp");
    FIND(real.execvpe, "execvpe");
    FIND(real.fexecve, "fexecve");
    FIND(real.execveat, "execveat");
    FIND(real.exit_now, "_exit");
    FIND(real.exit_now2, "_Exit");
    FIND(real.signal, "signal");
    FIND(real.dlopen, "dlopen");
    FIND(real.dlmopen, "dlmopen");
    FIND(real.dlclose, "dlclose");
    FIND(real.close, "close");
    FIND(real.close_range, "close_range");
    FIND(real.closefrom, "closefrom");
    FIND(real.setname, "pthread_setname_np");
    FIND(real.create, "pthread_create");
    /* malloc last: the hooks take a non-NULL rcpl_fn.malloc to mean that
     * everything else is there too */
    void *(*m)(size_t) = r.malloc;
    r.malloc = NULL;
    rcpl_fn = r;
    atomic_signal_fence(memory_order_seq_cst);
    __atomic_store_n(&rcpl_fn.malloc, m, __ATOMIC_RELEASE);
    atomic_store(&resolved, 2);
    rcpl_busy--;
}

/* True once the real allocator is known (resolving it if needed). */
static inline bool ready(void) {
    if (RCPL_LIKELY(__atomic_load_n(&rcpl_fn.malloc, __ATOMIC_ACQUIRE) != NULL))
        return true;
    resolve();
    return __atomic_load_n(&rcpl_fn.malloc, __ATOMIC_ACQUIRE) != NULL;
}

static void ensure(void) {
    if (atomic_load(&resolved) != 2)
        resolve();
}

__attribute__((constructor)) static void shim_start(void) {
    resolve();
    rcpl_start_late();
}

/* ---- the malloc family ---- */

/* The recorded path of an allocating function: the real call `expr`
 * yields the block, which the recorder gets with `size` and `fn`. The
 * walk starts at this function's own frame (st), so the recorder's frames
 * are never walked and frame 1 is the program's call. */
#define RECORDED(type, var, expr, size, fn)                  \
    rctr_start st;                                           \
    RCTR_START_HERE(st);                                     \
    rcpl_busy++;                                             \
    type var = (expr);                                       \
    if (var)                                                 \
        rcpl_on_alloc((void *)var, (size), (fn), &st);       \
    rcpl_busy--

RCPL_EXPORT void *malloc(size_t size) {
    if (RCPL_LIKELY(rcpl_skip(size)))
        return rcpl_fn.malloc(size);   /* rcpl_left > 0: the real functions are known */
    if (RCPL_UNLIKELY(!ready()))
        return boot_alloc(size, 16);
    if (!rcpl_wanted())
        return rcpl_fn.malloc(size);
    RECORDED(void *, p, rcpl_fn.malloc(size), size, RCCAP_FN_MALLOC);
    return p;
}

RCPL_EXPORT void *calloc(size_t n, size_t size) {
    size_t product;
    if (RCPL_LIKELY(!__builtin_mul_overflow(n, size, &product) && rcpl_skip(product)))
        return rcpl_fn.calloc(n, size);
    if (RCPL_UNLIKELY(!ready())) {
        size_t bytes;
        if (__builtin_mul_overflow(n, size, &bytes)) {
            errno = ENOMEM;
            return NULL;
        }
        return boot_alloc(bytes, 16);
    }
    if (!rcpl_wanted())
        return rcpl_fn.calloc(n, size);
    /* a non-NULL result means the product did not overflow */
    RECORDED(void *, p, rcpl_fn.calloc(n, size), n * size, RCCAP_FN_CALLOC);
    return p;
}

RCPL_EXPORT void free(void *p) {
    if (RCPL_UNLIKELY(is_boot(p)))
        return;   /* the arena's blocks are never reused */
    if (RCPL_LIKELY(rcpl_untracked(p))) {
        rcpl_fn.free(p);   /* a filter exists: recording started, the real free is known */
        return;
    }
    if (RCPL_UNLIKELY(!ready()))
        return;   /* nothing came from the real allocator yet */
    if (p && rcpl_wanted()) {
        rcpl_busy++;
        rcpl_on_free(p);
        rcpl_fn.free(p);
        rcpl_busy--;
        return;
    }
    rcpl_fn.free(p);
}

/* realloc of an arena block: a fresh block through the interposed malloc,
 * the contents copied; the arena block stays where it is. */
static void *boot_realloc(void *p, size_t size) {
    if (size == 0)
        return NULL;
    void *q = malloc(size);
    if (q && p) {
        size_t old = boot_size(p);
        memcpy(q, p, old < size ? old : size);
    }
    return q;
}

RCPL_EXPORT void *realloc(void *p, size_t size) {
    if (RCPL_LIKELY((!p || rcpl_untracked(p)) && !is_boot(p) && rcpl_skip(size)))
        return rcpl_fn.realloc(p, size);
    if (RCPL_UNLIKELY(is_boot(p) || !ready()))
        return boot_realloc(p, size);
    if (!rcpl_wanted())
        return rcpl_fn.realloc(p, size);
    rctr_start st;
    RCTR_START_HERE(st);
    rcpl_busy++;
    void *q = rcpl_realloc(p, 0, size, RCCAP_FN_REALLOC, &st);
    rcpl_busy--;
    return q;
}

RCPL_EXPORT void *reallocarray(void *p, size_t n, size_t size) {
    size_t bytes;
    if (RCPL_UNLIKELY(is_boot(p) || !ready())) {
        if (__builtin_mul_overflow(n, size, &bytes)) {
            errno = ENOMEM;
            return NULL;
        }
        return boot_realloc(p, bytes);
    }
    if (!rcpl_wanted()) {
        if (rcpl_fn.reallocarray)
            return rcpl_fn.reallocarray(p, n, size);
        if (__builtin_mul_overflow(n, size, &bytes)) {
            errno = ENOMEM;
            return NULL;
        }
        return rcpl_fn.realloc(p, bytes);
    }
    rctr_start st;
    RCTR_START_HERE(st);
    rcpl_busy++;
    /* n == 0 asks for 0 bytes: the product, as a plain realloc */
    void *q = n ? rcpl_realloc(p, n, size, RCCAP_FN_REALLOCARRAY, &st)
                : rcpl_realloc(p, 0, 0, RCCAP_FN_REALLOCARRAY, &st);
    rcpl_busy--;
    return q;
}

/* The aligned functions of an allocator that lacks some of them: all of
 * them can be had from posix_memalign. */
static void *via_posix_memalign(size_t align, size_t size) {
    void *p = NULL;
    int r = rcpl_fn.posix_memalign ? rcpl_fn.posix_memalign(&p, align, size) : ENOMEM;
    if (r != 0) {
        errno = r;
        return NULL;
    }
    return p;
}

static void *real_memalign(size_t align, size_t size) {
    return rcpl_fn.memalign ? rcpl_fn.memalign(align, size) : via_posix_memalign(align, size);
}

static void *real_aligned_alloc(size_t align, size_t size) {
    return rcpl_fn.aligned_alloc ? rcpl_fn.aligned_alloc(align, size) : via_posix_memalign(align, size);
}

static void *real_valloc(size_t size) {
    return rcpl_fn.valloc ? rcpl_fn.valloc(size) : via_posix_memalign(rci_os_page_size(), size);
}

static size_t page_rounded(size_t size) {
    size_t page = rci_os_page_size();
    if (size == 0)
        return page;
    return size > SIZE_MAX - page ? size : (size + page - 1) & ~(page - 1);
}

static void *real_pvalloc(size_t size) {
    return rcpl_fn.pvalloc ? rcpl_fn.pvalloc(size) : via_posix_memalign(rci_os_page_size(), page_rounded(size));
}

RCPL_EXPORT int posix_memalign(void **out, size_t align, size_t size) {
    if (RCPL_UNLIKELY(!ready())) {
        if (align < sizeof(void *) || (align & (align - 1)))
            return EINVAL;
        void *p = boot_alloc(size, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    if (!rcpl_fn.posix_memalign)
        return ENOMEM;
    if (!rcpl_wanted())
        return rcpl_fn.posix_memalign(out, align, size);
    rctr_start st;
    RCTR_START_HERE(st);
    rcpl_busy++;
    int r = rcpl_fn.posix_memalign(out, align, size);
    if (r == 0 && *out)
        rcpl_on_alloc(*out, size, RCCAP_FN_POSIX_MEMALIGN, &st);
    rcpl_busy--;
    return r;
}

RCPL_EXPORT void *aligned_alloc(size_t align, size_t size) {
    if (RCPL_UNLIKELY(!ready()))
        return boot_alloc(size, align);
    if (!rcpl_wanted())
        return real_aligned_alloc(align, size);
    RECORDED(void *, p, real_aligned_alloc(align, size), size, RCCAP_FN_ALIGNED_ALLOC);
    return p;
}

RCPL_EXPORT void *memalign(size_t align, size_t size) {
    if (RCPL_UNLIKELY(!ready()))
        return boot_alloc(size, align);
    if (!rcpl_wanted())
        return real_memalign(align, size);
    RECORDED(void *, p, real_memalign(align, size), size, RCCAP_FN_MEMALIGN);
    return p;
}

RCPL_EXPORT void *valloc(size_t size) {
    if (RCPL_UNLIKELY(!ready()))
        return boot_alloc(size, rci_os_page_size());
    if (!rcpl_wanted())
        return real_valloc(size);
    RECORDED(void *, p, real_valloc(size), size, RCCAP_FN_VALLOC);
    return p;
}

/* pvalloc hands out whole pages: the block is recorded at that size. */
RCPL_EXPORT void *pvalloc(size_t size) {
    if (RCPL_UNLIKELY(!ready()))
        return boot_alloc(page_rounded(size), rci_os_page_size());
    if (!rcpl_wanted())
        return real_pvalloc(size);
    RECORDED(void *, p, real_pvalloc(size), page_rounded(size), RCCAP_FN_PVALLOC);
    return p;
}

RCPL_EXPORT size_t malloc_usable_size(void *p) {
    if (RCPL_UNLIKELY(is_boot(p)))
        return boot_size(p);
    if (!p || !ready() || !rcpl_fn.malloc_usable_size)
        return 0;
    return rcpl_fn.malloc_usable_size(p);
}

/* ---- exec and _exit: the capture ends first ---- */

RCPL_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    ensure();
    rcpl_on_exec();
    if (!real.execve)
        return errno = ENOSYS, -1;
    return real.execve(path, argv, envp);
}

RCPL_EXPORT int execv(const char *path, char *const argv[]) {
    ensure();
    rcpl_on_exec();
    if (!real.execv)
        return errno = ENOSYS, -1;
    return real.execv(path, argv);
}

RCPL_EXPORT int execvp(const char *file, char *const argv[]) {
    ensure();
    rcpl_on_exec();
    if (!real.execvp)
        return errno = ENOSYS, -1;
    return real.execvp(file, argv);
}

RCPL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    ensure();
    rcpl_on_exec();
    if (!real.execvpe)
        return errno = ENOSYS, -1;
    return real.execvpe(file, argv, envp);
}

RCPL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    ensure();
    rcpl_on_exec();
    if (!real.fexecve)
        return errno = ENOSYS, -1;
    return real.fexecve(fd, argv, envp);
}

RCPL_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags) {
    ensure();
    rcpl_on_exec();
    if (!real.execveat)
        return errno = ENOSYS, -1;
    return real.execveat(dirfd, path, argv, envp, flags);
}

/* The execl family gathers its arguments on the stack (no allocation:
 * the exec may be in a vfork child) and continues as its vector twin. */
#define MAX_LIST_ARGS 4096   /* 32 KiB of stack; a longer list fails with E2BIG */

static size_t count_args(const char *arg0, va_list ap) {
    size_t n = 1;
    if (!arg0)
        return 0;
    while (va_arg(ap, const char *) != NULL && n < MAX_LIST_ARGS)
        n++;
    return n;
}

#define GATHER_ARGS(arg0, argv, n, ap)                     \
    va_start(ap, arg0);                                    \
    size_t n = count_args(arg0, ap);                       \
    va_end(ap);                                            \
    if (n >= MAX_LIST_ARGS)                                \
        return errno = E2BIG, -1;                          \
    char *argv[MAX_LIST_ARGS + 1];                         \
    va_start(ap, arg0);                                    \
    if (n)                                                 \
        argv[0] = (char *)arg0;                            \
    for (size_t i_ = 1; i_ < n; i_++)                      \
        argv[i_] = va_arg(ap, char *);                     \
    argv[n] = NULL

RCPL_EXPORT int execl(const char *path, const char *arg0, ...) {
    va_list ap;
    GATHER_ARGS(arg0, argv, n, ap);
    va_end(ap);
    return execv(path, argv);
}

RCPL_EXPORT int execlp(const char *file, const char *arg0, ...) {
    va_list ap;
    GATHER_ARGS(arg0, argv, n, ap);
    va_end(ap);
    return execvp(file, argv);
}

RCPL_EXPORT int execle(const char *path, const char *arg0, ...) {
    va_list ap;
    GATHER_ARGS(arg0, argv, n, ap);
    (void)va_arg(ap, char *);   /* the NULL that ends the list */
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

RCPL_EXPORT __attribute__((noreturn)) void _exit(int status) {
    ensure();
    rcpl_on_exit_now(status);
    if (real.exit_now)
        real.exit_now(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

RCPL_EXPORT __attribute__((noreturn)) void _Exit(int status) {
    ensure();
    rcpl_on_exit_now(status);
    if (real.exit_now2)
        real.exit_now2(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

/* ---- signals ---- */

RCPL_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oact) {
    ensure();
    int r;
    if (!rcpl_busy && rcpl_sigaction(sig, act, oact, &r))
        return r;
    if (!rcpl_fn.sigaction)
        return errno = ENOSYS, -1;
    return rcpl_fn.sigaction(sig, act, oact);
}

/* signal() with glibc's (BSD) semantics: the handler stays, the signal is
 * blocked while it runs, interrupted calls restart. */
RCPL_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
    ensure();
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < NSIG)
        sigaddset(&act.sa_mask, sig);
    act.sa_flags = SA_RESTART;
    int r;
    if (!rcpl_busy && rcpl_sigaction(sig, &act, &old, &r))
        return r == 0 ? old.sa_handler : SIG_ERR;
    if (!real.signal)
        return errno = ENOSYS, SIG_ERR;
    return real.signal(sig, handler);
}

/* ---- dynamic libraries ----
 *
 * dlopen finds the libraries a relative name refers to through the
 * caller's RUNPATH and $ORIGIN, taken from its return address: a wrapper
 * that called the real dlopen would make this library the caller. So on
 * x86-64 dlopen and dlmopen are trampolines that note "libraries changed"
 * and jump to the real function, which returns straight to the program.
 * The libraries are then recorded by the next recorded call of any thread
 * (tracker.c looks at the note), or by the writer's check every 10 ms, and
 * always before dlclose unmaps them. */

/* What the trampolines call: the real function to jump to. */
typedef void (*rcpl_any_fn)(void);
rcpl_any_fn rcpl_dlopen_target(int which);
RCPL_NOINLINE __attribute__((used)) rcpl_any_fn rcpl_dlopen_target(int which) {
    ensure();
    rcpl_note_libs_changed();
    return which ? (rcpl_any_fn)real.dlmopen : (rcpl_any_fn)real.dlopen;
}

#if defined(__x86_64__)
/* The arguments stay in their registers across the call (saved on the
 * stack, which three pushes leave aligned to 16 for the call). */
#define TRAMPOLINE(name, which)                      \
    ".globl " name "\n"                              \
    ".type " name ", @function\n"                    \
    name ":\n"                                       \
    "    .cfi_startproc\n"                           \
    "    pushq %rdi\n"                               \
    "    .cfi_adjust_cfa_offset 8\n"                 \
    "    pushq %rsi\n"                               \
    "    .cfi_adjust_cfa_offset 8\n"                 \
    "    pushq %rdx\n"                               \
    "    .cfi_adjust_cfa_offset 8\n"                 \
    "    movl $" which ", %edi\n"                    \
    "    call rcpl_dlopen_target\n"                  \
    "    popq %rdx\n"                                \
    "    .cfi_adjust_cfa_offset -8\n"                \
    "    popq %rsi\n"                                \
    "    .cfi_adjust_cfa_offset -8\n"                \
    "    popq %rdi\n"                                \
    "    .cfi_adjust_cfa_offset -8\n"                \
    "    jmp *%rax\n"                                \
    "    .cfi_endproc\n"                             \
    ".size " name ", .-" name "\n"

__asm__(".text\n" TRAMPOLINE("dlopen", "0") TRAMPOLINE("dlmopen", "1"));
#else
/* Elsewhere a plain wrapper: libraries named relative to the caller's
 * RUNPATH are looked up relative to this library's instead. */
RCPL_EXPORT void *dlopen(const char *file, int mode) {
    void *(*f)(const char *, int) = (void *(*)(const char *, int))rcpl_dlopen_target(0);
    return f ? f(file, mode) : NULL;
}

RCPL_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode) {
    void *(*f)(Lmid_t, const char *, int) = (void *(*)(Lmid_t, const char *, int))rcpl_dlopen_target(1);
    return f ? f(lmid, file, mode) : NULL;
}
#endif

RCPL_EXPORT int dlclose(void *handle) {
    ensure();
    rcpl_on_dlclose();
    if (!real.dlclose)
        return -1;
    return real.dlclose(handle);
}

/* ---- the capture's file descriptor ---- */

RCPL_EXPORT int close(int fd) {
    ensure();
    if (fd >= 0 && !rcpl_busy && fd == rcpl_capture_fd())
        return 0;   /* the capture stays open; the program's view: closed */
    if (!real.close)
        return (int)syscall(SYS_close, fd);
    return real.close(fd);
}

static int real_close_range(unsigned first, unsigned last, int flags) {
    if (real.close_range)
        return real.close_range(first, last, flags);
    return (int)syscall(SYS_close_range, first, last, flags);
}

RCPL_EXPORT int close_range(unsigned first, unsigned last, int flags) {
    ensure();
    int fd = rcpl_busy ? -1 : rcpl_capture_fd();
    if (fd < 0 || (unsigned)fd < first || (unsigned)fd > last)
        return real_close_range(first, last, flags);
    int r = 0;
    if ((unsigned)fd > first)
        r = real_close_range(first, (unsigned)fd - 1, flags);
    if (r == 0 && (unsigned)fd < last)
        r = real_close_range((unsigned)fd + 1, last, flags);
    return r;
}

RCPL_EXPORT void closefrom(int low) {
    ensure();
    int fd = rcpl_busy ? -1 : rcpl_capture_fd();
    if (fd >= 0 && low >= 0 && fd >= low) {
        if (fd > low)
            real_close_range((unsigned)low, (unsigned)fd - 1, 0);
        low = fd + 1;
    }
    if (real.closefrom)
        real.closefrom(low);
    else if (low >= 0)
        real_close_range((unsigned)low, ~0u, 0);
}

/* ---- threads ---- */

RCPL_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
    ensure();
    rcpl_on_thread_create();
    if (!real.create)
        return ENOSYS;
    return real.create(thread, attr, start, arg);
}

/* librecycle's collector reports each collection here when this library
 * is in the process (recycle/annotate.h: a weak reference on its side). */
RCPL_EXPORT void rc_annotate_gc_collection(const rc_annotate_gc *c) {
    if (c && c->generation >= 0)
        rcpl_on_gc((uint32_t)c->generation, c->collected, c->uncollectable, c->duration_ns,
                   c->steps);
}

RCPL_EXPORT int pthread_setname_np(pthread_t thread, const char *name) {
    ensure();
    if (!real.setname)
        return ENOSYS;
    int r = real.setname(thread, name);
    if (r == 0)
        rcpl_on_thread_name(thread, name);
    return r;
}
