/* cmd_run.c - `recycle run`: run a program under librecycle-preload.so.
 *
 *   recycle run [-o FILE] [--frames N] [--sample BYTES] [--follow-fork]
 *               -- PROGRAM [ARGS]
 *
 * recycle never links the preload library: it finds it, puts it in front
 * of LD_PRELOAD, tells it what to do through its environment variables
 * (docs/preload.md) and execs the program in a child process. The parent
 * stays to forward signals, wait, say which capture was written and return
 * the program's exit status, as a shell would:
 *
 *   parent                                  child
 *   find the preload, check the output
 *   set LD_PRELOAD, RECYCLE_*
 *   block INT TERM HUP QUIT
 *   fork ---------------------------------> restore the signal mask
 *   install forwarding handlers             RECYCLE_OUTPUT (default name
 *   unblock                                   needs the child's pid)
 *   read the exec pipe <------------------- execvp; on failure write errno
 *   (EOF: exec succeeded)                     to the pipe, _exit(127)
 *   waitpid
 *   "wrote FILE", the signal if one killed it; exit status
 *
 * Signals: a terminal's ^C or ^\ reaches the whole foreground process
 * group, the program included, so a signal the kernel generated is not sent
 * again; one that a process sent to recycle alone (kill PID) is forwarded.
 * A signal that was ignored when recycle started stays ignored, for
 * recycle and the program alike (nohup). */
#define _GNU_SOURCE
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PRELOAD_NAME "librecycle-preload.so"

/* The traceback limit the trace layer accepts (docs/trace.md). */
#define FRAMES_MAX 128

/* Where the preload is installed relative to the executable: the
 * configured CMAKE_INSTALL_LIBDIR seen from CMAKE_INSTALL_BINDIR. */
#ifndef RC_CLI_LIBDIR_FROM_BINDIR
#define RC_CLI_LIBDIR_FROM_BINDIR "../lib"
#endif

enum { OPT_OUTPUT = 1, OPT_FRAMES, OPT_SAMPLE, OPT_FOLLOW_FORK, OPT_HELP };

static const rcl_option run_options[] = {
    {"output", 'o', true, OPT_OUTPUT},
    {"frames", 0, true, OPT_FRAMES},
    {"sample", 0, true, OPT_SAMPLE},
    {"follow-fork", 0, false, OPT_FOLLOW_FORK},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

/* ---- finding the preload library ------------------------------------------ */

static bool is_readable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* path = dir/rest if that is a readable file. */
static bool try_candidate(char *path, size_t len, const char *dir, const char *rest) {
    int n = snprintf(path, len, "%s/%s", dir, rest);
    return n > 0 && (size_t)n < len && is_readable_file(path);
}

/* The folder of the running executable, into dir; false if unknown. */
static bool exe_dir(char *dir, size_t len) {
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0 || (size_t)n >= len - 1)
        return false;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

/* Every ../lib* folder next to the executable's folder: lib, lib64, ... */
static bool search_lib_dirs(char *path, size_t len, const char *bindir) {
    char parent[PATH_MAX];
    int n = snprintf(parent, sizeof parent, "%s/..", bindir);
    if (n < 0 || (size_t)n >= sizeof parent)
        return false;
    DIR *d = opendir(parent);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "lib", 3) != 0)
            continue;
        char libdir[PATH_MAX];
        n = snprintf(libdir, sizeof libdir, "%s/%s", parent, e->d_name);
        if (n < 0 || (size_t)n >= sizeof libdir)
            continue;
        found = try_candidate(path, len, libdir, "recycle/" PRELOAD_NAME) ||
                try_candidate(path, len, libdir, PRELOAD_NAME);
    }
    closedir(d);
    return found;
}

/* The preload library's absolute path into path; false with the error
 * reported. */
static bool find_preload(const rcl_command *cmd, char *path, size_t len) {
    const char *env = getenv("RECYCLE_PRELOAD");
    if (env && *env) {
        if (!is_readable_file(env)) {
            rcl_error(cmd, "RECYCLE_PRELOAD=%s: %s", env,
                      access(env, F_OK) == 0 && errno != ENOENT ? "not a readable file"
                                                                 : strerror(ENOENT));
            return false;
        }
        if (!realpath(env, path)) {
            rcl_error(cmd, "RECYCLE_PRELOAD=%s: %s", env, strerror(errno));
            return false;
        }
        return true;
    }
    char bindir[PATH_MAX];
    if (!exe_dir(bindir, sizeof bindir)) {
        rcl_error(cmd, "cannot find " PRELOAD_NAME ": the location of recycle itself is "
                  "unknown; set RECYCLE_PRELOAD to its path");
        return false;
    }
    char libdir[PATH_MAX];
    int n = snprintf(libdir, sizeof libdir, "%s/%s", bindir, RC_CLI_LIBDIR_FROM_BINDIR);
    bool found = try_candidate(path, len, bindir, PRELOAD_NAME) ||
                 (n > 0 && (size_t)n < sizeof libdir &&
                  (try_candidate(path, len, libdir, "recycle/" PRELOAD_NAME) ||
                   try_candidate(path, len, libdir, PRELOAD_NAME))) ||
                 search_lib_dirs(path, len, bindir);
    if (!found) {
        rcl_error(cmd, "cannot find " PRELOAD_NAME " (looked in %s and in %s/../lib*/ "
                  "and lib*/recycle/); set RECYCLE_PRELOAD to its path", bindir, bindir);
        return false;
    }
    char resolved[PATH_MAX];
    if (realpath(path, resolved) && strlen(resolved) < len)
        strcpy(path, resolved);
    return true;
}

/* ---- the environment --------------------------------------------------------- */

/* The dynamic loader splits LD_PRELOAD at colons and white space. */
static bool check_preload_path(const rcl_command *cmd, const char *preload) {
    if (strpbrk(preload, ": \t\n")) {
        rcl_error(cmd, "cannot preload %s: LD_PRELOAD cannot hold a path with a colon "
                  "or a space; set RECYCLE_PRELOAD to a copy elsewhere", preload);
        return false;
    }
    return true;
}

/* LD_PRELOAD = preload, then whatever the user preloads already; false
 * with errno set. */
static bool set_ld_preload(const char *preload) {
    const char *old = getenv("LD_PRELOAD");
    if (!old || !*old)
        return setenv("LD_PRELOAD", preload, 1) == 0;
    size_t n = strlen(preload) + 1 + strlen(old) + 1;
    char *v = malloc(n);
    if (!v)
        return false;
    snprintf(v, n, "%s:%s", preload, old);
    int rc = setenv("LD_PRELOAD", v, 1);
    free(v);
    return rc == 0;
}

static bool set_number(const char *name, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return setenv(name, buf, 1) == 0;
}

/* The default capture name, recycle-<program>-<pid>.rcap. */
static void default_output(char *buf, size_t len, const char *program, pid_t pid) {
    const char *base = strrchr(program, '/');
    base = base ? base + 1 : program;
    if (!*base)
        base = "program";
    snprintf(buf, len, "recycle-%s-%ld.rcap", base, (long)pid);
}

/* An absolute form of path (relative to the working directory), so the
 * capture lands where the user meant even if the program changes folder. */
static bool absolute_path(const char *path, char *out, size_t len) {
    if (path[0] == '/') {
        if (strlen(path) >= len)
            return false;
        strcpy(out, path);
        return true;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return false;
    int n = snprintf(out, len, "%s/%s", cwd, path);
    return n > 0 && (size_t)n < len;
}

/* Whether the capture at path can be created or overwritten; false with
 * the error reported. */
static bool check_output(const rcl_command *cmd, const char *path) {
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            rcl_error(cmd, "cannot write the capture to %s: %s", path, strerror(EISDIR));
            return false;
        }
        if (access(path, W_OK) != 0) {
            rcl_error(cmd, "cannot write the capture to %s: %s", path, strerror(errno));
            return false;
        }
        return true;
    }
    char dir[PATH_MAX];
    if (strlen(path) >= sizeof dir)
        return true;           /* the preload will say */
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0) {
        rcl_error(cmd, "cannot write the capture to %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

/* ---- signals ------------------------------------------------------------------- */

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t child_pid;

static void forward(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    if (child_pid > 0 && info->si_code != SI_KERNEL) {
        int saved = errno;
        kill((pid_t)child_pid, sig);
        errno = saved;
    }
}

/* ---- the run ----------------------------------------------------------------- */

typedef struct run_config {
    const char *output;        /* -o, or NULL */
    uint64_t frames, sample;
    bool have_frames, have_sample, follow_fork;
    char **program;            /* PROGRAM and its arguments, NULL-terminated */
} run_config;

static int parse(const rcl_command *cmd, int argc, char **argv, run_config *rc, bool *help) {
    rcl_args a;
    rcl_args_init(&a, cmd, run_options, argc, argv);
    a.stop_at_operand = true;
    for (;;) {
        int id = rcl_args_next(&a);
        switch (id) {
        case RCL_ARGS_ERROR:
            return RCL_EXIT_USAGE;
        case RCL_ARGS_END:
            rcl_usage_error(cmd, "no program to run");
            return RCL_EXIT_USAGE;
        case RCL_ARGS_OPERAND:
            rc->program = argv + a.index;
            return RCL_EXIT_OK;
        case OPT_HELP:
            *help = true;
            return RCL_EXIT_OK;
        case OPT_OUTPUT:
            if (!*a.value) {
                rcl_usage_error(cmd, "%s: the file name is empty", a.spelling);
                return RCL_EXIT_USAGE;
            }
            rc->output = a.value;
            break;
        case OPT_FRAMES:
            if (!rcl_parse_number(&a, a.value, false, 1, FRAMES_MAX, &rc->frames))
                return RCL_EXIT_USAGE;
            rc->have_frames = true;
            break;
        case OPT_SAMPLE:
            if (!rcl_parse_number(&a, a.value, true, 0, UINT64_C(1) << 40, &rc->sample))
                return RCL_EXIT_USAGE;
            rc->have_sample = true;
            break;
        case OPT_FOLLOW_FORK:
            rc->follow_fork = true;
            break;
        default:
            return RCL_EXIT_USAGE;
        }
    }
}

/* Identity of a file before the run, to tell whether the run wrote it. */
typedef struct file_stamp {
    bool exists;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    off_t size;
} file_stamp;

static file_stamp stamp_of(const char *path) {
    file_stamp s = {0};
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        s.exists = true;
        s.dev = st.st_dev;
        s.ino = st.st_ino;
        s.mtime = st.st_mtim;
        s.size = st.st_size;
    }
    return s;
}

static bool stamp_changed(const file_stamp *before, const file_stamp *after) {
    if (!after->exists)
        return false;
    return !before->exists || before->dev != after->dev || before->ino != after->ino ||
           before->size != after->size || before->mtime.tv_sec != after->mtime.tv_sec ||
           before->mtime.tv_nsec != after->mtime.tv_nsec;
}

/* Whether name is "<base>.<digits>" or "<base>.<digits>.<digits>": the
 * capture of a process forked by the traced one (docs/preload.md). */
static bool is_child_capture(const char *name, const char *base) {
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || name[n] != '.')
        return false;
    const char *p = name + n + 1;
    for (int part = 0; part < 2; part++) {
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == '\0')
            return true;
        if (*p++ != '.')
            return false;
    }
    return false;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* With --follow-fork: name the captures of the traced program's children,
 * the files beside the capture named after it and written since the run
 * started. */
static void list_children(const char *capture, const struct timespec *started) {
    char dir[PATH_MAX];
    const char *slash = strrchr(capture, '/');
    const char *base = slash ? slash + 1 : capture;
    if (slash) {
        size_t n = (size_t)(slash - capture);
        if (n >= sizeof dir)
            return;
        memcpy(dir, capture, n);
        dir[n ? n : 1] = '\0';
        if (n == 0)
            dir[0] = '/';
    } else {
        strcpy(dir, ".");
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_child_capture(e->d_name, base))
            continue;
        char path[PATH_MAX];
        struct stat st;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 ||
            st.st_mtim.tv_sec < started->tv_sec)
            continue;
        if (count == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            char **m = realloc(names, ncap * sizeof *m);
            if (!m)
                break;
            names = m;
            cap = ncap;
        }
        names[count] = strdup(e->d_name);
        if (names[count])
            count++;
    }
    closedir(d);
    if (count > 1)
        qsort(names, count, sizeof *names, cmp_names);
    for (size_t i = 0; i < count; i++) {
        if (slash)
            rcl_error(NULL, "wrote %.*s%s (a child process)", (int)(base - capture), capture,
                      names[i]);
        else
            rcl_error(NULL, "wrote %s (a child process)", names[i]);
        free(names[i]);
    }
    free(names);
}

/* In the child: exec the program or report errno through the pipe. */
static void exec_child(const sigset_t *mask, int fd, char **program, const char *output) {
    sigprocmask(SIG_SETMASK, mask, NULL);
    char path[PATH_MAX];
    if (!output) {
        char name[PATH_MAX];
        default_output(name, sizeof name, program[0], getpid());
        if (absolute_path(name, path, sizeof path))
            setenv("RECYCLE_OUTPUT", path, 1);
    }
    execvp(program[0], program);
    int err = errno;
    ssize_t w = write(fd, &err, sizeof err);
    (void)w;
    _exit(127);
}

int rcl_cmd_run(const rcl_command *cmd, int argc, char **argv) {
    run_config rc = {0};
    bool help = false;
    int status = parse(cmd, argc, argv, &rc, &help);
    if (status != RCL_EXIT_OK)
        return status;
    if (help) {
        rcl_print_help(cmd);
        return RCL_EXIT_OK;
    }

    char preload[PATH_MAX];
    if (!find_preload(cmd, preload, sizeof preload) || !check_preload_path(cmd, preload))
        return RCL_EXIT_ERROR;

    char output_abs[PATH_MAX];
    if (rc.output) {
        if (!absolute_path(rc.output, output_abs, sizeof output_abs)) {
            rcl_error(cmd, "cannot write the capture to %s: %s", rc.output,
                      strerror(ENAMETOOLONG));
            return RCL_EXIT_ERROR;
        }
        if (!check_output(cmd, output_abs))
            return RCL_EXIT_ERROR;
    } else if (access(".", W_OK | X_OK) != 0) {
        rcl_error(cmd, "cannot write the capture in the working directory: %s; "
                  "choose another place with -o", strerror(errno));
        return RCL_EXIT_ERROR;
    }

    /* The preload marks the processes a recording started with
     * RECYCLE_PRELOAD_PID; a recycle run inside a recorded program starts a
     * recording of its own. */
    unsetenv("RECYCLE_PRELOAD_PID");
    if (!set_ld_preload(preload) ||
        (rc.output && setenv("RECYCLE_OUTPUT", output_abs, 1) != 0) ||
        (rc.have_frames && !set_number("RECYCLE_FRAMES", rc.frames)) ||
        (rc.have_sample && !set_number("RECYCLE_SAMPLE", rc.sample)) ||
        (rc.follow_fork && setenv("RECYCLE_FOLLOW_FORK", "1", 1) != 0)) {
        rcl_error(cmd, "cannot set the program's environment: %s", strerror(errno));
        return RCL_EXIT_ERROR;
    }

    file_stamp before = {0};
    if (rc.output)
        before = stamp_of(output_abs);
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        rcl_error(cmd, "cannot run %s: %s", rc.program[0], strerror(errno));
        return RCL_EXIT_ERROR;
    }

    sigset_t block, old_mask;
    sigemptyset(&block);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaddset(&block, forwarded[i]);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    fflush(NULL);

    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        close(pipefd[0]);
        close(pipefd[1]);
        rcl_error(cmd, "cannot run %s: %s", rc.program[0], strerror(err));
        return RCL_EXIT_ERROR;
    }
    if (pid == 0) {
        close(pipefd[0]);
        exec_child(&old_mask, pipefd[1], rc.program, rc.output);
    }
    close(pipefd[1]);

    child_pid = pid;
    for (size_t i = 0; i < NFORWARDED; i++) {
        struct sigaction old;
        if (sigaction(forwarded[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = forward;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(forwarded[i], &sa, NULL);
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);

    int exec_errno = 0;
    ssize_t got;
    do
        got = read(pipefd[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close(pipefd[0]);

    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR) {
            rcl_error(cmd, "cannot wait for %s: %s", rc.program[0], strerror(errno));
            return RCL_EXIT_ERROR;
        }
    }
    child_pid = 0;

    if (got == (ssize_t)sizeof exec_errno) {
        /* As a shell: 127 for a program not found, 126 for one found but
         * not executable. */
        rcl_error(NULL, "cannot run %s: %s", rc.program[0], strerror(exec_errno));
        return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
    }

    char default_name[PATH_MAX];
    const char *shown = rc.output;
    const char *written = output_abs;
    if (!rc.output) {
        default_output(default_name, sizeof default_name, rc.program[0], pid);
        shown = default_name;
        written = default_name;
    }
    file_stamp after = stamp_of(written);
    if (stamp_changed(&before, &after))
        rcl_error(NULL, "wrote %s", shown);
    else
        rcl_error(NULL, "no capture was written to %s (a statically linked or set-user-ID "
                  "program cannot be preloaded)", shown);
    if (rc.follow_fork)
        list_children(shown, &started);

    if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        const char *name = strsignal(sig);
        rcl_error(NULL, "%s was killed by signal %d (%s)%s", rc.program[0], sig,
                  name ? name : "unknown signal",
                  WCOREDUMP(wstatus) ? ", core dumped" : "");
        return 128 + sig;
    }
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : RCL_EXIT_ERROR;
}
