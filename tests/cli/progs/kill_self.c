/* kill_self SIGNAL: die by SIGNAL (its default action), core dumps off. */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    int sig = argc > 1 ? atoi(argv[1]) : SIGSEGV;
    signal(sig, SIG_DFL);
    raise(sig);
    return 99;
}
