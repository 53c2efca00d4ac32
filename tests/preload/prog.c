/* prog.c - a program with known allocation patterns, run under
 * librecycle-preload.so by tests/unit/test_preload*.c. The first argument
 * names the pattern; what each one allocates is written next to it, and
 * the tests hold the capture to exactly that.
 *
 * Built without sanitizers and without the recycle library: it is an
 * ordinary program, as the ones users profile. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* The patterns whose allocations the tests find by frame 0: exported (the
 * program is linked with -rdynamic) so that, with RCPL_PROG_SYMS=FILE, the
 * program writes where each one lies ("name start end" lines) before it
 * starts its pattern. */
#define PATTERN __attribute__((noinline))   /* frame 0 is in the pattern, not in main */
PATTERN int prog_counts(void);
PATTERN int prog_leaks(void);
PATTERN void *prog_churn_thread(void *arg);
PATTERN void prog_on_usr1(int sig);
PATTERN int prog_forking(void);
PATTERN int prog_plugin(const char *dir);
PATTERN int prog_close_fds(void);

/* Keeps the compiler from dropping or merging the calls: an allocation
 * whose block is only freed may be elided (clang does), one whose address
 * is stored to a volatile may not. */
static void *volatile sink;

static void *seen(void *p) {
    sink = p;
    return p;
}
/* A root for the "reachable" block of leaks (volatile: a store the
 * program never reads back would be dropped, and the malloc with it). */
static void *volatile kept;

static long arg_long(int argc, char **argv, int i, long fallback) {
    return i < argc ? strtol(argv[i], NULL, 10) : fallback;
}

/* counts: every function of the family, each block freed.
 *   malloc        100 blocks of 1 .. 100 bytes (5050 bytes)
 *   calloc         10 blocks of 3 x 7 bytes (210 bytes)
 *   realloc        realloc(NULL, 8) (an allocation), then 10 resizes to
 *                  16, 32, ..., 8192, then free
 *   reallocarray   reallocarray(NULL, 10, 10): 100 bytes
 *   aligned        posix_memalign 64/1000, aligned_alloc 128/1024,
 *                  memalign 256/300, valloc 5000, pvalloc 5000 (one page
 *                  rounded up: 8192 with 4 KiB pages)
 * Everything is freed: no block is live at exit. */
int prog_counts(void) {
    void *b[100];
    for (int i = 0; i < 100; i++)
        b[i] = seen(malloc((size_t)i + 1));
    for (int i = 0; i < 100; i++)
        free(b[i]);
    void *c[10];
    for (int i = 0; i < 10; i++)
        c[i] = seen(calloc(3, 7));
    for (int i = 0; i < 10; i++)
        free(c[i]);
    /* volatile: the compiler would make realloc(NULL, 8) a malloc */
    char *volatile none = NULL;
    char *r = seen(realloc(none, 8));
    for (size_t s = 16; s <= 8192; s *= 2) {
        char *q = seen(realloc(r, s));
        if (!q)
            return 2;
        r = q;
        memset(r, 1, s);
    }
    free(r);
    void *ra = seen(reallocarray(NULL, 10, 10));
    free(ra);
    void *pm = NULL;
    if (posix_memalign(&pm, 64, 1000) != 0 || ((uintptr_t)seen(pm) & 63))
        return 3;
    void *aa = seen(aligned_alloc(128, 1024));
    void *ma = seen(memalign(256, 300));
    void *va = seen(valloc(5000));
    void *pa = seen(pvalloc(5000));
    if (!aa || !ma || !va || !pa || ((uintptr_t)aa & 127) || ((uintptr_t)ma & 255))
        return 4;
    if (malloc_usable_size(aa) < 1024)
        return 5;
    free(pm);
    free(aa);
    free(ma);
    free(va);
    free(pa);
    printf("counts done\n");
    return 0;
}

/* leaks: two blocks live at exit: 777 bytes that a global still points to
 * (reachable), 333 bytes whose only pointer was overwritten (lost); and a
 * chain global -> 48 -> 64 (both reachable through the first). */
typedef struct chain {
    struct chain *next;
    char pad[40];
} chain;

static chain *volatile head;

int prog_leaks(void) {
    kept = malloc(777);
    sink = malloc(333);
    sink = NULL;
    chain *a = malloc(48);
    a->next = malloc(64);
    a->next->next = NULL;
    head = a;
    return 0;
}

/* threads N M: N threads, each M malloc(24)/free pairs; 0 live at exit. */
static long per_thread;

void *prog_churn_thread(void *arg) {
    (void)arg;
    for (long i = 0; i < per_thread; i++) {
        void *p = malloc(24);
        sink = p;
        free(p);
    }
    return NULL;
}

static int threads(long n, long m) {
    per_thread = m;
    pthread_t th[64];
    if (n > 64)
        n = 64;
    for (long i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, prog_churn_thread, NULL) != 0)
            return 2;
    for (long i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return 0;
}

/* handoff: blocks made by one thread and freed by another (N of 40 bytes). */
static void *volatile passed[1024];

static void *freer(void *arg) {
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++)
        free(passed[i]);
    return NULL;
}

static int handoff(long n) {
    if (n > 1024)
        n = 1024;
    for (long i = 0; i < n; i++)
        passed[i] = malloc(40);
    pthread_t th;
    if (pthread_create(&th, NULL, freer, (void *)(intptr_t)n) != 0)
        return 2;
    pthread_join(th, NULL);
    return 0;
}

/* signals: a SIGUSR1 handler that allocates, raised N times between
 * allocations of the main program; each handler call makes one 16-byte
 * block and frees it. Then a SIGSEGV the program handles itself
 * (siglongjmp out of its handler): the recorder must pass it on and the
 * program go on. */
static volatile sig_atomic_t handled;
static sigjmp_buf recover;

void prog_on_usr1(int sig) {
    (void)sig;
    void *p = malloc(16);
    sink = p;
    free(p);
    handled++;
}

static void on_segv(int sig) {
    (void)sig;
    siglongjmp(recover, 1);
}

static int signals(long n) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prog_on_usr1;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return 2;
    for (long i = 0; i < n; i++) {
        void *p = malloc(100);
        raise(SIGUSR1);
        free(p);
    }
    if (handled != n)
        return 3;
    if (signal(SIGSEGV, on_segv) == SIG_ERR)
        return 4;
    if (sigsetjmp(recover, 1) == 0) {
        *(volatile int *)(uintptr_t)8 = 1;
        return 5;   /* not reached */
    }
    struct sigaction now;
    if (sigaction(SIGSEGV, NULL, &now) != 0 || now.sa_handler != on_segv)
        return 6;   /* the program sees its own handler */
    printf("signals done\n");
    return 0;
}

/* Workers that allocate and free until the process ends. */
static void *forever(void *arg) {
    (void)arg;
    for (;;) {
        void *p = malloc(32);
        sink = p;
        free(p);
    }
    return NULL;
}

static int start_forever(int n) {
    for (int i = 0; i < n; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, forever, NULL) != 0)
            return 2;
        pthread_detach(th);
    }
    return 0;
}

/* exit-busy: exit(0) while 4 threads allocate as fast as they can. */
static int exit_busy(void) {
    if (start_forever(4) != 0)
        return 2;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    exit(0);
}

/* fork-busy N: N forks while 3 threads allocate; each child makes one
 * block of 64 bytes and exits with 0 (as the locks of the threads that
 * were inside the allocator or the recorder may have been when it forked,
 * a child that inherited a held lock would hang). */
static int fork_busy(long n) {
    if (start_forever(3) != 0)
        return 2;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 3;
        if (pid == 0) {
            sink = malloc(64);
            free(sink);
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 4;
    }
    return 0;
}

/* timer N: a profiling timer every 100 us whose handler allocates, while
 * the program makes N blocks: the handler lands inside malloc, inside the
 * recorder and inside free alike. Prints how many times it ran. */
static volatile sig_atomic_t ticks;

static void on_tick(int sig) {
    (void)sig;
    void *p = malloc(8);
    sink = p;
    free(p);
    ticks++;
}

static int timer(long n) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) != 0)
        return 2;
    struct itimerval it = {{0, 100}, {0, 100}};
    if (setitimer(ITIMER_PROF, &it, NULL) != 0)
        return 3;
    for (long i = 0; i < n; i++) {
        void *p = malloc((size_t)(i % 200) + 1);
        sink = p;
        free(p);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    printf("%ld ticks\n", (long)ticks);
    return 0;
}

/* fork: the parent makes 1 block of 100 bytes, forks; the child makes 3
 * blocks of 200 bytes and exits with 7; the parent waits, makes 1 block of
 * 300 bytes, and returns 0 if the child's status was 7. Nothing freed. */
int prog_forking(void) {
    sink = malloc(100);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            sink = malloc(200);
        exit(7);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
        return 3;
    sink = malloc(300);
    return 0;
}

/* fork-exec SELF: a child that runs `SELF return 5`; returns 0 if it did. */
static int fork_exec(const char *self) {
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execl(self, self, "return", "5", (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
        return 3;
    return 0;
}

/* spawn SELF: system() runs `SELF return 6` through the shell. */
static int spawn(const char *self) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' return 6", self);
    int st = system(cmd);
    return WIFEXITED(st) && WEXITSTATUS(st) == 6 ? 0 : 3;
}

/* exec SELF: one block of 111 bytes, then this process becomes
 * `SELF return 3` (a failed exec first: the capture goes on). */
static int exec_self(const char *self) {
    sink = malloc(111);
    char *const bad[] = {(char *)"/nonexistent/recycle-test", NULL};
    execv(bad[0], bad);
    sink = malloc(112);
    char *const argv[] = {(char *)self, (char *)"return", (char *)"3", NULL};
    execv(self, argv);
    return 2;
}

/* dlopen DIR: load DIR/librcpl_plugin.so, call its function (4 blocks of
 * 1234 bytes made inside the plugin, kept), close it. */
int prog_plugin(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/librcpl_plugin.so", dir);
    void *h = dlopen(path, RTLD_NOW);
    if (!h)
        return 2;
    void *(*make)(int);
    *(void **)&make = dlsym(h, "rcpl_plugin_make");
    if (!make)
        return 3;
    for (int i = 0; i < 4; i++)
        sink = make(1234);
    return dlclose(h) == 0 ? 0 : 4;
}

/* close-fds: the program closes every fd above 2 (daemons do), then
 * allocates 10 blocks of 50 bytes and returns 0. */
int prog_close_fds(void) {
    for (int fd = 3; fd < 4096; fd++)
        close(fd);
    closefrom(3);
    for (int i = 0; i < 10; i++)
        sink = malloc(50);
    return 0;
}

/* echo: stdin to stdout, then "<n> bytes" on stderr. */
static int echo(void) {
    char buf[4096];
    size_t total = 0, n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        fwrite(buf, 1, n, stdout);
        total += n;
    }
    fprintf(stderr, "%zu bytes\n", total);
    return 0;
}

/* trees DEPTH: binary trees made and freed (the benchmark's workload). */
typedef struct node {
    struct node *l, *r;
} node;

static node *prog_tree(int depth) {
    node *n = malloc(sizeof *n);
    if (depth > 0) {
        n->l = prog_tree(depth - 1);
        n->r = prog_tree(depth - 1);
    } else {
        n->l = n->r = NULL;
    }
    return n;
}

static long check(node *n) {
    long c = 1;
    if (n->l)
        c += check(n->l) + check(n->r);
    free(n);
    return c;
}

static int trees(long depth) {
    long total = 0;
    for (int d = 4; d <= depth; d += 2)
        for (long i = 0; i < (1L << (depth - d + 4)); i++)
            total += check(prog_tree(d));
    printf("%ld nodes\n", total);
    return 0;
}

typedef void (*any_fn)(void);

static void write_symbols(const char *path) {
    static const struct {
        const char *name;
        any_fn fn;
    } fns[] = {
        {"prog_counts", (any_fn)prog_counts},
        {"prog_leaks", (any_fn)prog_leaks},
        {"prog_churn_thread", (any_fn)prog_churn_thread},
        {"prog_on_usr1", (any_fn)prog_on_usr1},
        {"prog_forking", (any_fn)prog_forking},
        {"prog_plugin", (any_fn)prog_plugin},
        {"prog_close_fds", (any_fn)prog_close_fds},
    };
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        void *addr;
        memcpy(&addr, &fns[i].fn, sizeof addr);
        Dl_info info;
        const ElfW(Sym) *sym = NULL;
        if (dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) && sym)
            fprintf(f, "%s %p %p\n", fns[i].name, addr, (void *)((char *)addr + sym->st_size));
    }
    fclose(f);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    const char *syms = getenv("RCPL_PROG_SYMS");
    if (syms)
        write_symbols(syms);
    if (!strcmp(mode, "counts"))
        return prog_counts();
    if (!strcmp(mode, "leaks"))
        return prog_leaks();
    if (!strcmp(mode, "threads"))
        return threads(arg_long(argc, argv, 2, 4), arg_long(argc, argv, 3, 1000));
    if (!strcmp(mode, "handoff"))
        return handoff(arg_long(argc, argv, 2, 100));
    if (!strcmp(mode, "signals"))
        return signals(arg_long(argc, argv, 2, 100));
    if (!strcmp(mode, "fork"))
        return prog_forking();
    if (!strcmp(mode, "exit-busy"))
        return exit_busy();
    if (!strcmp(mode, "fork-busy"))
        return fork_busy(arg_long(argc, argv, 2, 20));
    if (!strcmp(mode, "timer"))
        return timer(arg_long(argc, argv, 2, 1000000));
    if (!strcmp(mode, "fork-exec"))
        return fork_exec(argv[0]);
    if (!strcmp(mode, "spawn"))
        return spawn(argv[0]);
    if (!strcmp(mode, "exec"))
        return exec_self(argv[0]);
    if (!strcmp(mode, "dlopen"))
        return prog_plugin(argc > 2 ? argv[2] : ".");
    if (!strcmp(mode, "close-fds"))
        return prog_close_fds();
    if (!strcmp(mode, "echo"))
        return echo();
    if (!strcmp(mode, "trees"))
        return trees(arg_long(argc, argv, 2, 12));
    if (!strcmp(mode, "return")) {
        sink = malloc(10);
        return (int)arg_long(argc, argv, 2, 0);
    }
    if (!strcmp(mode, "exit")) {
        sink = malloc(10);
        exit((int)arg_long(argc, argv, 2, 0));
    }
    if (!strcmp(mode, "exit-now")) {
        sink = malloc(10);
        _exit((int)arg_long(argc, argv, 2, 0));
    }
    if (!strcmp(mode, "segv")) {
        sink = malloc(10);
        *(volatile int *)(uintptr_t)16 = 1;
        return 2;
    }
    if (!strcmp(mode, "abort")) {
        sink = malloc(10);
        abort();
    }
    fprintf(stderr, "prog: unknown mode '%s'\n", mode);
    return 64;
}
