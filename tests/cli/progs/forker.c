/* forker: allocates 1111 bytes, forks a child that allocates 2222 bytes
 * and exits, waits for it and exits with the child's status. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

int main(void) {
    sink = malloc(1111);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        sink = malloc(2222);
        return 0;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
}
